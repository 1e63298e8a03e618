"""``mean_var`` on the GPU: one CUDA warp or block a row, the row read once.

Each thread sums its share of the row shifted by one of its values (Welford's accuracy for
data far from zero, without a division per element), in float64 whatever the input; the
block then merges the threads' (count, mean, sum of squared deviations) triples pairwise by
Chan's update. So the error does not grow with the row's length, float32 included. A plain
float64 sum beside it gives the generic path's answers where a row holds an inf or NaN: a mean
of +-inf or NaN, a NaN variance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from ..._checks import dtype_name, not_contiguous
from ...backends import Context
from ...engines import cuda as engine
from .core import TOO_FEW, mean_var_op

__all__ = ["THREADS", "mean_var_kernel", "ptx_cases", "rows_mean_var", "threads_for"]

THREADS = 256
UNROLL = 4  # values a thread reads before using them (benchmarks/experiments/mean_var_unroll.py)

_SOURCE = """
import math
import numba
from xpkern.engines.cuda.compiler import cuda


def kernel(x, correction, largest, out):
    cnt = cuda.shared.array({T}, numba.float64)
    mu = cuda.shared.array({T}, numba.float64)
    m2 = cuda.shared.array({T}, numba.float64)
    sm = cuda.shared.array({T}, numba.float64)
    seen = cuda.shared.array({T}, numba.float64)
    tid = cuda.threadIdx.x
    n = x.shape[1]
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        # This thread's values shifted by its first one (0 if that is not finite, so an
        # inf reaches the sums as it is): sums of d and d*d, no division per element.
        shift = 0.0
        if tid < n:
            shift = numba.float64(x[row, tid])
            if not math.isfinite(shift):
                shift = 0.0
        c = 0.0
        s1 = 0.0
        s2 = 0.0
        raw = 0.0
        bad = 0.0  # stays 0 while every value is finite (v - v is NaN for inf and NaN)
        j = tid
{UNROLLED}        while j < n:
            v = numba.float64(x[row, j])
            d = v - shift
            s1 += d
            s2 += d * d
            raw += v
            bad += v - v
            c += 1.0
            j += {T}
        if c > 0.0:
            mu[tid] = shift + s1 / c
            m2[tid] = s2 - s1 * (s1 / c)
        else:
            mu[tid] = 0.0
            m2[tid] = 0.0
        cnt[tid] = c
        sm[tid] = raw
        seen[tid] = bad
        cuda.syncthreads()
        half = {T} // 2
        while half > 0:
            if tid < half:
                sm[tid] = sm[tid] + sm[tid + half]
                seen[tid] = seen[tid] + seen[tid + half]
                ca = cnt[tid]
                cb = cnt[tid + half]
                if cb > 0.0:
                    total = ca + cb
                    d = mu[tid + half] - mu[tid]
                    mu[tid] = mu[tid] + d * (cb / total)
                    m2[tid] = m2[tid] + m2[tid + half] + d * d * (ca * (cb / total))
                    cnt[tid] = total
            cuda.syncthreads()
            half //= 2
        if tid == 0:
            raw = sm[0]
            finite = seen[0] == 0.0
            if not finite or abs(raw) > largest:
                # An inf or NaN in the row, or a sum that overflows in the data's dtype (as the
                # generic path's does): its infinite mean, with a NaN variance where the row
                # holds an inf or NaN and an infinite one where only the sum overflowed.
                mean = raw / cnt[0] if not finite else raw * math.inf
                var = math.inf if finite else math.nan
            else:
                mean = mu[0]  # merged from the threads' shifted sums: the last digits kept
                var = max(m2[0] / (cnt[0] - correction), 0.0)
            out[0, row] = mean
            out[1, row] = var
        cuda.syncthreads()
