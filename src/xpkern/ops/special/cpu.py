"""``logsumexp``, ``softmax`` and ``log_softmax`` on the CPU: one Numba loop per row.

Each row (the last axis, or the whole array for a full reduction) is read twice: once for its
maximum, once for the sum of the other terms. The composed form writes a temporary per step
(about 15 of them for logsumexp), and for small arrays each of those steps is a library call:
this is where the time goes. The arithmetic is the generic path's (the maximum's terms counted
rather than summed, ``log1p`` of the rest); the sum is accumulated in float64 with a
compensation term, so float32 rows are summed more accurately than NumPy's own float32 sums
(where a row holds an inf or NaN the plain sum gives the composed form's answer, which
compensation would turn into NaN).
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
# Numba's exp is scalar where NumPy's is vectorised, so on one core the loop wins only while
# the composed form's per-step call cost dominates: up to about 16384 elements for logsumexp
# and log_softmax (which compose 15 steps; 10^4 float64 on the 2-core CI machine: 88 us
# against 100 for log_softmax, a tie for logsumexp on NumPy, 94 against 119 on torch), 1024
# for softmax (5 steps; 10^4: 111 us against 54). Over every core the first two also win for
# large inputs (10^6: 5.5 ms against 13.7 for logsumexp). Figures:
# benchmarks/results/overhead-auto-cpu2.md (python -m benchmarks --only auto).
_SERIAL_MAX = {"logsumexp": 16384, "log_softmax": 16384, "softmax": 1024}
# softmax composes only 5 steps: past 1024 elements the loop wins only over every core, on
# rows of a dtype whose exp the library runs on scalars (NumPy's float64 below AVX512F:
# 100 x 1000 float64 on 2 cores 0.59x the composed form's time, 1-D 10^5 1.26x), or on at
# least this many cores (per core the loop is 3.6-3.9x slower than a vectorised exp in
# float64, 6.7-7.8x in float32; over 16 cores 0.24-0.34x and 0.45-0.68x of the composed
# time). Figures: benchmarks/results/softmax-cpu-exp-*.md
# (python -m benchmarks.experiments.softmax_cpu_exp).
_SOFTMAX_CORES = {"float32": 12, "float64": 6}
_CODES = {"logsumexp": 0, "softmax": 1, "log_softmax": 2}


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
        if size <= _SERIAL_MAX[name]:
            return None
        if rows > 1 and numba_cpu.parallel(size, _PARALLEL_SIZE):
            if name != "softmax" or _softmax_loop_wins(ctx, x):
                return None
            return f"{size} elements: the library's vectorised exp is faster on these cores"
        return f"{size} elements: the library's vectorised exp is faster on one core"

    return wins


def _softmax_loop_wins(ctx: Context, x: Any) -> bool:
    dtype = dtype_name(x.dtype)
    if ctx.backend.vector_exp(x.dtype) is False:
        return True
    return numba_cpu.threads() >= _SOFTMAX_CORES.get(dtype, 0) > 0


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
        out = np.empty((rows, width), dtype=dtype)
        numba_cpu.run(_kernel(parallel), [host_view(a).reshape(rows, n), code, out], parallel)
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

    @numba.njit(inline="always")
    def add(total: float, carry: float, e: float, compensated: bool) -> tuple[float, float]:
        # Kahan's sum; with an inf among the terms the plain sum gives the answer.
        if not compensated:
            return total + e, carry
        y = e - carry
        t = total + y
        return t, (t - total) - y

    def rows_kernel(x: Any, code: int, out: Any) -> None:
        rows, n = x.shape
        for r in numba.prange(rows):
            top = x[r, 0]
            for j in range(n):  # the maximum; NaN wins
                v = x[r, j]
                if v > top or v != v:
                    top = v
                    if v != v:
                        break
            finite = np.isfinite(top)
            shift = top if finite else x.dtype.type(0)
            if code == 1:  # softmax: exp(x - max) / sum, as composed (max not replaced)
                total = 0.0
                carry = 0.0
                for j in range(n):
                    e = np.exp(np.float64(x[r, j] - top))
                    out[r, j] = e
                    total, carry = add(total, carry, e, finite)
                for j in range(n):
                    out[r, j] = out[r, j] / total
                continue
            # The terms other than the maximum, summed; the maximum's own terms (exactly 1
            # each) counted, so that log1p keeps the digits of a rest near 0.
            count = 0
            total = 0.0
            carry = 0.0
            for j in range(n):
                v = x[r, j]
                if finite and v == top:
                    count += 1
                    continue
                total, carry = add(total, carry, np.exp(np.float64(v - shift)), finite)
            log_sum = np.log1p(total + (count - 1))
            if code == 0:
                out[r, 0] = log_sum + shift
            else:
                for j in range(n):
                    out[r, j] = (x[r, j] - shift) - log_sum

    return numba_cpu.jit(rows_kernel, parallel, error_model="numpy")
