"""Python's operators inside elementwise functions, as NumPy computes them, on arrays of any
library and on Python numbers: what the array form of every ``@elementwise`` function calls
(docs/semantics.rst states the rules), and the helpers :mod:`xpkern.fmath` shares."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .backends import array_namespace, backend_of, dtype_name, weak_float

__all__ = ["as_arrays", "as_bools", "binop", "compare", "device_of", "either", "is_int_array",
           "namespace_of", "sign_op", "to_float"]  # fmt: skip


def namespace_of(*args: Any) -> Any:
    # Inside an elementwise function the inputs were checked already: take the first array's.
    for a in args:
        if backend_of(a) is not None:
            return array_namespace(a)
    return None


def as_arrays(xp: Any, *args: Any) -> list[Any]:
    # Python scalars take the dtype of the arrays beside them, as in the Array API.
    arrays = [a for a in args if backend_of(a) is not None]
    device = device_of(arrays[0])
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


def device_of(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(x)


def as_bools(xp: Any, *args: Any) -> list[Any]:
    device = device_of(next(a for a in args if backend_of(a) is not None))
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


def is_int_array(xp: Any, a: Any) -> bool:
    return backend_of(a) is not None and _integral(xp, a.dtype)


@lru_cache(maxsize=256)
def _integral(xp: Any, dtype: Any) -> bool:
    return bool(xp.isdtype(dtype, ("integral", "bool")))


def to_float(xp: Any, a: Any) -> Any:
    default = xp.asarray(0.0, device=device_of(a)).dtype
    return xp.astype(a, default)


def _is_numpy(*args: Any) -> bool:
    """Whether the first array among ``args`` is NumPy's (whose operators are the reference)."""
    found = next(b for b in map(backend_of, args) if b is not None)
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
    if op == "//":
        return _scalar.floordiv(x, y, 1.0)
    return {"/": _scalar.div, "%": _scalar.mod}[op](x, y)


def _int_range(xp: Any, value: int, array: Any) -> None:
    """OverflowError where a Python int does not fit the integer array it meets (NumPy's
    rule, which other libraries would wrap silently)."""
    if isinstance(value, bool) or not isinstance(value, int) or _is_numpy(array):
        return
    info = xp.iinfo(array.dtype) if array.dtype != xp.bool else None
    if info is not None and not info.min <= value <= info.max:
        raise OverflowError(f"Python integer {value} out of bounds for {array.dtype}")


def _weak_power(a: Any, b: Any) -> tuple[Any, Any]:
    """``a ** b`` with a Python number rounded to the float array's dtype first (NEP 50).
    NumPy does that; torch's pow keeps the number's double value (float32 ``x ** 0.3``
    differs in the last bit, ``0 ** 1e-320`` is 0.0 where NumPy's is 1.0, and ``-1 **
    16777217`` is -1 where NumPy's is 1), and the kernels round it as NumPy does."""
    for number, array in ((b, a), (a, b)):
        number_type = type(number)
        if (
            (number_type is float or (number_type is int and -(2**63) <= number < 2**63))
            and backend_of(array) is not None
            and not _is_numpy(array)
        ):
            name = dtype_name(array.dtype)
            if name in ("float16", "float32"):
                rounded = weak_float(number, name)
                return (a, rounded) if number is b else (rounded, b)
    return a, b


_DIVISIONS = ("/", "//")


def _division_operands(a: Any, b: Any) -> tuple[Any, Any]:
    """A Python number beside an array as the library's division rounds once with it."""
    if type(a) not in _NUMBERS and type(b) not in _NUMBERS:
        return a, b
    backend = backend_of(b if type(a) in _NUMBERS else a)
    return (a, b) if backend is None else backend.division_operands(a, b)


def _is_bool(xp: Any, v: Any) -> bool:
    return type(v) is bool or (backend_of(v) is not None and v.dtype == xp.bool)


def _int_divide(xp: Any, op: str, a: Any, b: Any) -> Any:
    """Integer // and % as NumPy computes them: 0 for a zero divisor, MIN // -1 wraps."""
    if _is_numpy(a, b):
        return _OPS[op](a, b)
    if _is_bool(xp, a) and _is_bool(xp, b):  # NumPy has no bool loop for these: int8's
        a, b = (xp.astype(v, xp.int8) if backend_of(v) is not None else v for v in (a, b))
    if backend_of(b) is None:
        if type(b) is int and backend_of(a) is not None and xp.isdtype(a.dtype, "bool"):
            a = a + 0  # bools with a Python int: the library's integer (NumPy's int64), not bool
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
    x, y = as_arrays(xp, a, b)
    backend = backend_of(x)
    mod = fmod(x, y) if backend is None else backend.fmod(xp, x, y)
    mod = xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)
    return xp.where(mod == 0, xp.copysign(xp.zeros_like(mod), y), mod)


