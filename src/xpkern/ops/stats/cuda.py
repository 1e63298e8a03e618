"""``mean_var`` on the GPU: one CUDA warp or block a row, the row read once; a few long rows
split over several blocks each, their sums merged by a second kernel (``cuda_source``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from ..._checks import dtype_name, not_contiguous
from ...backends import Context
from ...engines import cuda as engine
from .core import TOO_FEW, mean_var_op
from .cuda_source import merge_source, scan_source

__all__ = [
    "THREADS",
    "kept_mean_var",
    "mean_var_kernel",
    "merge_kernel",
    "parts_for",
    "ptx_cases",
    "rows_mean_var",
    "threads_for",
]

THREADS = 256
UNROLL = 4  # values a thread reads before using them (benchmarks/experiments/mean_var_unroll.py)


def mean_var_kernel(dtype: str, threads: int = THREADS, unroll: int = UNROLL,
                    split: bool = False) -> Any:  # fmt: skip
    """The row kernel for ``dtype`` (float32 or float64): ``threads`` a row (a power of two),
    each reading ``unroll`` values at a time; where ``split``, the kernel of a row's parts."""
    key = ("mean_var", dtype, threads, unroll, split)
    tag = f"cuda_mean_var_{'parts_' if split else ''}{threads}_{unroll}"
    return engine.cached_kernel(key, tag, lambda: scan_source(threads, unroll, split))


MERGE_THREADS = 128


def merge_kernel(dtype: str) -> Any:
    """The kernel merging a split row's parts into its (mean, var) in ``dtype``, a block of
    ``MERGE_THREADS`` a row."""
    key = ("mean_var merge", dtype, MERGE_THREADS)
    return engine.cached_kernel(key, f"cuda_mean_var_merge_{MERGE_THREADS}",
                                lambda: merge_source(MERGE_THREADS))  # fmt: skip


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


# Fewer rows than multiprocessors, longer than SPLIT_ROW, split over blocks: enough parts a
# row for SPLIT_BLOCKS blocks a multiprocessor, each part at least PART values (a multiple of
# what a block reads in one step). On an H100, one synchronised kept call of float32 rows, the
# split beat a block a row from 2^16 values on (CuPy: 1 x 2^16 24 us against 36, 1 x 2^24 196
# against 7983, 128 x 2^17 52 against 82) and lost at 2^14 (25 against 23):
# benchmarks/results/mean-var-few-rows-thread-merge-nvidia-h100-80gb-hbm3.md (its merge took
# one thread a row). With the merge of a block a row, 4 blocks a multiprocessor beat 8 and 16
# at every shape (1 x 2^24: 59, 66 and 78 us; 128 x 2^17: 54, 59, 65):
# benchmarks/results/mean-var-few-rows-block-merge-nvidia-h100-80gb-hbm3.md.
SPLIT_ROW = 2**14
SPLIT_BLOCKS = 4
PART = 8 * THREADS * UNROLL


