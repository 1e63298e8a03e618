"""What the drop-ins accept as dense input: checks that decline rather than convert."""

from __future__ import annotations

import math
from typing import Any

from .._checks import is_real
from ..backends import backend_of
from . import Decline

__all__ = ["dense", "positive_number"]


def dense(name: str, a: Any) -> None:
    """Decline unless ``a`` is an array of a known library or a list/tuple (array-like);
    sparse matrices, generators and other objects go to the original."""
    if isinstance(a, list | tuple):
        return
    if backend_of(a) is None:
        raise Decline(f"{name} is a {type(a).__name__}, not a dense array")


def positive_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number > 0 and finite (NumPy scalars included)."""
    if not is_real(value):
        raise Decline(f"{name} is not a real number")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise Decline(f"{name} is not finite and > 0")
    return value
