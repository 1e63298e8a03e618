"""The Array-API versions of ``logsumexp``, ``softmax`` and ``log_softmax``.

Two forms of logsumexp: the common one (real input, no weights, no sign), which the fused
kernels reproduce, and the general one (weights, complex input, the sign of the sum), which
follows SciPy's conventions term for term.
"""

from __future__ import annotations

import math
from typing import Any

from ...backends import Context

__all__ = ["log_softmax", "log_sum_exp", "logsumexp", "logsumexp_general", "softmax"]


def log_sum_exp(xp: Any, x: Any, axes: tuple[int, ...]) -> tuple[Any, Any]:
    """(log(sum(exp(x - shift))), shift) along the axes, accurate when the sum is near 1.

    The sum is 1 (one maximum) plus the rest; log1p of the rest keeps the digits that log of
    the rounded sum loses (log(1 + 2e-11) would keep 5 of them). The maxima are counted rather
    than summed, so the rest holds only the other terms. Where the max is not finite, nothing
    is counted and log1p(sum - 1) is log(sum): -inf, +inf or NaN as the generic formula gives.
    """
    m = xp.max(x, axis=axes, keepdims=True)
    finite = xp.isfinite(m)
    shift = xp.where(finite, m, xp.zeros_like(m))
    top = (x == m) & finite
    terms = xp.where(top, xp.zeros_like(x), xp.exp(x - shift))
    count = xp.sum(xp.astype(top, x.dtype), axis=axes, keepdims=True)
    return xp.log1p(xp.sum(terms, axis=axes, keepdims=True) + (count - 1)), shift


def _empty(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    return ctx.xp.full(shape, -math.inf, dtype=x.dtype, device=ctx.device)


def _squeeze(xp: Any, out: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    return out if keepdims or not axes else xp.squeeze(out, axis=axes)


def logsumexp(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    """The op's generic implementation: the common form without weights, else the general."""
    if b is not None or ctx.xp.isdtype(x.dtype, "complex floating"):
        return logsumexp_general(ctx, x, axes, keepdims, b, False)[0]
    if math.prod(x.shape[a] for a in axes) == 0:
        return _squeeze(ctx.xp, _empty(ctx, x, axes), axes, keepdims)
    log_sum, shift = log_sum_exp(ctx.xp, x, axes)
    return _squeeze(ctx.xp, log_sum + shift, axes, keepdims)


def _i_times(xp: Any, t: Any, dtype: Any) -> Any:
    """i * t in the complex ``dtype`` (no Python complex scalar: the standard does not mix
    those with real arrays)."""
    one_i = xp.asarray(1j, dtype=dtype, device=getattr(t, "device", None))
    return xp.astype(t, dtype) * one_i


def _wrap(xp: Any, z: Any) -> Any:
    """``z`` with its imaginary part moved into (-pi, pi], the principal branch of log."""
    angle = xp.imag(z)
    turns = -((math.pi - angle) % (2 * math.pi) - math.pi) - angle
    keep = ~(xp.abs(angle) >= math.pi)  # NaN phases are kept as they are
    # z plus i*turns rather than built from its parts: a finite shift leaves the real part
    # (inf or NaN included) exactly as it is
    return xp.where(keep, z, z + _i_times(xp, turns, z.dtype))


def _top(xp: Any, a: Any, axes: tuple[int, ...], is_complex: bool) -> tuple[Any, Any]:
    """(mask of the terms factored out, the largest real part as a value to shift by).

    For real input every maximum is factored out; for complex input only one term, the
    last one in memory order among those of largest real part (its phase then multiplies
    the result)."""
    if not is_complex:
        top = xp.max(a, axis=axes, keepdims=True)
        return a == top, top
    real = xp.real(a)
    mask = real == xp.max(real, axis=axes, keepdims=True)
    size = math.prod(a.shape)
    index = xp.reshape(xp.arange(size, device=getattr(a, "device", None)), a.shape)
    index = xp.where(mask, index, xp.full_like(index, -1))
    mask = index == xp.max(index, axis=axes, keepdims=True)
    top = xp.sum(xp.where(mask, a, xp.zeros_like(a)), axis=axes, keepdims=True)
    return mask, top


def logsumexp_general(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any,
                      return_sign: bool = False) -> tuple[Any, Any]:  # fmt: skip
    """(log|sum(b * exp(x))|, the sum's sign or phase) along the axes, as SciPy computes them.

    A zero weight drops its term before the maximum is taken. The largest terms are factored
    out, ``log1p`` takes the rest relative to them, and where that is not finite (infinite
    or NaN input) the plain ``log(sum(b * exp(x)))`` is the answer. Without ``return_sign`` a
    negative real sum gives NaN; complex results lie on the principal branch.
    """
    xp = ctx.xp
    is_complex = xp.isdtype(x.dtype, "complex floating")
    if math.prod(x.shape[a] for a in axes) == 0:
        out = _empty(ctx, x, axes)
        return _squeeze(xp, out, axes, keepdims), _squeeze(xp, xp.sign(out), axes, keepdims)
    minus_inf = xp.full_like(x, -math.inf)
    a = x if b is None else xp.where(b == 0, minus_inf, x)
    mask, top = _top(xp, a, axes, is_complex)
    weight = xp.astype(mask, x.dtype)
    m = xp.sum(weight if b is None else weight * b, axis=axes, keepdims=True)
    terms = xp.exp(xp.where(mask, minus_inf, a) - top)
    s = xp.sum(terms if b is None else terms * b, axis=axes, keepdims=True)
    s = xp.where(s == 0, s, s / m)
    sign = xp.sign(s + 1) * xp.sign(m)
    if is_complex:
        sign = sign * xp.exp(_i_times(xp, xp.imag(top), x.dtype))
    else:
        s = xp.where(s < -1, -s - 2, s)  # |1 + s| - 1: the sign is kept apart
        m = xp.abs(m)
    out = xp.log1p(s) + xp.log(m) + top
    if return_sign and is_complex:
        out = xp.real(out)
    elif not return_sign and not is_complex:
        out = xp.where(sign < 0, xp.full_like(out, math.nan), out)
    # Where that is not finite (NaN from a negative sum included) the plain formula decides:
    # log(-0.0), the sum of tiny negative terms, is -inf there, as in SciPy.
    plain = xp.sum(xp.exp(x) if b is None else b * xp.exp(x), axis=axes, keepdims=True)
    finite = xp.isfinite(out)
    if return_sign:
        out = xp.where(finite, out, xp.log(xp.abs(plain)))
        sign = xp.where(finite, sign, xp.sign(plain))
    else:
        out = xp.where(finite, out, xp.log(plain))
        if is_complex:
            out = _wrap(xp, out)
    return _squeeze(xp, out, axes, keepdims), _squeeze(xp, sign, axes, keepdims)


def softmax(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    """The op's generic implementation: ``exp(x - max) / sum``."""
    xp = ctx.xp
    if math.prod(x.shape) == 0:
        return xp.asarray(x, copy=True)
    e = xp.exp(x - xp.max(x, axis=axes, keepdims=True))
    return e / xp.sum(e, axis=axes, keepdims=True)


def log_softmax(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    """The op's generic implementation: ``x - shift - log1p(rest)`` (see :func:`log_sum_exp`)."""
    xp = ctx.xp
    if math.prod(x.shape) == 0:
        return xp.asarray(x, copy=True)
    log_sum, shift = log_sum_exp(xp, x, axes)
    return (x - shift) - log_sum
