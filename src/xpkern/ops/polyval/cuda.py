"""``polyval`` on the GPU: one grid-stride CUDA kernel doing all of Horner's steps per point."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..._checks import needs_grad, not_contiguous, not_float, not_on_cuda
from ...backends import Context
from ...engines import cuda as engine
from .core import op

__all__ = ["SOURCE", "ptx_cases"]

SOURCE = """
from xpkern.engines.cuda.compiler import cuda


def kernel(out, c, x):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.shape[0]:
        acc = 0.0
        xi = x[i]
        for j in range(c.shape[0]):
            acc = acc * xi + c[j]
        out[i] = acc
        i += stride
"""


def _kernel() -> engine.Kernel:
    return engine.cached_kernel(("polyval",), "cuda_polyval", lambda: SOURCE)


def _supports(ctx: Context, coeffs: Any, x: Any) -> str | None:
    blocked = not_on_cuda(ctx) or needs_grad(x, coeffs) or not_float(coeffs, x)
    if blocked:
        return blocked
    if coeffs.dtype != x.dtype:
        return "the kernel takes float32/float64 inputs of one dtype"
    return not_contiguous(ctx, x, coeffs) or engine.problem()


@op.register(
    "numba-cuda",
    reason="one CUDA kernel doing all of Horner's steps per point, on the caller's stream",
    supports=_supports,
)
def _run(ctx: Context, coeffs: Any, x: Any) -> Any:
    out = engine.empty(ctx, tuple(x.shape), x.dtype, x)
    flat = [out.reshape(-1), coeffs, x.reshape(-1)]
    n = int(flat[0].shape[0])
    if n:
        _kernel().launcher(ctx, flat).flat(ctx, n, flat)
    return out


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of every kernel this family generates."""
    from ...engines.cuda.compiler import array_type

    for dtype in ("float32", "float64"):
        yield f"polyval {dtype}", _kernel().module().kernel, [array_type(dtype, 1)] * 3, False
