"""Scalar versions of the ``fmath`` functions and of the operators that can fail, for kernels.

Every function here is plain Python that Numba compiles for the CPU and for CUDA, and that
also runs as it is (in the CUDA simulator). Where Python's ``math`` raises (log of 0, division
by zero, overflow), these return what NumPy returns instead, so that a fused kernel and the
generic path agree on every input.
"""

import math

INF = math.inf
NAN = math.nan
_EXP_MAX = 709.782712893384  # log(largest float64)
_INT_EXACT = 4503599627370496.0  # 2**52: floats at least this large are integers


def div(a, b):
    if b != 0:
        return a / b
    if a != a or a == 0:
        return NAN
    return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF


def floordiv(a, b):
    # Helpers cannot call each other (each is compiled on its own), hence the repetition.
    if b != 0:
        return a // b
    if a != a or a == 0:
        return NAN
    return INF if (a > 0) == (math.copysign(1.0, b) > 0) else -INF


def mod(a, b):
    if b != 0:
        return a % b
    return NAN


def power(a, b):
    if a == 0 and b < 0:
        return INF
    if a < 0 and b != math.floor(b) and b == b:
        return NAN
    if a == a and b == b and abs(a) > 1 and b * math.log(abs(a)) > _EXP_MAX:
        return -INF if a < 0 and b % 2 == 1 else INF
    return a**b


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
    if abs(x) > _EXP_MAX:
        return x * INF
    return math.sinh(x)


def cosh(x):
    return INF if abs(x) > _EXP_MAX else math.cosh(x)


def tanh(x):
    return math.tanh(x)


def fabs(x):
    return abs(x)


def floor(x):
    return float(math.floor(x)) if abs(x) < _INT_EXACT else x


def ceil(x):
    return float(math.ceil(x)) if abs(x) < _INT_EXACT else x


def trunc(x):
    return float(math.trunc(x)) if abs(x) < _INT_EXACT else x


def sign(x):
    return 1 if x > 0 else (-1 if x < 0 else x)


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
    "div", "floordiv", "mod", "power", "exp", "expm1", "log", "log2", "log10", "log1p",
    "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh",
    "tanh", "fabs", "floor", "ceil", "trunc", "sign", "square", "isnan", "isinf", "isfinite",
    "minimum", "maximum", "hypot", "copysign", "where",
]  # fmt: skip
