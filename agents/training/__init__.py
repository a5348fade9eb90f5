"""Training the value model from recorded attempts, and the paper's weighted retraining.

* :mod:`agents.training.config`: :class:`TrainConfig`, torch-free.
* :mod:`agents.training.fit`: :func:`train` and :func:`weighted_retraining`.
* :mod:`agents.training.weights`: class weights and the retraining weights w_i (paper III-E).
* :mod:`agents.training.metrics`: the test figures.
* :mod:`agents.training.logger`: every TensorBoard tag of training and learning.

Nothing is imported here, so ``agents.training.config`` loads without torch.
"""
