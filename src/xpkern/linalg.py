"""Matrix products: ``matmul``, and the Gram matrix ``x @ x.mT`` by a symmetric rank-k update."""

from __future__ import annotations

from functools import cache
from typing import Any

from . import _backends
from ._backends import Context, resolve
from ._dask import only_dask, per_chunk, sum_of_column_grams
from ._dispatch import Op, public

__all__ = ["matmul"]


def _numeric(ctx: Context, x: Any, name: str) -> None:
    dtype = getattr(x, "dtype", None)
    ok = False
    if dtype is not None:
        try:
            ok = bool(ctx.xp.isdtype(dtype, ("integral", "real floating", "complex floating")))
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise TypeError(f"matmul: {name} must have a numeric dtype, not {dtype}")


def _batch_shape(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for a, b in zip(reversed(s1), reversed(s2), strict=False):
        if a != b and 1 not in (a, b):
            raise ValueError(f"matmul: batch dimensions {s1} and {s2} do not broadcast")
        out.append(b if a == 1 else a)
    longer = s1 if len(s1) > len(s2) else s2
    return longer[: len(longer) - len(out)] + tuple(reversed(out))


def _check_pair(x1: Any, x2: Any) -> None:
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError(
            f"matmul: x1 and x2 must have at least one dimension, got shapes {x1.shape} and "
            f"{x2.shape}; use * for scalars"
        )
    inner1 = x1.shape[-1]
    inner2 = x2.shape[-2] if x2.ndim > 1 else x2.shape[0]
    if inner1 != inner2:
        raise ValueError(
            f"matmul: inner dimensions differ: x1 has shape {tuple(x1.shape)} and x2 has shape "
            f"{tuple(x2.shape)} ({inner1} != {inner2})"
        )
    _batch_shape(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))


def _matmul_generic(ctx: Context, x1: Any, x2: Any) -> Any:
    xp = ctx.xp
    dtype = xp.result_type(x1, x2)
    return xp.matmul(xp.astype(x1, dtype, copy=False), xp.astype(x2, dtype, copy=False))


def _mirror_lower(xp: Any, g: Any) -> Any:
    # Rounding can make (i, j) and (j, i) of a general product differ; the lower triangle is
    # taken as the answer so that the result is exactly symmetric.
    n = g.shape[-1]
    idx = xp.arange(n, device=_backends._device(g))
    lower = idx[:, None] >= idx[None, :]
    return xp.where(lower, g, xp.matrix_transpose(g))


def _gram_generic(ctx: Context, x: Any) -> Any:
    xp = ctx.xp
    if x.ndim == 1:
        return xp.matmul(x, x)
    g = xp.matmul(x, xp.matrix_transpose(x))
    if xp.isdtype(x.dtype, "integral"):
        return g
    return _mirror_lower(xp, g)


def _torch_cuda_integers(ctx: Context, *arrays: Any) -> bool:
    return (
        ctx.backend.name == "torch"
        and ctx.device_type == "cuda"
        and all(ctx.xp.isdtype(a.dtype, "integral") for a in arrays)
    )


def _generic_supports(ctx: Context, *arrays: Any) -> str | None:
    if _torch_cuda_integers(ctx, *arrays):
        return "torch has no integer matmul on CUDA"
    return None


_matmul = Op("matmul", _matmul_generic, supports=_generic_supports)
_gram = Op("gram", _gram_generic, supports=_generic_supports)


@public(_gram)
def matmul(x1: Any, x2: Any = None, /) -> Any:
    """Matrix product of two arrays, or the Gram matrix ``x1 @ x1.mT`` of one.

    Parameters
    ----------
    x1 : array_like
        First operand, at least one-dimensional.
    x2 : array_like, optional
        Second operand. If omitted, the Gram matrix of ``x1`` (the product of ``x1`` with its
        matrix transpose) is returned, computed with a symmetric rank-k update (BLAS/cuBLAS
        ``syrk``) where the backend has one and it is faster.

    Returns
    -------
    array
        With two operands, the Array-API ``matmul`` of them (1-D operands promoted, batch
        dimensions broadcast, dtypes promoted). With one operand of shape ``(..., n, k)``, an
        exactly symmetric array of shape ``(..., n, n)``; a 1-D operand gives its inner
        product with itself. The result is of the inputs' library, on their device.

    Raises
    ------
    ValueError
        If the inner dimensions differ, batch dimensions do not broadcast, or an operand is 0-d.
    TypeError
        If the operands come from different libraries or have a non-numeric dtype.

    See Also
    --------
    explain : which implementation runs for given inputs.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> xpkern.matmul(x)
    array([[ 5., 11., 17.],
           [11., 25., 39.],
           [17., 39., 61.]])
    >>> xpkern.matmul(x, np.ones(2))
    array([ 3.,  7., 11.])
    """
    if x2 is None:
        ctx = resolve(x1)
        x1 = ctx.asarray(x1)
        _numeric(ctx, x1, "x1")
        if x1.ndim == 0:
            raise ValueError("matmul: x1 must have at least one dimension, got a 0-d array")
        return _gram(ctx, x1)
    ctx = resolve(x1, x2)
    x1, x2 = ctx.asarray(x1), ctx.asarray(x2)
    _numeric(ctx, x1, "x1")
    _numeric(ctx, x2, "x2")
    _check_pair(x1, x2)
    return _matmul(ctx, x1, x2)


