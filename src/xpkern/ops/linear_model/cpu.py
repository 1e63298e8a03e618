"""``fit_linear`` on the CPU: the whole training loop in one compiled Numba function."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..._checks import host_float_kernel
from ...backends import Context
from .core import fit_op
from .sizes import CPU_MAX_WORK, small


def _cpu_supports(ctx: Context, X: Any, Y: Any, W: Any, B: Any, *rest: Any) -> str | None:
    return host_float_kernel(ctx, X, Y, W, B)


@fit_op.register(
    "numba-cpu",
    reason="the whole training loop in one compiled Numba function",
    supports=_cpu_supports,
    wins=small(CPU_MAX_WORK),
)
def _fit_cpu(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    Xh, Yh, Wh, Bh = (np.ascontiguousarray(ctx.host_view(a)) for a in (X, Y, W, B))
    losses = np.empty(steps, dtype=Xh.dtype)
    _cpu_loop()(Xh, Yh, Wh, Bh, Xh.dtype.type(lr), steps, losses)
    return ctx.from_host(Wh), ctx.from_host(Bh), ctx.from_host(losses)


@functools.cache
def _cpu_loop() -> Any:
    import numba

    @numba.njit(cache=True)
    def loop(X: Any, Y: Any, W: Any, B: Any, lr: Any, steps: int, losses: Any) -> None:
        n, d = X.shape
        m = Y.shape[1]
        R = np.empty((n, m), dtype=X.dtype)
        scale = X.dtype.type(2.0) / X.dtype.type(n * m)
        for t in range(steps):
            total = X.dtype.type(0.0)
            for i in range(n):
                for k in range(m):
                    acc = B[k]
                    for j in range(d):
                        acc += X[i, j] * W[k, j]
                    r = acc - Y[i, k]
                    R[i, k] = r * scale
                    total += r * r
            losses[t] = total / X.dtype.type(n * m)
            for k in range(m):
                gb = X.dtype.type(0.0)
                for i in range(n):
                    gb += R[i, k]
                for j in range(d):
                    gw = X.dtype.type(0.0)
                    for i in range(n):
                        gw += R[i, k] * X[i, j]
                    W[k, j] -= lr * gw
                B[k] -= lr * gb

    return loop
