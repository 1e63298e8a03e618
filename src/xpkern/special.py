"""``logsumexp``, ``softmax`` and ``log_softmax``: stable along any axes, on any backend."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import _checks
from ._backends import Context, resolve
from ._dask import only_dask, per_chunk
from ._dispatch import Op, public

__all__ = ["log_softmax", "logsumexp", "softmax"]


def _shift(xp: Any, x: Any, axes: tuple[int, ...]) -> Any:
    # The max along the axes, replaced by 0 where it is not finite: rows of -inf then give
    # exp(-inf) = 0 and log(0) = -inf, rows holding +inf give +inf, as in SciPy.
    m = xp.max(x, axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def _log_sum_exp(xp: Any, x: Any, axes: tuple[int, ...]) -> tuple[Any, Any]:
    """(log(sum(exp(x - shift))), shift) along the axes, accurate when the sum is near 1.

    The sum is 1 (one maximum) plus the rest; log1p of the rest keeps the digits that log of
    the rounded sum loses (log(1 + 2e-11) would keep 5 of them). The maxima are counted rather
    than summed, so the rest holds only the other terms. Where the max is not finite, nothing
    is counted and log1p(sum - 1) is log(sum): -inf, +inf or NaN as the generic formula gives.
    """
    m = xp.max(x, axis=axes, keepdims=True)
    finite = xp.isfinite(m)
    shift = xp.where(finite, m, xp.zeros_like(m))
    top = (x == m) & finite
    terms = xp.where(top, xp.zeros_like(x), xp.exp(x - shift))
    count = xp.sum(xp.astype(top, x.dtype), axis=axes, keepdims=True)
    return xp.log1p(xp.sum(terms, axis=axes, keepdims=True) + (count - 1)), shift


def _logsumexp_generic(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool,
                       b: Any) -> Any:  # fmt: skip
    xp = ctx.xp
    if math.prod(x.shape[a] for a in axes) == 0:
        shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        out = xp.full(shape, -math.inf, dtype=x.dtype, device=ctx.device)
    elif b is None:
        log_sum, shift = _log_sum_exp(xp, x, axes)
        out = log_sum + shift
    else:
        m = _shift(xp, x, axes)
        out = xp.log(xp.sum(xp.exp(x - m) * b, axis=axes, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axes) if axes else out
    return out


_logsumexp = Op("logsumexp", _logsumexp_generic)


def _dask_tree_supports(ctx: Context, x: Any, axes: Any, keepdims: bool, b: Any) -> str | None:
    blocked = only_dask(ctx)
    if blocked:
        return blocked
    if b is not None:
        return "weights b take the generic path"
    return None if math.prod(x.shape[a] for a in axes) else "an empty reduction"


@_logsumexp.register(
    "dask-tree",
    reason="tree reduction: each chunk's logsumexp (its own library's kernel), then the "
    "logsumexp of those partials; one read of the input",
    supports=_dask_tree_supports,
)
def _logsumexp_dask(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    import dask.array as da

    # logsumexp is associative: the logsumexp of partial logsumexps is the whole one, and
    # +-inf and NaN carry through each level as they do in one pass.
    partial = per_chunk(_partial_lse)
    return da.reduction(x, partial, partial, combine=partial, axis=axes, keepdims=keepdims,
                        dtype=x.dtype, concatenate=True, meta=x._meta)  # fmt: skip


def _partial_lse(chunk: Any, axis: Any = None, keepdims: bool = False, **_: Any) -> Any:
    return logsumexp(chunk, axis=axis, keepdims=keepdims)


@public(_logsumexp)
def logsumexp(x: Any, /, *, axis: Any = None, keepdims: bool = False, b: Any = None) -> Any:
    """``log(sum(b * exp(x)))`` along ``axis``, without overflow (like scipy.special.logsumexp).

    Parameters
    ----------
    x : array
        Input; integers are promoted to the default float.
    axis : int or tuple of int, optional
        Axes to reduce; all by default.
    keepdims : bool
        Keep the reduced axes with length 1.
    b : array_like, optional
        Weights broadcastable to ``x``; zeros drop their terms.

    Returns
    -------
    array
        Rows of all ``-inf`` give ``-inf``, a ``+inf`` gives ``+inf``, NaN propagates; an
        empty reduction gives ``-inf``. A negative weighted sum gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> float(xpkern.logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    >>> xpkern.logsumexp(np.array([[0.0, -np.inf], [-np.inf, -np.inf]]), axis=1)
    array([  0., -inf])
    """
    ctx = resolve(x, b)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "logsumexp")
    axes = _checks.axes(axis, x.ndim, "logsumexp")
    if b is not None:
        b = _checks.floating(ctx, ctx.asarray(b), "b", "logsumexp")
        try:
            ctx.xp.broadcast_arrays(x, b)
        except (ValueError, RuntimeError, TypeError) as exc:
            raise ValueError(f"logsumexp: b of shape {tuple(b.shape)} does not broadcast "
                             f"to x of shape {tuple(x.shape)}") from exc  # fmt: skip
    with _checks.quiet(ctx):
        return _logsumexp(ctx, x, axes, bool(keepdims), b)


def _softmax_generic(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    xp = ctx.xp
    if math.prod(x.shape) == 0:
        return xp.asarray(x, copy=True)
    e = xp.exp(x - xp.max(x, axis=axes, keepdims=True))
    return e / xp.sum(e, axis=axes, keepdims=True)


def _log_softmax_generic(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    xp = ctx.xp
    if math.prod(x.shape) == 0:
        return xp.asarray(x, copy=True)
    log_sum, shift = _log_sum_exp(xp, x, axes)
    return (x - shift) - log_sum


_softmax = Op("softmax", _softmax_generic)
_log_softmax = Op("log_softmax", _log_softmax_generic)


@public(_softmax)
def softmax(x: Any, /, *, axis: Any = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably (like scipy.special.softmax).

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "softmax")
    axes = _checks.axes(axis, x.ndim, "softmax")
    with _checks.quiet(ctx):
        return _softmax(ctx, x, axes)


@public(_log_softmax)
def log_softmax(x: Any, /, *, axis: Any = -1) -> Any:
    """``log(softmax(x))`` along ``axis``, without its rounding (like scipy's log_softmax).

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    ctx = resolve(x)
    x = _checks.floating(ctx, ctx.asarray(x), "x", "log_softmax")
    axes = _checks.axes(axis, x.ndim, "log_softmax")
    with _checks.quiet(ctx):
        return _log_softmax(ctx, x, axes)


# --- CUDA: each row read once and kept on chip -------------------------------------------------
#
# The row is kept in registers (below) or, when too long for them, in shared memory while its
# max and its sum of exponentials are found, so the input is read once and the output written
# once; each step is the generic formula, so -inf rows, +inf and NaN come out as there. Rows too
# long for shared memory fold a running (max, sum of exp(x - max)) pair per thread, whose merge
# keeps the same edge cases, and softmax reads such a row a second time to write it.

# A block's threads for a row in shared memory: 128 beat 256 and 512 on an H100 (8192 x 8192
# float32; softmax 0.28 ms against 0.31 and 0.51), and at most 256 means any register count
# launches.
_THREADS = 128
_STASH_BYTES = 48 * 1024  # the shared memory a block may take without opting in
_TREE = """
        red[tid] = {val}
        cuda.syncthreads()
        half = {T} // 2
        while half > 0:
            if tid < half:
                a = red[tid]
                b = red[tid + half]
                red[tid] = {combine}
            cuda.syncthreads()
            half //= 2
        {val} = red[0]
        cuda.syncthreads()
"""

_STASH_SOURCE = """
import math
import numba
from numba import cuda

NEG = -math.inf


@cuda.jit(device=True, inline=True)
def log0(s):
    # log(0) = -inf as on the GPU (the simulator's math.log raises instead).
    return NEG if s == 0 else math.log(s)


@cuda.jit(device=True, inline=True)
def log1p0(s):
    return NEG if s == -1 else math.log1p(s)


def kernel(x, out):
    stash = cuda.shared.array(0, numba.{dtype})
    red = cuda.shared.array({T}, numba.{dtype})
    tid = cuda.threadIdx.x
    n = x.shape[1]
    zero = numba.{dtype}(0.0)
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        m = numba.{dtype}(NEG)
        # Four loads in flight per thread before any is used: the row streams in at the
        # memory's pace rather than one latency per element.
        j = tid
        while j + 3 * {T} < n:
            v0 = x[row, j]
            v1 = x[row, j + {T}]
            v2 = x[row, j + 2 * {T}]
            v3 = x[row, j + 3 * {T}]
            stash[j] = v0
            stash[j + {T}] = v1
            stash[j + 2 * {T}] = v2
            stash[j + 3 * {T}] = v3
            m = v0 if (v0 > m or v0 != v0) else m
            m = v1 if (v1 > m or v1 != v1) else m
            m = v2 if (v2 > m or v2 != v2) else m
            m = v3 if (v3 > m or v3 != v3) else m
            j += 4 * {T}
        while j < n:
            v0 = x[row, j]
            stash[j] = v0
            m = v0 if (v0 > m or v0 != v0) else m
            j += {T}
{max_tree}
{sums}
{write}
"""
# softmax: e = exp(x - max) kept in place of x, and its sum.
_SOFTMAX_SUMS = """
        s = zero
        for j in range(tid, n, {T}):
            e = math.exp(stash[j] - m)
            stash[j] = e
            s += e
{sum_tree}
"""
# logsumexp and log_softmax: log(sum) as log1p(the sum of the terms other than one maximum),
# as the generic path does; the maxima are counted, not summed, so the rest stays exact.
_REST_START = """
        top = m
        finite = m - m == zero
        m = m if finite else zero
        s = zero
        c = zero
"""
_REST_SUMS = (
    _REST_START
    + """        for j in range(tid, n, {T}):
            v = stash[j]
            if v == top and finite:
                c += numba.{dtype}(1.0)
            else:
                s += math.exp(v - m)
{sum_tree}
{count_tree}
        rest = s + (c - numba.{dtype}(1.0))
"""
)
_STASH_PARTS = {
    "logsumexp": (_REST_SUMS, "        if tid == 0:\n            out[row, 0] = log1p0(rest) + m"),
    "softmax": (
        _SOFTMAX_SUMS,
        "        for j in range(tid, n, {T}):\n            out[row, j] = stash[j] / s",
    ),
    "log_softmax": (
        _REST_SUMS,
        "        ls = log1p0(rest)\n        for j in range(tid, n, {T}):\n"
        "            out[row, j] = (stash[j] - m) - ls",
    ),
}


# On a GPU, warps reduce through shuffles and meet once in shared memory: two barriers a
# reduction instead of one per level. (numba's CUDA simulator has no shuffles: it runs the tree.)
_SHUFFLE = """
        a = {val}
        for off in (16, 8, 4, 2, 1):
            b = cuda.shfl_xor_sync(0xFFFFFFFF, a, off)
            a = {combine}
        if tid % 32 == 0:
            red[tid // 32] = a
        cuda.syncthreads()
        a = red[0]
        for w in range(1, {T} // 32):
            b = red[w]
            a = {combine}
        {val} = a
        cuda.syncthreads()
"""


def _fill(source: str, reduce: str, parts: dict[str, str]) -> str:
    """A row kernel's source: ``parts`` and the max, sum and count reductions (built from the
    ``reduce`` template) put in their places; sizes and dtype are left for the caller."""

    def reduction(val: str, combine: str) -> str:
        return reduce.format(val=val, combine=combine, T="{T}", L="{L}")

    parts = {
        **parts,
        "max_tree": reduction("m", "a if (a > b or a != a) else b"),
        "sum_tree": reduction("s", "a + b"),
        "count_tree": reduction("c", "a + b"),
    }
    for key, text in parts.items():  # sums before trees: the sums hold the tree markers
        source = source.replace("{" + key + "}", text)
    return source


def _stash_source(name: str, dtype: str, threads: int) -> str:
    from ._cuda import simulated

    sums, write = _STASH_PARTS[name]
    reduce = _TREE if simulated() else _SHUFFLE
    source = _fill(_STASH_SOURCE, reduce, {"sums": sums, "write": write})
    return source.replace("{dtype}", dtype).replace("{T}", str(threads))


_LONG_ROWS_SOURCE = """
import math
import numba
from numba import cuda

NEG = -math.inf


@cuda.jit(device=True, inline=True)
def merge(m1, s1, m2, s2):
    if m1 != m1 or m2 != m2:
        return m1 + m2, s1 + s2
    if m1 == m2:
        return m1, s1 + s2
    if m1 > m2:
        return m1, s1 + s2 * math.exp(m2 - m1)
    return m2, s1 * math.exp(m1 - m2) + s2


@cuda.jit(device=True, inline=True)
def log0(s):
    return NEG if s == 0 else math.log(s)


def kernel(x, out):
    ms = cuda.shared.array({T}, numba.{dtype})
    ss = cuda.shared.array({T}, numba.{dtype})
    tid = cuda.threadIdx.x
    n = x.shape[1]
    one = numba.{dtype}(1.0)
    zero = numba.{dtype}(0.0)
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        m = numba.{dtype}(NEG)
        s = zero
        for j in range(tid, n, {T}):
            v = x[row, j]
            m, s = merge(m, s, v, zero if v == NEG else one)
        ms[tid] = m
        ss[tid] = s
        cuda.syncthreads()
        half = {T} // 2
        while half > 0:
            if tid < half:
                m, s = merge(ms[tid], ss[tid], ms[tid + half], ss[tid + half])
                ms[tid] = m
                ss[tid] = s
            cuda.syncthreads()
            half //= 2
        m = ms[0]
        s = ss[0]
        cuda.syncthreads()
{finish}
"""

_LONG_FINISH = {
    "logsumexp": """
        if tid == 0:
            out[row, 0] = m + log0(s)
""",
    "softmax": """
        finite = m - m == zero
        scale = one / s
        for j in range(tid, n, {T}):
            out[row, j] = math.exp(x[row, j] - m) * scale if finite else m - m
""",
    "log_softmax": """
        total = m + log0(s)
        for j in range(tid, n, {T}):
            out[row, j] = x[row, j] - total
""",
}


def _long_rows_source(name: str, dtype: str, threads: int) -> str:
    source = _LONG_ROWS_SOURCE.replace("{finish}", _LONG_FINISH[name])
    return source.replace("{dtype}", dtype).replace("{T}", str(threads))


# --- rows held in registers ------------------------------------------------------------------
#
# A row of at most L x K elements is read by L threads straight into K registers each, every
# load issued before any is used: more loads in flight per multiprocessor than the shared-memory
# stash allows (it caps a multiprocessor at seven 32 KB rows), and no passes over shared memory.
# Short rows take one warp each (L = 32, four rows a block), reduced by shuffles alone with no
# barrier; longer ones a block of L = 128 or 256 threads. _rows_layout says which rows go here.
_REG_SOURCE = """
import math
import numba
from numba import cuda

NEG = -math.inf


@cuda.jit(device=True, inline=True)
def log1p0(s):
    return NEG if s == -1 else math.log1p(s)


def kernel(x, out):
    red = cuda.shared.array({B}, numba.{dtype})
    n = x.shape[1]
    zero = numba.{dtype}(0.0)
    neg = numba.{dtype}(NEG)
{rows_loop}
{loads}
        m = neg
{max}
{max_tree}
{sums}
{write}
"""
# A block per row: every row it visits exists, so the guards of the loads compare with n, the
# same each row (per-row guards made 8192-element rows 2-3x slower on an H100: the 32 compares
# no longer leave the loop).
_ONE_ROW = """
    tid = cuda.threadIdx.x
    base = 0
    width = n
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):"""
# Four warps a block, a row each: a warp past the last row sees an empty row.
_ROWS_OF_WARPS = """
    tid = cuda.threadIdx.x % {L}
    base = cuda.threadIdx.x - tid
    for first in range(cuda.blockIdx.x * {R}, x.shape[0], cuda.gridDim.x * {R}):
        row = first + cuda.threadIdx.x // {L}
        width = n if row < x.shape[0] else 0"""
_REG_SOFTMAX_SUMS = """
        s = zero
{exps}
{sum_tree}
        scale = numba.{dtype}(1.0) / s
"""
_REG_REST_SUMS = (
    _REST_START
    + """{terms}
{sum_tree}
{count_tree}
        rest = s + (c - numba.{dtype}(1.0))
"""
)
# A group of one warp reduces by shuffles alone; a larger group (one per block) meets once in
# shared memory after them. The simulator has no shuffles: a tree over the group's slots in
# shared memory, with every thread of the block at each barrier.
_WARP_REDUCE = """
        a = {val}
        for off in (16, 8, 4, 2, 1):
            b = cuda.shfl_xor_sync(0xFFFFFFFF, a, off)
            a = {combine}
        {val} = a
"""
_GROUP_TREE = """
        red[cuda.threadIdx.x] = {val}
        cuda.syncthreads()
        half = {L} // 2
        while half > 0:
            if tid < half:
                a = red[cuda.threadIdx.x]
                b = red[cuda.threadIdx.x + half]
                red[cuda.threadIdx.x] = {combine}
            cuda.syncthreads()
            half //= 2
        {val} = red[base]
        cuda.syncthreads()
"""


def _each(k: int, line: str, lanes: int) -> str:
    """``line`` for register ``k``, with {v}, {e} and {j} (its column) filled in."""
    column = f"tid + {k * lanes}"
    return line.replace("{v}", f"v{k}").replace("{e}", f"e{k}").replace("{j}", column)


def _reg_reduce(lanes: int) -> str:
    from ._cuda import simulated

    if simulated():
        return _GROUP_TREE
    return _WARP_REDUCE if lanes == 32 else _SHUFFLE.replace("{T}", str(lanes))


def _reg_sums_and_write(name: str, k: int, each: Callable[[str], str]) -> tuple[str, str]:
    """The register kernel's sums after the max, and its write, for op ``name``."""
    if name == "softmax" and k > 8:
        # 32 registers a thread: exp again at the write instead of keeping the exps, 1.28x the
        # copy time against 1.55x for 8192^2 float32 on an H100 (benchmarks/algorithms_gpu.py).
        exps = each("        if {j} < width:\n            s += math.exp({v} - m)")
        write = each(
            "        if {j} < width:\n            out[row, {j}] = math.exp({v} - m) * scale"
        )
        return _REG_SOFTMAX_SUMS.replace("{exps}", exps), write
    if name == "softmax":
        exps = each("        {e} = math.exp({v} - m) if {j} < width else zero\n        s += {e}")
        # A product by 1/s instead of a division per element: the division's slow path made
        # this kernel slower than the shared-memory one (benchmarks/rows_variants.py).
        write = each("        if {j} < width:\n            out[row, {j}] = {e} * scale")
        return _REG_SOFTMAX_SUMS.replace("{exps}", exps), write
    terms = each(
        "        if {j} < width:\n"
        "            if {v} == top and finite:\n"
        "                c += numba.{dtype}(1.0)\n"
        "            else:\n"
        "                s += math.exp({v} - m)"
    )
    if name == "logsumexp":
        write = "        if tid == 0 and width:\n            out[row, 0] = log1p0(rest) + m"
    else:
        write = "        ls = log1p0(rest)\n" + each(
            "        if {j} < width:\n            out[row, {j}] = ({v} - m) - ls"
        )
    return _REG_REST_SUMS.replace("{terms}", terms), write


def _reg_source(name: str, dtype: str, lanes: int, k: int) -> str:
    def each(line: str) -> str:
        return "\n".join(_each(i, line, lanes) for i in range(k))

    sums, write = _reg_sums_and_write(name, k, each)
    parts = {
        "loads": each("        {v} = x[row, {j}] if {j} < width else neg"),
        "max": each("        m = {v} if ({v} > m or {v} != {v}) else m"),
        "sums": sums,
        "write": write,
    }
    source = _fill(_REG_SOURCE, _reg_reduce(lanes), parts)
    block = max(lanes, _THREADS)
    source = source.replace("{rows_loop}", _ONE_ROW if block == lanes else _ROWS_OF_WARPS)
    source = source.replace("{B}", str(block)).replace("{R}", str(block // lanes))
    return source.replace("{dtype}", dtype).replace("{L}", str(lanes))


_REG_MAX = {"float32": 32, "float64": 16}  # registers a thread gives to its share of a row


def _rows_kernel(name: str, dtype: str, layout: str, threads: int, k: int) -> Any:
    from . import _cuda

    def source() -> str:
        if layout == "registers":
            return _reg_source(name, dtype, threads, k)
        if layout == "shared":
            return _stash_source(name, dtype, threads)
        return _long_rows_source(name, dtype, threads)

    key = ("rows", name, dtype, layout, threads, k)
    bounds = _LAUNCH_BOUNDS.get((layout, threads, k))
    return _cuda.cached_kernel(key, f"cuda_rows_{name}", source, bounds)


# Registers capped so that 5 blocks of 256 threads share a multiprocessor: 8192^2 float32 on an
# H200, in units of the device copy, logsumexp 1.04 / softmax 1.65 / log_softmax 1.57 against
# 1.11 / 1.74 / 1.72 uncapped; 3 blocks gained nothing, 8 lost (benchmarks/rows_launch_bounds.py).
_LAUNCH_BOUNDS = {("registers", 256, 32): (256, 5)}


# Measured on an H100, float32, in one run (benchmarks/rows_variants.py; times in units of the
# device copy of the input):
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
def _rows_layout(n: int, dtype: str) -> tuple[str, int]:
    """Where a row of ``n`` elements waits between reading and writing, and how many threads
    share it."""
    if n <= 32 * 8:
        return "registers", 32
    if n <= 128 * 8:
        return "registers", 128
    if dtype == "float32" and 4096 < n <= 256 * _REG_MAX[dtype]:
        return "registers", 256
    itemsize = 4 if dtype == "float32" else 8
    return ("shared" if n * itemsize <= _STASH_BYTES else "global"), _THREADS


def _registers(n: int, threads: int) -> int:
    """Registers per thread for a row of ``n``: a power of two, so few kernels serve all n."""
    need = -(-n // threads)
    return 1 << (need - 1).bit_length()


def _rows_supports(ctx: Context, x: Any, axes: tuple[int, ...], *rest: Any) -> str | None:
    from . import _cuda

    blocked = _cuda.kernel_supports(ctx, x)
    if blocked:
        return blocked
    if axes != (x.ndim - 1,) or x.ndim == 0:
        return "the kernel reduces the last axis only"
    if not _cuda._contiguous(x):
        return "the kernel needs a C-contiguous array"
    if math.prod(x.shape) == 0:
        return "an empty array"
    return None


def _rows_run(ctx: Context, x: Any, name: str, layout: str | None = None,
              threads: int | None = None) -> Any:  # fmt: skip
    """``name`` along the last axis of ``x``; ``layout`` and ``threads`` override the rule."""
    from . import _cuda

    n = int(x.shape[-1])
    rows = x.reshape(-1, n)
    width = 1 if name == "logsumexp" else n
    out = _cuda.empty(ctx, (int(rows.shape[0]), width), x.dtype, x)
    dtype = _checks.dtype_name(x.dtype)
    chosen, default_threads = _rows_layout(n, dtype)
    layout = layout or chosen
    threads = threads or (default_threads if layout == chosen else _THREADS)
    if layout == "registers" and threads != 32 and threads % _THREADS:
        raise ValueError(f"a row in registers takes one warp or whole blocks, not {threads}")
    k = _registers(n, threads) if layout == "registers" else 0
    shared = n * (4 if dtype == "float32" else 8) if layout == "shared" else 0
    block = max(threads, _THREADS) if layout == "registers" else threads
    per_block = block // threads  # rows a block takes at once
    grid = min(-(-int(rows.shape[0]) // per_block), 2**20)
    kernel = _rows_kernel(name, dtype, layout, threads, k)
    kernel(ctx, (grid,), (block,), [rows, out], shared=shared)
    return out.reshape(tuple(x.shape[:-1]) + ((n,) if name != "logsumexp" else ()))


_CUDA_REASON = "each row read once by one CUDA warp or block and kept on chip: no temporaries"


def _lse_rows_supports(ctx: Context, x: Any, axes: Any, keepdims: bool, b: Any) -> str | None:
    return _rows_supports(ctx, x, axes) or ("weights b take the generic path" if b is not None
                                            else None)  # fmt: skip


@_logsumexp.register("numba-cuda", reason=_CUDA_REASON, supports=_lse_rows_supports)
def _logsumexp_cuda(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    out = _rows_run(ctx, x, "logsumexp")
    return out[..., None] if keepdims else out


# On an H100 (benchmarks/results/nvidia-h100-80gb-hbm3.md) the kernel's launch from Python
# costs more than torch's few composed ops for small inputs: softmax of 4096 x 64 float32 took
# 0.147 ms fused against 0.106 ms composed, while 8192 x 8192 took 0.23 ms against 0.84 ms.
# logsumexp's composed form is slower (0.13 ms fused against 0.21 ms at 512 x 16): no limit.
_ROWS_MIN_SIZE = 2**20


def _rows_wins(ctx: Context, x: Any, *rest: Any) -> str | None:
    size = math.prod(x.shape)
    if size >= _ROWS_MIN_SIZE:
        return None
    return f"{size} elements: the composed ops are faster below {_ROWS_MIN_SIZE}"


@_softmax.register("numba-cuda", reason=_CUDA_REASON, supports=_rows_supports, wins=_rows_wins)
def _softmax_cuda(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return _rows_run(ctx, x, "softmax")


@_log_softmax.register("numba-cuda", reason=_CUDA_REASON, supports=_rows_supports, wins=_rows_wins)
def _log_softmax_cuda(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return _rows_run(ctx, x, "log_softmax")
