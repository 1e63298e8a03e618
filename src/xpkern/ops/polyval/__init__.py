"""``polyval``: the public function (``core``) and its engines (``cpu``, ``cuda``)."""

from . import cpu as _cpu_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from .core import polyval

__all__ = ["polyval"]
