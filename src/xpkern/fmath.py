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
from functools import lru_cache
from typing import Any

from .backends import array_namespace, backend_of

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


def _ns(*args: Any) -> Any:
    # Inside an elementwise function the inputs were checked already: take the first array's.
    for a in args:
        if backend_of(a) is not None:
            return array_namespace(a)
    return None


_KEEP_INTEGERS = {"abs", "sign", "square", "floor", "ceil", "trunc", "isnan", "isinf", "isfinite"}


def _unary(name: str, xp_name: str, scalar: Any) -> Any:
    def fn(x: Any) -> Any:
        xp = _ns(x)
        if xp is None:
            return scalar(x)
        if name not in _KEEP_INTEGERS and _is_int_array(xp, x):
            x = _to_float(xp, x)  # exp(2) is a float for Python numbers too
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
        xp = _ns(x1, x2)
        if xp is None:
            return scalar(x1, x2)
        return getattr(xp, xp_name)(*_as_arrays(xp, x1, x2))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{xp_name}`` of arrays or scalars (NaN propagates)."
    return fn


def _as_arrays(xp: Any, *args: Any) -> list[Any]:
    # Python scalars take the dtype of the arrays beside them, as in the Array API.
    arrays = [a for a in args if backend_of(a) is not None]
    device = _device_of(arrays[0])
    like = next((a for a in arrays if a.dtype != xp.bool), None)
    out = []
    for a in args:
        if backend_of(a) is None:
            dtype = None
            if isinstance(a, bool):
                dtype = xp.bool
            elif like is not None and (
                isinstance(a, int) or xp.isdtype(like.dtype, ("real floating", "complex floating"))
            ):
                dtype = like.dtype
            a = xp.asarray(a, dtype=dtype, device=device)
        out.append(a)
    return out


def _device_of(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(x)


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
    xp = _ns(condition, x1, x2)
    if xp is None:
        return x1 if condition else x2
    (cond,) = _as_bools(xp, condition)
    if _ns(x1, x2) is not None:
        a, b = _as_arrays(xp, x1, x2)
    else:
        device = _device_of(cond)
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
    xp = _ns(x1, x2)
    return (x1 and x2) if xp is None else xp.logical_and(*_as_bools(xp, x1, x2))


def logical_or(x1: Any, x2: Any) -> Any:
    """Elementwise ``or`` (what ``or`` means inside an elementwise function)."""
    xp = _ns(x1, x2)
    return (x1 or x2) if xp is None else xp.logical_or(*_as_bools(xp, x1, x2))


def logical_not(x: Any) -> Any:
    """Elementwise ``not`` (what ``not`` means inside an elementwise function)."""
    xp = _ns(x)
    return (not x) if xp is None else xp.logical_not(_as_bools(xp, x)[0])


def _as_bools(xp: Any, *args: Any) -> list[Any]:
    device = _device_of(next(a for a in args if backend_of(a) is not None))
    out = []
    for a in args:
        if backend_of(a) is None:
            a = xp.asarray(bool(a), device=device)
        out.append(a if a.dtype == xp.bool else a != 0)
    return out


_OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "**": lambda a, b: a**b,
}  # fmt: skip
_COMPARE = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}  # fmt: skip
_NEGATIVE_POWER = "Integers to negative integer powers are not allowed."


def _is_int_array(xp: Any, a: Any) -> bool:
    return backend_of(a) is not None and _integral(xp, a.dtype)


@lru_cache(maxsize=256)
def _integral(xp: Any, dtype: Any) -> bool:
    return bool(xp.isdtype(dtype, ("integral", "bool")))


def _to_float(xp: Any, a: Any) -> Any:
    default = xp.asarray(0.0, device=_device_of(a)).dtype
    return xp.astype(a, default)


def _is_numpy(*args: Any) -> bool:
    found = next(backend_of(a) for a in args if backend_of(a) is not None)
    return bool(found.name == "numpy")


def _number_op(op: str, a: Any, b: Any) -> Any:
    # Python numbers: Python's arithmetic, with NumPy's answers where Python raises or
    # gives a complex number (division by zero, a negative number to a fractional power).
    from . import _scalar

    ints = isinstance(a, int) and isinstance(b, int)
    if op in ("//", "%") and ints:
        return 0 if b == 0 else _OPS[op](a, b)
    if op in ("+", "-", "*") or (op == "**" and ints):
        return _OPS[op](a, b)
    x, y = float(a), float(b)
    if op == "**":
        import numpy as np

        with np.errstate(all="ignore"):
            return float(np.power(x, y))
    return {"/": _scalar.div, "//": _scalar.floordiv, "%": _scalar.mod}[op](x, y)


def _int_range(xp: Any, value: int, array: Any) -> None:
    """OverflowError where a Python int does not fit the integer array it meets (NumPy's
    rule, which other libraries would wrap silently)."""
    if isinstance(value, bool) or not isinstance(value, int) or _is_numpy(array):
        return
    info = xp.iinfo(array.dtype) if array.dtype != xp.bool else None
    if info is not None and not info.min <= value <= info.max:
        raise OverflowError(f"Python integer {value} out of bounds for {array.dtype}")


def _int_divide(xp: Any, op: str, a: Any, b: Any) -> Any:
    """Integer // and % as NumPy computes them: 0 for a zero divisor, MIN // -1 wraps."""
    if _is_numpy(a, b):
        return _OPS[op](a, b)
    if backend_of(b) is None:
        if b == 0 or (b == -1 and op == "%"):
            return xp.zeros_like(a)
        return -a if b == -1 else _OPS[op](a, b)
    special = (b == 0) | (b == -1) if xp.isdtype(b.dtype, "signed integer") else (b == 0)
    safe = xp.where(special, xp.ones_like(b), b)
    out = _OPS[op](a, safe)
    fix = xp.zeros_like(out) if op == "%" else xp.where(b == 0, xp.zeros_like(out), -out)
    return xp.where(special, fix, out)


