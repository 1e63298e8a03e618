"""``matmul``: the public function (``core``) and its implementations by engine (``cpu``,
``cuda``, ``dask``)."""

# The engines register in this order, which is the order dispatch tries them in.
from . import cpu as _cpu_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from . import dask as _dask_engine  # noqa: F401
from .core import matmul
from .cuda import torch_int_matmul

__all__ = ["matmul", "torch_int_matmul"]
