"""``logsumexp``, ``softmax`` and ``log_softmax``: stable along any axes, on any backend."""

from __future__ import annotations

import math
from typing import Any

from ... import _checks
from ..._dispatch import Bound, Op, public
from ...backends import Context, resolve

__all__ = ["log_softmax", "log_softmax_op", "logsumexp", "logsumexp_op", "softmax",
           "softmax_op"]  # fmt: skip


def _shift(xp: Any, x: Any, axes: tuple[int, ...]) -> Any:
    # The max along the axes, replaced by 0 where it is not finite: rows of -inf then give
    # exp(-inf) = 0 and log(0) = -inf, rows holding +inf give +inf, as in SciPy.
    m = xp.max(x, axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def _log_sum_exp(xp: Any, x: Any, axes: tuple[int, ...]) -> tuple[Any, Any]:
    """(log(sum(exp(x - shift))), shift) along the axes, accurate when the sum is near 1.

    The sum is 1 (one maximum) plus the rest; log1p of the rest keeps the digits that log of
    the rounded sum loses (log(1 + 2e-11) would keep 5 of them). The maxima are counted rather
    than summed, so the rest holds only the other terms. Where the max is not finite, nothing
    is counted and log1p(sum - 1) is log(sum): -inf, +inf or NaN as the generic formula gives.
    """
    m = xp.max(x, axis=axes, keepdims=True)
    finite = xp.isfinite(m)
    shift = xp.where(finite, m, xp.zeros_like(m))
    top = (x == m) & finite
    terms = xp.where(top, xp.zeros_like(x), xp.exp(x - shift))
    count = xp.sum(xp.astype(top, x.dtype), axis=axes, keepdims=True)
    return xp.log1p(xp.sum(terms, axis=axes, keepdims=True) + (count - 1)), shift


def _logsumexp_generic(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool,
                       b: Any) -> Any:  # fmt: skip
    xp = ctx.xp
    if math.prod(x.shape[a] for a in axes) == 0:
        shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        out = xp.full(shape, -math.inf, dtype=x.dtype, device=ctx.device)
    elif b is None:
        log_sum, shift = _log_sum_exp(xp, x, axes)
        out = log_sum + shift
    else:
        m = _shift(xp, x, axes)
        out = xp.log(xp.sum(xp.exp(x - m) * b, axis=axes, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axes) if axes else out
    return out


logsumexp_op = Op("logsumexp", _checks.quietly(_logsumexp_generic))
_logsumexp_calls = Bound()


@public(logsumexp_op)
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
    if b is None:
        found = _logsumexp_calls.get(x, axis, keepdims)
        if found is not None:
            return found(x)
    given = x
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
    if b is None:
        return logsumexp_op.call_kept(_logsumexp_calls, given, (axis, keepdims), ctx, x, axes,
                                      bool(keepdims), None)  # fmt: skip
    return logsumexp_op(ctx, x, axes, bool(keepdims), b)


def _softmax_generic(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    xp = ctx.xp
    if math.prod(x.shape) == 0:
        return xp.asarray(x, copy=True)
    e = xp.exp(x - xp.max(x, axis=axes, keepdims=True))
    return e / xp.sum(e, axis=axes, keepdims=True)


def _log_softmax_generic(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    xp = ctx.xp
    if math.prod(x.shape) == 0:
        return xp.asarray(x, copy=True)
    log_sum, shift = _log_sum_exp(xp, x, axes)
    return (x - shift) - log_sum


softmax_op = Op("softmax", _checks.quietly(_softmax_generic))
log_softmax_op = Op("log_softmax", _checks.quietly(_log_softmax_generic))
_softmax_calls = Bound()
_log_softmax_calls = Bound()


@public(softmax_op)
def softmax(x: Any, /, *, axis: Any = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably (like scipy.special.softmax).

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    found = _softmax_calls.get(x, axis)
    if found is not None:
        return found(x)
    given = x
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "softmax")
    axes = _checks.axes(axis, x.ndim, "softmax")
    return softmax_op.call_kept(_softmax_calls, given, (axis,), ctx, x, axes)


@public(log_softmax_op)
def log_softmax(x: Any, /, *, axis: Any = -1) -> Any:
    """``log(softmax(x))`` along ``axis``, without its rounding (like scipy's log_softmax).

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    found = _log_softmax_calls.get(x, axis)
    if found is not None:
        return found(x)
    given = x
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "log_softmax")
    axes = _checks.axes(axis, x.ndim, "log_softmax")
    return log_softmax_op.call_kept(_log_softmax_calls, given, (axis,), ctx, x, axes)
