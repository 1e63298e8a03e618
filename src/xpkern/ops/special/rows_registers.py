"""The source of the row kernels that hold a row in registers.

A row of at most L x K elements is read by L threads straight into K registers each, every
load issued before any is used: more loads in flight per multiprocessor than the shared-memory
stash allows (it caps a multiprocessor at seven 32 KB rows), and no passes over shared memory.
Short rows take one warp each (L = 32, four rows a block), reduced by shuffles alone with no
barrier; longer ones a block of L = 128 or 256 threads. :func:`.cuda.rows_layout` says which
rows go here.
"""

from __future__ import annotations

from collections.abc import Callable

from ...engines.cuda.state import simulated
from .rows_source import REST_START, SHUFFLE, THREADS, fill

__all__ = ["reg_source"]

_REG_SOURCE = """
import math
import numba
from xpkern.engines.cuda.compiler import cuda

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
    REST_START
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
    if simulated():
        return _GROUP_TREE
    return _WARP_REDUCE if lanes == 32 else SHUFFLE.replace("{T}", str(lanes))


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
        # this kernel slower than the shared-memory one (benchmarks/experiments/rows_variants.py).
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


def reg_source(name: str, dtype: str, lanes: int, k: int) -> str:
    def each(line: str) -> str:
        return "\n".join(_each(i, line, lanes) for i in range(k))

    sums, write = _reg_sums_and_write(name, k, each)
    parts = {
        "loads": each("        {v} = x[row, {j}] if {j} < width else neg"),
        "max": each("        m = {v} if ({v} > m or {v} != {v}) else m"),
        "sums": sums,
        "write": write,
    }
    source = fill(_REG_SOURCE, _reg_reduce(lanes), parts)
    block = max(lanes, THREADS)
    source = source.replace("{rows_loop}", _ONE_ROW if block == lanes else _ROWS_OF_WARPS)
    source = source.replace("{B}", str(block)).replace("{R}", str(block // lanes))
    return source.replace("{dtype}", dtype).replace("{L}", str(lanes))
