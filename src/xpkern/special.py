"""``logsumexp``, ``softmax`` and ``log_softmax``: stable along any axes, on any backend."""

from __future__ import annotations

import math
from typing import Any

from . import _checks
from ._backends import Context, resolve
from ._dispatch import Op, config, public

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _shift(xp: Any, x: Any, axes: tuple[int, ...]) -> Any:
    # The max along the axes, replaced by 0 where it is not finite: rows of -inf then give
    # exp(-inf) = 0 and log(0) = -inf, rows holding +inf give +inf, as in SciPy.
    m = xp.max(x, axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def _logsumexp_generic(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool,
                       b: Any) -> Any:  # fmt: skip
    xp = ctx.xp
    if math.prod(x.shape[a] for a in axes) == 0:
        shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        out = xp.full(shape, -math.inf, dtype=x.dtype, device=ctx.device)
    else:
        m = _shift(xp, x, axes)
        e = xp.exp(x - m)
        if b is not None:
            e = e * b
        out = xp.log(xp.sum(e, axis=axes, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axes) if axes else out
    return out


_logsumexp = Op("logsumexp", _logsumexp_generic)


def _dask_tree_supports(ctx: Context, x: Any, axes: Any, keepdims: bool, b: Any) -> str | None:
    if ctx.backend.name != "dask":
        return "only for Dask arrays"
    if b is not None:
        return "weights b take the generic path"
    return None if math.prod(x.shape[a] for a in axes) else "an empty reduction"


@_logsumexp.register(
    "dask-tree",
    reason="tree reduction: each chunk's logsumexp (its own library's kernel), then the "
    "logsumexp of those partials; one read of the input",
    supports=_dask_tree_supports,
)
def _logsumexp_dask(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    import dask.array as da

    # logsumexp is associative: the logsumexp of partial logsumexps is the whole one, and
    # +-inf and NaN carry through each level as they do in one pass.
    return da.reduction(x, _partial_lse, _partial_lse, combine=_partial_lse, axis=axes,
                        keepdims=keepdims, dtype=x.dtype, concatenate=True,
                        meta=x._meta)  # fmt: skip


def _partial_lse(chunk: Any, axis: Any = None, keepdims: bool = False, **_: Any) -> Any:
    with config(impl="auto"):  # a choice forced for the Dask array is not the chunks'
        return logsumexp(chunk, axis=axis, keepdims=keepdims)


@public(_logsumexp)
def logsumexp(x: Any, /, *, axis: Any = None, keepdims: bool = False, b: Any = None) -> Any:
    """``log(sum(b * exp(x)))`` along ``axis``, without overflow (like scipy.special.logsumexp).

    Parameters
    ----------
    x : array
        Input; integers are promoted to the default float.
    axis : int or tuple of int, optional
        Axes to reduce; all by default.
    keepdims : bool
        Keep the reduced axes with length 1.
    b : array_like, optional
        Weights broadcastable to ``x``; zeros drop their terms.

    Returns
    -------
    array
        Rows of all ``-inf`` give ``-inf``, a ``+inf`` gives ``+inf``, NaN propagates; an
        empty reduction gives ``-inf``. A negative weighted sum gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> float(xpkern.logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    >>> xpkern.logsumexp(np.array([[0.0, -np.inf], [-np.inf, -np.inf]]), axis=1)
    array([  0., -inf])
    """
    ctx = resolve(x, b)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "logsumexp")
    axes = _checks.axes(axis, x.ndim, "logsumexp")
    if b is not None:
        b = _checks.floating(ctx, ctx.asarray(b), "b", "logsumexp")
        try:
            ctx.xp.broadcast_arrays(x, b)
        except (ValueError, RuntimeError, TypeError) as exc:
            raise ValueError(f"logsumexp: b of shape {tuple(b.shape)} does not broadcast "
                             f"to x of shape {tuple(x.shape)}") from exc  # fmt: skip
    with _checks.quiet(ctx):
        return _logsumexp(ctx, x, axes, bool(keepdims), b)


def _softmax_generic(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    xp = ctx.xp
    if x.size == 0:
        return xp.asarray(x, copy=True)
    e = xp.exp(x - xp.max(x, axis=axes, keepdims=True))
    return e / xp.sum(e, axis=axes, keepdims=True)


def _log_softmax_generic(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    xp = ctx.xp
    if x.size == 0:
        return xp.asarray(x, copy=True)
    shifted = x - _shift(xp, x, axes)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axes, keepdims=True))


_softmax = Op("softmax", _softmax_generic)
_log_softmax = Op("log_softmax", _log_softmax_generic)


@public(_softmax)
def softmax(x: Any, /, *, axis: Any = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably (like scipy.special.softmax).

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "softmax")
    axes = _checks.axes(axis, x.ndim, "softmax")
    with _checks.quiet(ctx):
        return _softmax(ctx, x, axes)


@public(_log_softmax)
def log_softmax(x: Any, /, *, axis: Any = -1) -> Any:
    """``log(softmax(x))`` along ``axis``, without its rounding (like scipy's log_softmax).

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "log_softmax")
    axes = _checks.axes(axis, x.ndim, "log_softmax")
    with _checks.quiet(ctx):
        return _log_softmax(ctx, x, axes)
