"""The self-supervised learning loop (paper III-D to III-F, IV-A) and its run directory.

* :mod:`agents.learning.config`: :class:`LearnConfig`, read from one YAML file.
* :mod:`agents.learning.schedule`: random first, then a phased mix of selection functions;
  per-attempt generators from (seed, attempt index).
* :mod:`agents.learning.loop`: the actor, :func:`run_learning`.
* :mod:`agents.learning.trainer`: the trainer process that retrains while the actor acts.
* :mod:`agents.learning.curve`: learning-curve evaluations, table and plot.
* :mod:`agents.learning.rundir`: the run directory and the newest-model pointer.
"""

from agents.learning.config import LearnConfig, load_config
from agents.learning.loop import run_learning
from agents.learning.rundir import resolve_run_dir

__all__ = ["LearnConfig", "load_config", "resolve_run_dir", "run_learning"]
