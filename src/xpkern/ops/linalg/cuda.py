"""Products on CUDA devices: the Gram matrix by cuBLAS syrk, and integer products for torch,
which has no integer matmul on CUDA."""

from __future__ import annotations

from typing import Any

from ..._checks import needs_grad, not_on_cuda
from ...backends import BACKENDS, Context
from .core import gram, product, real_float, torch_cuda_integers

__all__ = ["torch_int_matmul"]

# torch has no integer matmul on CUDA ("dot" not implemented for 'Long'); an exact
# multiply-and-sum stands in for it there (memory n*k*m, so meant for modest sizes).


def _torch_cuda_int_supports(ctx: Context, *arrays: Any) -> str | None:
    if not torch_cuda_integers(ctx, *arrays):
        return "only for integer tensors on CUDA, where torch has no matmul"
    return None


def torch_int_matmul(a: Any, b: Any) -> Any:
    """Exact ``a @ b`` for integer tensors by broadcasting, as torch CUDA has no int matmul."""
    import torch

    dtype = torch.result_type(a, b)
    a2 = a.unsqueeze(0) if a.ndim == 1 else a
    b2 = b.unsqueeze(-1) if b.ndim == 1 else b
    out = (a2.unsqueeze(-1).to(dtype) * b2.unsqueeze(-3).to(dtype)).sum(-2, dtype=dtype)
    if a.ndim == 1:
        out = out.squeeze(-2)
    if b.ndim == 1:
        out = out.squeeze(-1)
    return out


@product.register(
    "torch-cuda-integer",
    reason="torch has no integer matmul on CUDA: exact multiply-and-sum",
    supports=_torch_cuda_int_supports,
)
def _matmul_torch_cuda_int(ctx: Context, x1: Any, x2: Any) -> Any:
    return torch_int_matmul(x1, x2)


@gram.register(
    "torch-cuda-integer",
    reason="torch has no integer matmul on CUDA: exact multiply-and-sum",
    supports=_torch_cuda_int_supports,
)
def _gram_torch_cuda_int(ctx: Context, x: Any) -> Any:
    return torch_int_matmul(x, x) if x.ndim == 1 else torch_int_matmul(x, x.mT)


# On the GPU (benchmarks/results/gram-nvidia-h100-80gb-hbm3.md, H100), cuBLAS syrk plus the
# mirroring kernel beats gemm from 2048x2048 on (1.4-1.7x) up to 1.9x at 8192x8192 float32
# (11.3 ms vs 21.5 ms). Below that both are launch-bound and syrk's second kernel loses
# (1024x1024: 0.23-0.8x), and tall inputs lose too (16384x256: 0.9x; 8192x64: 0.4x).
# Launch-bound CuPy arrays are the exception: there the generic path's product, transposes
# and masked select cost more host time than CuPy's own syrk call and its mirroring kernel,
# at every size of two H200 sweeps (n x 16 float32, n = 7 to 1024, one synchronised call:
# 79-133 us against the generic 94-144 in overhead-auto-mask-nvidia-h200.md, 93-129 against
# 167-249 in overhead-auto-nvidia-h200.md); torch tensors lose there (120-196 against
# 53-101: the conversions to CuPy arrays and back). Both sweeps ran before CuPy calls were
# kept (their devices did not key the cache): the generic path's kept call is yet to be
# timed against this.
_CUPY_SMALL_N = 1024


def _cublas_wins(ctx: Context, x: Any) -> str | None:
    n, k = x.shape
    if ctx.backend.name == "cupy" and n <= _CUPY_SMALL_N:
        return None
    if n < 2048 or 4 * k < n:
        return f"gemm is faster for {n}x{k} (syrk wins from 2048x2048, k >= n/4)"
    return None


def _cublas_supports(ctx: Context, x: Any) -> str | None:
    blocked = not_on_cuda(ctx) or needs_grad(x)
    if blocked:
        return blocked
    if x.ndim != 2 or not real_float(ctx, x):
        return "needs a 2-D float32/float64 array"
    if not BACKENDS["cupy"].installed():
        return 'cuBLAS syrk needs CuPy (pip install "xpkern[cuda13]" or "xpkern[cuda12]")'
    return None


@gram.register(
    "cublas-syrk",
    reason="cuBLAS syrk on the caller's stream: half the flops of gemm",
    supports=_cublas_supports,
    wins=_cublas_wins,
)
def _gram_cublas(ctx: Context, x: Any) -> Any:
    from ...engines.cuda import blas

    return blas.gram_syrk(ctx, x)
