"""The Numba CPU engine: when a kernel may run on every core (``parallel=True``), how to
compile and call one, and what is missing when Numba cannot run."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import threading
from typing import Any

from .dask import in_chunk

__all__ = ["allowed", "jit", "missing", "parallel", "run", "threads"]

_PID = os.getpid()
_LOCK = threading.Lock()
_threadsafe: bool | None = None  # known once a parallel kernel has run


def allowed() -> bool:
    """Whether a parallel kernel may run here: not inside a Dask task (Dask already runs one
    chunk per core) and not in a forked child (GNU OpenMP does not survive fork)."""
    return os.getpid() == _PID and not in_chunk()


def parallel(work: int, threshold: int) -> bool:
    """Whether a kernel doing ``work`` (elements, multiply-adds: the op's own measure) runs on
    every core: from the op's measured ``threshold`` on, and where :func:`allowed`."""
    return work >= threshold and allowed()


def threads() -> int:
    """How many threads a parallel kernel runs on: Numba's setting once Numba is imported,
    else its default (``NUMBA_NUM_THREADS``, or the cores this process may use)."""
    numba = sys.modules.get("numba")
    if numba is not None:
        return int(numba.get_num_threads())
    setting = os.environ.get("NUMBA_NUM_THREADS", "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def missing() -> str | None:
    """Why Numba kernels cannot run here, or None."""
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed"
    return None


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
