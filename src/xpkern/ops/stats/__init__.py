"""``mean_var``: the public function and its generic version (``core``)."""

from .core import mean_var

__all__ = ["mean_var"]
