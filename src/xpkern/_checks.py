"""Argument checks shared by the ops: axes, dtypes, shapes (ValueError/TypeError naming them)."""

from __future__ import annotations

import contextlib
import operator
from functools import lru_cache
from typing import Any

from ._backends import Context


def axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as sorted non-negative axes of ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in items:
        try:
            a = operator.index(a)
        except TypeError:
            raise TypeError(
                f"{op}: axis must be an int or a tuple of ints, got {axis!r}"
            ) from None
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for an array of {ndim} dimensions")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


@lru_cache(maxsize=256)
def dtype_name(dtype: Any) -> str:
    """``"float32"`` for NumPy's, torch's or CuPy's float32 alike."""
    return str(dtype).rpartition(".")[2]


def host_float_kernel(ctx: Context, *arrays: Any) -> str | None:
    """Why a Numba CPU kernel over float32/float64 arrays cannot take these, or None."""
    if ctx.backend.name not in ("numpy", "torch") or ctx.device_type != "cpu":
        return f"needs NumPy arrays or CPU tensors, got {ctx.backend.name} on {ctx.device_type}"
    if any(getattr(a, "requires_grad", False) for a in arrays):
        return "an input requires grad: the generic path keeps autograd working"
    if any(dtype_name(a.dtype) not in ("float32", "float64") for a in arrays):
        return "the kernel takes float32/float64 data"
    return None


def floating(ctx: Context, x: Any, name: str, op: str) -> Any:
    """``x`` as a real floating array: integers and booleans go to the default float."""
    xp = ctx.xp
    dtype = getattr(x, "dtype", None)
    try:
        ok = dtype is not None and bool(xp.isdtype(dtype, ("bool", "integral", "real floating")))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TypeError(f"{op}: {name} must have a real numeric dtype, not {dtype}")
    if xp.isdtype(dtype, "real floating"):
        return x
    return xp.astype(x, xp.asarray(0.0, device=ctx.device).dtype)


def quiet(ctx: Context) -> contextlib.AbstractContextManager[Any]:
    """NumPy's floating-point warnings off, for results that are inf or NaN by definition
    (log of 0 in a row of -inf, a branch not taken that divides by zero)."""
    if ctx.backend.name in ("numpy", "array_api_strict"):
        import numpy as np

        return np.errstate(all="ignore")
    return contextlib.nullcontext()
