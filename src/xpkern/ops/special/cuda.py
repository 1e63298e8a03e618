"""``logsumexp``, ``softmax`` and ``log_softmax`` on the GPU: each row read once by one warp
or block and kept on chip (registers or shared memory), written once."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from ..._checks import dtype_name, not_contiguous
from ...backends import Context
from ...engines import cuda as engine
from .core import log_softmax_op, logsumexp_op, softmax_op
from .rows_registers import reg_source
from .rows_source import STASH_BYTES, THREADS, long_rows_source, stash_source

__all__ = ["LAUNCH_BOUNDS", "REG_MAX", "ptx_cases", "registers", "rows_kernel", "rows_layout",
           "rows_run"]  # fmt: skip

REG_MAX = {"float32": 32, "float64": 16}  # registers a thread gives to its share of a row


def rows_kernel(name: str, dtype: str, layout: str, threads: int, k: int) -> Any:
    def source() -> str:
        if layout == "registers":
            return reg_source(name, dtype, threads, k)
        if layout == "shared":
            return stash_source(name, dtype, threads)
        return long_rows_source(name, dtype, threads)

    key = ("rows", name, dtype, layout, threads, k)
    bounds = LAUNCH_BOUNDS.get((layout, threads, k))
    return engine.cached_kernel(key, f"cuda_rows_{name}", source, bounds)


# Registers capped so that 5 blocks of 256 threads share a multiprocessor: 8192^2 float32 on an
# H200, in units of the device copy, logsumexp 1.04 / softmax 1.65 / log_softmax 1.57 against
# 1.11 / 1.74 / 1.72 uncapped; 3 blocks gained nothing, 8 lost
# (benchmarks/experiments/rows_launch_bounds.py).
LAUNCH_BOUNDS = {("registers", 256, 32): (256, 5)}


# Measured on an H100, float32, in one run (benchmarks/experiments/rows_variants.py; times in
# units of the device copy of the input):
# - 2^20 x 128: a warp a row beats a block a row, 1.21 / 1.30 / 1.51 (logsumexp / softmax /
#   log_softmax) against 3.2 / 2.9 / 3.6 in registers of 128 threads and 4.8-6.1 in shared;
# - 65536 x 1024: 128 threads, 8 registers each: 0.99 / 1.38 / 1.70 against 1.19 / 1.80 / 1.75
#   for the row in shared memory;
# - 16384 x 2048: the row in shared memory, 0.97 / 1.63 / 1.53, against 0.96 / 3.4 / 2.1 with 16
#   registers of 128 threads and 1.06 / 1.82 / 2.02 with 8 of 256;
# - 8192 x 8192: 256 threads, 32 registers each, 0.80 / 1.28 / 1.27 against 0.94 / 1.53 / 1.52
#   in shared memory (softmax computing each exp twice; keeping them took 1.56).
# Sizes between these take the layout of the measured size above them; float64 rows take
# registers only up to 1024 elements, where 8 registers a thread hold them.
def rows_layout(n: int, dtype: str) -> tuple[str, int]:
    """Where a row of ``n`` elements waits between reading and writing, and how many threads
    share it."""
    if n <= 32 * 8:
        return "registers", 32
    if n <= 128 * 8:
        return "registers", 128
    if dtype == "float32" and 4096 < n <= 256 * REG_MAX[dtype]:
        return "registers", 256
    itemsize = 4 if dtype == "float32" else 8
    return ("shared" if n * itemsize <= STASH_BYTES else "global"), THREADS


def registers(n: int, threads: int) -> int:
    """Registers per thread for a row of ``n``: a power of two, so few kernels serve all n."""
    need = -(-n // threads)
    return 1 << (need - 1).bit_length()


def _rows_supports(ctx: Context, x: Any, axes: tuple[int, ...], *rest: Any) -> str | None:
    blocked = engine.kernel_supports(ctx, x)
    if blocked:
        return blocked
    if axes != (x.ndim - 1,) or x.ndim == 0:
        return "the kernel reduces the last axis only"
    blocked = not_contiguous(ctx, x)
    if blocked:
        return blocked
    if math.prod(x.shape) == 0:
        return "an empty array"
    return None


def _plan(n: int, count: int, dtype: str, layout: str | None = None,
          threads: int | None = None) -> tuple[str, int, int, int, int, int]:  # fmt: skip
    """(layout, threads a row, registers a thread, shared bytes, block, grid) for ``count``
    rows of ``n``; ``layout`` and ``threads`` override the rule."""
    chosen, default_threads = rows_layout(n, dtype)
    layout = layout or chosen
    threads = threads or (default_threads if layout == chosen else THREADS)
    if layout == "registers" and threads != 32 and threads % THREADS:
        raise ValueError(f"a row in registers takes one warp or whole blocks, not {threads}")
    k = registers(n, threads) if layout == "registers" else 0
    shared = n * (4 if dtype == "float32" else 8) if layout == "shared" else 0
    block = max(threads, THREADS) if layout == "registers" else threads
    per_block = block // threads  # rows a block takes at once
    grid = min(-(-count // per_block), 2**20)
    return layout, threads, k, shared, block, grid


def _arguments(ctx: Context, x: Any, name: str, layout: str | None = None,
               threads: int | None = None) -> tuple[Any, list[Any], int, int, int]:  # fmt: skip
    """(the kernel, its arguments with a new (rows, width) output, grid, block, shared bytes)
    for ``name`` along the last axis of ``x``; ``layout`` and ``threads`` override the rule."""
    n = int(x.shape[-1])
    rows = x.reshape(-1, n)
    count = int(rows.shape[0])
    out = engine.empty(ctx, (count, 1 if name == "logsumexp" else n), x.dtype, x)
    dtype = dtype_name(x.dtype)
    layout, threads, k, shared, block, grid = _plan(n, count, dtype, layout, threads)
    return rows_kernel(name, dtype, layout, threads, k), [rows, out], grid, block, shared


def _out_shape(x: Any, name: str, keepdims: bool = False) -> tuple[int, ...]:
    if name != "logsumexp":
        return tuple(x.shape)
    return tuple(x.shape[:-1]) + ((1,) if keepdims else ())


def rows_run(ctx: Context, x: Any, name: str, layout: str | None = None,
              threads: int | None = None) -> Any:  # fmt: skip
    """``name`` along the last axis of ``x``; ``layout`` and ``threads`` override the rule."""
    kernel, args, grid, block, shared = _arguments(ctx, x, name, layout, threads)
    kernel(ctx, (grid,), (block,), args, shared=shared)
    return args[-1].reshape(_out_shape(x, name))


def _bind(name: str, ctx: Context, x: Any, keepdims: bool = False) -> Callable[[Any], Any]:
    """The row kernel's call for arrays like ``x`` (a kept call: same shape, dtype, layout
    and device), its launch prepared once: a call allocates the output and launches."""

    def full(a: Any) -> Any:
        out = rows_run(ctx, a, name)
        return out[..., None] if keepdims else out

    kernel, args, grid, block, shared = _arguments(ctx, x, name)
    # The output in the caller's shape, handed to the kernel as the (rows, width) array it
    # is in memory: both are C-contiguous.
    return engine.kept_launches(ctx, x, [(kernel, args, (grid,), (block,), shared)], full,
                                _out_shape(x, name, keepdims))  # fmt: skip


_CUDA_REASON = "each row read once by one CUDA warp or block and kept on chip: no temporaries"


def _lse_rows_supports(ctx: Context, x: Any, axes: Any, keepdims: bool, b: Any) -> str | None:
    return _rows_supports(ctx, x, axes) or ("weights b take the generic path" if b is not None
                                            else None)  # fmt: skip


@logsumexp_op.register("numba-cuda", reason=_CUDA_REASON, supports=_lse_rows_supports)
def _logsumexp_cuda(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    out = rows_run(ctx, x, "logsumexp")
    return out[..., None] if keepdims else out


# With dispatch cached per signature the row kernels beat the composed ops at every size of the
# H200 sweep (benchmarks/results/overhead-auto-nvidia-h200.md, one synchronised call each):
# CuPy softmax 138 us against 191 at 1000 elements and 212 against 461 at 2^24; log_softmax
# 129 against 534 and 164 against 905. Torch tensors take torch's own softmax
# (ops/special/native.py) but for float32 rows of 4097 to 8192, held in registers: on an H100,
# one synchronised kept call, 1000 to 4096 x 4096 float32 took 17-77 us with torch's and
# 19-95 with the kernel; 8192 x 8192 took 244 with the kernel against 315 (float64 rows, in
# shared or global memory, lost at 8192: 1164 against 676;
# benchmarks/results/torch-cuda-rules-nvidia-h100-80gb-hbm3.md). log_softmax has no such twin
# (torch's takes the log of the rounded sum, as SciPy's logsumexp does not).
def _softmax_wins(ctx: Context, x: Any, axes: tuple[int, ...]) -> str | None:
    if ctx.backend.name != "torch":
        return None
    n = int(x.shape[-1])
    if rows_layout(n, dtype_name(x.dtype)) == ("registers", 256):
        return None
    return f"torch's own softmax is faster on rows of {n} {dtype_name(x.dtype)} values"


@softmax_op.register("numba-cuda", reason=_CUDA_REASON, supports=_rows_supports,
                     wins=_softmax_wins)  # fmt: skip
def _softmax_cuda(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return rows_run(ctx, x, "softmax")


@log_softmax_op.register("numba-cuda", reason=_CUDA_REASON, supports=_rows_supports)
def _log_softmax_cuda(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return rows_run(ctx, x, "log_softmax")


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of every row kernel :func:`rows_run`
    can choose: each op, dtype and layout, and each register count a layout takes."""
    from ...engines.cuda.compiler import array_type

    seen = set()
    for dtype in ("float32", "float64"):
        for n in (1, 32, 33, 256, 257, 1024, 1025, 4097, 8192, 6144, 1 << 14, 1 << 16):
            layout, threads = rows_layout(n, dtype)
            k = registers(n, threads) if layout == "registers" else 0
            for name in ("logsumexp", "softmax", "log_softmax"):
                key = (name, dtype, layout, threads, k)
                if key in seen:
                    continue
                seen.add(key)
                kernel = rows_kernel(name, dtype, layout, threads, k)
                types_ = [array_type(dtype, 2)] * 2
                yield (
                    f"{name} {dtype} {layout} {threads}x{k}",
                    kernel.module().kernel,
                    types_,
                    False,
                )


_logsumexp_cuda.bind = lambda ctx, x, axes, keepdims, b: _bind(  # type: ignore[attr-defined]
    "logsumexp", ctx, x, keepdims)  # fmt: skip
_softmax_cuda.bind = lambda ctx, x, axes: _bind("softmax", ctx, x)  # type: ignore[attr-defined]
_log_softmax_cuda.bind = lambda ctx, x, axes: _bind(  # type: ignore[attr-defined]
    "log_softmax", ctx, x)  # fmt: skip