# --- specialised Gram implementations ------------------------------------------------------
#
# NumPy's matmul calls BLAS syrk when its operands are one C- or F-contiguous buffer and its
# transpose, and then copies the computed triangle to the other half. torch (CPU and CUDA)
# and CuPy always call gemm for ``x @ x.T``.
#
# Whether syrk wins on the CPU (benchmarks/results/gram-cpu2.md, 2-core OpenBLAS, n x k
# input): syrk does half the flops, but OpenBLAS parallelises it worse than gemm, and gemm's
# two triangles can differ in the last bit (777x33 float64), so a gemm result needs its lower
# triangle mirrored (a Numba kernel, about 2 ms for 1024^2 values). With that cost paid, gemm
# wins only for very tall inputs: 4096x64 float32 59 ms vs syrk 72 ms, float64 75 vs 88 ms;
# at 2048x128 they tie and at 2048x512 syrk wins (25 vs 36 ms). torch's own gemm is never
# exactly symmetric, so CPU tensors go through the same NumPy path, zero-copy. Small products
# (< 2^27 multiply-adds) stay on syrk, NumPy's own choice, with no mirror to pay for.

_CPU_MIN_WORK = 2**27


def _real_float(ctx: Context, x: Any) -> bool:
    half = [d for d in (getattr(ctx.xp, "float16", None), getattr(ctx.xp, "bfloat16", None)) if d]
    return bool(ctx.xp.isdtype(x.dtype, "real floating")) and all(x.dtype != d for d in half)


def _gemm_pays(ctx: Context, x: Any) -> bool:
    n, k = x.shape[-2], x.shape[-1]
    return n * n * k >= _CPU_MIN_WORK and 32 * k <= n


def _cpu_syrk_wins(ctx: Context, x: Any) -> str | None:
    if _gemm_pays(ctx, x):
        return f"the input is tall ({x.shape[-2]}x{x.shape[-1]}): gemm parallelises better"
    return None


def _cpu_gemm_wins(ctx: Context, x: Any) -> str | None:
    if not _gemm_pays(ctx, x):
        return f"syrk is as fast or faster for {x.shape[-2]}x{x.shape[-1]}"
    return None


def _needs_grad(x: Any) -> bool:
    return bool(getattr(x, "requires_grad", False))


def _numpy_supports(ctx: Context, x: Any) -> str | None:
    if ctx.backend.name != "numpy":
        return f"needs NumPy arrays, got {ctx.backend.name}"
    if x.ndim < 2 or not _real_float(ctx, x):
        return "needs a float32/float64 array with at least 2 dimensions"
    return None


def _torch_cpu_supports(ctx: Context, x: Any) -> str | None:
    if ctx.backend.name != "torch" or ctx.device_type != "cpu":
        return f"needs CPU torch tensors, got {ctx.backend.name} on {ctx.device_type}"
    if _needs_grad(x):
        return "the input requires grad: the generic path keeps autograd working"
    if x.ndim < 2 or not _real_float(ctx, x):
        return "needs a float32/float64 tensor with at least 2 dimensions"
    return None


def _host_syrk(x: Any) -> Any:
    import numpy as np

    # NumPy hands x @ x.T to syrk when both are views of one buffer, in either memory order;
    # a transposed view (a column chunk of a tall matrix, say) needs no copy first.
    fortran = x.ndim == 2 and x.flags.f_contiguous
    a = x if fortran else np.ascontiguousarray(x)
    return np.matmul(a, np.swapaxes(a, -1, -2))


def _mirror_in_place(g: Any) -> Any:
    if g.size:
        _mirror_kernel()(g.reshape(-1, *g.shape[-2:]))
    return g


def _host_gemm(x: Any) -> Any:
    import numpy as np

    # A copy of the transpose stops NumPy from recognising x @ x.T and calling syrk.
    return _mirror_in_place(np.matmul(x, np.ascontiguousarray(np.swapaxes(x, -1, -2))))


