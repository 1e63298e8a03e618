"""Argument checks shared by the ops (axes, dtypes: a ValueError/TypeError naming them), and
every "why not" reason more than one implementation gives (grad, device, dtype, layout)."""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

from .backends import Context, dtype_name

__all__ = [
    "GRAD",
    "axes",
    "dtype_name",
    "floating",
    "host_float_kernel",
    "inexact",
    "is_integer",
    "is_real",
    "needs_grad",
    "not_contiguous",
    "not_float",
    "not_on_cuda",
    "not_on_host",
    "quiet",
    "quietly",
    "reduced_shape",
    "rows_of",
]

GRAD = "an input requires grad: the generic path keeps autograd working"
FLOATS = ("float32", "float64")


def axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as sorted non-negative axes of ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    # Cached for plain ints only: the cache would take 1.0 or True for the 1 it has seen.
    if type(axis) is int or (type(axis) is tuple and all(type(a) is int for a in axis)):
        return _axes(axis, ndim, op)
    return _axes.__wrapped__(axis, ndim, op)


@functools.lru_cache(maxsize=1024)
def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
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


def rows_of(x: Any, axes: tuple[int, ...]) -> tuple[int, int] | None:
    """A reduction over ``axes`` of a C-contiguous ``x`` as (rows, row length): where the axes
    are the last one or all of them, a kernel can reduce each row of ``x.reshape(rows, n)``;
    None otherwise (and for 0-d arrays)."""
    if x.ndim == 0:
        return None
    if axes == tuple(range(x.ndim)):
        return 1, math.prod(x.shape)
    if axes == (x.ndim - 1,):
        return math.prod(x.shape[:-1]), int(x.shape[-1])
    return None


def reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool
                  ) -> tuple[int, ...]:  # fmt: skip
    """The shape of a reduction of ``shape`` over ``axes``, as NumPy's ``keepdims`` gives it."""
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


# NumPy registers its integer and float scalars with ``numbers`` but not np.bool_, so only
# Python's bool (an Integral) needs refusing.
def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (Python's or NumPy's, integers included), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def needs_grad(*arrays: Any) -> str | None:
    """:data:`GRAD` if any of ``arrays`` requires grad, else None."""
    return GRAD if any(getattr(a, "requires_grad", False) for a in arrays) else None


def not_on_host(ctx: Context) -> str | None:
    """Why a Numba CPU kernel cannot read these arrays' memory, or None."""
    if ctx.backend.name not in ("numpy", "torch") or ctx.device_type != "cpu":
        return f"needs NumPy arrays or CPU tensors, got {ctx.backend.name} on {ctx.device_type}"
    return None


def not_on_cuda(ctx: Context) -> str | None:
    """Why a CUDA kernel cannot read these arrays' memory, or None."""
    if ctx.backend.name not in ("cupy", "torch") or ctx.device_type != "cuda":
        return f"needs CuPy arrays or CUDA tensors, got {ctx.backend.name} on {ctx.device_type}"
    return None


def not_float(*arrays: Any) -> str | None:
    """Why a kernel over float32/float64 data cannot take these arrays, or None."""
    if any(dtype_name(a.dtype) not in FLOATS for a in arrays):
        return "the kernel takes float32/float64 data"
    return None


def not_contiguous(ctx: Context, *arrays: Any) -> str | None:
    """Why a kernel that indexes C-contiguous memory cannot take these arrays, or None."""
    if not all(ctx.backend.contiguous(a) for a in arrays):
        return "the kernel needs C-contiguous inputs"
    return None


def host_float_kernel(ctx: Context, *arrays: Any) -> str | None:
    """Why a Numba CPU kernel over float32/float64 arrays cannot take these, or None."""
    return not_on_host(ctx) or needs_grad(*arrays) or not_float(*arrays)


def floating(ctx: Context, x: Any, name: str, op: str, *, complex_ok: bool = False) -> Any:
    """``x`` as a real floating array: integers and booleans go to the default float.

    With ``complex_ok`` complex arrays pass as they are; otherwise they are refused."""
    dtype = getattr(x, "dtype", None)
    kind = _kind_of(ctx, dtype)
    if kind == "float" or (kind == "complex" and complex_ok):
        return x
    if kind != "cast":
        what = "numeric" if complex_ok else "real numeric"
        raise TypeError(f"{op}: {name} must have a {what} dtype, not {dtype}")
    return ctx.xp.astype(x, default_float(ctx))


def default_float(ctx: Context) -> Any:
    """The library's default floating dtype on the context's device."""
    return ctx.xp.asarray(0.0, device=ctx.device).dtype


def inexact(ctx: Context, arrays: dict[str, Any], op: str) -> list[Any]:
    """The named arrays in one floating (or complex) dtype, as SciPy promotes them.

    The dtype is the library's promotion of the arrays with a Python float: integers and
    booleans alone give the default float, a float32 array keeps float32. Where the library
    does not promote integers with floats (array-api-strict), the integers count as the
    default float.
    """
    xp = ctx.xp
    for name, a in arrays.items():
        if _kind_of(ctx, getattr(a, "dtype", None)) == "other":
            raise TypeError(f"{op}: {name} must have a numeric dtype, not {a.dtype}")
    values = list(arrays.values())
    try:
        dtype = xp.result_type(*values, 1.0)
    except TypeError:
        floats = [a.dtype for a in values if _kind_of(ctx, a.dtype) in ("float", "complex")]
        dtype = xp.result_type(*floats, default_float(ctx))
    return [a if a.dtype == dtype else xp.astype(a, dtype) for a in values]


# (library, dtype) -> "float", "complex", "cast" (bool and integers) or "other": isdtype's
# answer, kept.
_KINDS: dict[tuple[str, Any], str] = {}


def _kind_of(ctx: Context, dtype: Any) -> str:
    try:
        kind = _KINDS.get((ctx.backend.name, dtype))
    except TypeError:  # an unhashable dtype
        kind = None
    return _kind(ctx, dtype) if kind is None else kind


def _kind(ctx: Context, dtype: Any) -> str:
    xp = ctx.xp
    try:
        if dtype is None:
            kind = "other"
        elif xp.isdtype(dtype, "real floating"):
            kind = "float"
        elif xp.isdtype(dtype, "complex floating"):
            kind = "complex"
        elif xp.isdtype(dtype, ("bool", "integral")):
            kind = "cast"
        else:
            kind = "other"
    except (TypeError, ValueError):
        return "other"
    with contextlib.suppress(TypeError):
        _KINDS[(ctx.backend.name, dtype)] = kind
    return kind


def quietly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn(ctx, ...)`` run under :func:`quiet`: for generic implementations, whose composed
    steps meet inf and NaN by design (kernels raise no floating-point warnings)."""

    @functools.wraps(fn)
    def run(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        with quiet(ctx):
            return fn(ctx, *args, **kwargs)

    return run


def quiet(ctx: Context) -> contextlib.AbstractContextManager[Any]:
    """NumPy's floating-point warnings off, for results that are inf or NaN by definition
    (log of 0 in a row of -inf, a branch not taken that divides by zero)."""
    if ctx.backend.name in ("numpy", "array_api_strict"):
        import numpy as np

        return np.errstate(all="ignore")
    return contextlib.nullcontext()
