"""Agents for any env with the grasp contract: the FCN value agent, baselines, training.

The value-based agent of paper III-B to III-F, one concern per module:

* :mod:`agents.model`: the five-layer fully-convolutional value network (445,673 parameters).
* :mod:`agents.observation`: the observation check and the input encoding (height, valid).
* :mod:`agents.crop`: the training window of one grasp (``cv2.warpAffine`` with
  ``ImageGeometry.window_affine``).
* :mod:`agents.inference`: all 96,000 grasp values of an observation in one batched pass.
* :mod:`agents.selection`: random, maximum(N), probabilistic, uncertain; the application rule.
* :mod:`agents.samples`, :mod:`agents.weights`, :mod:`agents.metrics`,
  :mod:`agents.training`, :mod:`agents.tb_logging`, :mod:`agents.heatmap`: training from
  arrays, class weights and weighted retraining, test figures, TensorBoard.
* :mod:`agents.checkpoint`: checkpoints with a model card checked on loading.
* :mod:`agents.base`, :mod:`agents.fcn_agent`, :mod:`agents.random_agent`,
  :mod:`agents.registry`: the agent interface, the agents, and agents by name.

Nothing is imported here, so importing one module does not pull in torch or the others.
"""
