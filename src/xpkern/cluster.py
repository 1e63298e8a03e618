"""``kmeans``: Lloyd's algorithm with k-means++ seeding, on any backend."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from . import _checks
from ._backends import Context, from_host, host_view, resolve
from ._dispatch import Op, public

__all__ = ["kmeans"]


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


_assign = Op("kmeans_assign", _assign_generic)


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


def _update_generic(ctx: Context, x: Any, labels: Any, centers: Any) -> Any:
    # Means per cluster through a one-hot product (the Array API has no scatter-add); an
    # empty cluster keeps its centre.
    xp = ctx.xp
    k = centers.shape[0]
    onehot = xp.astype(labels[:, None] == xp.arange(k, device=ctx.device)[None, :], x.dtype)
    counts = xp.sum(onehot, axis=0)
    sums = xp.matmul(xp.matrix_transpose(onehot), x)
    safe = xp.where(counts > 0, counts, xp.ones_like(counts))
    return xp.where(counts[:, None] > 0, sums / safe[:, None], centers)


_update = Op("kmeans_update", _update_generic)


def lloyd_step(ctx: Context, x: Any, labels: Any, centers: Any) -> tuple[Any, Any, Any, float]:
    """One Lloyd iteration: new centres, their labels and distances, and the centre shift."""
    xp = ctx.xp
    moved = _update(ctx, x, labels, centers)
    shift = float(xp.sum((moved - centers) ** 2))
    labels, closest = _assign(ctx, x, moved)
    return moved, labels, closest, shift


@public(_assign)
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
    labels, closest = _assign(ctx, x, centers)
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


# --- fused assignment ----------------------------------------------------------------------
#
# The assignment step is the whole cost of an iteration. A Numba loop finds each row's nearest
# centre without the n x k distance matrix, but on the CPU the generic path's matrix product
# is faster (benchmarks/results/algorithms-cpu-cpu2.md: 2048x64 rows, 64 centres, 5.1 ms vs
# 0.53 ms), so the loop is kept for explicit use only: config(impl="numba-cpu").
def _cpu_supports(ctx: Context, x: Any, centers: Any) -> str | None:
    return _checks.host_float_kernel(ctx, x, centers)


def _cpu_wins(ctx: Context, x: Any, centers: Any) -> str | None:
    return "the generic path's matrix product is faster on the CPU (measured 10x)"


@_assign.register(
    "numba-cpu",
    reason="one Numba loop: each row's nearest centre, no n x k distance matrix",
    supports=_cpu_supports,
    wins=_cpu_wins,
)
def _assign_cpu(ctx: Context, x: Any, centers: Any) -> tuple[Any, Any]:
    xs, cs = (np.ascontiguousarray(host_view(ctx, a)) for a in (x, centers))
    labels = np.empty(xs.shape[0], dtype=np.int64)
    closest = np.empty(xs.shape[0], dtype=xs.dtype)
    _assign_kernel()(xs, cs, labels, closest)
    return from_host(ctx, labels), from_host(ctx, closest)


@functools.cache
def _assign_kernel() -> Any:
    import numba

    @numba.njit(cache=True)
    def assign(x: Any, c: Any, labels: Any, closest: Any) -> None:
        n, d = x.shape
        for i in range(n):
            best = np.inf
            arg = 0
            for j in range(c.shape[0]):
                acc = 0.0
                for t in range(d):
                    diff = x[i, t] - c[j, t]
                    acc += diff * diff
                if acc < best:
                    best = acc
                    arg = j
            labels[i] = arg
            closest[i] = best

    return assign


# --- CUDA: assignment without the n x k matrix, and a deterministic update ------------------
#
# Assignment: one thread per row, the centres in shared memory, exact differences; the n x k
# distance matrix is never formed. Update: each block sums its own contiguous run of rows per
# (cluster, feature) in a fixed order, then one block per cluster adds the blocks' partial
# sums in a fixed tree. No atomics, so a seed gives the same centres on every run.


def _assign_source(d: int, dtype: str) -> str:
    # The row's features live in registers (one variable each); the centres in shared memory.
    load = "\n".join(f"        p{t} = x[i, {t}]" for t in range(d))
    dist = "\n".join(
        f"            q = p{t} - cs[base + {t}]\n            acc {'+=' if t else '='} q * q"
        for t in range(d)
    )
    return f"""
import math
import numba
from numba import cuda


