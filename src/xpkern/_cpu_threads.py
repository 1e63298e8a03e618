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


def jit(fn: Any, parallel: bool, **options: Any) -> Any:
    """``fn`` compiled by Numba (cached on disk), serial or parallel (``numba.prange`` loops
    run on every core only in the parallel one)."""
    import numba

    # Numba names a function's disk cache after it: the two variants need two names.
    name = f"{fn.__name__}_parallel" if parallel else fn.__name__
    fn.__name__ = fn.__qualname__ = name
    return numba.njit(cache=True, parallel=parallel, **options)(fn)


def run(kernel: Any, args: list[Any], parallel: bool = True) -> None:
    """Call a kernel; a parallel one one at a time under Numba's workqueue threading layer,
    which aborts the process when two threads enter it together (omp and tbb allow that)."""
    global _threadsafe
    if not parallel or _threadsafe:
        kernel(*args)
        return
    import numba

    with _LOCK:
        kernel(*args)
        _threadsafe = numba.threading_layer() != "workqueue"
