"""Agents for any env with the grasp contract: the FCN value agent, baselines, training, learning.

The tree is the architecture:

* :mod:`agents.base`, :mod:`agents.registry`, :mod:`agents.evaluation`: the agent protocol,
  agents by name or import path, and bin clearing (paper Table I).
* :mod:`agents.policies`: the FCN agent, the geometric heuristic and random grasps.
* :mod:`agents.fcn`: the value network, its input encoding, whole grasp-space inference, the
  selection functions and checkpoints.
* :mod:`agents.data`: the crash-safe HDF5 grasp dataset (schema, writer, reader, check,
  split) and the in-memory training samples.
* :mod:`agents.training`: training, weighted retraining, metrics and the TensorBoard logger.
* :mod:`agents.learning`: the self-supervised loop (config, schedule, actor, trainer,
  learning curve, run directory, report).
* :mod:`agents.pretrained`: the shipped models.

Nothing is imported here, so importing one module does not pull in torch or the others.
"""