def _gram_syrk(ctx: Context, x: Any) -> Any:
    return _backends.from_host(ctx, _host_syrk(_backends.host_view(ctx, x)))


def _gram_gemm(ctx: Context, x: Any) -> Any:
    return _backends.from_host(ctx, _host_gemm(_backends.host_view(ctx, x)))


_SYRK_REASON = "BLAS syrk: half the flops of gemm, exactly symmetric"
_GEMM_REASON = "tall input: BLAS gemm is faster than syrk here; lower triangle mirrored"
_VIEW = " (on a zero-copy NumPy view)"

# NumPy arrays and CPU tensors share the code; they differ in when it applies.
_gram.register("numpy-syrk", reason=_SYRK_REASON, supports=_numpy_supports, wins=_cpu_syrk_wins)(
    _gram_syrk
)
_gram.register("numpy-gemm", reason=_GEMM_REASON, supports=_numpy_supports, wins=_cpu_gemm_wins)(
    _gram_gemm
)
_gram.register(
    "torch-cpu-syrk", reason=_SYRK_REASON + _VIEW, supports=_torch_cpu_supports,
    wins=_cpu_syrk_wins,
)(_gram_syrk)  # fmt: skip
_gram.register(
    "torch-cpu-gemm", reason=_GEMM_REASON + _VIEW, supports=_torch_cpu_supports,
    wins=_cpu_gemm_wins,
)(_gram_gemm)  # fmt: skip


@cache
def _mirror_kernel() -> Any:
    # Compiled on first use (and cached on disk) so that importing xpkern stays light.
    import numba

    @numba.njit(cache=True)
    def mirror(g: Any) -> None:
        # Square tiles keep the strided reads of a column block in cache.
        tile = 64
        n = g.shape[1]
        tiles = (n + tile - 1) // tile
        for b in range(g.shape[0]):
            for ti in range(tiles):
                for tj in range(ti + 1):
                    for i in range(ti * tile, min(n, ti * tile + tile)):
                        for j in range(tj * tile, min(tj * tile + tile, i)):
                            g[b, j, i] = g[b, i, j]

    return mirror


# torch has no integer matmul on CUDA ("dot" not implemented for 'Long'); an exact
# multiply-and-sum stands in for it there (memory n*k*m, so meant for modest sizes).


def _torch_cuda_int_supports(ctx: Context, *arrays: Any) -> str | None:
    if not _torch_cuda_integers(ctx, *arrays):
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


@_matmul.register(
    "torch-cuda-integer",
    reason="torch has no integer matmul on CUDA: exact multiply-and-sum",
    supports=_torch_cuda_int_supports,
)
def _matmul_torch_cuda_int(ctx: Context, x1: Any, x2: Any) -> Any:
    return torch_int_matmul(x1, x2)


@_gram.register(
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


def _cublas_wins(ctx: Context, x: Any) -> str | None:
    n, k = x.shape
    if n < 2048 or 4 * k < n:
        return f"gemm is faster for {n}x{k} (syrk wins from 2048x2048, k >= n/4)"
    return None


def _cublas_supports(ctx: Context, x: Any) -> str | None:
    if ctx.backend.name not in ("cupy", "torch") or ctx.device_type != "cuda":
        return f"needs CuPy arrays or CUDA tensors, got {ctx.backend.name} on {ctx.device_type}"
    if _needs_grad(x):
        return "the input requires grad: the generic path keeps autograd working"
    if x.ndim != 2 or not _real_float(ctx, x):
        return "needs a 2-D float32/float64 array"
    if not _backends.CUPY.installed():
        return 'cuBLAS syrk needs CuPy (pip install "xpkern[cuda13]" or "xpkern[cuda12]")'
    return None


@_gram.register(
    "cublas-syrk",
    reason="cuBLAS syrk on the caller's stream: half the flops of gemm",
    supports=_cublas_supports,
    wins=_cublas_wins,
)
def _gram_cublas(ctx: Context, x: Any) -> Any:
    from . import _cuda

    return _cuda.gram_syrk(ctx, x)


def _dask_gram_supports(ctx: Context, x: Any) -> str | None:
    return only_dask(ctx) or (None if x.ndim == 2 else "needs a 2-D Dask array")


@_gram.register(
    "dask-blocks",
    reason="sum of the column chunks' Grams, each formed where its chunk lives (syrk on "
    "NumPy/CuPy chunks), tree-reduced: only n x n partials travel",
    supports=_dask_gram_supports,
)
def _gram_dask(ctx: Context, x: Any) -> Any:
    return sum_of_column_grams(per_chunk(matmul), x)
