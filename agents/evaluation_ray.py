"""The bins of an evaluation over Ray actors across a cluster (``run_bins(ray_address=...)``).

Each Ray actor (one CPU, spread over the nodes) is set up as a worker process of
:func:`agents.evaluation.run_bins` is, by the same initialiser: its environment and agent
built once, one torch and one scorer thread. A ``ray.util.ActorPool`` hands it bins until
none is left. Bin k is a function of the specs, the seed and k alone
(:mod:`agents.evaluation`), so the bins equal those of one process. The actors end with
the call; an error building the agent or the environment comes back with the first bin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents import evaluation
from agents.raycluster import connect


class BinWorker:
    """The body of one Ray actor: an evaluation worker's environment and agent."""

    def __init__(self, *args: Any) -> None:
        evaluation._init_worker(*args)

    def run(self, index: int) -> evaluation.BinResult:
        """Bin ``index``."""
        return evaluation._worker_bin(index)


def bins_on_ray(
    args: tuple,
    indices: list[int],
    workers: int,
    on_bin: Callable[[evaluation.BinResult], None] | None,
    ray_address: str,
) -> list[evaluation.BinResult]:
    """The bins over ``workers`` Ray actors on the cluster at ``ray_address``, as they finish."""
    ray = connect(ray_address)
    from ray.util import ActorPool

    remote = ray.remote(num_cpus=1)(BinWorker).options(scheduling_strategy="SPREAD")
    actors = [remote.remote(*args) for _ in range(workers)]
    bins = []
    try:
        pool = ActorPool(actors)
        for result in pool.map_unordered(lambda actor, k: actor.run.remote(k), indices):
            bins.append(result)
            if on_bin is not None:
                on_bin(result)
    finally:
        for actor in actors:
            ray.kill(actor)
    return bins


__all__ = ["BinWorker", "bins_on_ray"]
