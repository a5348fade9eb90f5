"""The agents a user acts with: the FCN value agent, the geometric heuristic, random grasps.

* :mod:`agents.policies.fcn`: :class:`FCNAgent`, a checkpoint scored over the whole grasp
  space and a selection function (the application rule by default).
* :mod:`agents.policies.heuristic`: :class:`HeuristicAgent`, a geometric baseline.
* :mod:`agents.policies.random`: :class:`RandomAgent`, uniformly random grasps on the grid.
"""