def parts_for(n: int, count: int, multiprocessors: int, blocks: int = SPLIT_BLOCKS) -> int:
    """Blocks a row for ``count`` rows of ``n`` (1: a block or warp a row), rows longer than
    ``SPLIT_ROW`` split into enough parts for ``blocks`` blocks a multiprocessor."""
    if count >= multiprocessors or n <= SPLIT_ROW:
        return 1
    return max(1, min(_ceil_div(blocks * multiprocessors, count), n // PART))


def _part_length(n: int, parts: int) -> int:
    step = THREADS * UNROLL  # parts start on a block's step: aligned, coalesced reads
    return _ceil_div(_ceil_div(n, parts), step) * step


def _ceil_div(a: int, b: int) -> int:
    return (a + b - 1) // b


def _largest(x: Any) -> float:
    import numpy as np

    return float(np.finfo(dtype_name(x.dtype)).max)


def _steps(ctx: Context, x: Any, correction: float, parts: int) -> list[Any]:
    """The launches for ``x``, each (kernel, arguments with a new output, grid, block, shared
    bytes): a block or warp a row, or where ``parts`` > 1 the rows each read by ``parts``
    blocks, then merged. The last launch's last argument is the (2, rows) output; an earlier
    launch's output is the next one's first argument."""
    n = int(x.shape[-1])
    rows = x.reshape(-1, n)
    count = int(rows.shape[0])
    dtype = dtype_name(x.dtype)
    out = engine.empty(ctx, (2, count), x.dtype, x)
    if parts <= 1:
        threads = threads_for(n, count)
        args = [rows, float(correction), _largest(x), out]
        return [(mean_var_kernel(dtype, threads), args, (min(count, 2**20),), (threads,), 0)]
    chunk = _part_length(n, parts)
    parts = _ceil_div(n, chunk)
    partial = engine.empty(ctx, (5, count * parts), ctx.xp.float64, x)
    scan = mean_var_kernel(dtype, THREADS, UNROLL, split=True)
    merge_args = [partial, parts, float(correction), _largest(x), out]
    return [
        (scan, [rows, parts, chunk, partial], (min(count * parts, 2**20),), (THREADS,), 0),
        (merge_kernel(dtype), merge_args, (min(count, 2**20),), (MERGE_THREADS,), 0),
    ]


def _split(out: Any, shape: tuple[int, ...], keepdims: bool) -> tuple[Any, Any]:
    """The (2, rows) output as (mean, var) of ``shape`` (the reduced shape)."""
    if keepdims:
        shape = (*shape, 1)
    if len(shape) != 1:  # a reshape of the pair, not of each: fewer library calls
        out = out.reshape((2, *shape))
    return out[0], out[1]


def _parts(x: Any) -> int:
    return parts_for(int(x.shape[-1]), math.prod(x.shape[:-1]), engine.multiprocessors())


def rows_mean_var(ctx: Context, x: Any, correction: float, keepdims: bool = False,
                  parts: int | None = None) -> tuple[Any, Any]:  # fmt: skip
    """(mean, var) along the last axis of a C-contiguous CUDA array, each of shape
    ``x.shape[:-1]`` (with a last axis of 1 where ``keepdims``); each row read by ``parts``
    blocks (by default :func:`parts_for`'s)."""
    steps = _steps(ctx, x, correction, _parts(x) if parts is None else parts)
    for kernel, args, grid, block, shared in steps:
        kernel(ctx, grid, block, args, shared=shared)
    return _split(steps[-1][1][-1], tuple(x.shape[:-1]), keepdims)


def kept_mean_var(ctx: Context, x: Any, correction: float, keepdims: bool = False,
                  parts: int | None = None) -> Callable[[Any], tuple[Any, Any]]:  # fmt: skip
    """:func:`rows_mean_var`'s call for arrays like ``x`` (same shape, dtype, layout and
    device), each launch prepared once: a call allocates each launch's output and launches
    them in turn (a split row's partial sums go from the first launch to the second)."""
    shape = tuple(x.shape[:-1])
    parts = _parts(x) if parts is None else parts
    return engine.kept_launches(ctx, x, _steps(ctx, x, correction, parts),
                                lambda a: rows_mean_var(ctx, a, correction, keepdims, parts),
                                finish=lambda out: _split(out, shape, keepdims))  # fmt: skip


def _bind(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
          keepdims: bool) -> Callable[[Any], tuple[Any, Any]]:  # fmt: skip
    return kept_mean_var(ctx, x, correction, keepdims)


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
# benchmarks/results/torch-cuda-rules-nvidia-h100-80gb-hbm3.md. A few long rows, split over
# blocks (parts_for) and merged a block a row, also beat torch's mean and var on an H100, one
# synchronised kept call of float32 rows: 1 x 2^24 59 us against 75, 16 x 2^20 57 against 76,
# 128 x 2^17 54 against 88, 1 x 2^20 32 against 33 (a block a row: 8012, 524, 84, 293). Two
# launches cost more host time than one, so pipelined the split lost from 1 x 2^18 to 1 x 2^20
# (25.5 us against 20.2) and won or tied elsewhere:
# benchmarks/results/mean-var-few-rows-block-merge-nvidia-h100-80gb-hbm3.md. Three more runs
# on a noisier H100 host agreed where the GPU's time decides (1 x 2^24: 61-69 us against
# 76-84) and scattered by up to 2x where host time does (mean-var-few-rows-auto-kernel-*.md).
# So the kernel takes CUDA arrays of every shape it supports.


@mean_var_op.register(
    "numba-cuda",
    reason="one CUDA warp or block a row (a few long rows: several blocks each), read once: "
    "shifted sums in float64, merged by Chan's update",
    supports=_supports,
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
        i64, partial = scalar_type("int64"), array_type("float64", 2)
        scan = mean_var_kernel(dtype, THREADS, UNROLL, split=True).module().kernel
        yield f"mean_var parts {dtype}", scan, [array_type(dtype, 2), i64, i64, partial], False
        merge = merge_kernel(dtype).module().kernel
        yield (f"mean_var merge {dtype}", merge, [partial, i64, f64, f64, array_type(dtype, 2)],
               False)  # fmt: skip
