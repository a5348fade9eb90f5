"""Standard deep-RL baselines, trained in the twin on the same observation as the FCN.

* :mod:`agents.baselines.sb3`: Stable-Baselines3 PPO on the grasp grid (``ppo_grid``) and on
  the normalised metric action (``ppo_box``): :func:`~agents.baselines.sb3.train_sb3`, and
  :class:`~agents.baselines.sb3.SB3Agent` with its factory
  ``"agents.baselines.sb3:make_sb3_agent"`` for :func:`agents.evaluation.evaluate_bins`.
* :mod:`agents.baselines.learners`: learning agents by name for the benchmark,
  :func:`~agents.baselines.learners.learn` ``(name, attempts=, seed=, object_set=,
  out_dir=)`` -> :class:`~agents.baselines.learners.Learned`.
* :mod:`agents.baselines.networks`: a small CNN features extractor for 2 x H x W images.
* :mod:`agents.baselines.scenes`: the learning loop's scene rebuilds under any RL library.

The observation and action wrappers are in :mod:`grasp_env.rl_wrappers`. Stable-Baselines3
comes with the ``baselines`` extra (``pip install grasp-toolkit[baselines]``); only the
learners registry is imported here (``from agents.baselines import learn``), which imports
SB3 only when an SB3 learner runs.
"""

from agents.baselines.learners import Learned, Learner, available, learn, register

__all__ = ["Learned", "Learner", "available", "learn", "register"]
