"""``kmeans``: the public function (``core``) and its fused steps (``cpu``, ``cuda``)."""

# The engines register in this order, which is the order dispatch tries them in.
from . import cpu as _cpu_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from .core import kmeans

__all__ = ["kmeans"]
