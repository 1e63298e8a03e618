"""What an elementwise call's arguments are: their broadcast shape, the dtypes a kernel takes,
and the checks NumPy's ufuncs make on arguments and ``out``."""

from __future__ import annotations

import functools
from typing import Any

from ..._checks import dtype_name, needs_grad
from ...backends import backend_of

__all__ = ["KERNEL_DTYPES", "array_slots", "broadcast_shape", "check_array", "check_out",
           "kernel_kind", "no_kernel_for"]  # fmt: skip

KERNEL_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float32", "float64"}  # fmt: skip


@functools.lru_cache(maxsize=256)
def kernel_kind(xp: Any, dtype: Any) -> bool:
    """Whether ``dtype`` is one an elementwise function takes at all (bool, integer, real)."""
    return bool(xp.isdtype(dtype, ("bool", "integral", "real floating")))


def broadcast_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    """The shape ``shapes`` broadcast to, or a ValueError naming them."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            raise ValueError(f"input shapes {shapes} do not broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def array_slots(args: Any) -> tuple[int, ...]:
    """The positions of the array arguments among ``args``."""
    return tuple(i for i, a in enumerate(args) if backend_of(a) is not None)


_REFUSED = {
    "MaskedArray": "a numpy.ma.MaskedArray: its mask would be lost (pass a.filled() or a.data)",
    "matrix": "a numpy.matrix, whose * is a matrix product (pass numpy.asarray(m))",
}


_REFUSED_TYPES: dict[type, str | None] = {}


def _refused(kind: type) -> str | None:
    if kind not in _REFUSED_TYPES:
        _REFUSED_TYPES[kind] = next((_REFUSED[c.__name__] for c in kind.__mro__
                                     if c.__name__ in _REFUSED
                                     and c.__module__.startswith("numpy")), None)  # fmt: skip
    return _REFUSED_TYPES[kind]


def check_array(name: str, what: str, value: Any, output: bool = False) -> None:
    """A TypeError for arguments no elementwise function takes as NumPy would."""
    refused = _refused(type(value))
    if refused is not None:
        raise TypeError(f"{name}: {what} is {refused}")
    if output and backend_of(value) is None:
        raise TypeError(f"{name}: out must be an array of a supported library, got "
                        f"{type(value).__name__}")  # fmt: skip


def check_out(name: str, out: Any, shape: tuple[int, ...], dtype: Any) -> None:
    """The ValueError/TypeError NumPy's ufuncs give for an ``out`` that cannot take the result."""
    import numpy as np

    if tuple(out.shape) != shape:
        raise ValueError(f"out has shape {tuple(out.shape)}, the result has shape {shape}")
    result, target = dtype_name(dtype), dtype_name(out.dtype)
    if not np.can_cast(result, target, "same_kind"):
        raise TypeError(
            f"{name}: cannot cast the result from {result} to out's {target} "
            "(the same_kind rule of NumPy's out=)"
        )


def no_kernel_for(args: tuple[Any, ...]) -> str | None:
    """Why no kernel takes these arguments (a dtype, or grad), or None."""
    for a in args:
        if backend_of(a) is not None and dtype_name(a.dtype) not in KERNEL_DTYPES:
            return f"no kernel for dtype {a.dtype}"
    return needs_grad(*args)
