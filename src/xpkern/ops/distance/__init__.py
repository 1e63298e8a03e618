"""``cdist`` and ``rbf_kernel``: the public functions (``core``) and their implementations by
engine (``cpu``, ``native``: the library's own, ``cuda``, ``dask``)."""

# The engines register in this order, which is the order dispatch tries them in.
# isort: off
from . import cpu as _cpu_engine  # noqa: F401
from . import native as _native_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from . import dask as _dask_engine  # noqa: F401

# isort: on
from .core import cdist, rbf_kernel

__all__ = ["cdist", "rbf_kernel"]
