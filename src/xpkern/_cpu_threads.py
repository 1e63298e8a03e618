"""When a Numba CPU kernel may run on every core (``parallel=True``), and how to call one."""

from __future__ import annotations

import os
import threading
from typing import Any

_PID = os.getpid()
_LOCK = threading.Lock()
_threadsafe: bool | None = None  # known once a parallel kernel has run


def allowed() -> bool:
    """Whether a parallel kernel may run here: not inside a Dask task (Dask already runs one
    chunk per core) and not in a forked child (GNU OpenMP does not survive fork)."""
    from ._dask import in_chunk

    return os.getpid() == _PID and not in_chunk()


def run(kernel: Any, args: list[Any]) -> None:
    """Call a parallel kernel; one at a time under Numba's workqueue threading layer, which
    aborts the process when two threads enter it together (omp and tbb allow that)."""
    global _threadsafe
    if _threadsafe:
        kernel(*args)
        return
    import numba

    with _LOCK:
        kernel(*args)
        _threadsafe = numba.threading_layer() != "workqueue"