def kernel(x, c, labels, closest):
    cs = cuda.shared.array(0, numba.{dtype})
    k = c.shape[0]
    for t in range(cuda.threadIdx.x, k * {d}, cuda.blockDim.x):
        cs[t] = c[t // {d}, t % {d}]
    cuda.syncthreads()
    for i in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
{load}
        best = numba.{dtype}(math.inf)
        arg = 0
        for j in range(k):
            base = j * {d}
{dist}
            # The first NaN wins, as argmin and min do on a NaN row.
            if acc < best or (acc != acc and best == best):
                best = acc
                arg = j
        labels[i] = arg
        closest[i] = best
"""


_PARTIAL_SOURCE = """
import numba
from numba import cuda


def kernel(x, labels, partial):
    acc = cuda.shared.array({G} * {K} * ({D} + 1), numba.{dtype})
    tid = cuda.threadIdx.x
    g = tid // ({D} + 1)
    j = tid - g * ({D} + 1)
    n = x.shape[0]
    zero = numba.{dtype}(0.0)
    one = numba.{dtype}(1.0)
    for t in range(tid, {G} * {K} * ({D} + 1), cuda.blockDim.x):
        acc[t] = zero
    cuda.syncthreads()
    per_block = (n + cuda.gridDim.x - 1) // cuda.gridDim.x
    start = cuda.blockIdx.x * per_block
    stop = min(n, start + per_block)
    # Group g owns rows start + g, start + g + G, ... and its own accumulator; lane j its
    # feature (the last lane counts). Each sum runs in a fixed order: no atomics.
    if g < {G}:
        own = g * {K} * ({D} + 1) + j
        for i in range(start + g, stop, {G}):
            acc[own + labels[i] * ({D} + 1)] += x[i, j] if j < {D} else one
    cuda.syncthreads()
    for t in range(tid, {K} * ({D} + 1), cuda.blockDim.x):
        total = zero
        for h in range({G}):
            total += acc[h * {K} * ({D} + 1) + t]
        c = t // ({D} + 1)
        partial[cuda.blockIdx.x, c, t - c * ({D} + 1)] = total
"""

_FINISH_SOURCE = """
import numba
from numba import cuda


def kernel(partial, centers, moved):
    red = cuda.shared.array((32, {D} + 1), numba.{dtype})
    c = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    zero = numba.{dtype}(0.0)
    for j in range({D} + 1):
        red[tid, j] = zero
    for b in range(tid, partial.shape[0], 32):
        for j in range({D} + 1):
            red[tid, j] += partial[b, c, j]
    cuda.syncthreads()
    half = 16
    while half > 0:
        if tid < half:
            for j in range({D} + 1):
                red[tid, j] += red[tid + half, j]
        cuda.syncthreads()
        half //= 2
    count = red[0, {D}]
    for j in range(tid, {D}, 32):
        moved[c, j] = red[0, j] / count if count > zero else centers[c, j]
"""
_UPDATE_SHARED = 40 * 1024  # bytes of group accumulators per block
_MAX_FEATURES = 64


def _kernel(name: str, template: str, x: Any, **sizes: int) -> Any:
    from . import _cuda

    dtype = _checks.dtype_name(x.dtype)

    def source() -> str:
        text = template.replace("{dtype}", dtype)
        for k, v in sizes.items():
            text = text.replace("{" + k + "}", str(v))
        return text

    key = ("kmeans", name, dtype, *sorted(sizes.items()))
    return _cuda.cached_kernel(key, f"cuda_kmeans_{name}", source)


def _cuda_supports(ctx: Context, x: Any, centers: Any, *rest: Any) -> str | None:
    from . import _cuda

    blocked = _cuda.kernel_supports(ctx, x, centers)
    if blocked:
        return blocked
    k, d = centers.shape
    if d > _MAX_FEATURES:
        return f"more than {_MAX_FEATURES} features"
    if k * d * _itemsize(x) > _cuda.SHARED_BYTES or _groups(k, d, _itemsize(x)) < 1:
        return "too many centres for shared memory"
    if not (_cuda._contiguous(x) and _cuda._contiguous(centers)):
        return "the kernel needs C-contiguous inputs"
    return None if x.shape[0] else "no rows"


def _itemsize(x: Any) -> int:
    return 4 if _checks.dtype_name(x.dtype) == "float32" else 8


@_assign.register(
    "numba-cuda",
    reason="one CUDA thread per row, the centres in shared memory: no n x k distance matrix",
    supports=_cuda_supports,
)
def _assign_cuda(ctx: Context, x: Any, centers: Any) -> tuple[Any, Any]:
    from . import _cuda

    n, d = (int(s) for s in x.shape)
    labels = _cuda.empty(ctx, (n,), ctx.xp.int64, x)
    closest = _cuda.empty(ctx, (n,), x.dtype, x)
    dtype = _checks.dtype_name(x.dtype)
    kernel = _cuda.cached_kernel(("kmeans", "assign", dtype, d), "cuda_kmeans_assign",
                                 lambda: _assign_source(d, dtype))  # fmt: skip
    blocks = min(-(-n // 256), 8 * _cuda.multiprocessors())
    shared = int(centers.shape[0]) * d * _itemsize(x)
    kernel(ctx, (blocks,), (256,), [x, centers, labels, closest], shared=shared)
    return labels, closest


def _groups(k: int, d: int, itemsize: int) -> int:
    return min(1024 // (d + 1), _UPDATE_SHARED // (k * (d + 1) * itemsize))


@_update.register(
    "numba-cuda",
    reason="per-block partial sums in a fixed order, then a fixed tree per cluster: "
    "deterministic, no one-hot matrix",
    supports=lambda ctx, x, labels, centers: _cuda_supports(ctx, x, centers),
)
def _update_cuda(ctx: Context, x: Any, labels: Any, centers: Any) -> Any:
    from . import _cuda

    n, d = (int(s) for s in x.shape)
    k = int(centers.shape[0])
    groups = _groups(k, d, _itemsize(x))
    blocks = max(1, min(-(-n // (4 * groups)), 8 * _cuda.multiprocessors()))
    partial = _cuda.empty(ctx, (blocks, k, d + 1), x.dtype, x)
    _kernel("partial", _PARTIAL_SOURCE, x, D=d, K=k, G=groups)(
        ctx, (blocks,), (groups * (d + 1),), [x, labels, partial]
    )
    moved = _cuda.empty(ctx, (k, d), x.dtype, x)
    _kernel("finish", _FINISH_SOURCE, x, D=d)(ctx, (k,), (32,), [partial, centers, moved])
    return moved
