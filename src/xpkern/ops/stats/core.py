"""``mean_var``: mean and variance in one call, accurate for data far from zero."""

from __future__ import annotations

import math
from typing import Any

from ... import _checks
from ..._dispatch import Bound, Op, public
from ...backends import Context, dtype_name, resolve

__all__ = ["TOO_FEW", "mean_var", "mean_var_op"]

# Why no specialised implementation takes a reduction of no more values than the correction
TOO_FEW = "no more values than the correction: the generic path divides by 0 as NumPy does"


def _mean_var_generic(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
                      keepdims: bool) -> tuple[Any, Any]:  # fmt: skip
    # Two passes: the mean, then the squares of the deviations from it. Unlike
    # E[x^2] - E[x]^2, this keeps its accuracy for 1e8 + small noise.
    xp = ctx.xp
    count = math.prod(x.shape[a] for a in axes)
    mean = xp.sum(x, axis=axes, keepdims=True) / count if count else xp.full(
        tuple(1 if i in axes else n for i, n in enumerate(x.shape)), math.nan, dtype=x.dtype,
        device=ctx.device)  # fmt: skip
    dev = x - mean
    squares = xp.sum(dev * dev, axis=axes, keepdims=True)
    if count > correction:
        var = squares / (count - correction)
    else:  # NumPy's rule, squares / 0, without the division (Dask would warn when computing)
        inf = xp.full_like(squares, math.inf)
        var = xp.where(squares > 0, inf, xp.full_like(squares, math.nan))
    if not keepdims and axes:
        mean, var = xp.squeeze(mean, axis=axes), xp.squeeze(var, axis=axes)
    return mean, var


mean_var_op = Op("mean_var", _checks.quietly(_mean_var_generic))
_calls = Bound()


@public(mean_var_op)
def mean_var(
    x: Any, /, *, axis: Any = None, correction: float = 0, keepdims: bool = False
) -> tuple[Any, Any]:
    """Mean and variance of ``x`` along ``axis``.

    Parameters
    ----------
    x : array
        Input; integers are promoted to the default float.
    axis : int or tuple of int, optional
        Axes to reduce; all by default.
    correction : float
        Degrees of freedom subtracted from the count (0: population variance, 1: sample).
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    mean, var : array
        As NumPy's ``mean`` and ``var``: where no more values than ``correction`` are
        reduced the variance is the sum of squares over 0 (inf, NaN for an empty or constant
        input). float16 input is summed in float32 and returned as float16.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> m, v = xpkern.mean_var(np.array([1e8 + 1, 1e8 + 2, 1e8 + 3]), correction=1)
    >>> float(m), float(v)
    (100000002.0, 1.0)
    """
    found = _calls.get(x, axis, correction, keepdims)
    if found is not None:
        return found(x)
    if not _checks.is_real(correction) or not (math.isfinite(correction) and correction >= 0):
        raise ValueError(f"mean_var: correction must be a finite number >= 0, got {correction!r}")
    given = x
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "mean_var")
    axes = _checks.axes(axis, x.ndim, "mean_var")
    if dtype_name(x.dtype) == "float16":  # summed in float32, as NumPy does
        mean, var = mean_var_op(ctx, ctx.xp.astype(x, ctx.xp.float32), axes, float(correction),
                                bool(keepdims))  # fmt: skip
        return ctx.xp.astype(mean, x.dtype), ctx.xp.astype(var, x.dtype)
    return mean_var_op.call_kept(_calls, given, (axis, correction, keepdims), ctx, x, axes,
                                 float(correction), bool(keepdims))  # fmt: skip
