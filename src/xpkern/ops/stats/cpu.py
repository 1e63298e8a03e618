"""``mean_var`` on the CPU: one Numba loop per row, the row read once.

The composed form reads the data three times (the sum, the deviations, their squares) and
writes two temporaries; NumPy's own ``mean`` and ``var`` read it four times. The loop reads
each value once and keeps, per row, float64 sums of the values shifted by the row's first
finite value, which give the mean and the variance with Welford's accuracy for data far from
zero (float32 included), and the plain sum, which gives the generic path's answers where a
row holds an inf or NaN (a mean of +-inf or NaN, a NaN variance) or its sum overflows.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from ..._checks import host_float_kernel, not_contiguous, reduced_shape, rows_of
from ...backends import Context, dtype_name
from ...engines import numba_cpu
from .core import TOO_FEW, mean_var_op

# Rows go over every core from this many elements in all (and two rows or more).
_PARALLEL_SIZE = 2**16

# No size rule: on the 2-core CI machine the loop beats the composed path, NumPy's own mean and
# var, and torch's var_mean at every size of the sweep (10 float64: 9.4 us against NumPy's 9.5;
# 10^6: 0.58 ms against NumPy's 2.9 and torch's 3.5; benchmarks/results/overhead-auto-cpu2.md).


def _supports(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
              keepdims: bool) -> str | None:  # fmt: skip
    blocked = host_float_kernel(ctx, x) or not_contiguous(ctx, x)
    if blocked:
        return blocked
    found = rows_of(x, axes)
    if found is None:
        return "the kernel reduces the last axis or all axes"
    if found[1] <= correction or math.prod(x.shape) == 0:
        return TOO_FEW
    return None


@mean_var_op.register(
    "numba-cpu",
    reason="one Numba loop per row, the row read once: float64 sums, shifted for the variance",
    supports=_supports,
)
def _mean_var_cpu(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
                  keepdims: bool) -> tuple[Any, Any]:  # fmt: skip
    return _bind(ctx, x, axes, correction, keepdims)(x)


def _bind(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
          keepdims: bool) -> Callable[[Any], tuple[Any, Any]]:  # fmt: skip
    """The kernel's call for arrays like ``x``, with everything that depends only on their
    signature worked out once (kept by the public function for its later calls)."""
    import numpy as np

    rows, n = rows_of(x, axes) or (0, 0)
    shape = reduced_shape(tuple(x.shape), axes, keepdims)
    dtype = np.dtype(dtype_name(x.dtype))
    largest = float(np.finfo(dtype).max)
    # The arrays of a kept call are of the context's library: its own host view, no lookup.
    host_view, from_host, correction = ctx.backend.host_view, ctx.from_host, float(correction)
    serial = _kernel(False)

    pair = (2, *shape)  # (mean, var) in one buffer, each already of the result's shape

    def call(a: Any) -> tuple[Any, Any]:
        # Asked on each call: a kept call may later run inside a Dask task (serial there)
        parallel = rows > 1 and numba_cpu.parallel(rows * n, _PARALLEL_SIZE)
        found = np.empty(pair, dtype=dtype)
        out = found.reshape(2, rows)
        view = host_view(a).reshape(rows, n)
        if parallel:
            numba_cpu.run(_kernel(True), [view, correction, largest, out])
        else:
            serial(view, correction, largest, out)
        # found[i, ...], not found[i]: a 0-d array where the result is one (not a scalar).
        return from_host(found[0, ...]), from_host(found[1, ...])

    return call


_mean_var_cpu.bind = _bind  # type: ignore[attr-defined]


@functools.cache
def _kernel(parallel: bool) -> Any:
    import numba
    import numpy as np

    def mean_var_rows(x: Any, correction: float, largest: float, out: Any) -> None:
        rows, n = x.shape
        for r in numba.prange(rows):
            shift = 0.0
            for j in range(n):  # the first finite value: an inf reaches the sums as it is
                if np.isfinite(x[r, j]):
                    shift = np.float64(x[r, j])
                    break
            raw = 0.0
            s1 = 0.0
            s2 = 0.0
            seen = 0.0  # stays 0 while every value is finite (v - v is NaN for inf and NaN)
            for j in range(n):
                v = np.float64(x[r, j])
                raw += v
                seen += v - v
                d = v - shift
                s1 += d
                s2 += d * d
            if seen != 0.0 or abs(raw) > largest:
                # An inf or NaN in the row, or a sum that overflows in the data's dtype (as
                # NumPy's does): the generic path's infinite mean, with a NaN variance where
                # the row holds an inf or NaN and an infinite one where only the sum overflowed.
                mean = raw / n if seen != 0.0 else raw * np.inf
                var = np.inf if seen == 0.0 else np.nan
            else:
                mean = shift + s1 / n  # the small deviations keep the mean's last digits
                var = max((s2 - s1 * (s1 / n)) / (n - correction), 0.0)
            out[0, r] = mean
            out[1, r] = var

    return numba_cpu.jit(mean_var_rows, parallel, error_model="numpy")
