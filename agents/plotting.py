"""matplotlib for the figures the toolkit writes (the ``plot`` extra), headless."""

from __future__ import annotations

from typing import Any

from grasp_env.extras import needs_extras


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no screen needed).

    Raises:
        DependencyNotInstalled: matplotlib is missing; the message names the ``plot`` extra.
    """
    with needs_extras("drawing a figure"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    return plt


__all__ = ["pyplot"]
