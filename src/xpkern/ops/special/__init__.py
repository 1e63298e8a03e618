"""``logsumexp``, ``softmax`` and ``log_softmax``: the public functions and generic versions
(``core``), the CUDA row kernels (``cuda``, their source in ``rows_source``), torch's own
softmax (``native``), the Numba CPU row kernels (``cpu``) and the Dask tree reduction
(``dask``)."""

# The engines register in this order, which is the order dispatch tries them in.
# isort: off
from . import cuda as _cuda_engine  # noqa: F401
from . import native as _native_engine  # noqa: F401
from . import cpu as _cpu_engine  # noqa: F401
from . import dask as _dask_engine  # noqa: F401

# isort: on
from .core import log_softmax, logsumexp, softmax

__all__ = ["log_softmax", "logsumexp", "softmax"]
