"""``logsumexp``, ``softmax`` and ``log_softmax`` on the CPU: one Numba loop per row.

Each row (the last axis, or the whole array for a full reduction) is read twice: once for its
maximum, once for the sum of the other terms. The composed form writes a temporary per step
(about 15 of them for logsumexp), and for small arrays each of those steps is a library call:
this is where the time goes. The arithmetic is the generic path's (the maximum's terms counted
rather than summed, ``log1p`` of the rest); the sum is accumulated in float64 with a
compensation term, so float32 rows are summed more accurately than NumPy's own float32 sums
(where a row holds an inf or NaN the plain sum gives the composed form's answer, which
compensation would turn into NaN). Each step is written so the compiler can run several
values at once: ``exp`` as arithmetic (:mod:`xpkern.engines.numba_cpu_exp`, where Numba
would call the C library's scalar ``exp``), the maximum and the compensated sum in 8 running
lanes, the maxima counted as integers; twice as fast as one value at a time
(benchmarks/results/rows-cpu-loop-cpu2.md against rows-cpu-loop-before-vexp-cpu2.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from ..._checks import host_float_kernel, not_contiguous, reduced_shape, rows_of
from ...backends import Context, dtype_name
from ...engines import numba_cpu
from .core import log_softmax_op, logsumexp_op, softmax_op

# Rows go over every core from this many elements in all (and two rows or more).
_PARALLEL_SIZE = 2**16
# On one core (one row, or too few elements for every core) the loop wins over the composed
# form at every size for logsumexp and log_softmax, which compose about 15 steps (one row of
# 10^6 float64 NumPy values: 2.3 ms against 9.0 for logsumexp), but on one long float32 row of
# a torch tensor, whose fused steps run a vectorised float32 exp (10^5: 1.06-1.11x the
# composed time, 10^6: 1.2-1.8x); softmax composes 5 steps and the loop wins up to 4096
# elements (4096 float64: 0.88x; 10^4: 1.05x). Figures (2 cores with AVX512F):
# benchmarks/results/rows-cpu-loop-cpu2.md, softmax-cpu-exp-cpu2-avx512-vexp.md
# (python -m benchmarks.experiments.rows_cpu_loop, softmax_cpu_exp).
_SERIAL_MAX = {"softmax": 4096}
_SERIAL_MAX_FLOAT32 = {"torch": 2**16}
# Several rows on one core: the softmax loop took 0.81-1.09x the composed form's time on
# float64 rows of up to 4096 (10x1000, 60x1000, 1000x10, 200x100, 15x4096, two runs; NumPy's
# reductions along a short last axis cost more than along one row), on one thread 0.84x
# (100x1000) and 0.85x (1000x1000) but 1.09x (100x10^4); float32 rows mostly 1.07-1.86x
# (softmax-cpu-exp-cpu2-avx512-rows.md, -one-thread.md). So float64 rows of up to
# _SERIAL_MAX values take it on one core, and where one thread runs every row.
_SERIAL_ROWS = {"softmax": ("float64",)}
# Rows over every core: the loop wins for logsumexp and log_softmax (1000 x 1000 on 2 cores:
# 0.11-0.64x the composed time), and for softmax where the library's exp of the dtype runs on
# scalars (NumPy's float64 below AVX512F), or on at least this many cores: against NumPy's
# vectorised exp, 2 cores gave 0.43-0.59x the composed time for float64 rows and 0.74-0.98x
# for float32 rows (softmax-cpu-exp-cpu2-avx512-vexp.md); one thread keeps the composed form.
_SOFTMAX_MIN_CORES = 2
_CODES = {"logsumexp": 0, "softmax": 1, "log_softmax": 2}
LANES = 8  # the running lanes of row_max and lanes_sum, written out there as 8 names


def _supports(ctx: Context, x: Any, axes: tuple[int, ...], *rest: Any) -> str | None:
    blocked = host_float_kernel(ctx, x) or not_contiguous(ctx, x)
    if blocked:
        return blocked
    if rows_of(x, axes) is None:
        return "the kernel reduces the last axis or all axes"
    return None if math.prod(x.shape) else "an empty array"


def _lse_supports(ctx: Context, x: Any, axes: Any, keepdims: bool, b: Any) -> str | None:
    return _supports(ctx, x, axes) or ("weights b take the generic path" if b is not None
                                       else None)  # fmt: skip


def _wins_for(name: str) -> Any:
    def wins(ctx: Context, x: Any, axes: tuple[int, ...], *rest: Any) -> str | None:
        rows, n = rows_of(x, axes) or (0, 0)
        size = rows * n
        if rows > 1 and numba_cpu.parallel(size, _PARALLEL_SIZE):
            if name != "softmax" or _softmax_loop_wins(ctx, x) or _serial_rows(name, x, n):
                return None
            return f"{size} elements: the library's vectorised exp is faster on these cores"
        longest = _serial_max(ctx, name, x)
        if longest is None or size <= longest or (rows > 1 and _serial_rows(name, x, n)):
            return None
        return f"{size} elements: the library's vectorised exp is faster on one core"

    return wins


def _serial_max(ctx: Context, name: str, x: Any) -> int | None:
    """The most elements the loop takes on one core (None: any number)."""
    if name in _SERIAL_MAX:
        return _SERIAL_MAX[name]
    if dtype_name(x.dtype) == "float32":
        return _SERIAL_MAX_FLOAT32.get(ctx.backend.name)
    return None


def _serial_rows(name: str, x: Any, n: int) -> bool:
    """Whether rows of ``n`` values of ``x`` take the loop on one core, however many."""
    return dtype_name(x.dtype) in _SERIAL_ROWS.get(name, ()) and n <= _SERIAL_MAX[name]


def _softmax_loop_wins(ctx: Context, x: Any) -> bool:
    if ctx.backend.vector_exp(x.dtype) is False:
        return True
    return numba_cpu.threads() >= _SOFTMAX_MIN_CORES


def _bind(name: str, ctx: Context, x: Any, axes: tuple[int, ...],
          keepdims: bool = False) -> Callable[[Any], Any]:  # fmt: skip
    """The kernel's call for arrays like ``x`` (op ``name``), with what depends only on their
    signature worked out once; public functions keep it for their later calls."""
    import numpy as np

    rows, n = rows_of(x, axes) or (0, 0)
    shape = reduced_shape(tuple(x.shape), axes, keepdims) if name == "logsumexp" else x.shape
    width = 1 if name == "logsumexp" else n
    dtype = np.dtype(dtype_name(x.dtype))
    # The arrays of a kept call are of the context's library: its own host view, no lookup.
    code, host_view, from_host = _CODES[name], ctx.backend.host_view, ctx.from_host

    def call(a: Any) -> Any:
        # Asked on each call: a kept call may later run inside a Dask task (serial there)
        parallel = rows > 1 and numba_cpu.parallel(rows * n, _PARALLEL_SIZE)
        blocks = min(rows, 4 * numba_cpu.threads()) if parallel else 1
        out = np.empty((rows, width), dtype=dtype)
        args = [host_view(a).reshape(rows, n), code, out, blocks]
        numba_cpu.run(_kernel(parallel), args, parallel)
        return from_host(out.reshape(shape))

    return call


_REASON = "one Numba loop per row: the row read twice, no temporaries"


@logsumexp_op.register(
    "numba-cpu", reason=_REASON, supports=_lse_supports, wins=_wins_for("logsumexp")
)
def _logsumexp_cpu(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    return _bind("logsumexp", ctx, x, axes, keepdims)(x)


@softmax_op.register("numba-cpu", reason=_REASON, supports=_supports, wins=_wins_for("softmax"))
def _softmax_cpu(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return _bind("softmax", ctx, x, axes)(x)


@log_softmax_op.register(
    "numba-cpu", reason=_REASON, supports=_supports, wins=_wins_for("log_softmax")
)
def _log_softmax_cpu(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return _bind("log_softmax", ctx, x, axes)(x)


_logsumexp_cpu.bind = lambda ctx, x, axes, keepdims, b: _bind(  # type: ignore[attr-defined]
    "logsumexp", ctx, x, axes, keepdims)  # fmt: skip
_softmax_cpu.bind = functools.partial(_bind, "softmax")  # type: ignore[attr-defined]
_log_softmax_cpu.bind = functools.partial(_bind, "log_softmax")  # type: ignore[attr-defined]


@functools.cache
def _kernel(parallel: bool) -> Any:
    import numba
    import numpy as np

    from ...engines.numba_cpu_exp import exp64

    @numba.njit(inline="always")
    def add(total: float, carry: float, e: float) -> tuple[float, float]:
        # Kahan's compensated sum: (total, carry) after adding e.
        y = e - carry
        t = total + y
        return t, (t - total) - y

    @numba.njit(inline="always")
    def lanes_sum(terms: Any, n: int, compensated: bool) -> float:
        # The terms in LANES interleaved sums, independent of each other so the CPU runs
        # them side by side (one running sum waits on each addition), each compensated
        # where every term is finite; the lanes then merged, compensated too. With an inf
        # among the terms the plain sum gives the answer (compensation would give NaN).
        if not compensated:
            total = 0.0
            for j in range(n):
                total += terms[j]
            return total
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = 0.0
        whole = n - n % LANES
        for j in range(0, whole, LANES):
            a0, c0 = add(a0, c0, terms[j])
            a1, c1 = add(a1, c1, terms[j + 1])
            a2, c2 = add(a2, c2, terms[j + 2])
            a3, c3 = add(a3, c3, terms[j + 3])
            a4, c4 = add(a4, c4, terms[j + 4])
            a5, c5 = add(a5, c5, terms[j + 5])
            a6, c6 = add(a6, c6, terms[j + 6])
            a7, c7 = add(a7, c7, terms[j + 7])
        total, carry = 0.0, 0.0
        for j in range(whole, n):
            total, carry = add(total, carry, terms[j])
        for lane, lane_carry in ((a0, c0), (a1, c1), (a2, c2), (a3, c3), (a4, c4), (a5, c5),
                                 (a6, c6), (a7, c7)):  # fmt: skip
            total, carry = add(total, carry, lane)
            total, carry = add(total, carry, -lane_carry)
        return total - carry

    @numba.njit(inline="always")
    def row_max(x: Any, r: int, n: int) -> Any:
        # The row's maximum, NaN where it holds one; in LANES running maxima side by side.
        # Which of +0.0 and -0.0 a tie gives does not change any result (see row).
        first = x[r, 0]
        m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = first
        nan = False
        whole = n - n % LANES
        for j in range(0, whole, LANES):
            v0, v1, v2, v3 = x[r, j], x[r, j + 1], x[r, j + 2], x[r, j + 3]
            v4, v5, v6, v7 = x[r, j + 4], x[r, j + 5], x[r, j + 6], x[r, j + 7]
            m0 = v0 if v0 > m0 else m0
            m1 = v1 if v1 > m1 else m1
            m2 = v2 if v2 > m2 else m2
            m3 = v3 if v3 > m3 else m3
            m4 = v4 if v4 > m4 else m4
            m5 = v5 if v5 > m5 else m5
            m6 = v6 if v6 > m6 else m6
            m7 = v7 if v7 > m7 else m7
            nan |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3)
            nan |= (v4 != v4) | (v5 != v5) | (v6 != v6) | (v7 != v7)
        top = m0
        for m in (m1, m2, m3, m4, m5, m6, m7):
            top = m if m > top else top
        for j in range(whole, n):
            v = x[r, j]
            top = v if v > top else top
            nan |= v != v
        return x.dtype.type(np.nan) if nan else top

    @numba.njit(inline="always")
    def row(x: Any, r: int, code: int, out: Any, terms: Any) -> None:
        # A maximum of 0.0 or -0.0 gives the same results: exp(+-0) = 1, and log_softmax's
        # x - max differs in sign only where x is a zero too, counted as a maximum then
        # (two of them: log(2) is subtracted, not 0).
        n = x.shape[1]
        top = row_max(x, r, n)
        finite = np.isfinite(top)
        if code == 1:  # softmax: exp(x - max) / sum, as composed (max not replaced)
            for j in range(n):
                terms[j] = exp64(np.float64(x[r, j] - top))
            total = lanes_sum(terms, n, finite)
            for j in range(n):
                out[r, j] = terms[j] / total
            return
        # The terms other than the maximum, summed; the maximum's own terms (exactly 1
        # each: exp(0)) counted and taken out, so that log1p keeps the digits of a rest
        # near 0. The count is an integer and no term is skipped: the loop has no branch.
        shift = top if finite else x.dtype.type(0)
        count = np.int64(0)
        for j in range(n):
            v = x[r, j]
            hit = np.int64(finite & (v == top))
            terms[j] = exp64(np.float64(v - shift)) - hit
            count += hit
        log_sum = np.log1p(lanes_sum(terms, n, finite) + (count - 1))
        if code == 0:
            out[r, 0] = log_sum + shift
            return
        for j in range(n):
            out[r, j] = (x[r, j] - shift) - log_sum

    def rows_kernel(x: Any, code: int, out: Any, blocks: int) -> None:
        # The rows in ``blocks`` runs of rows (a few a thread), each with its own terms.
        rows, n = x.shape
        per = (rows + blocks - 1) // blocks
        for b in numba.prange(blocks):
            terms = np.empty(n, dtype=np.float64)
            for r in range(b * per, min(rows, (b + 1) * per)):
                row(x, r, code, out, terms)

    # contract: the polynomial of exp64 in fused multiply-adds (nothing else multiplies).
    return numba_cpu.jit(rows_kernel, parallel, error_model="numpy", fastmath={"contract"})
