"""``polyval``: the public function, its op and the generic Horner loop."""

from __future__ import annotations

from typing import Any

from ..._dispatch import Op, public
from ...backends import Context, resolve

__all__ = ["op", "polyval"]


def _generic(ctx: Context, coeffs: Any, x: Any) -> Any:
    xp = ctx.xp
    dtype = xp.result_type(coeffs, x)
    if xp.isdtype(dtype, "integral") or xp.isdtype(dtype, "bool"):
        dtype = xp.result_type(dtype, xp.float64 if ctx.backend.name != "torch" else xp.float32)
    acc = xp.zeros(x.shape, dtype=dtype, device=ctx.device)
    x = xp.astype(x, dtype)
    for i in range(coeffs.shape[0]):
        acc = acc * x + xp.astype(coeffs[i], dtype)
    return acc


op = Op("polyval", _generic)


@public(op)
def polyval(coeffs: Any, x: Any, /) -> Any:
    """Evaluate a polynomial at ``x`` by Horner's rule, highest degree first (as numpy.polyval).

    Parameters
    ----------
    coeffs : array_like, shape (deg + 1,)
        Coefficients, highest degree first.
    x : array_like
        Points, of any shape.

    Returns
    -------
    array
        ``coeffs[0] * x**deg + ... + coeffs[deg]``, same shape as ``x``, in the inputs'
        library and device; integer inputs give floating results.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.polyval(np.array([1.0, 2.0, 1.0]), np.array([0.0, 1.0, 2.0]))
    array([1., 4., 9.])
    """
    ctx = resolve(coeffs, x)
    coeffs, x = ctx.asarray(coeffs), ctx.asarray(x)
    if coeffs.ndim != 1:
        raise ValueError(f"polyval: coeffs must be 1-D, got shape {tuple(coeffs.shape)}")
    for name, a in (("coeffs", coeffs), ("x", x)):
        if not ctx.xp.isdtype(a.dtype, ("bool", "integral", "real floating")):
            raise TypeError(f"polyval: {name} has unsupported dtype {a.dtype}")
    return op(ctx, coeffs, x)
