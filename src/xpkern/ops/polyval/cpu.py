"""``polyval`` on the CPU: one Numba loop doing all of Horner's steps per point.

The size rule is elementwise's (benchmarks/elementwise.py): below 2*10^4 points the call
overhead outweighs the gain; from 2^16 the loop runs on every core.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from ..._checks import host_float_kernel
from ...backends import Context
from ...engines import numba_cpu
from .core import op

CPU_MIN_SIZE = 20_000
PARALLEL_MIN_SIZE = 2**16


def _supports(ctx: Context, coeffs: Any, x: Any) -> str | None:
    return host_float_kernel(ctx, coeffs, x) or numba_cpu.missing()


def _wins(ctx: Context, coeffs: Any, x: Any) -> str | None:
    size = math.prod(x.shape)
    if size < CPU_MIN_SIZE:
        return f"{size} points: below {CPU_MIN_SIZE}, the composed Horner loop is as fast"
    return None


@op.register(
    "numba-cpu",
    reason="one compiled Numba loop doing all of Horner's steps per point",
    supports=_supports,
    wins=_wins,
)
def _run(ctx: Context, coeffs: Any, x: Any) -> Any:
    import numpy as np

    c, xs = ctx.host_view(coeffs), ctx.host_view(x)
    dtype = np.result_type(c.dtype, xs.dtype)
    c = np.ascontiguousarray(c, dtype=dtype)
    xs = np.ascontiguousarray(xs, dtype=dtype).reshape(-1)
    out = np.empty(xs.shape, dtype=dtype)
    parallel = numba_cpu.parallel(xs.shape[0], PARALLEL_MIN_SIZE)
    numba_cpu.run(_kernel(parallel), [out, c, xs], parallel)
    return ctx.from_host(out.reshape(x.shape))


@functools.cache
def _kernel(parallel: bool) -> Any:
    import numba

    def horner(out: Any, c: Any, x: Any) -> None:
        for i in numba.prange(x.shape[0]):
            acc = 0.0
            xi = x[i]
            for j in range(c.shape[0]):
                acc = acc * xi + c[j]
            out[i] = acc

    return numba_cpu.jit(horner, parallel)
