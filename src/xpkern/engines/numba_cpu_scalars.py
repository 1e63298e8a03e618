"""The scalar helpers of :mod:`xpkern._scalar`, compiled by Numba for the CPU.

Generated CPU kernels star-import this module; importing it imports Numba.
"""

from numba import njit

from .. import _scalar

__all__ = ["_INF", "_NAN"] + ["_s_" + name for name in _scalar.NAMES]

_INF = _scalar.INF
_NAN = _scalar.NAN

for _name in _scalar.NAMES:
    # error_model="numpy": division by zero gives inf/nan as in NumPy instead of raising.
    globals()["_s_" + _name] = njit(cache=True, error_model="numpy")(getattr(_scalar, _name))
