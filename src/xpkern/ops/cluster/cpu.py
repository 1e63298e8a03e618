"""The k-means assignment on the CPU: one Numba loop, kept for explicit use.

The assignment step is the whole cost of an iteration. A Numba loop finds each row's nearest
centre without the n x k distance matrix, but on the CPU the generic path's matrix product
is faster (benchmarks/results/algorithms-cpu-cpu2.md: 2048x64 rows, 64 centres, 5.1 ms vs
0.53 ms), so the loop is kept for explicit use only: config(impl="numba-cpu").
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..._checks import host_float_kernel
from ...backends import Context
from .core import assign


def _cpu_supports(ctx: Context, x: Any, centers: Any) -> str | None:
    return host_float_kernel(ctx, x, centers)


def _cpu_wins(ctx: Context, x: Any, centers: Any) -> str | None:
    return "the generic path's matrix product is faster on the CPU (measured 10x)"


@assign.register(
    "numba-cpu",
    reason="one Numba loop: each row's nearest centre, no n x k distance matrix",
    supports=_cpu_supports,
    wins=_cpu_wins,
)
def _assign_cpu(ctx: Context, x: Any, centers: Any) -> tuple[Any, Any]:
    xs, cs = (np.ascontiguousarray(ctx.host_view(a)) for a in (x, centers))
    labels = np.empty(xs.shape[0], dtype=np.int64)
    closest = np.empty(xs.shape[0], dtype=xs.dtype)
    _assign_kernel()(xs, cs, labels, closest)
    return ctx.from_host(labels), ctx.from_host(closest)


@functools.cache
def _assign_kernel() -> Any:
    import numba

    @numba.njit(cache=True)
    def assign(x: Any, c: Any, labels: Any, closest: Any) -> None:
        n, d = x.shape
        for i in range(n):
            best = np.inf
            arg = 0
            for j in range(c.shape[0]):
                acc = 0.0
                for t in range(d):
                    diff = x[i, t] - c[j, t]
                    acc += diff * diff
                if acc < best:
                    best = acc
                    arg = j
            labels[i] = arg
            closest[i] = best

    return assign
