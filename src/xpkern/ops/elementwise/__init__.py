"""``@elementwise``: the public function and object (``core``), the translation of a scalar
function (``translate``, ``signature``), kept calls that hand over to a kernel once hot
(``warming``), and one file per engine (``cpu``, ``cuda``, ``dask``), each adding its
implementation to every function's op."""

# The engines register in this order, which is the order dispatch tries them in.
from . import cpu as _cpu_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from . import dask as _dask_engine  # noqa: F401
from .core import Elementwise, elementwise
from .translate import UnsupportedFunction

__all__ = ["Elementwise", "UnsupportedFunction", "elementwise"]
