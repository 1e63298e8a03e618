"""Math functions for :func:`xpkern.elementwise` functions.

Each function works on arrays of any library (through the array's namespace) and on Python or
NumPy scalars. Inside an ``@xpkern.elementwise`` function, the fused kernels replace them by
their scalar versions, so one definition serves every backend.

Examples
--------
>>> import numpy as np
>>> from xpkern import fmath
>>> fmath.exp(0.0)
1.0
>>> fmath.maximum(np.array([1.0, 5.0]), 3.0)
array([3., 5.])
"""

from __future__ import annotations

import math
from typing import Any

from ._operators import as_arrays, as_bools, device_of, is_int_array, namespace_of, to_float

__all__ = [
    "abs", "arccos", "arcsin", "arctan", "arctan2", "ceil", "copysign", "cos", "cosh", "e",
    "exp", "expm1", "floor", "hypot", "inf", "isfinite", "isinf", "isnan", "log", "log1p",
    "log2", "log10", "maximum", "minimum", "nan", "pi", "sign", "sin", "sinh", "sqrt", "square",
    "tan", "tanh", "trunc", "where",
]  # fmt: skip

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan

_builtin_abs = abs


_KEEP_INTEGERS = {"abs", "sign", "square", "floor", "ceil", "trunc", "isnan", "isinf", "isfinite"}


def _unary(name: str, xp_name: str, scalar: Any) -> Any:
    def fn(x: Any) -> Any:
        xp = namespace_of(x)
        if xp is None:
            return scalar(x)
        if name not in _KEEP_INTEGERS and is_int_array(xp, x):
            x = to_float(xp, x)  # exp(2) is a float for Python numbers too
        return getattr(xp, xp_name)(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{xp_name}`` of an array or a scalar."
    return fn


def _safe(f: Any) -> Any:
    def g(x: Any) -> Any:
        try:
            return f(x)
        except (ValueError, OverflowError):
            return _scalar_domain(f, x)

    return g


def _scalar_domain(f: Any, x: Any) -> float:
    # math raises where NumPy returns nan or inf; follow NumPy.
    if f in (math.log, math.log2, math.log10):
        return -math.inf if x == 0 else math.nan
    if f is math.log1p:
        return -math.inf if x == -1 else math.nan
    if f in (math.exp, math.expm1, math.cosh, math.sinh):
        return math.inf if x > 0 or f is math.cosh else (-math.inf if f is math.sinh else -1.0)
    return math.nan


def _float_floor(x: Any) -> Any:
    if isinstance(x, int) or not math.isfinite(x):
        return x
    return math.copysign(float(math.floor(x)), x)  # keeps -0.0, as NumPy


def _float_ceil(x: Any) -> Any:
    if isinstance(x, int) or not math.isfinite(x):
        return x
    return math.copysign(float(math.ceil(x)), x)  # keeps -0.0, as NumPy


def _float_trunc(x: Any) -> Any:
    if isinstance(x, int) or not math.isfinite(x):
        return x
    return math.copysign(float(math.trunc(x)), x)  # keeps -0.0, as NumPy


def _sign(x: Any) -> Any:
    return 1 if x > 0 else (-1 if x < 0 else (x - x if x == 0 else x))  # sign(-0.0) is 0.0


exp = _unary("exp", "exp", _safe(math.exp))
expm1 = _unary("expm1", "expm1", _safe(math.expm1))
log = _unary("log", "log", _safe(math.log))
log1p = _unary("log1p", "log1p", _safe(math.log1p))
log2 = _unary("log2", "log2", _safe(math.log2))
log10 = _unary("log10", "log10", _safe(math.log10))
sqrt = _unary("sqrt", "sqrt", _safe(math.sqrt))
sin = _unary("sin", "sin", _safe(math.sin))
cos = _unary("cos", "cos", _safe(math.cos))
tan = _unary("tan", "tan", _safe(math.tan))
arcsin = _unary("arcsin", "asin", _safe(math.asin))
arccos = _unary("arccos", "acos", _safe(math.acos))
arctan = _unary("arctan", "atan", math.atan)
sinh = _unary("sinh", "sinh", _safe(math.sinh))
cosh = _unary("cosh", "cosh", _safe(math.cosh))
tanh = _unary("tanh", "tanh", math.tanh)
abs = _unary("abs", "abs", _builtin_abs)
floor = _unary("floor", "floor", _float_floor)
ceil = _unary("ceil", "ceil", _float_ceil)
trunc = _unary("trunc", "trunc", _float_trunc)
sign = _unary("sign", "sign", _sign)
square = _unary("square", "square", lambda x: x * x)
isnan = _unary("isnan", "isnan", lambda x: x != x)
isinf = _unary("isinf", "isinf", lambda x: x in (math.inf, -math.inf))
isfinite = _unary("isfinite", "isfinite", lambda x: x - x == 0)


def _binary(name: str, xp_name: str, scalar: Any) -> Any:
    def fn(x1: Any, x2: Any) -> Any:
        xp = namespace_of(x1, x2)
        if xp is None:
            return scalar(x1, x2)
        return getattr(xp, xp_name)(*as_arrays(xp, x1, x2))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{xp_name}`` of arrays or scalars (NaN propagates)."
    return fn


def _minimum(a: Any, b: Any) -> Any:
    return a if (a < b or a != a) else b


def _maximum(a: Any, b: Any) -> Any:
    return a if (a > b or a != a) else b


minimum = _binary("minimum", "minimum", _minimum)
maximum = _binary("maximum", "maximum", _maximum)
arctan2 = _binary("arctan2", "atan2", math.atan2)
hypot = _binary("hypot", "hypot", math.hypot)
copysign = _binary("copysign", "copysign", math.copysign)


def where(condition: Any, x1: Any, x2: Any, dtype: Any = None) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``; arrays or scalars.

    ``dtype`` is the dtype numbers take when both ``x1`` and ``x2`` are numbers (the
    inputs' dtype, inside an elementwise function), instead of the library's default; an
    integral ``dtype`` is not used for float numbers.
    """
    xp = namespace_of(condition, x1, x2)
    if xp is None:
        return x1 if condition else x2
    (cond,) = as_bools(xp, condition)
    if namespace_of(x1, x2) is not None:
        a, b = as_arrays(xp, x1, x2)
    else:
        device = device_of(cond)
        floats = isinstance(x1, float) or isinstance(x2, float)
        use = dtype if dtype is not None and xp.isdtype(dtype, "numeric") else None
        if use is not None and floats and not xp.isdtype(use, "real floating"):
            use = None
        if isinstance(x1, bool) and isinstance(x2, bool):
            use = xp.bool
        a = xp.asarray(x1, dtype=use, device=device)
        b = xp.asarray(x2, dtype=use, device=device)
    return xp.where(cond, a, b)


def logical_and(x1: Any, x2: Any) -> Any:
    """Elementwise ``and`` (what ``and`` means inside an elementwise function)."""
    xp = namespace_of(x1, x2)
    return (x1 and x2) if xp is None else xp.logical_and(*as_bools(xp, x1, x2))


def logical_or(x1: Any, x2: Any) -> Any:
    """Elementwise ``or`` (what ``or`` means inside an elementwise function)."""
    xp = namespace_of(x1, x2)
    return (x1 or x2) if xp is None else xp.logical_or(*as_bools(xp, x1, x2))


def logical_not(x: Any) -> Any:
    """Elementwise ``not`` (what ``not`` means inside an elementwise function)."""
    xp = namespace_of(x)
    return (not x) if xp is None else xp.logical_not(as_bools(xp, x)[0])
