"""The source of the row kernels of ``logsumexp``, ``softmax`` and ``log_softmax``: templates
filled in per op, dtype and layout (which :mod:`.cuda` chooses); the rows held in
registers are in :mod:`.rows_registers`.

Each row is read once and kept on chip. The row is kept in registers (see
:mod:`.rows_registers`) or, when too long for them, in shared memory while its max and its sum
of exponentials are found, so the input is read once and the output written once; each step is
the generic formula, so -inf rows, +inf and NaN come out as there. Rows too long for shared
memory fold a running (max, sum of exp(x - max)) pair per thread, whose merge keeps the same
edge cases, and softmax reads such a row a second time to write it.
"""

from __future__ import annotations

from ...engines.cuda import SHARED_BYTES
from ...engines.cuda.state import simulated

__all__ = ["REST_START", "SHUFFLE", "STASH_BYTES", "THREADS", "fill", "long_rows_source",
           "stash_source"]  # fmt: skip


# A block's threads for a row in shared memory: 128 beat 256 and 512 on an H100 (8192 x 8192
# float32; softmax 0.28 ms against 0.31 and 0.51), and at most 256 means any register count
# launches.
THREADS = 128
STASH_BYTES = SHARED_BYTES  # the shared memory a block may take without opting in
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
from xpkern.engines.cuda.compiler import cuda

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
REST_START = """
        top = m
        finite = m - m == zero
        m = m if finite else zero
        s = zero
        c = zero
"""
_REST_SUMS = (
    REST_START
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
SHUFFLE = """
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


def fill(source: str, reduce: str, parts: dict[str, str]) -> str:
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


def stash_source(name: str, dtype: str, threads: int) -> str:
    sums, write = _STASH_PARTS[name]
    reduce = _TREE if simulated() else SHUFFLE
    source = fill(_STASH_SOURCE, reduce, {"sums": sums, "write": write})
    return source.replace("{dtype}", dtype).replace("{T}", str(threads))


_LONG_ROWS_SOURCE = """
import math
import numba
from xpkern.engines.cuda.compiler import cuda

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
    # The sums are float64 whatever the data: a thread sums n / {T} terms of a row this
    # long, and a float32 sum would err in proportion to their number.
    ss = cuda.shared.array({T}, numba.float64)
    tid = cuda.threadIdx.x
    n = x.shape[1]
    one = numba.{dtype}(1.0)
    zero = numba.{dtype}(0.0)
    for row in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        m = numba.{dtype}(NEG)
        s = numba.float64(0.0)
        for j in range(tid, n, {T}):
            v = x[row, j]
            m, s = merge(m, s, v, numba.float64(0.0 if v == NEG else 1.0))
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


def long_rows_source(name: str, dtype: str, threads: int) -> str:
    source = _LONG_ROWS_SOURCE.replace("{finish}", _LONG_FINISH[name])
    return source.replace("{dtype}", dtype).replace("{T}", str(threads))
