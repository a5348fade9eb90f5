"""The paper's value-based FCN: network, input encoding, whole grasp-space scoring, selection.

* :mod:`agents.fcn.model_config`, :mod:`agents.fcn.model`: the five-layer fully-convolutional
  value network (445,673 parameters) and its shape.
* :mod:`agents.fcn.observation`: the observation check and the input encoding (height, valid).
* :mod:`agents.fcn.crop`: the training window of one grasp.
* :mod:`agents.fcn.inference`: all 96,000 grasp values of an observation in one batched pass.
* :mod:`agents.fcn.selection`: random, maximum(N), probabilistic, uncertain; the application
  rule.
* :mod:`agents.fcn.checkpoint`: checkpoints with a model card checked on loading.
* :mod:`agents.fcn.heatmap`: a picture of the values for TensorBoard.

Nothing is imported here, so ``agents.fcn.model_config`` loads without torch.
"""
