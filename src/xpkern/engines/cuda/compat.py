"""One narrow compatibility measure, so numba-cuda compiles with the newest NumPy.

numba-cuda 0.30 registers a typing overload for ``numpy.row_stack`` when it loads its NumPy
array support, and NumPy 2.5 removed ``row_stack`` (an alias of ``vstack`` since 2.0): every
compile then fails with ``module 'numpy' has no attribute 'row_stack'``. :func:`apply` lends
NumPy a stand-in for exactly the import of numba-cuda, then takes it away again, so the NumPy
that user code sees is never changed. It lends nothing where NumPy still has the name.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
import warnings
from typing import Any

__all__ = ["applied", "apply"]

_MODULE = "numba.cuda.np.arrayobj"  # the module that names numpy.row_stack
_NAME = "row_stack"
_LOCK = threading.Lock()
_applied = False
_lent = False  # whether apply() had to lend the name


def _row_stack(tup: Any) -> Any:
    """A stand-in for the removed ``numpy.row_stack`` (never called: only registered)."""
    import numpy as np

    return np.vstack(tup)


def apply() -> None:
    """Import numba-cuda, and its NumPy array support with ``numpy.row_stack`` present;
    idempotent. The DeprecationWarnings numba-cuda's own import draws from a newer NumPy
    (a generic-unit ``timedelta64`` in NumPy 2.5) are not the user's to act on: not shown."""
    global _applied, _lent
    if _applied:
        return
    with _LOCK:
        if _applied:
            return
        import numpy as np

        if importlib.util.find_spec("numba_cuda") is None:
            _applied = True
            return
        lend = not hasattr(np, _NAME)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if lend:  # setattr/delattr by name: the name is one NumPy no longer has
                setattr(np, _NAME, _row_stack)
                _lent = True
            try:
                importlib.import_module("numba.cuda")  # its package first, then the module
                importlib.import_module(_MODULE)
            except ImportError:  # a numba-cuda without that module: nothing to do
                pass
            finally:
                if lend:
                    delattr(np, _NAME)
        _applied = True


def applied() -> str | None:
    """The measure taken in this process, in words, or None."""
    return "numpy.row_stack lent to numba-cuda while it loaded" if _lent else None
