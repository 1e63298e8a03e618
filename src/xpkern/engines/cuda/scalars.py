"""The scalar helpers of :mod:`xpkern._scalar` as CUDA device functions.

Generated CUDA kernels star-import this module; importing it imports the CUDA compiler.
"""

from ... import _scalar
from .compiler import cuda

__all__ = ["_INF", "_NAN"] + ["_s_" + name for name in _scalar.NAMES]

_INF = _scalar.INF
_NAN = _scalar.NAN

for _name in _scalar.NAMES:
    globals()["_s_" + _name] = cuda.jit(device=True)(getattr(_scalar, _name))
