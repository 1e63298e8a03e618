"""``cdist`` and ``rbf_kernel`` on the CPU: one Numba loop over the pairs.

benchmarks/results/algorithms-cpu-cpu2.md (2 cores, float32): one Numba loop over the pairs
computes each distance exactly (differences, no expansion, no n x m x d block); with the
feature sums vectorised it takes 9.5 ms for 2048x1024x64 against 136 ms for the blocked
generic path and 41 ms for SciPy (512x256x16: 0.60 vs 8.1 vs 0.82 ms). torch.cdist is
faster still (2.2 ms) through the |x|^2 + |y|^2 - 2xy expansion, which loses accuracy for
nearby points. The loop wins at every size: the generic path's blocks cost 14-18 us even for
2 x 16 (the kernel's call, kept per signature: about 1.8 us, SciPy's 1.4; figures in
benchmarks/results/, ``python -m benchmarks --only auto overhead``); one kernel serves every
metric and size.
"""

from __future__ import annotations

import functools
from typing import Any

from ..._checks import host_float_kernel
from ...backends import Context
from ...engines import numba_cpu
from .core import METRICS, cdist_op, rbf_op

# Float32 features are summed in float32 up to this many, in float64 beyond. The vectorised
# sum keeps 32 partial sums, so at most 16 terms go into each (an error of a few float32
# units whatever the length); float64 sums cost 2.5x at 64 features (benchmarks/results/
# peers-before-after-cpu2.md) and are needed past this (3.7e-5 relative at 10^6 features).
_NARROW_MAX = 512
_CODES = {name: i for i, name in enumerate(METRICS)}


def _cpu_supports(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    return host_float_kernel(ctx, x, y)


def _cpu_wins(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    work = x.shape[0] * y.shape[0] * x.shape[1]
    return None if work else "no pairs or no features: nothing to compute"


def _run_cpu(ctx: Context, x: Any, y: Any, code: int, gamma: float) -> Any:
    return _bind_cpu(ctx, x, y, code, gamma)(x, y)


def _bind_cpu(ctx: Context, x: Any, y: Any, code: int, gamma: float) -> Any:
    """The kernel's call for arrays like ``x`` and ``y`` (dtype and shapes fixed), with what
    depends only on them worked out once; public functions keep it for later calls."""
    import numpy as np

    n, d, m = x.shape[0], x.shape[1], y.shape[0]
    dtype = ctx.host_view(x).dtype
    # The sums' dtype: the data's for up to _NARROW_MAX features, float64 beyond
    zero = dtype.type(0) if d <= _NARROW_MAX else np.float64(0)
    # Both arrays are of the context's library (resolve refused a mix): its own host view.
    host_view, from_host = ctx.backend.host_view, ctx.from_host
    work = n * m * d
    serial = _pairs_kernel(False)
    # C-contiguous NumPy arrays go in as they are (a kept call's arrays share their layout).
    as_given = ctx.backend.host_native and x.flags.c_contiguous and y.flags.c_contiguous

    def call(a: Any, b: Any) -> Any:
        out = np.empty((n, m), dtype=dtype)
        # Asked on each call: a kept call may later run inside a Dask task (serial there)
        parallel = _cpu_parallel(work)
        if as_given and not parallel:  # the small kept call: no list, no lookup, no lock
            serial(a, b, code, gamma, zero, out)
            return out
        if not as_given:
            a, b = np.ascontiguousarray(host_view(a)), np.ascontiguousarray(host_view(b))
        numba_cpu.run(_pairs_kernel(parallel), [a, b, code, gamma, zero, out], parallel)
        return out if as_given else from_host(out)

    return call


# The pairs loop over every core from 2^16 multiply-adds: on 2 cores, serial / parallel = 1.42
# (64 x 64 x 16 sqeuclidean), 1.72 (rbf), 1.9-2.0 from 2^20 on (2048 x 1024 x 64: 8.6 ms
# against 17.3). Not inside Dask tasks or forked children (see engines.numba_cpu).
_CPU_PARALLEL_WORK = 2**16


def _cpu_parallel(work: int) -> bool:
    return numba_cpu.parallel(work, _CPU_PARALLEL_WORK)


@cdist_op.register(
    "numba-cpu",
    reason="one Numba loop over the pairs: no n x m x d temporary",
    supports=_cpu_supports,
    wins=_cpu_wins,
)
def _cdist_cpu(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    return _run_cpu(ctx, x, y, _CODES[metric], 0.0)


@rbf_op.register(
    "numba-cpu",
    reason="one Numba loop over the pairs with the exp fused in",
    supports=_cpu_supports,
    wins=_cpu_wins,
)
def _rbf_cpu(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return _run_cpu(ctx, x, y, len(METRICS), gamma)


_cdist_cpu.bind = lambda ctx, x, y, metric: _bind_cpu(  # type: ignore[attr-defined]
    ctx, x, y, _CODES[metric], 0.0)  # fmt: skip
_rbf_cpu.bind = lambda ctx, x, y, gamma: _bind_cpu(  # type: ignore[attr-defined]
    ctx, x, y, len(METRICS), gamma)  # fmt: skip


@functools.cache
def _pairs_kernel(parallel: bool) -> Any:
    import numba
    import numpy as np

    def pairs(x: Any, y: Any, code: int, gamma: float, zero: Any, out: Any) -> None:
        # Differences and products in the data's dtype, their sums in zero's dtype (see
        # _NARROW_MAX).
        n, d = x.shape
        m = y.shape[0]
        for i in numba.prange(n):
            for j in range(m):
                acc = zero
                if code == 2:  # cityblock
                    for k in range(d):
                        acc += abs(x[i, k] - y[j, k])
                elif code == 4:  # chebyshev: no sum
                    for k in range(d):
                        acc = max(acc, abs(x[i, k] - y[j, k]))
                elif code == 3:  # cosine, as |x/|x| - y/|y||^2 / 2 (see core.cosine)
                    xx = zero
                    yy = zero
                    for k in range(d):
                        xx += x[i, k] * x[i, k]
                        yy += y[j, k] * y[j, k]
                    nx = x.dtype.type(np.sqrt(xx))
                    ny = x.dtype.type(np.sqrt(yy))
                    for k in range(d):
                        t = x[i, k] / nx - y[j, k] / ny
                        acc += t * t
                    # Clipped to [0, 2] by comparisons, which leave NaN (an inf or NaN
                    # feature) as it is; min/max here would turn it into a bound.
                    acc = acc / 2.0
                    if acc < 0.0:
                        acc = zero
                    elif acc > 2.0:
                        acc = 2.0
                    if xx == 0.0 or yy == 0.0:
                        acc = np.nan
                else:
                    for k in range(d):
                        t = x[i, k] - y[j, k]
                        acc += t * t
                    if code == 1:
                        acc = np.sqrt(acc)
                    elif code == 5:
                        acc = np.exp(-gamma * acc)
                out[i, j] = acc

    # reassoc lets LLVM vectorise the sums over features (10x here); NaN and inf keep their
    # IEEE meaning since no finite-math flag is given.
    return numba_cpu.jit(pairs, parallel, error_model="numpy",
                            fastmath={"reassoc", "contract"})  # fmt: skip
