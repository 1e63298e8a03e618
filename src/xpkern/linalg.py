"""Matrix products: ``matmul``, and the Gram matrix ``x @ x.mT`` by a symmetric rank-k update."""

from __future__ import annotations

from functools import cache
from typing import Any

from . import _backends
from ._backends import Context, resolve
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


_matmul = Op("matmul", _matmul_generic)
_gram = Op("gram", _gram_generic)


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
# Whether syrk wins on the CPU depends on shape and dtype (benchmarks/gram.py, 2-core
# OpenBLAS, n x k input): syrk does half the flops, but OpenBLAS parallelises it worse than
# gemm. float64: syrk wins down to k = n/8 (4096x512: 156 ms vs gemm 177 ms) and loses below
# (2048x128: 22 vs 12 ms). float32: it wins from k = n/2 (2048x2048: 59 vs 86 ms) and loses
# below (2048x512: 25 vs 23 ms; 4096x64: 74 vs 20 ms). gemm's two triangles can differ in the
# last bit (777x33 float64), so its lower triangle is mirrored by a Numba kernel, which costs
# about as much as a tall gemm itself (4096^2 float64: 36 ms) but still leaves it well ahead.
# For NumPy below 2^27 multiply-adds syrk is kept: NumPy's own choice, no mirroring needed.
# torch's own gemm is faster than NumPy's syrk for tall inputs at every size (1024x64
# float32: 1.3 ms, mirror 1.2 ms, vs 3.6 ms), so torch has no floor.

_CPU_MIN_WORK = 2**27


def _real_float(ctx: Context, x: Any) -> bool:
    half = [d for d in (getattr(ctx.xp, "float16", None), getattr(ctx.xp, "bfloat16", None)) if d]
    return bool(ctx.xp.isdtype(x.dtype, "real floating")) and all(x.dtype != d for d in half)


def _gemm_pays(ctx: Context, x: Any) -> bool:
    n, k = x.shape[-2], x.shape[-1]
    ratio = 8 if x.dtype.itemsize == 8 else 2
    floor = _CPU_MIN_WORK if ctx.backend.name == "numpy" else 0
    return n * n * k >= floor and k * ratio < n


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

    a = np.ascontiguousarray(x)
    return np.matmul(a, np.swapaxes(a, -1, -2))


def _mirror_in_place(g: Any) -> Any:
    if g.size:
        _mirror_kernel()(g.reshape(-1, *g.shape[-2:]))
    return g


def _host_gemm(x: Any) -> Any:
    import numpy as np

    # A copy of the transpose stops NumPy from recognising x @ x.T and calling syrk.
    return _mirror_in_place(np.matmul(x, np.ascontiguousarray(np.swapaxes(x, -1, -2))))


def _on_torch_view(x: Any, host_fn: Any) -> Any:
    import torch

    return torch.from_numpy(host_fn(_backends.torch_cpu_as_numpy(x)))


_SYRK_REASON = "BLAS syrk: half the flops of gemm, exactly symmetric"
_GEMM_REASON = "tall input: BLAS gemm is faster than syrk here; lower triangle mirrored"


@_gram.register("numpy-syrk", reason=_SYRK_REASON, supports=_numpy_supports, wins=_cpu_syrk_wins)
def _gram_numpy_syrk(ctx: Context, x: Any) -> Any:
    return _host_syrk(x)


@_gram.register("numpy-gemm", reason=_GEMM_REASON, supports=_numpy_supports, wins=_cpu_gemm_wins)
def _gram_numpy_gemm(ctx: Context, x: Any) -> Any:
    return _host_gemm(x)


@_gram.register(
    "torch-cpu-syrk",
    reason=_SYRK_REASON + " (on a zero-copy NumPy view)",
    supports=_torch_cpu_supports,
    wins=_cpu_syrk_wins,
)
def _gram_torch_syrk(ctx: Context, x: Any) -> Any:
    return _on_torch_view(x, _host_syrk)


@_gram.register(
    "torch-cpu-gemm",
    reason=_GEMM_REASON,
    supports=_torch_cpu_supports,
    wins=_cpu_gemm_wins,
)
def _gram_torch_gemm(ctx: Context, x: Any) -> Any:
    g = x @ x.mT
    _mirror_in_place(_backends.torch_cpu_as_numpy(g))
    return g


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


def _torch_cuda_integers(ctx: Context, *arrays: Any) -> str | None:
    if ctx.backend.name != "torch" or ctx.device_type != "cuda":
        return "only torch on CUDA lacks an integer matmul"
    if not all(ctx.xp.isdtype(a.dtype, "integral") for a in arrays):
        return "needs integer inputs"
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
    supports=_torch_cuda_integers,
)
def _matmul_torch_cuda_int(ctx: Context, x1: Any, x2: Any) -> Any:
    return torch_int_matmul(x1, x2)


@_gram.register(
    "torch-cuda-integer",
    reason="torch has no integer matmul on CUDA: exact multiply-and-sum",
    supports=_torch_cuda_integers,
)
def _gram_torch_cuda_int(ctx: Context, x: Any) -> Any:
    return torch_int_matmul(x, x) if x.ndim == 1 else torch_int_matmul(x, x.mT)


# On the GPU, cuBLAS syrk plus the mirroring kernel beats gemm once the product is large
# enough to hide the second launch; on an H100 8192x8192 float32 gemm takes 21.5 ms and syrk
# 11.9 ms. Below about 2^27 multiply-adds both are launch-bound (benchmarks/gram.py).
_CUDA_MIN_WORK = 2**27


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


def _cublas_wins(ctx: Context, x: Any) -> str | None:
    n, k = x.shape
    if n * n * k < _CUDA_MIN_WORK:
        return f"the product is small ({n}x{k}); launch time dominates"
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
