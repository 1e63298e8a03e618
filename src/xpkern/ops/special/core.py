"""``logsumexp``, ``softmax`` and ``log_softmax``: stable along any axes, on any backend."""

from __future__ import annotations

from typing import Any

from numpy import ndarray

from ... import _checks
from ..._dispatch import Bound, Op, public
from ...backends import Context, resolve
from . import generic

__all__ = ["log_softmax", "log_softmax_op", "logsumexp", "logsumexp_op", "logsumexp_sign_op",
           "softmax", "softmax_op"]  # fmt: skip


logsumexp_op = Op("logsumexp", _checks.quietly(generic.logsumexp))
# With return_sign the sum's sign comes back too: one generic implementation.
logsumexp_sign_op = Op("logsumexp", _checks.quietly(generic.logsumexp_general))
softmax_op = Op("softmax", _checks.quietly(generic.softmax))
log_softmax_op = Op("log_softmax", _checks.quietly(generic.log_softmax))
_logsumexp_calls = Bound()
_softmax_calls = Bound()
_log_softmax_calls = Bound()


def _finish(out: Any) -> Any:
    """A NumPy 0-d result as a NumPy scalar, as NumPy's and SciPy's reductions return it;
    0-d arrays of other libraries stay arrays."""
    return out[()] if type(out) is ndarray and not out.shape else out


@public(logsumexp_op)
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:  # fmt: skip
    """``log(sum(b * exp(a)))`` along ``axis``, without overflow: scipy.special.logsumexp.

    The signature, defaults, dtypes and special values are SciPy's, on every library and
    implementation.

    Parameters
    ----------
    a : array_like
        Input, real or complex; integers and booleans are promoted to the default float.
    axis : int or tuple of int, optional
        Axes to reduce; all by default.
    b : array_like, optional
        Weights, broadcast with ``a`` (both take the broadcast shape); they may be negative.
        A zero weight drops its term, also where ``a`` is infinite or NaN.
    keepdims : bool
        Keep the reduced axes with length 1.
    return_sign : bool
        Return ``(log|sum|, sign)`` instead of the log, which is NaN for a negative sum.

    Returns
    -------
    res : array or NumPy scalar
        Rows of all ``-inf`` give ``-inf``, a ``+inf`` gives ``+inf``, NaN propagates; an
        empty reduction gives ``-inf``. Complex results have their imaginary part in
        (-pi, pi]. The dtype is that of ``a`` and ``b`` promoted together (at least the
        default float). A full reduction of NumPy input returns a NumPy scalar.
    sgn : array or NumPy scalar
        With ``return_sign``: +1, 0 or -1 for real input, the phase of the sum for complex.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> float(xpkern.logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    >>> xpkern.logsumexp(np.array([[0.0, -np.inf], [-np.inf, -np.inf]]), axis=1)
    array([  0., -inf])
    >>> xpkern.logsumexp([1.0, 10000.0], b=[1.0, 0.0])
    np.float64(1.0)
    >>> xpkern.logsumexp([1, 2], b=[1, -1], return_sign=True)
    (np.float64(1.5413248546129181), np.float64(-1.0))
    """
    if b is None and not return_sign:
        found = _logsumexp_calls.get(a, axis, keepdims)
        if found is not None:
            return _finish(found(a))
    ctx = resolve(a, b)
    x = ctx.asarray(a)
    if b is None:
        x = _checks.floating(ctx, x, "a", "logsumexp", complex_ok=True)
    else:
        x, b = _with_weights(ctx, x, ctx.asarray(b))
    if x.ndim == 0:  # a 0-d input is reduced as a 1-d one of one element, as in SciPy
        x = ctx.xp.reshape(x, (1,))
        b = None if b is None else ctx.xp.reshape(b, (1,))
    axes = _checks.axes(axis, x.ndim, "logsumexp")
    keepdims = bool(keepdims)
    if return_sign:
        out, sign = logsumexp_sign_op(ctx, x, axes, keepdims, b, True)
        return _finish(out), _finish(sign)
    if b is None:
        return _finish(logsumexp_op.call_kept(_logsumexp_calls, a, (axis, keepdims), ctx, x,
                                              axes, keepdims, None))  # fmt: skip
    return _finish(logsumexp_op(ctx, x, axes, keepdims, b))


def _with_weights(ctx: Context, x: Any, b: Any) -> tuple[Any, Any]:
    """``x`` and ``b`` promoted to one inexact dtype and broadcast to one shape."""
    x, b = _checks.inexact(ctx, {"a": x, "b": b}, "logsumexp")
    try:
        x, b = ctx.xp.broadcast_arrays(x, b)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ValueError(f"logsumexp: b of shape {tuple(b.shape)} does not broadcast with a "
                         f"of shape {tuple(x.shape)}") from exc  # fmt: skip
    return x, b


def _rows_call(op: Op, calls: Bound, name: str, x: Any, axis: Any) -> Any:
    """softmax or log_softmax of ``x`` along ``axis``; a 0-d ``x`` as one element."""
    found = calls.get(x, axis)
    if found is not None:
        return _finish(found(x))
    given = x
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", name)
    if x.ndim == 0 and axis is None:
        out = op(ctx, ctx.xp.reshape(x, (1,)), (0,))
        return _finish(ctx.xp.reshape(out, ()))
    axes = _checks.axes(axis, x.ndim, name)
    return _finish(op.call_kept(calls, given, (axis,), ctx, x, axes))


@public(softmax_op)
def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably: scipy.special.softmax.

    Parameters
    ----------
    x : array_like
        Real input; integers and booleans are promoted to the default float.
    axis : int or tuple of int, optional
        Axes the result sums to 1 along; by default the whole array, as in SciPy.

    Returns
    -------
    array or NumPy scalar
        The shape of ``x``; a 0-d NumPy input gives a NumPy scalar.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    >>> xpkern.softmax(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]), axis=1)
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    return _rows_call(softmax_op, _softmax_calls, "softmax", x, axis)


@public(log_softmax_op)
def log_softmax(x: Any, axis: Any = None) -> Any:
    """``log(softmax(x))`` along ``axis``, without its rounding: scipy.special.log_softmax.

    Parameters
    ----------
    x : array_like
        Real input; integers and booleans are promoted to the default float.
    axis : int or tuple of int, optional
        Axes to normalise along; by default the whole array, as in SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    >>> xpkern.log_softmax(np.array([1000.0, 1.0]))
    array([   0., -999.])
    """
    return _rows_call(log_softmax_op, _log_softmax_calls, "log_softmax", x, axis)