def _int_and_float(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """An integer and a float array in their common dtype: the library's, where it has one
    (NumPy: int32 and float32 give float64), else the float's (array-api-strict refuses)."""
    try:
        common = xp.result_type(a, b)
    except TypeError:
        common = b.dtype if is_int_array(xp, a) else a.dtype
    return xp.astype(a, common), xp.astype(b, common)


_NUMBERS = frozenset({bool, int, float})
# (array type, dtype) -> whether the dtype is a floating one, looked up once per pair.
_FLOATING: dict[tuple[type, Any], bool] = {}


def _floating_array(x: Any) -> bool:
    key = (type(x), getattr(x, "dtype", None))
    found = _FLOATING.get(key)
    if found is None:
        xp = namespace_of(x)
        found = _FLOATING[key] = xp is not None and not _integral(xp, x.dtype)
    return found


def binop(op: str, a: Any, b: Any) -> Any:
    """``a op b`` as NumPy computes it, on arrays of any library or Python numbers: integer
    arithmetic wraps; // and % by zero give 0; an integer to a negative integer power raises
    ValueError; Python numbers take the array's dtype (NEP 50); int / int and float * int give
    floats (which the Array API leaves undefined for arrays; array-api-strict refuses)."""
    # A floating array with a Python number or another floating array: the library's own
    # operator is NumPy's (all but %, whose sign rule is checked below).
    if op != "%" and (
        (type(a) in _NUMBERS or _floating_array(a))
        and (type(b) in _NUMBERS or _floating_array(b))
        and (type(a) not in _NUMBERS or type(b) not in _NUMBERS)
    ):
        if op == "**":
            a, b = _weak_power(a, b)
        elif op in _DIVISIONS:
            a, b = _division_operands(a, b)
        return _OPS[op](a, b)
    xp = namespace_of(a, b)
    if xp is None:
        return _number_op(op, a, b)
    int_a, int_b = is_int_array(xp, a), is_int_array(xp, b)
    if not (int_a or int_b):
        return _float_remainder(xp, a, b) if op == "%" else _OPS[op](a, b)
    if int_a != int_b and backend_of(a) is not None and backend_of(b) is not None:
        a, b = _int_and_float(xp, a, b)
        int_a = int_b = False
    if int_a and (isinstance(b, float) or (op == "/" and (int_b or isinstance(b, int)))):
        a, int_a = to_float(xp, a), False
    if int_b and (isinstance(a, float) or (op == "/" and (int_a or isinstance(a, int)))):
        b, int_b = to_float(xp, b), False
    if int_a and not int_b and backend_of(b) is None:
        _int_range(xp, b, a)
    if int_b and not int_a and backend_of(a) is None:
        _int_range(xp, a, b)
    ints = (int_a or isinstance(a, int)) and (int_b or isinstance(b, int))
    if ints and op in ("//", "%"):
        return _int_divide(xp, op, a, b)
    if op == "%":  # an integer array made float beside a float
        return _float_remainder(xp, a, b)
    if op == "**" and not ints:
        a, b = _weak_power(a, b)
    if op in _DIVISIONS and not ints:
        a, b = _division_operands(a, b)
    if ints and op == "**" and not _is_numpy(*(x for x in (a, b) if backend_of(x) is not None)):
        # NumPy raises this itself (after checking the exponent fits the dtype).
        negative = b < 0 if backend_of(b) is None else (
            not xp.isdtype(b.dtype, "unsigned integer") and bool(xp.any(b < 0)))  # fmt: skip
        if negative:
            raise ValueError(_NEGATIVE_POWER)
    return _OPS[op](a, b)


def compare(op: str, a: Any, b: Any) -> Any:
    """``a op b``; a Python int beyond an integer array's dtype compares exactly (NumPy 2)."""
    xp = namespace_of(a, b)
    if xp is None or _is_numpy(*(x for x in (a, b) if backend_of(x) is not None)):
        return _COMPARE[op](a, b)
    for number, array, sign in ((b, a, 1), (a, b, -1)):
        if (isinstance(number, int) and not isinstance(number, bool) and backend_of(array)
                and is_int_array(xp, array) and array.dtype != xp.bool):  # fmt: skip
            info = xp.iinfo(array.dtype)
            if not info.min <= number <= info.max:
                mirrored = op if sign == 1 else {"<": ">", "<=": ">=", ">": "<",
                                                 ">=": "<="}.get(op, op)  # fmt: skip
                above = number > info.max
                truth = {"<": above, "<=": above, ">": not above, ">=": not above,
                         "==": False, "!=": True}[mirrored]  # fmt: skip
                return xp.full(array.shape, truth, dtype=xp.bool, device=device_of(array))
    return _COMPARE[op](a, b)


def sign_op(kind: str, x: Any) -> Any:
    """``-x`` or ``+x``."""
    return -x if kind == "neg" else +x


def either(kind: str, a: Any, b: Any) -> Any:
    """Python's ``a or b`` / ``a and b`` element by element: one of the two values (in
    their common dtype), chosen by the truth of ``a``."""
    xp = namespace_of(a, b)
    if xp is None:
        return (a or b) if kind == "or" else (a and b)
    for number, array in ((b, a), (a, b)):
        if backend_of(array) is not None and is_int_array(xp, array):
            _int_range(xp, number, array)  # NumPy's OverflowError, where torch would wrap
    x, y = as_arrays(xp, a, b)
    if backend_of(a) is None:  # the truth of the number itself (1e-320 is true in float32 too)
        truth = xp.asarray(bool(a), device=device_of(x))
    else:
        (truth,) = as_bools(xp, a)
    if x.dtype != y.dtype:
        try:
            common = xp.result_type(x, y)
        except TypeError:  # int and float where the library refuses to mix them: the float
            common = y.dtype if _integral(xp, x.dtype) else x.dtype
        x, y = xp.astype(x, common), xp.astype(y, common)
    return xp.where(truth, x, y) if kind == "or" else xp.where(truth, y, x)
