"""Scalar versions of the ``fmath`` functions and of the operators that can fail, for kernels.

Every function here is plain Python that Numba compiles for the CPU and for CUDA, and that
also runs as it is (in the CUDA simulator). Where Python's ``math`` raises (log of 0, division
by zero, overflow), these return what NumPy returns instead, so that a fused kernel and the
generic path agree on every input.
"""

import math

import numpy as np

INF = math.inf
NAN = math.nan
_EXP_MAX = 709.782712893384  # log(largest float64)
_COSH_MAX = 710.4758600739439  # log(2 * largest float64): cosh and sinh overflow beyond
_INT_EXACT = 4503599627370496.0  # 2**52: floats at least this large are integers


def div(a, b):
    if b != 0:
        return a / b
    if a != a or a == 0:
        return NAN
    return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF


def fmod(a, b):
    # Each engine compiles the helpers with its compiler's fmod in place of this one (Numba's
    # CPU target has no math.fmod, numba-cuda no np.fmod); finite a and non-NaN b only.
    return math.fmod(a, b)


def floordiv(a, b, one):
    # NumPy's (and Python's) algorithm, spelled out: the compilers' own float // differ on
    # infinities and huge quotients (numba-cuda gives 0.0 // inf as NaN). ``one`` is 1 in the
    # operands' dtype, so that every step rounds in it as NumPy's does.
    if b == 0:
        if a != a or a == 0:
            return NAN
        return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF
    if a - a != 0 or b != b:  # an infinite or NaN a, a NaN b
        return NAN
    m = fmod(a, b)
    d = (a - m) / b
    if m != 0 and (b < 0) != (m < 0):
        d = d - one
    if d == 0:
        return math.copysign(0.0, a / b)
    if d - d != 0:
        return d
    r = fmod(d, one)  # floor(d), exactly and in d's dtype
    f = d - r - one if r < 0 else d - r
    return f + one if d - f > 0.5 else f


def mod(a, b):
    if b == 0 or a - a != 0 or b != b:
        return NAN
    m = fmod(a, b)
    if m == 0:
        return math.copysign(0.0, b)
    return m + b if (b < 0) != (m < 0) else m


def power(a, b):
    # C99 Annex F (what NumPy's pow gives) for the special values: (-0.0) ** -1.0 is -inf,
    # (-1.0) ** inf is 1.0, (-inf) ** 2.5 is inf.
    return a**b


def power_weak(a, p):
    # NumPy computes array ** python_number with these exponents as other ufuncs.
    if p == 2:
        return a * a
    if p == 0.5:  # sqrt: sqrt(-0.0) is -0.0, sqrt(-inf) is nan, where pow gives 0.0 and inf
        return math.sqrt(a) if a >= 0 else (a if a != a else NAN)
    if p == 1:
        return a
    if p == 0:
        return 1.0
    if p == -1:
        if a != 0:
            return 1.0 / a
        return INF if math.copysign(1.0, a) > 0 else -INF
    return a**p


def ifloordiv(a, b):
    # NumPy: integer division by zero gives 0, and MIN // -1 wraps to MIN (negated in uint64:
    # a signed negation that overflows is undefined for the compiler).
    # Every branch in uint64 (one type for Numba); the caller casts to the dtype.
    if b == 0:
        return np.uint64(0)
    if b == -1:
        return np.uint64(0) - np.uint64(a)
    return np.uint64(a // b)


def iabs(a):
    return np.uint64(a) if a >= 0 else np.uint64(0) - np.uint64(a)


def imod(a, b):
    if b == 0 or b == -1:
        return a - a
    return a % b


def ipower(a, b, one):
    # By squaring; the caller casts the result to the dtype, which wraps it as NumPy does
    # (the low bits of a product do not depend on the width it was computed in).
    r = one
    while b > 0:
        if b & 1:
            r = r * a
        a = a * a
        b = b >> 1
    return r


def compare_iu(a, b):
    # -1, 0 or 1 as a signed integer a is below, equal to or above an uint64 b.
    if a < 0:
        return -1
    return -1 if np.uint64(a) < b else (1 if np.uint64(a) > b else 0)


def exp(x):
    return INF if x > _EXP_MAX else math.exp(x)


def expm1(x):
    return INF if x > _EXP_MAX else math.expm1(x)


def log(x):
    return math.log(x) if x > 0 else (-INF if x == 0 else NAN)


def log2(x):
    return math.log2(x) if x > 0 else (-INF if x == 0 else NAN)


def log10(x):
    return math.log10(x) if x > 0 else (-INF if x == 0 else NAN)


def log1p(x):
    return math.log1p(x) if x > -1 else (-INF if x == -1 else NAN)


def sqrt(x):
    return math.sqrt(x) if x >= 0 else NAN


def sin(x):
    return math.sin(x) if x - x == 0 else NAN


def cos(x):
    return math.cos(x) if x - x == 0 else NAN


def tan(x):
    return math.tan(x) if x - x == 0 else NAN


def arcsin(x):
    return math.asin(x) if -1 <= x <= 1 else NAN


def arccos(x):
    return math.acos(x) if -1 <= x <= 1 else NAN


def arctan(x):
    return math.atan(x)


def arctan2(a, b):
    return math.atan2(a, b)


def sinh(x):
    if abs(x) > _COSH_MAX:
        return x * INF
    return math.sinh(x)


def cosh(x):
    return INF if abs(x) > _COSH_MAX else math.cosh(x)


def tanh(x):
    return math.tanh(x)


def fabs(x):
    return abs(x)


def floor(x):
    # copysign keeps the sign of zero: floor(-0.0), ceil(-0.5) and trunc(-0.5) are -0.0.
    return math.copysign(float(math.floor(x)), x) if abs(x) < _INT_EXACT else x


def ceil(x):
    return math.copysign(float(math.ceil(x)), x) if abs(x) < _INT_EXACT else x


def trunc(x):
    return math.copysign(float(math.trunc(x)), x) if abs(x) < _INT_EXACT else x


def sign(x):
    # 0.0 for -0.0 (x - x), NaN for NaN, as NumPy.
    return 1 if x > 0 else (-1 if x < 0 else (x - x if x == 0 else x))


def square(x):
    return x * x


def isnan(x):
    return x != x


def isinf(x):
    return x == INF or x == -INF


def isfinite(x):
    return x - x == 0


def minimum(a, b):
    return a if (a < b or a != a) else b


def maximum(a, b):
    return a if (a > b or a != a) else b


def hypot(a, b):
    return math.hypot(a, b)


def copysign(a, b):
    return math.copysign(a, b)


def where(c, a, b):
    return a if c else b


NAMES = [
    "div", "floordiv", "mod", "power", "power_weak", "ifloordiv", "iabs", "imod", "ipower",
    "compare_iu", "exp", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh",
    "tanh", "fabs", "floor", "ceil", "trunc", "sign", "square", "isnan", "isinf", "isfinite",
    "minimum", "maximum", "hypot", "copysign", "where",
]  # fmt: skip
