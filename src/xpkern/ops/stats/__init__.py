"""``mean_var``: the public function and its generic version (``core``), and torch's own
``var_mean`` where it computes the same (``native``)."""

from . import native as _native_engine  # noqa: F401
from .core import mean_var

__all__ = ["mean_var"]
