"""The scalar helpers of :mod:`xpkern._scalar`, compiled by Numba for the CPU.

Generated CPU kernels star-import this module; importing it imports Numba.
"""

import types

import numpy as np
from numba import njit

from .. import _scalar

__all__ = ["_INF", "_NAN"] + ["_s_" + name for name in _scalar.NAMES]

_INF = _scalar.INF
_NAN = _scalar.NAN


@njit(cache=True, error_model="numpy")
def _fmod(a, b):
    return np.fmod(a, b)


_GLOBALS = {**vars(_scalar), "fmod": _fmod}
for _name in _scalar.NAMES:
    _fn = getattr(_scalar, _name)
    _fn = types.FunctionType(_fn.__code__, _GLOBALS, _name, _fn.__defaults__)
    # error_model="numpy": division by zero gives inf/nan as in NumPy instead of raising.
    globals()["_s_" + _name] = njit(cache=True, error_model="numpy")(_fn)
