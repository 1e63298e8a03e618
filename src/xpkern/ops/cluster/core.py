"""``kmeans``: the public function, its two ops (assignment and update) and their generic
versions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import _checks
from ..._dispatch import Op, public
from ...backends import Context, resolve

__all__ = ["assign", "kmeans", "lloyd_step", "update", "update_generic"]


def _sq_distances(xp: Any, x: Any, centers: Any) -> Any:
    # The expansion is fine for choosing the nearest centre; clamped at 0 against rounding.
    xx = xp.sum(x * x, axis=1)[:, None]
    cc = xp.sum(centers * centers, axis=1)[None, :]
    d = xx + cc - 2 * xp.matmul(x, xp.matrix_transpose(centers))
    return xp.clip(d, 0.0, None)


def _assign_generic(ctx: Context, x: Any, centers: Any) -> tuple[Any, Any]:
    xp = ctx.xp
    d = _sq_distances(xp, x, centers)
    labels = xp.argmin(d, axis=1)
    return labels, xp.min(d, axis=1)


assign = Op("kmeans_assign", _assign_generic)


def _plus_plus(ctx: Context, x: Any, k: int, rng: np.random.Generator) -> Any:
    # Random numbers come from the host; the choice (a search in the cumulative D^2) happens on
    # the device, so no distances travel to the host.
    xp = ctx.xp
    n = x.shape[0]
    first = int(rng.integers(n))
    centers = x[first : first + 1, :]
    closest = _sq_distances(xp, x, centers)[:, 0]
    for _ in range(1, k):
        cum = xp.cumulative_sum(closest)
        target = xp.asarray(float(rng.random()), dtype=x.dtype, device=ctx.device) * cum[-1]
        idx = xp.clip(xp.searchsorted(cum, target[None], side="right"), 0, n - 1)
        centers = xp.concat([centers, xp.take(x, idx, axis=0)], axis=0)
        closest = xp.minimum(closest, _sq_distances(xp, x, centers[-1:, :])[:, 0])
    return centers


def update_generic(ctx: Context, x: Any, labels: Any, centers: Any) -> Any:
    # Means per cluster through a one-hot product (the Array API has no scatter-add); an
    # empty cluster keeps its centre.
    xp = ctx.xp
    k = centers.shape[0]
    onehot = xp.astype(labels[:, None] == xp.arange(k, device=ctx.device)[None, :], x.dtype)
    counts = xp.sum(onehot, axis=0)
    sums = xp.matmul(xp.matrix_transpose(onehot), x)
    safe = xp.where(counts > 0, counts, xp.ones_like(counts))
    return xp.where(counts[:, None] > 0, sums / safe[:, None], centers)


update = Op("kmeans_update", update_generic)


def lloyd_step(ctx: Context, x: Any, labels: Any, centers: Any) -> tuple[Any, Any, Any, float]:
    """One Lloyd iteration: new centres, their labels and distances, and the centre shift."""
    xp = ctx.xp
    moved = update(ctx, x, labels, centers)
    shift = float(xp.sum((moved - centers) ** 2))
    labels, closest = assign(ctx, x, moved)
    return moved, labels, closest, shift


@public(assign)
def kmeans(
    x: Any,
    k: int,
    /,
    *,
    init: Any = "k-means++",
    max_iter: int = 300,
    tol: float = 1e-4,
    seed: int | None = None,
) -> tuple[Any, Any, Any]:
    """Cluster the rows of ``x`` into ``k`` groups (Lloyd's algorithm).

    Parameters
    ----------
    x : array, shape (n, d)
        Data; integers are promoted to the default float.
    k : int
        Number of clusters, 1 <= k <= n.
    init : {"k-means++", "random"} or array of shape (k, d)
        Seeding: k-means++ (as scikit-learn, one candidate per step), k distinct random rows,
        or the starting centres themselves.
    max_iter : int
        Most Lloyd iterations.
    tol : float
        Stop when the centres move less than ``tol`` times the mean variance of the features
        (squared Frobenius norm of the shift), as scikit-learn does.
    seed : int, optional
        Seed of the host random generator used for seeding: results are deterministic for a
        given seed on a given backend.

    Returns
    -------
    centers : array, shape (k, d)
    labels : array, shape (n,)
        Index of each row's centre.
    inertia : array, shape ()
        Sum of squared distances of the rows to their centres.

    Notes
    -----
    Each iteration reads one number (the centre shift) on the host to decide whether to stop.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> x = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> centers, labels, inertia = xpkern.kmeans(x, 2, seed=0)
    >>> bool(labels[0] == labels[1] != labels[2] == labels[3])
    True
    """
    ctx = resolve(x, init if not isinstance(init, str) else None)
    xp = ctx.xp
    x = _checks.floating(ctx, ctx.asarray(x), "x", "kmeans")
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(
            f"kmeans: x must be 2-D (n_samples, n_features) with at least one feature, "
            f"got shape {tuple(x.shape)}"
        )
    n = x.shape[0]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f"kmeans: k must be an integer with 1 <= k <= n_samples ({n}), got {k!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"kmeans: max_iter must be an integer >= 1, got {max_iter!r}")
    if not isinstance(tol, int | float) or not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"kmeans: tol must be a finite number >= 0, got {tol!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"kmeans: seed must be None or an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    centers = _initial(ctx, x, k, init, rng)
    threshold = tol * float(xp.mean(xp.var(x, axis=0))) if n else 0.0
    labels, closest = assign(ctx, x, centers)
    for _ in range(max_iter):
        centers, labels, closest, shift = lloyd_step(ctx, x, labels, centers)
        if shift <= threshold:
            break
    return centers, labels, xp.sum(closest)


def _initial(ctx: Context, x: Any, k: int, init: Any, rng: np.random.Generator) -> Any:
    xp = ctx.xp
    if isinstance(init, str):
        if init == "k-means++":
            return _plus_plus(ctx, x, k, rng)
        if init == "random":
            rows = xp.asarray(rng.choice(x.shape[0], size=k, replace=False), device=ctx.device)
            return xp.take(x, rows, axis=0)
        raise ValueError(f"kmeans: unknown init {init!r}; use 'k-means++', 'random' or an array")
    centers = _checks.floating(ctx, ctx.asarray(init), "init", "kmeans")
    if tuple(centers.shape) != (k, x.shape[1]):
        raise ValueError(f"kmeans: init must have shape {(k, x.shape[1])}, got {centers.shape}")
    return xp.astype(centers, x.dtype, copy=True)
