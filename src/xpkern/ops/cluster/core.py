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
    """Greedy k-means++ seeding, as scikit-learn's: each new centre is the best of
    ``2 + log(k)`` rows drawn with probability proportional to D^2 (the one that lowers the
    total D^2 most). One draw a step, as in the original k-means++, often lands two centres
    in one cluster and Lloyd's iterations then stay in that local minimum.

    Random numbers come from the host; the draws (searches in the cumulative D^2) and the
    choice happen on the device, so no distances travel to the host.
    """
    xp = ctx.xp
    n = x.shape[0]
    trials = 2 + int(math.log(k))
    first = int(rng.integers(n))
    centers = x[first : first + 1, :]
    closest = _sq_distances(xp, x, centers)[:, 0]
    for _ in range(1, k):
        cum = xp.cumulative_sum(closest)
        draws = xp.asarray(rng.random(trials), dtype=x.dtype, device=ctx.device) * cum[-1]
        rows = xp.clip(xp.searchsorted(cum, draws, side="right"), 0, n - 1)
        candidates = xp.take(x, rows, axis=0)
        # (n, trials): each row's D^2 if that candidate joined the centres
        joined = xp.minimum(closest[:, None], _sq_distances(xp, x, candidates))
        best = xp.reshape(xp.argmin(xp.sum(joined, axis=0)), (1,))
        centers = xp.concat([centers, xp.take(candidates, best, axis=0)], axis=0)
        closest = xp.reshape(xp.take(joined, best, axis=1), (n,))
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
    n_init: int | str = "auto",
) -> tuple[Any, Any, Any]:
    """Cluster the rows of ``x`` into ``k`` groups (Lloyd's algorithm).

    Parameters
    ----------
    x : array, shape (n, d)
        Data; integers are promoted to the default float.
    k : int
        Number of clusters, 1 <= k <= n.
    init : {"k-means++", "random"} or array of shape (k, d)
        Seeding: greedy k-means++ (as scikit-learn: the best of ``2 + log(k)`` candidates
        per step), k distinct random rows, or the starting centres themselves.
    max_iter : int
        Most Lloyd iterations.
    tol : float
        Stop when the centres move less than ``tol`` times the mean variance of the features
        (squared Frobenius norm of the shift), as scikit-learn does.
    seed : int, optional
        Seed of the host random generator used for seeding: results are deterministic for a
        given seed on a given backend.
    n_init : int or "auto"
        Runs from different seedings; the one with the lowest inertia is returned. "auto"
        (as scikit-learn): 1 for k-means++ and given centres, 10 for "random".

    Returns
    -------
    centers : array, shape (k, d)
        Of the best run.
    labels : array, shape (n,)
        Index of each row's centre.
    inertia : array, shape ()
        Sum of squared distances of the rows to their centres.

    Raises
    ------
    ValueError
        For NaN or infinite data, and for arguments out of range.

    Notes
    -----
    Each iteration reads one number (the centre shift) on the host to decide whether to stop;
    each run its inertia, to keep the best.

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
    if not _checks.is_integer(k) or not 1 <= k <= n:
        raise ValueError(f"kmeans: k must be an integer with 1 <= k <= n_samples ({n}), got {k!r}")
    if not _checks.is_integer(max_iter) or max_iter < 1:
        raise ValueError(f"kmeans: max_iter must be an integer >= 1, got {max_iter!r}")
    if not _checks.is_real(tol) or not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"kmeans: tol must be a finite number >= 0, got {tol!r}")
    if seed is not None and (not _checks.is_integer(seed) or seed < 0):
        raise ValueError(f"kmeans: seed must be None or an integer >= 0, got {seed!r}")
    runs = _runs(n_init, init)
    if not bool(xp.all(xp.isfinite(x))):
        raise ValueError("kmeans: x contains NaN or infinity")
    rng = np.random.default_rng(None if seed is None else int(seed))
    threshold = tol * float(xp.mean(xp.var(x, axis=0))) if n else 0.0
    best: tuple[Any, Any, Any] | None = None
    for _ in range(runs):
        found = _lloyd(ctx, x, _initial(ctx, x, int(k), init, rng), int(max_iter), threshold)
        if best is None or float(found[2]) < float(best[2]):
            best = found
    assert best is not None
    return best


def _runs(n_init: Any, init: Any) -> int:
    if isinstance(n_init, str) and n_init == "auto":
        return 10 if isinstance(init, str) and init == "random" else 1
    if not _checks.is_integer(n_init) or n_init < 1:
        raise ValueError(f"kmeans: n_init must be 'auto' or an integer >= 1, got {n_init!r}")
    if n_init > 1 and not isinstance(init, str):
        raise ValueError("kmeans: n_init > 1 needs a random seeding; given centres give one run")
    return int(n_init)


def _lloyd(ctx: Context, x: Any, centers: Any, max_iter: int, threshold: float
           ) -> tuple[Any, Any, Any]:  # fmt: skip
    labels, closest = assign(ctx, x, centers)
    for _ in range(max_iter):
        centers, labels, closest, shift = lloyd_step(ctx, x, labels, centers)
        if shift <= threshold:
            break
    return centers, labels, ctx.xp.sum(closest)


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
