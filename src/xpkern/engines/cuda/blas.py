"""cuBLAS through CuPy, on the caller's stream: syrk for Gram matrices, gemmEx for products
on tensor cores (TF32) or in plain float32 whatever the libraries' global TF32 switches say."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..._checks import dtype_name, not_on_cuda
from ...backends import BACKENDS, Context
from .device import compute_capability
from .state import simulated
from .streams import on_caller_stream

__all__ = ["gemm_nt", "gram_syrk", "matmul_into", "tf32_split", "tf32_unavailable"]


@cache
def _mirror_kernel() -> Any:
    import cupy

    # Reads only the lower triangle and writes only the upper one, so it runs in place.
    return cupy.ElementwiseKernel(
        "int64 n",
        "raw T c",
        """
        long long row = i / n, col = i % n;
        if (col > row) c[i] = c[col * n + row];
        """,
        "xpkern_mirror_lower",
    )


def gram_syrk(ctx: Context, x: Any) -> Any:
    """``x @ x.T`` of a 2-D CUDA array through cuBLAS syrk, mirrored to a full matrix."""
    import cupy.cublas

    with on_caller_stream(ctx, x) as cupy:
        a = x if ctx.backend.name == "cupy" else cupy.from_dlpack(x.detach())
        n = a.shape[0]
        result = ctx.backend.empty((n, n), x.dtype, x)
        out = result if ctx.backend.name == "cupy" else cupy.from_dlpack(result)
        if n == 0:
            return result
        if a.shape[1] == 0:
            out.fill(0)
            return result
        cupy.cublas.syrk("N", cupy.ascontiguousarray(a), out=out, lower=True)
        _mirror_kernel()(n, out, size=n * n)
        return result


def matmul_into(ctx: Context, a: Any, b: Any, out: Any) -> None:
    """``out[...] = a @ b`` by the library's own GEMM (cuBLAS), on the caller's stream."""
    if ctx.backend.name == "torch":
        import torch

        torch.matmul(a, b, out=out)
    elif ctx.backend.name == "cupy":
        import cupy

        cupy.matmul(a, b, out=out)
    else:  # NumPy arrays in the CUDA simulator
        ctx.xp.matmul(a, b, out=out)


def tf32_split(ctx: Context, a: Any) -> tuple[Any, Any]:
    """``a = hi + lo`` for float32 ``a``: ``hi`` keeps the 10 mantissa bits that TF32 holds
    (so a tensor core reads it exactly) and ``lo`` is the rest, exact in float32."""
    if ctx.backend.name == "torch":
        import torch

        bits = a.view(torch.int32)
    else:
        bits = a.view(np.int32)
    hi = (bits & -8192).view(a.dtype)  # -8192: the 13 low mantissa bits cleared
    return hi, a - hi


def tf32_unavailable(ctx: Context, x: Any) -> str | None:
    """Why :func:`gemm_nt` cannot use tensor cores (TF32) for ``x``'s device, or None."""
    if dtype_name(x.dtype) != "float32":
        return "TF32 products are for float32"
    if not_on_cuda(ctx):
        return None if simulated() else "needs CuPy arrays or CUDA tensors"
    if not BACKENDS["cupy"].installed():
        return "cuBLAS gemmEx is called through CuPy, which is not installed"
    if compute_capability(ctx.backend.device_index(x)) < 80:
        return "TF32 tensor cores need compute capability 8.0 or newer"
    return None


# cuBLAS enum values (cublas_api.h, library_types.h), in case this CuPy does not name them.
_CUBLAS_OP_N, _CUBLAS_OP_T, _CUDA_R_32F, _CUBLAS_GEMM_DEFAULT = 0, 1, 0, -1
_COMPUTE_32F, _COMPUTE_32F_FAST_TF32, _POINTER_MODE_HOST = 68, 77, 0


def gemm_nt(ctx: Context, a: Any, b: Any, out: Any, *, tf32: bool) -> None:
    """``out[...] = a @ b.T`` for C-contiguous float32 ``a`` (n, k), ``b`` (m, k) and ``out``
    (n, m), by cuBLAS gemmEx on the caller's stream; on tensor cores (TF32) if ``tf32``,
    else in plain float32 whatever the libraries' global TF32 switches say."""
    if not_on_cuda(ctx):  # NumPy in the simulator: TF32 emulated
        a, b = (tf32_split(ctx, v)[0] for v in (a, b)) if tf32 else (a, b)
        np.matmul(a, b.T, out=out)
        return
    from cupy_backends.cuda.libs import cublas

    n, k = (int(s) for s in a.shape)
    m = int(b.shape[0])
    one, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
    compute = _COMPUTE_32F_FAST_TF32 if tf32 else _COMPUTE_32F
    pointer = ctx.backend.pointer
    with on_caller_stream(ctx, a) as cupy:
        handle = cupy.cuda.device.get_cublas_handle()
        mode = cublas.getPointerMode(handle)
        cublas.setPointerMode(handle, _POINTER_MODE_HOST)
        try:
            # Row-major out (n, m) is column-major out.T (m, n) = b (m, k) @ a.T (k, n).
            f32 = _CUDA_R_32F
            cublas.gemmEx(handle, _CUBLAS_OP_T, _CUBLAS_OP_N, m, n, k, one.ctypes.data,
                          pointer(b), f32, k, pointer(a), f32, k, zero.ctypes.data,
                          pointer(out), f32, m, compute, _CUBLAS_GEMM_DEFAULT)  # fmt: skip
        finally:
            cublas.setPointerMode(handle, mode)
