"""The self-supervised learning loop (paper III-D to III-F, IV-A) and its run directory.

* :mod:`agents.learning.config`: :class:`LearnConfig`, read from one YAML file.
* :mod:`agents.learning.schedule`: random first, then a phased mix of selection functions;
  per-attempt generators from (seed, attempt index).
* :mod:`agents.learning.rounds`: the trainer's rounds and which model acts on attempt i
  (lockstep: a function of the config; timed: the newest).
* :mod:`agents.learning.loop`: :func:`run_learning`, one session of a run.
* :mod:`agents.learning.lanes`: the learning bins attempts take turns in, and where an
  actor picks a lane up.
* :mod:`agents.learning.actor`: deciding and executing one attempt in its lane; restoring a
  lane's scene; the models each attempt acts on.
* :mod:`agents.learning.acting`: the actor loop, between where models come from and where
  results go.
* :mod:`agents.learning.actors`: K actor processes, a killed one replaced.
* :mod:`agents.learning.ray_actors`: the K actors as Ray actors across a cluster, and
  :mod:`agents.learning.ray_board`: the model versions they read (no run directory there).
* :mod:`agents.learning.commit`: the one writer, committing in attempt order.
* :mod:`agents.learning.callbacks`: hooks into the loop (progress line, charts, your own).
* :mod:`agents.learning.trainer`: the trainer process that retrains while the actor acts.
* :mod:`agents.learning.curve`: learning-curve evaluations, table and plot.
* :mod:`agents.learning.report`: ``report.json`` and ``report.md`` with the digests.
* :mod:`agents.learning.rundir`: the run directory, the newest-model pointer and the curve's
  kept models.
"""

from agents.learning.config import LearnConfig, load_config
from agents.learning.loop import run_learning
from agents.learning.rundir import resolve_run_dir

__all__ = ["LearnConfig", "load_config", "resolve_run_dir", "run_learning"]
