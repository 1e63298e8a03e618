"""``mean_var``: the public function and its generic version (``core``), the Numba CPU row
kernel (``cpu``), the CUDA row kernel (``cuda``) and torch's own ``mean``/``var`` where they
compute the same (``native``)."""

# The engines register in this order, which is the order dispatch tries them in.
# isort: off
from . import cpu as _cpu_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from . import native as _native_engine  # noqa: F401

# isort: on
from .core import mean_var

__all__ = ["mean_var"]
