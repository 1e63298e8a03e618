"""``fit_linear`` on the GPU: the whole loop in one CUDA block.

Everything lives in shared memory (X, y, the weights, the residuals), so a step costs two
barriers and a few thousand cycles; one thread sums the loss while others form gradients.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..._checks import not_float, not_on_cuda
from ...backends import Context
from ...engines import cuda as engine
from ...engines.source import load_module
from .core import fit_op
from .sizes import CUDA_MAX_WORK, small

__all__ = ["FIT_SOURCE", "fit_linear_run", "ptx_cases", "shared_bytes"]

FIT_SOURCE = """
import numba
from xpkern.engines.cuda.compiler import cuda


def kernel(X, Y, W, B, lr, steps, losses):
    tid = cuda.threadIdx.x
    nthreads = cuda.blockDim.x
    n = X.shape[0]
    d = X.shape[1]
    m = Y.shape[1]
    shared = cuda.shared.array(0, dtype=numba.{dtype})
    xs = shared[0 : n * d]
    ys = shared[n * d : n * d + n * m]
    rs = shared[n * d + n * m : n * d + 2 * n * m]
    ws = shared[n * d + 2 * n * m : n * d + 2 * n * m + m * d]
    bs = shared[n * d + 2 * n * m + m * d : n * d + 2 * n * m + m * d + m]
    for idx in range(tid, n * d, nthreads):
        xs[idx] = X[idx // d, idx % d]
    for idx in range(tid, n * m, nthreads):
        ys[idx] = Y[idx // m, idx % m]
    for idx in range(tid, m * d, nthreads):
        ws[idx] = W[idx // d, idx % d]
    for idx in range(tid, m, nthreads):
        bs[idx] = B[idx]
    cuda.syncthreads()
    scale = lr * 2.0 / (n * m)
    zero = lr * 0.0
    for t in range(steps):
        for idx in range(tid, n * m, nthreads):
            i = idx // m
            k = idx - i * m
            acc = bs[k]
            for j in range(d):
                acc += xs[i * d + j] * ws[k * d + j]
            rs[idx] = acc - ys[idx]
        cuda.syncthreads()
        if tid == nthreads - 1:
            total = zero
            for idx in range(n * m):
                total += rs[idx] * rs[idx]
            losses[t] = total / (n * m)
        for idx in range(tid, m * (d + 1), nthreads):
            k = idx // (d + 1)
            j = idx - k * (d + 1)
            acc = zero
            if j < d:
                for i in range(n):
                    acc += rs[i * m + k] * xs[i * d + j]
                ws[k * d + j] -= scale * acc
            else:
                for i in range(n):
                    acc += rs[i * m + k]
                bs[k] -= scale * acc
        cuda.syncthreads()
    for idx in range(tid, m * d, nthreads):
        W[idx // d, idx % d] = ws[idx]
    for idx in range(tid, m, nthreads):
        B[idx] = bs[idx]
"""

_kernels: dict[str, Any] = {}


def shared_bytes(n: int, d: int, m: int, itemsize: int) -> int:
    """Shared memory the one-block fit needs for an (n, d) X and m outputs."""
    return (n * d + 2 * n * m + m * d + m) * itemsize


def _module(dtype: str) -> Any:
    return load_module(FIT_SOURCE.replace("{dtype}", dtype), "cuda_fit")[0]


def fit_linear_run(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    """Run ``steps`` gradient steps in one CUDA block on the caller's stream."""
    from ...engines.cuda import compiler
    from ...engines.cuda.streams import numba_stream

    n, d = X.shape
    m = Y.shape[1]
    losses = ctx.xp.empty((steps,), dtype=X.dtype, device=ctx.device)
    if steps == 0:
        return W, B, losses
    dtype = "float32" if "float32" in str(X.dtype) else "float64"
    if dtype not in _kernels:
        _kernels[dtype] = compiler.jit(_module(dtype).kernel)
    threads = int(min(1024, 32 * -(-max(n * m, m * (d + 1) + 1, 32) // 32)))
    stream = compiler.default_stream() if engine.simulated() else numba_stream(ctx, X)
    scalar = np.float32(lr) if dtype == "float32" else np.float64(lr)
    nbytes = shared_bytes(n, d, m, 4 if dtype == "float32" else 8)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Grid size.*")  # one block, by design
        _kernels[dtype][1, threads, stream, nbytes](X, Y, W, B, scalar, steps, losses)
    return W, B, losses


def _supports(ctx: Context, X: Any, *rest: Any) -> str | None:
    blocked = not_on_cuda(ctx) or not_float(X)
    if blocked:
        return blocked
    n, d = X.shape
    need = shared_bytes(n, d, rest[0].shape[1], 4 if "32" in str(X.dtype) else 8)
    if need > engine.SHARED_BYTES:
        return f"the problem needs {need} bytes of shared memory, over {engine.SHARED_BYTES}"
    return engine.problem()


@fit_op.register(
    "numba-cuda",
    reason="the whole training loop in one CUDA block, no launch or sync per step",
    supports=_supports,
    wins=small(CUDA_MAX_WORK),
)
def _run(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    return fit_linear_run(ctx, X, Y, W, B, lr, steps)


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of the one-block fit, in both dtypes."""
    from ...engines.cuda.compiler import array_type, scalar_type

    for dtype in ("float32", "float64"):
        matrix, vector = array_type(dtype, 2), array_type(dtype, 1)
        types_ = [matrix, matrix, matrix, vector, scalar_type(dtype), scalar_type("int64"),
                  vector]  # fmt: skip
        yield f"fit_linear {dtype}", _module(dtype).kernel, types_, False
