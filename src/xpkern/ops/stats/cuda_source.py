"""The source of the CUDA ``mean_var`` kernels: a row a block (or warp), and a long row split
over several blocks whose partial sums a second kernel merges.

Each thread sums its share of the values shifted by one of its values (Welford's accuracy for
data far from zero, without a division per element), in float64 whatever the input; the
block then merges the threads' (count, mean, sum of squared deviations) triples pairwise by
Chan's update, and a split row's blocks' sums are merged the same way, a block a row. So the
error does not grow with the row's length, float32 included. A plain float64 sum beside it
gives the generic path's answers where a row holds an inf or NaN: a mean of +-inf or NaN, a
NaN variance.
"""

from __future__ import annotations

__all__ = ["merge_source", "scan_source"]

_HEAD = """
import math
import numba
from xpkern.engines.cuda.compiler import cuda


@cuda.jit(device=True, inline=True)
def chan(ca, mua, m2a, cb, mub, m2b):
    # (count, mean, sum of squared deviations) of two groups merged by Chan's update; an
    # empty second group leaves the first as it is.
    if not cb > 0.0:
        return ca, mua, m2a
    total = ca + cb
    d = mub - mua
    return total, mua + d * (cb / total), m2a + m2b + d * d * (ca * (cb / total))


@cuda.jit(device=True, inline=True)
def finish(raw, seen, c, mu, m2, correction, largest):
    # (mean, var) of a row from its merged sums. With an inf or NaN in the row (seen is then
    # NaN), or a sum that overflows in the data's dtype (as the generic path's does): its
    # infinite mean, with a NaN variance where the row holds an inf or NaN and an infinite
    # one where only the sum overflowed.
    finite = seen == 0.0
    if not finite or abs(raw) > largest:
        mean = raw / c if not finite else raw * math.inf
        return mean, (math.inf if finite else math.nan)
    # The mean merged from the threads' shifted sums: the last digits kept.
    return mu, max(m2 / (c - correction), 0.0)
"""

_SCAN = """

def kernel({args}):
{shared}
    n = x.shape[1]
    for block in range(cuda.blockIdx.x, {blocks}, cuda.gridDim.x):
{locate}
        # This thread's values shifted by its first one (0 if that is not finite, so an
        # inf reaches the sums as it is): sums of d and d*d, no division per element.
        shift = 0.0
        if start + tid < end:
            shift = numba.float64(x[row, start + tid])
            if not math.isfinite(shift):
                shift = 0.0
        c = 0.0
        s1 = 0.0
        s2 = 0.0
        raw = 0.0
        bad = 0.0  # stays 0 while every value is finite (v - v is NaN for inf and NaN)
        j = start + tid
{unrolled}        while j < end:
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
{tree}
        if tid == 0:
{write}
        cuda.syncthreads()
"""

# The block's threads' sums, each thread's in the shared arrays, merged pairwise into
# thread 0's (``chan`` for count, mean and sum of squared deviations).
_TREE = """        cuda.syncthreads()
        half = {T} // 2
        while half > 0:
            if tid < half:
                sm[tid] = sm[tid] + sm[tid + half]
                seen[tid] = seen[tid] + seen[tid + half]
                cnt[tid], mu[tid], m2[tid] = chan(cnt[tid], mu[tid], m2[tid], cnt[tid + half],
                                                  mu[tid + half], m2[tid + half])
            cuda.syncthreads()
            half //= 2"""

# A block a row: the row's (mean, var) written by its block.
_ROWS = {
    "args": "x, correction, largest, out",
    "blocks": "x.shape[0]",
    "locate": "        row = block\n        start = 0\n        end = n",
    "write": (
        "            mean, var = finish(sm[0], seen[0], cnt[0], mu[0], m2[0], correction,\n"
        "                               largest)\n"
        "            out[0, row] = mean\n"
        "            out[1, row] = var"
    ),
}
# Blocks a row (``parts`` of them, ``chunk`` values each): each block's sums written for the
# merge, as (count, mean, sum of squared deviations, plain sum, seen) in rows of ``partial``.
_PARTS = {
    "args": "x, parts, chunk, partial",
    "blocks": "x.shape[0] * parts",
    "locate": (
        "        row = block // parts\n"
        "        start = (block - row * parts) * chunk\n"
        "        end = min(n, start + chunk)"
    ),
    "write": "".join(
        f"            partial[{i}, block] = {name}[0]\n"
        for i, name in enumerate(("cnt", "mu", "m2", "sm", "seen"))
    ).rstrip("\n"),
}

_SHARED = (
    "".join(
        f"    {name} = cuda.shared.array({{T}}, numba.float64)\n"
        for name in ("cnt", "mu", "m2", "sm", "seen")
    )
    + "    tid = cuda.threadIdx.x"
)

# A block a row: each thread merges every {T}-th of the row's parts, then the block merges
# the threads' sums (one thread merging a row's hundreds of parts in turn took longer than
# reading the row).
_MERGE = """

def kernel(partial, parts, correction, largest, out):
{shared}
    for row in range(cuda.blockIdx.x, out.shape[1], cuda.gridDim.x):
        c = 0.0
        mean = 0.0
        dev2 = 0.0
        raw = 0.0
        bad = 0.0
        p = tid
        while p < parts:
            i = row * parts + p
            raw += partial[3, i]
            bad += partial[4, i]
            c, mean, dev2 = chan(c, mean, dev2, partial[0, i], partial[1, i], partial[2, i])
            p += {T}
        cnt[tid] = c
        mu[tid] = mean
        m2[tid] = dev2
        sm[tid] = raw
        seen[tid] = bad
{tree}
        if tid == 0:
            mean, var = finish(sm[0], seen[0], cnt[0], mu[0], m2[0], correction, largest)
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
    return f"        while j + {(unroll - 1) * threads} < end:\n" + loads + sums + step


def _fill(text: str, parts: dict[str, str], threads: int) -> str:
    for key, value in {"shared": _SHARED, "tree": _TREE, **parts}.items():
        text = text.replace("{" + key + "}", value)
    return _HEAD + text.replace("{T}", str(threads))


def scan_source(threads: int, unroll: int, split: bool) -> str:
    """The kernel reading rows with ``threads`` a block, ``unroll`` values at a time: a row a
    block, or where ``split`` a part of a row a block, its sums written for the merge."""
    return _fill(_SCAN, dict(_PARTS if split else _ROWS, unrolled=_unrolled(unroll, threads)),
                 threads)  # fmt: skip


def merge_source(threads: int) -> str:
    """The kernel merging each row's parts (``threads`` a row, a power of two) and writing
    its (mean, var)."""
    return _fill(_MERGE, {}, threads)
