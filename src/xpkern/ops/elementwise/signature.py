"""What an elementwise call's arguments are: their broadcast shape, the dtypes a kernel takes,
and the types that literals take in a kernel for them."""

from __future__ import annotations

import functools
from typing import Any

from ..._checks import dtype_name, needs_grad
from ...backends import Context, backend_of

__all__ = ["KERNEL_DTYPES", "array_slots", "broadcast_shape", "kernel_kind", "literal_types",
           "no_kernel_for"]  # fmt: skip

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


def literal_types(ctx: Context, args: tuple[Any, ...]) -> tuple[str, str]:
    """The NumPy types of integer and float literals in a kernel for these arguments."""
    arrays = [a for a in args if backend_of(a) is not None]
    working = dtype_name(ctx.xp.result_type(*arrays)) if arrays else "float64"
    if working.startswith("float"):
        return ("float32", "float32") if working == "float32" else ("int64", "float64")
    return (working if working != "bool" else "int64"), "float64"


def no_kernel_for(args: tuple[Any, ...]) -> str | None:
    """Why no kernel takes these arguments (a dtype, or grad), or None."""
    for a in args:
        if backend_of(a) is not None and dtype_name(a.dtype) not in KERNEL_DTYPES:
            return f"no kernel for dtype {a.dtype}"
    return needs_grad(*args)
