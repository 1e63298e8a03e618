"""The scalar helpers of :mod:`xpkern._scalar` as CUDA device functions.

Generated CUDA kernels star-import this module; importing it imports the CUDA compiler.
"""

import types

from ... import _scalar
from .compiler import cuda

__all__ = ["_INF", "_NAN"] + ["_s_" + name for name in _scalar.NAMES]

_INF = _scalar.INF
_NAN = _scalar.NAN

_fmod = cuda.jit(device=True)(_scalar.fmod)
_GLOBALS = {**vars(_scalar), "fmod": _fmod}
for _name in _scalar.NAMES:
    _fn = getattr(_scalar, _name)
    _fn = types.FunctionType(_fn.__code__, _GLOBALS, _name, _fn.__defaults__)
    globals()["_s_" + _name] = cuda.jit(device=True)(_fn)
