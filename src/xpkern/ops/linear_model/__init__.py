"""``fit_linear`` and ``predict_linear``: the public functions (``core``), the size rule of the
one-kernel loop (``sizes``) and its engines (``cpu``, ``cuda``)."""

# The engines register in this order, which is the order dispatch tries them in.
from . import cpu as _cpu_engine  # noqa: F401
from . import cuda as _cuda_engine  # noqa: F401
from .core import fit_linear, predict_linear

__all__ = ["fit_linear", "predict_linear"]
