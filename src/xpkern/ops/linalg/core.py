"""``matmul``: the public function, its two ops (product and Gram matrix) and their generic
implementations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._dispatch import Bound, Op, public
from ...backends import Context, resolve

__all__ = ["gram", "matmul", "product", "real_float", "torch_cuda_integers"]


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
    x1, x2 = xp.astype(x1, dtype, copy=False), xp.astype(x2, dtype, copy=False)
    return ctx.backend.matmul(xp, x1, x2)


# Masks of the lower triangle kept by (library, device, n) for the eager libraries: on a GPU,
# building one takes two launches, each as long as a small matrix's product. A kept mask is
# settled first (any stream may read it later). Lazy or traced arrays (Dask, JAX under jit)
# build theirs each call: a kept one would outlive its graph.
_MASKS: dict[tuple[str, str, int], Any] = {}
_MASK_LIBRARIES = ("numpy", "torch", "cupy")
_MASK_MAX_N = 2048
_MASKS_KEPT = 16


def _lower_mask(ctx: Context, n: int) -> Any:
    # The product is on the inputs' device: ctx.device is the mask's too.
    key = (ctx.backend.name, ctx.device_key, n)
    mask = _MASKS.get(key)
    if mask is None:
        idx = ctx.xp.arange(n, device=ctx.device)
        mask = idx[:, None] >= idx[None, :]
        keep = ctx.backend.name in _MASK_LIBRARIES and n <= _MASK_MAX_N
        if keep and ctx.backend.settle(mask):
            for old in list(_MASKS)[: max(0, len(_MASKS) - _MASKS_KEPT + 1)]:
                _MASKS.pop(old, None)
            _MASKS[key] = mask
    return mask


def _mirror_lower(ctx: Context, g: Any) -> Any:
    # Rounding can make (i, j) and (j, i) of a general product differ; the lower triangle is
    # taken as the answer so that the result is exactly symmetric.
    lower = _lower_mask(ctx, g.shape[-1])
    return ctx.xp.where(lower, g, ctx.backend.matrix_transpose(ctx.xp, g))


def _gram_generic(ctx: Context, x: Any) -> Any:
    xp = ctx.xp
    if x.ndim == 1:
        return ctx.backend.matmul(xp, x, x)
    g = ctx.backend.matmul(xp, x, ctx.backend.matrix_transpose(xp, x))
    if xp.isdtype(x.dtype, "integral"):
        return g
    return _mirror_lower(ctx, g)


def _bind_gram(ctx: Context, x: Any) -> Callable[[Any], Any]:
    """The generic Gram for arrays like ``x`` (a kept call): a matrix of floats goes straight
    to the backend's product and the mirror, its dtype and shape asked about once."""
    xp, backend = ctx.xp, ctx.backend
    if x.ndim == 1 or xp.isdtype(x.dtype, "integral"):
        return lambda a: _gram_generic(ctx, a)
    matmul, transpose = backend.matmul, backend.matrix_transpose
    return lambda a: _mirror_lower(ctx, matmul(xp, a, transpose(xp, a)))


_gram_generic.bind = _bind_gram  # type: ignore[attr-defined]


def torch_cuda_integers(ctx: Context, *arrays: Any) -> bool:
    return (
        ctx.backend.name == "torch"
        and ctx.device_type == "cuda"
        and all(ctx.xp.isdtype(a.dtype, "integral") for a in arrays)
    )


def _generic_supports(ctx: Context, *arrays: Any) -> str | None:
    if torch_cuda_integers(ctx, *arrays):
        return "torch has no integer matmul on CUDA"
    return None


product = Op("matmul", _matmul_generic, supports=_generic_supports)
gram = Op("gram", _gram_generic, supports=_generic_supports)
_gram_calls = Bound()


@public(gram)
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
        found = _gram_calls.get(x1)
        if found is not None:
            return found(x1)
        given = x1
        ctx = resolve(x1)
        x1 = ctx.asarray(x1)
        _numeric(ctx, x1, "x1")
        if x1.ndim == 0:
            raise ValueError("matmul: x1 must have at least one dimension, got a 0-d array")
        return gram.call_kept(_gram_calls, given, (), ctx, x1)
    ctx = resolve(x1, x2)
    x1, x2 = ctx.asarray(x1), ctx.asarray(x2)
    _numeric(ctx, x1, "x1")
    _numeric(ctx, x2, "x2")
    _check_pair(x1, x2)
    return product(ctx, x1, x2)


def real_float(ctx: Context, x: Any) -> bool:
    """Whether ``x`` is float32/float64 (not a half type): what BLAS takes."""
    half = [d for d in (getattr(ctx.xp, "float16", None), getattr(ctx.xp, "bfloat16", None)) if d]
    return bool(ctx.xp.isdtype(x.dtype, "real floating")) and all(x.dtype != d for d in half)
