"""``logsumexp``, ``softmax`` and ``log_softmax``: the public functions and generic versions
(``core``), the CUDA row kernels (``cuda``, their source in ``rows_source``) and the Dask tree
reduction (``dask``)."""

# The engines register in this order, which is the order dispatch tries them in.
from . import cuda as _cuda_engine  # noqa: F401
from . import dask as _dask_engine  # noqa: F401
from .core import log_softmax, logsumexp, softmax

__all__ = ["log_softmax", "logsumexp", "softmax"]
