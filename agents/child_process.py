"""Child processes that end with their parent: the trainer, the actors, the evaluation workers.

A child asks Linux for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), so a
killed ``grasp learn`` or ``grasp evaluate`` leaves no process behind that goes on using the
cores. Where prctl is missing, the children that poll (trainer and actors) also compare
``os.getppid()`` with their parent's pid.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit if it already has."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass  # not Linux: the getppid polling of the trainer and the actors still ends them
    if os.getppid() != parent_pid:
        os._exit(0)


__all__ = ["die_with_parent"]