"""


def _unrolled(unroll: int, threads: int) -> str:
    """The loop that reads ``unroll`` values a thread before using any: more loads in flight
    than one a thread, which alone leaves the memory system idle."""
    if unroll == 1:
        return ""
    at = [f"j + {i * threads}" if i else "j" for i in range(unroll)]
    loads = "".join(f"            v{i} = numba.float64(x[row, {a}])\n" for i, a in enumerate(at))
    sums = "".join(
        f"            d = v{i} - shift\n            s1 += d\n            s2 += d * d\n"
        f"            raw += v{i}\n            bad += v{i} - v{i}\n"
        for i in range(unroll)
    )
    step = f"            c += {unroll}.0\n            j += {unroll * threads}\n"
    return f"        while j + {(unroll - 1) * threads} < n:\n" + loads + sums + step


def mean_var_kernel(dtype: str, threads: int = THREADS, unroll: int = UNROLL) -> Any:
    """The row kernel for ``dtype`` (float32 or float64): ``threads`` a row (a power of two),
    each reading ``unroll`` values at a time."""
    key = ("mean_var", dtype, threads, unroll)

    def source() -> str:
        text = _SOURCE.replace("{UNROLLED}", _unrolled(unroll, threads))
        return text.replace("{T}", str(threads))

    return engine.cached_kernel(key, f"cuda_mean_var_{threads}_{unroll}", source)


# One warp a row reads fastest at every shape of an H100 sweep (8192 to 262144 rows of 256 to
# 8192 values, 4 values read at a time: 0.51-1.4x the device copy, where 256 threads a row
# took 0.55-8.4x; benchmarks/results/mean-var-unroll-nvidia-h100-80gb-hbm3.md): a block of
# many threads on a row spends its time merging their sums. A few long rows keep a block
# each, so that they still spread over the multiprocessors.
WARP = 32
MANY_ROWS = 1024
SHORT_ROW = 1024


def threads_for(n: int, count: int) -> int:
    """Threads a row for ``count`` rows of ``n``."""
    return WARP if count >= MANY_ROWS or n <= SHORT_ROW else THREADS


def _arguments(ctx: Context, x: Any, correction: float) -> tuple[Any, list[Any], int, int]:
    """(the kernel, its arguments with a new output, its grid, its block) for ``x``."""
    import numpy as np

    n = int(x.shape[-1])
    rows = x.reshape(-1, n)
    count = int(rows.shape[0])
    out = engine.empty(ctx, (2, count), x.dtype, x)
    largest = float(np.finfo(dtype_name(x.dtype)).max)
    threads = threads_for(n, count)
    kernel = mean_var_kernel(dtype_name(x.dtype), threads)
    return kernel, [rows, float(correction), largest, out], min(count, 2**20), threads


def _split(out: Any, shape: tuple[int, ...], keepdims: bool) -> tuple[Any, Any]:
    if keepdims:
        shape = (*shape, 1)
    return out[0].reshape(shape), out[1].reshape(shape)


def rows_mean_var(ctx: Context, x: Any, correction: float,
                  keepdims: bool = False) -> tuple[Any, Any]:  # fmt: skip
    """(mean, var) along the last axis of a C-contiguous CUDA array, each of shape
    ``x.shape[:-1]`` (with a last axis of 1 where ``keepdims``)."""
    kernel, args, grid, threads = _arguments(ctx, x, correction)
    kernel(ctx, (grid,), (threads,), args)
    return _split(args[-1], tuple(x.shape[:-1]), keepdims)


def _bind(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
          keepdims: bool) -> Callable[[Any], tuple[Any, Any]]:  # fmt: skip
    """The kernel's call for arrays like ``x`` (a kept call: same shape, dtype, layout and
    device), its launch prepared once: a call allocates the output and launches."""
    shape = tuple(x.shape[:-1])
    kernel, args, grid, threads = _arguments(ctx, x, correction)
    launch = engine.PreparedLaunch.build(ctx, kernel.launcher(ctx, args), (grid,), (threads,),
                                         args)  # fmt: skip
    if launch is None:
        return lambda a: _mean_var_cuda(ctx, a, axes, correction, keepdims)
    new = ctx.backend.allocator(tuple(args[-1].shape), x.dtype, x)

    def call(a: Any) -> tuple[Any, Any]:
        out = new()
        if launch(a, out):
            return _split(out, shape, keepdims)
        return _mean_var_cuda(ctx, a, axes, correction, keepdims)

    return call


def _supports(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
              keepdims: bool) -> str | None:  # fmt: skip
    blocked = engine.kernel_supports(ctx, x) or not_contiguous(ctx, x)
    if blocked:
        return blocked
    if x.ndim == 0 or axes != (x.ndim - 1,):
        return "the kernel reduces the last axis only"
    if int(x.shape[-1]) <= correction or math.prod(x.shape) == 0:
        return TOO_FEW
    return None


# On an H200 the kernel beat CuPy's composed reductions at every size of the sweep but the
# largest (benchmarks/results/overhead-auto-sweep2-nvidia-h200.md, one synchronised call:
# 1000 elements 91 us against 147; 2^24, 268 against 274), before it read a warp a row and 4
# values at a time, so it takes CuPy arrays always. Torch tensors too, before torch's own
# mean and var (native.py): on an H100, rows along the last axis, one synchronised kept call,
# the kernel (then a block a row) took 27-151 us where torch's two ops took 32-254 from 1000
# to 8192 x 8192 float32 (27-217 against 47-463 float64); torch's one var_mean, which gives
# NaN for the mean of [-inf, -inf], took 21-160 (28-292):
# benchmarks/results/torch-cuda-rules-nvidia-h100-80gb-hbm3.md. Those rows were many, or
# short. A few rows longer than LONG_ROW, a warp or block each, leave most multiprocessors idle
# where torch's reductions spread a row over the device: on an H100, one synchronised call,
# 1 x 2^24 float32 took 8041 us in the kernel against 64 us for torch's mean and var,
# 16 x 2^20 508 against 64, 1 x 2^14 56 against 21. CuPy's own reductions do not spread a row
# either (its generic mean and var: 1 x 2^24 4200 us, 1 x 2^14 113): the kernel is faster for
# rows of up to 2^17 (64-70 us against 108-231), slower from 2^20 (1 x 2^20 275 against 144,
# 16 x 2^20 507 against 442)
# (benchmarks/results/mean-var-few-rows-nvidia-h100-80gb-hbm3.md). Past these lengths, with
# fewer rows than multiprocessors, the kernel declines.
LONG_ROW = {"torch": 8192, "cupy": 2**19}


def _wins(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
          keepdims: bool) -> str | None:  # fmt: skip
    n, count = int(x.shape[-1]), math.prod(x.shape[:-1])
    longest = LONG_ROW.get(ctx.backend.name, LONG_ROW["torch"])
    if n > longest and count < engine.multiprocessors():
        return (f"{count} rows of {n}: too few to fill the device a block a row; the "
                "library's own reductions spread a row over it")  # fmt: skip
    return None


@mean_var_op.register(
    "numba-cuda",
    reason="one CUDA warp or block a row, read once: shifted sums in float64, merged by "
    "Chan's update",
    supports=_supports,
    wins=_wins,
)
def _mean_var_cuda(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
                   keepdims: bool) -> tuple[Any, Any]:  # fmt: skip
    return rows_mean_var(ctx, x, correction, keepdims)


_mean_var_cuda.bind = _bind  # type: ignore[attr-defined]


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of the mean_var kernels."""
    from ...engines.cuda.compiler import array_type, scalar_type

    f64 = scalar_type("float64")
    for dtype in ("float32", "float64"):
        types_ = [array_type(dtype, 2), f64, f64, array_type(dtype, 2)]
        for threads in (WARP, THREADS):  # every count threads_for gives
            kernel = mean_var_kernel(dtype, threads).module().kernel
            yield f"mean_var {dtype} {threads}", kernel, types_, False
