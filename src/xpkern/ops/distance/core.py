"""``cdist`` and ``rbf_kernel``: the public functions, their ops and generic versions."""

from __future__ import annotations

import math
from typing import Any

from ... import _checks
from ..._dispatch import Bound, Op, public
from ...backends import Context, resolve

__all__ = ["METRICS", "cdist", "cdist_op", "cosine", "rbf_kernel", "rbf_op"]

METRICS = ("sqeuclidean", "euclidean", "cityblock", "cosine", "chebyshev")
_BLOCK = 2**22  # elements of the n x m x d difference block the generic path makes at once


def _direct(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    # Differences, not the |x|^2 + |y|^2 - 2xy expansion: exact zeros for equal points and no
    # cancellation for nearby ones, at the cost of a (rows x m x d) block per pass.
    xp = ctx.xp
    n, d = x.shape
    m = y.shape[0]
    if d == 0 or n == 0 or m == 0:
        return xp.zeros((n, m), dtype=x.dtype, device=ctx.device)
    rows = max(1, _BLOCK // max(1, m * d))
    parts = []
    for start in range(0, n, rows):
        diff = x[start : min(start + rows, n), None, :] - y[None, :, :]
        if metric == "cityblock":
            parts.append(xp.sum(xp.abs(diff), axis=-1))
        elif metric == "chebyshev":
            parts.append(xp.max(xp.abs(diff), axis=-1))
        else:
            parts.append(xp.sum(diff * diff, axis=-1))
    return xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def cosine(ctx: Context, x: Any, y: Any, squared: Any = None) -> Any:
    # 1 - cos = |x/|x| - y/|y||^2 / 2: equal directions give exactly 0, nearby ones keep
    # their accuracy, and a zero vector gives NaN as in SciPy. ``squared`` computes the
    # squared distances of the unit vectors (the generic blocked loop by default).
    xp = ctx.xp
    xn = x / xp.sqrt(xp.sum(x * x, axis=-1, keepdims=True))
    yn = y / xp.sqrt(xp.sum(y * y, axis=-1, keepdims=True))
    d = squared(xn, yn) if squared else _direct(ctx, xn, yn, "sqeuclidean")
    return xp.clip(d / 2, 0.0, 2.0)


def _cdist_generic(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    if metric == "cosine":
        return cosine(ctx, x, y)
    out = _direct(ctx, x, y, metric)
    if metric != "euclidean":
        return out
    if _checks.needs_grad(x, y):
        return _sqrt_with_grad(ctx.xp, out)
    return ctx.xp.sqrt(out)


def _sqrt_with_grad(xp: Any, d: Any) -> Any:
    # sqrt's derivative at 0 is infinite, and times the zero derivative of a coincident pair's
    # squared distance it makes a NaN gradient. The zeros (and NaNs) bypass the sqrt: same
    # values, and a zero gradient there, as torch.cdist gives.
    positive = d > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, d, xp.ones_like(d))), d)


cdist_op = Op("cdist", _checks.quietly(_cdist_generic))
_cdist_calls = Bound()


def _pair(op: str, x: Any, y: Any) -> tuple[Context, Any, Any]:
    ctx = resolve(x, y)
    x = _checks.floating(ctx, ctx.asarray(x), "x", op)
    y = x if y is None else _checks.floating(ctx, ctx.asarray(y), "y", op)
    for name, a in (("x", x), ("y", y)):
        if a.ndim != 2:
            raise ValueError(f"{op}: {name} must be 2-D (n_samples, n_features), got {a.shape}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{op}: x has {x.shape[1]} features but y has {y.shape[1]}")
    dtype = ctx.xp.result_type(x, y)
    return ctx, ctx.xp.astype(x, dtype, copy=False), ctx.xp.astype(y, dtype, copy=False)


@public(cdist_op)
def cdist(x: Any, y: Any, /, *, metric: str = "euclidean") -> Any:
    """Distances between each row of ``x`` and each row of ``y`` (like scipy's cdist).

    Parameters
    ----------
    x : array, shape (n, d)
    y : array, shape (m, d)
    metric : {"euclidean", "sqeuclidean", "cityblock", "cosine", "chebyshev"}

    Returns
    -------
    array, shape (n, m)
        In the inputs' library, device and (floating) dtype; equal rows are exactly 0 apart.
        The cosine distance of a zero vector is NaN, as in SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.cdist(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[5., 0.]])
    """
    found = _cdist_calls.get(x, y, metric)
    if found is not None:
        return found(x, y)
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"cdist: unknown metric {metric!r}; expected one of {METRICS}")
    ctx, xs, ys = _pair("cdist", x, y)
    return cdist_op.call_kept_pair(_cdist_calls, (x, y), (y, metric), ctx, xs, ys, metric)


def _rbf_generic(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return ctx.xp.exp(-gamma * _direct(ctx, x, y, "sqeuclidean"))


rbf_op = Op("rbf_kernel", _rbf_generic)
_rbf_calls = Bound()


@public(rbf_op)
def rbf_kernel(x: Any, y: Any = None, /, *, gamma: float | None = None) -> Any:
    """The Gaussian kernel ``exp(-gamma * |x_i - y_j|^2)`` (like scikit-learn's rbf_kernel).

    Parameters
    ----------
    x : array, shape (n, d)
    y : array, shape (m, d), optional
        Defaults to ``x``.
    gamma : float, optional
        Defaults to ``1 / d``.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.rbf_kernel(np.array([[0.0], [1.0]]), gamma=1.0)
    array([[1.        , 0.36787944],
           [0.36787944, 1.        ]])
    """
    second = x if y is None else y
    found = _rbf_calls.get(x, y, gamma)
    if found is not None:
        return found(x, second)
    ctx, xs, ys = _pair("rbf_kernel", x, y)
    value = gamma
    if value is None:
        value = 1.0 / xs.shape[1] if xs.shape[1] else 1.0
    if not _checks.is_real(value) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"rbf_kernel: gamma must be a finite number > 0, got {value!r}")
    return rbf_op.call_kept_pair(_rbf_calls, (x, second), (y, gamma), ctx, xs, ys,
                                 float(value))  # fmt: skip
