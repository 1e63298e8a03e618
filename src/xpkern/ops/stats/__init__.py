"""``mean_var``: the public function and its generic version (``core``), the CUDA row kernel
(``cuda``) and torch's own ``mean``/``var`` where they compute the same (``native``)."""

# The engines register in this order, which is the order dispatch tries them in.
from . import cuda as _cuda_engine  # noqa: F401
from . import native as _native_engine  # noqa: F401
from .core import mean_var

__all__ = ["mean_var"]
