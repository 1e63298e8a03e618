"""k-means on the GPU: the assignment without the n x k matrix, and a deterministic update.

Assignment: one thread per row, the centres in shared memory, exact differences; the n x k
distance matrix is never formed. Update: each block sums its own contiguous run of rows per
(cluster, feature) in a fixed order, then one block per cluster adds the blocks' partial
sums in a fixed tree. No atomics, so a seed gives the same centres on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..._checks import dtype_name, not_contiguous
from ...backends import Context
from ...engines import cuda as engine
from .core import assign, update

__all__ = ["assign_cuda", "ptx_cases", "update_cuda"]


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
from xpkern.engines.cuda.compiler import cuda


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
from xpkern.engines.cuda.compiler import cuda


def kernel(x, labels, partial):
    acc = cuda.shared.array({G} * {K} * ({D} + 1), numba.float64)
    tid = cuda.threadIdx.x
    g = tid // ({D} + 1)
    j = tid - g * ({D} + 1)
    n = x.shape[0]
    zero = numba.float64(0.0)
    one = numba.float64(1.0)
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
from xpkern.engines.cuda.compiler import cuda


def kernel(partial, centers, moved):
    red = cuda.shared.array((32, {D} + 1), numba.float64)
    c = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    zero = numba.float64(0.0)
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
    dtype = dtype_name(x.dtype)

    def source() -> str:
        text = template.replace("{dtype}", dtype)
        for k, v in sizes.items():
            text = text.replace("{" + k + "}", str(v))
        return text

    key = ("kmeans", name, dtype, *sorted(sizes.items()))
    return engine.cached_kernel(key, f"cuda_kmeans_{name}", source)


def _cuda_supports(ctx: Context, x: Any, centers: Any, *rest: Any) -> str | None:
    blocked = engine.kernel_supports(ctx, x, centers)
    if blocked:
        return blocked
    k, d = centers.shape
    if d > _MAX_FEATURES:
        return f"more than {_MAX_FEATURES} features"
    if k * d * _itemsize(x) > engine.SHARED_BYTES or _groups(k, d) < 1:
        return "too many centres for shared memory"
    return not_contiguous(ctx, x, centers) or (None if x.shape[0] else "no rows")


def _itemsize(x: Any) -> int:
    return 4 if dtype_name(x.dtype) == "float32" else 8


@assign.register(
    "numba-cuda",
    reason="one CUDA thread per row, the centres in shared memory: no n x k distance matrix",
    supports=_cuda_supports,
)
def assign_cuda(ctx: Context, x: Any, centers: Any) -> tuple[Any, Any]:
    n, d = (int(s) for s in x.shape)
    labels = engine.empty(ctx, (n,), ctx.xp.int64, x)
    closest = engine.empty(ctx, (n,), x.dtype, x)
    dtype = dtype_name(x.dtype)
    kernel = engine.cached_kernel(("kmeans", "assign", dtype, d), "cuda_kmeans_assign",
                                 lambda: _assign_source(d, dtype))  # fmt: skip
    blocks = min(-(-n // 256), 8 * engine.multiprocessors())
    shared = int(centers.shape[0]) * d * _itemsize(x)
    kernel(ctx, (blocks,), (256,), [x, centers, labels, closest], shared=shared)
    return labels, closest


def _groups(k: int, d: int) -> int:
    # The sums are float64 whatever the data (8 bytes each): a float32 sum over a cluster's
    # rows would err in proportion to their number.
    return min(1024 // (d + 1), _UPDATE_SHARED // (k * (d + 1) * 8))


@update.register(
    "numba-cuda",
    reason="per-block partial sums in a fixed order, then a fixed tree per cluster: "
    "deterministic, no one-hot matrix",
    supports=lambda ctx, x, labels, centers: _cuda_supports(ctx, x, centers),
)
def update_cuda(ctx: Context, x: Any, labels: Any, centers: Any) -> Any:
    n, d = (int(s) for s in x.shape)
    k = int(centers.shape[0])
    groups = _groups(k, d)
    blocks = max(1, min(-(-n // (4 * groups)), 8 * engine.multiprocessors()))
    partial = engine.empty(ctx, (blocks, k, d + 1), ctx.xp.float64, x)
    _kernel("partial", _PARTIAL_SOURCE, x, D=d, K=k, G=groups)(
        ctx, (blocks,), (groups * (d + 1),), [x, labels, partial]
    )
    moved = engine.empty(ctx, (k, d), x.dtype, x)
    _kernel("finish", _FINISH_SOURCE, x, D=d)(ctx, (k,), (32,), [partial, centers, moved])
    return moved


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of the k-means kernels, for a few
    feature counts, cluster counts and both dtypes."""
    from ...engines.cuda.compiler import array_type

    for dtype in ("float32", "float64"):
        x, vector = array_type(dtype, 2), array_type(dtype, 1)
        labels, cube = array_type("int64", 1), array_type("float64", 3)
        probe = np.empty((1, 1), dtype=dtype)
        for d, k in ((1, 2), (16, 64), (_MAX_FEATURES, 8)):
            groups = _groups(k, d)
            assign_kernel = engine.Kernel(_assign_source(d, dtype), "cuda_kmeans_assign")
            yield (f"kmeans assign d={d} {dtype}", assign_kernel.module().kernel,
                   [x, x, labels, vector], False)  # fmt: skip
            partial = _kernel("partial", _PARTIAL_SOURCE, probe, D=d, K=k, G=groups)
            yield (f"kmeans partial d={d} k={k} {dtype}", partial.module().kernel,
                   [x, labels, cube], False)  # fmt: skip
            finish = _kernel("finish", _FINISH_SOURCE, probe, D=d)
            yield f"kmeans finish d={d} {dtype}", finish.module().kernel, [cube, x, x], False