def _float_remainder(xp: Any, a: Any, b: Any) -> Any:
    """``a % b`` as NumPy (and Python) computes it: from fmod, with the divisor's sign, also
    on zeros; libraries that compute a - b * floor(a / b) lose it for huge quotients (0.5 %
    1e-45 is NaN there) and infinite divisors. Without fmod (array-api-strict), their own."""
    if _is_numpy(*(x for x in (a, b) if backend_of(x) is not None)):
        return a % b
    fmod = getattr(xp, "fmod", None)
    if fmod is None:
        return a % b
    x, y = _as_arrays(xp, a, b)
    mod = fmod(x, y)
    mod = xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)
    return xp.where(mod == 0, xp.copysign(xp.zeros_like(mod), y), mod)


def _int_and_float(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """An integer and a float array in their common dtype: the library's, where it has one
    (NumPy: int32 and float32 give float64), else the float's (array-api-strict refuses)."""
    try:
        common = xp.result_type(a, b)
    except TypeError:
        common = b.dtype if _is_int_array(xp, a) else a.dtype
    return xp.astype(a, common), xp.astype(b, common)


def _binop(op: str, a: Any, b: Any) -> Any:
    """``a op b`` as NumPy computes it, on arrays of any library or Python numbers: integer
    arithmetic wraps; // and % by zero give 0; an integer to a negative integer power raises
    ValueError; Python numbers take the array's dtype (NEP 50); int / int and float * int give
    floats (which the Array API leaves undefined for arrays; array-api-strict refuses)."""
    xp = _ns(a, b)
    if xp is None:
        return _number_op(op, a, b)
    int_a, int_b = _is_int_array(xp, a), _is_int_array(xp, b)
    if not (int_a or int_b):
        return _float_remainder(xp, a, b) if op == "%" else _OPS[op](a, b)
    if int_a != int_b and backend_of(a) is not None and backend_of(b) is not None:
        a, b = _int_and_float(xp, a, b)
        int_a = int_b = False
    if int_a and (isinstance(b, float) or (op == "/" and (int_b or isinstance(b, int)))):
        a, int_a = _to_float(xp, a), False
    if int_b and (isinstance(a, float) or (op == "/" and (int_a or isinstance(a, int)))):
        b, int_b = _to_float(xp, b), False
    if int_a and not int_b and backend_of(b) is None:
        _int_range(xp, b, a)
    if int_b and not int_a and backend_of(a) is None:
        _int_range(xp, a, b)
    ints = (int_a or isinstance(a, int)) and (int_b or isinstance(b, int))
    if ints and op in ("//", "%"):
        return _int_divide(xp, op, a, b)
    if ints and op == "**" and not _is_numpy(*(x for x in (a, b) if backend_of(x) is not None)):
        # NumPy raises this itself (after checking the exponent fits the dtype).
        negative = b < 0 if backend_of(b) is None else (
            not xp.isdtype(b.dtype, "unsigned integer") and bool(xp.any(b < 0)))  # fmt: skip
        if negative:
            raise ValueError(_NEGATIVE_POWER)
    return _OPS[op](a, b)


def _compare(op: str, a: Any, b: Any) -> Any:
    """``a op b``; a Python int beyond an integer array's dtype compares exactly (NumPy 2)."""
    xp = _ns(a, b)
    if xp is None or _is_numpy(*(x for x in (a, b) if backend_of(x) is not None)):
        return _COMPARE[op](a, b)
    for number, array, sign in ((b, a, 1), (a, b, -1)):
        if (isinstance(number, int) and not isinstance(number, bool) and backend_of(array)
                and _is_int_array(xp, array) and array.dtype != xp.bool):  # fmt: skip
            info = xp.iinfo(array.dtype)
            if not info.min <= number <= info.max:
                mirrored = op if sign == 1 else {"<": ">", "<=": ">=", ">": "<",
                                                 ">=": "<="}.get(op, op)  # fmt: skip
                above = number > info.max
                truth = {"<": above, "<=": above, ">": not above, ">=": not above,
                         "==": False, "!=": True}[mirrored]  # fmt: skip
                return xp.full(array.shape, truth, dtype=xp.bool, device=_device_of(array))
    return _COMPARE[op](a, b)


def _unary(kind: str, x: Any) -> Any:
    return -x if kind == "neg" else +x


def _either(kind: str, a: Any, b: Any) -> Any:
    """Python's ``a or b`` / ``a and b`` element by element: one of the two values (in
    their common dtype), chosen by the truth of ``a``."""
    xp = _ns(a, b)
    if xp is None:
        return (a or b) if kind == "or" else (a and b)
    x, y = _as_arrays(xp, a, b)
    if backend_of(a) is None:  # the truth of the number itself (1e-320 is true in float32 too)
        truth = xp.asarray(bool(a), device=_device_of(x))
    else:
        (truth,) = _as_bools(xp, a)
    if x.dtype != y.dtype:
        try:
            common = xp.result_type(x, y)
        except TypeError:  # int and float where the library refuses to mix them: the float
            common = y.dtype if _integral(xp, x.dtype) else x.dtype
        x, y = xp.astype(x, common), xp.astype(y, common)
    return xp.where(truth, x, y) if kind == "or" else xp.where(truth, y, x)
