"""Products on CUDA devices: the Gram matrix of a few rows by one kernel launch, of larger
matrices by cuBLAS syrk, and integer products for torch, which has no integer matmul on
CUDA."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from ..._checks import needs_grad, not_contiguous, not_on_cuda
from ...backends import BACKENDS, Context
from ...engines import cuda as engine
from .core import gram, product, real_float, torch_cuda_integers

__all__ = ["ptx_cases", "small_gram", "torch_int_matmul"]

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


TILE = 16  # a block computes a TILE x TILE tile of the Gram matrix

_SMALL_SOURCE = """
import numba
from xpkern.engines.cuda.compiler import cuda


def kernel(x, out):
    i = cuda.blockIdx.y * {B} + cuda.threadIdx.y
    j = cuda.blockIdx.x * {B} + cuda.threadIdx.x
    if i < x.shape[0] and j <= i:
        s = numba.float64(0.0)
        for t in range(x.shape[1]):
            s += numba.float64(x[i, t]) * numba.float64(x[j, t])
        out[i, j] = s
        out[j, i] = s
"""


def _small_kernel() -> Any:
    source = _SMALL_SOURCE.replace("{B}", str(TILE))
    return engine.cached_kernel(("small_gram", TILE), "cuda_small_gram", lambda: source)


def _small_arguments(ctx: Context, x: Any) -> tuple[Any, list[Any], tuple[int, int]]:
    """(the kernel, its arguments with a new output, its grid) for ``x``."""
    n = int(x.shape[0])
    out = engine.empty(ctx, (n, n), x.dtype, x)
    tiles = -(-n // TILE)
    return _small_kernel(), [x, out], (tiles, tiles)


def small_gram(ctx: Context, x: Any) -> Any:
    """``x @ x.T`` of a C-contiguous 2-D CUDA array, one thread a pair of rows: each dot
    product summed in float64 and written to both halves, so exactly symmetric."""
    kernel, args, grid = _small_arguments(ctx, x)
    kernel(ctx, grid, (TILE, TILE), args)
    return args[-1]


def _bind_small(ctx: Context, x: Any) -> Callable[[Any], Any]:
    """The kernel's call for arrays like ``x`` (a kept call), its launch prepared once."""
    kernel, args, grid = _small_arguments(ctx, x)
    return engine.kept_launches(ctx, x, [(kernel, args, grid, (TILE, TILE), 0)],
                                lambda a: small_gram(ctx, a))  # fmt: skip


def _small_supports(ctx: Context, x: Any) -> str | None:
    blocked = engine.kernel_supports(ctx, x) or not_contiguous(ctx, x)
    if blocked:
        return blocked
    if x.ndim != 2:
        return "needs a 2-D array"
    return None if math.prod(x.shape) else "an empty array"


# One thread sums a pair's k products in turn, so the kernel's time grows with k: on an H100 it
# beats both BLAS paths (torch's product and mirror, CuPy's syrk and mirror) from 16x10 to
# 1024x16, 100x100 and 256x64 float32, one synchronised call (17-33 us against 36-47), and
# loses at 256x256, 512x128 and 100x1000 (56-97 us against 41-77):
# benchmarks/results/small-gram-nvidia-h100-80gb-hbm3.md.
SMALL_N = 1024
SMALL_K = 128
SMALL_WORK = 1 << 24  # multiply-adds: n * n * k


def _small_wins(ctx: Context, x: Any) -> str | None:
    n, k = (int(d) for d in x.shape)
    if n <= SMALL_N and k <= SMALL_K and n * n * k <= SMALL_WORK:
        return None
    return (f"{n}x{k} is past what one launch does faster than BLAS (n <= {SMALL_N}, "
            f"k <= {SMALL_K}, n*n*k <= 2^24)")  # fmt: skip


@gram.register(
    "numba-cuda",
    reason="one launch, a thread a pair of rows summed in float64: exactly symmetric",
    supports=_small_supports,
    wins=_small_wins,
)
def _gram_small(ctx: Context, x: Any) -> Any:
    return small_gram(ctx, x)


_gram_small.bind = _bind_small  # type: ignore[attr-defined]


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of the small Gram kernels."""
    from ...engines.cuda.compiler import array_type

    for dtype in ("float32", "float64"):
        types_ = [array_type(dtype, 2), array_type(dtype, 2)]
        yield f"small gram {dtype}", _small_kernel().module().kernel, types_, False


# On the GPU (benchmarks/results/gram-nvidia-h100-80gb-hbm3.md, H100), cuBLAS syrk plus the
# mirroring kernel beats gemm from 2048x2048 on (1.4-1.7x) up to 1.9x at 8192x8192 float32
# (11.3 ms vs 21.5 ms). Below that both are launch-bound and syrk's second kernel loses
# (1024x1024: 0.23-0.8x), and tall inputs lose too (16384x256: 0.9x; 8192x64: 0.4x).
# Launch-bound CuPy arrays past the small kernel are the exception: there the generic path's
# product, transposes and masked select cost more host time than CuPy's own syrk call and its
# mirroring kernel, at every size of two H200 sweeps (n x 16 float32, n = 7 to 1024, one
# synchronised call: 79-133 us against the generic 94-144 in overhead-auto-mask-nvidia-h200.md,
# 93-129 against 167-249 in overhead-auto-nvidia-h200.md); torch tensors lose there (120-196
# against 53-101: the conversions to CuPy arrays and back). Both sweeps ran before CuPy calls were
# kept (their devices did not key the cache); the generic path's kept call on CuPy arrays is yet to
# be timed against this.
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
