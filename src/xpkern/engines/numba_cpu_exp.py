"""``exp`` of float64 values as straight-line arithmetic, for Numba CPU loops to vectorise.

Numba calls the C library's scalar ``exp`` once per value, a call the compiler cannot turn
into vector instructions, and its loops have no vector math library to call instead. Written
as arithmetic with no branch and no call, :func:`exp64` lets a loop run several values at
once. It follows the usual method: ``x = k ln 2 + r`` with ``|r| <= ln(2) / 2`` (``ln 2``
split in two parts, so that ``k * LN2_HIGH`` is exact), ``exp(r)`` from its Taylor series to
the 13th power (truncation below 1e-17 relative), and ``2**k`` built from its exponent bits
in two factors, so that results in the subnormal range are rounded once. The result is
within one unit in the last place of the correctly rounded value, as the C library's is;
``exp(0) == 1``, ``exp(-inf) == 0``, ``exp(inf) == inf`` and NaN stays NaN exactly.

Importing this module imports Numba.
"""

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp64", "float_from_bits"]

_LOG2E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01  # ln 2's leading bits: k * _LN2_HIGH exact, |k| < 2^11
_LN2_LOW = 1.90821492927058770002e-10  # ln 2 - _LN2_HIGH
# exp(x) is 0 below -745.14 and inf above 709.79 in float64: the input is clamped to a range
# just wider, where 2**k stays representable in two factors.
_LOWEST = -746.0
_HIGHEST = 710.0
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = (
    1.0 / math.factorial(n) for n in range(2, 14)
)


def _float_from_bits(typingctx: Any, bits: Any) -> Any:
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide = context.cast(builder, args[0], signature.args[0], types.int64)
        return builder.bitcast(wide, ir.DoubleType())

    return types.float64(bits), codegen


# Compiled code only: the float64 whose IEEE 754 bits are the int64 ``bits``.
float_from_bits: Any = intrinsic(_float_from_bits)


@njit(inline="always", error_model="numpy")
def exp64(x: float) -> float:
    """``exp(x)`` of a float64 ``x``, with no branch or call (see the module's notes)."""
    clamped = min(max(x, _LOWEST), _HIGHEST)
    k = math.floor(clamped * _LOG2E + 0.5)
    r = (clamped - k * _LN2_HIGH) - k * _LN2_LOW
    p = _C13
    p = p * r + _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = 1.0 + (p * r * r + r)
    # 2**k as two factors, each a normal float64: a subnormal result is rounded once.
    whole = np.int64(k)
    half = whole >> 1
    first = float_from_bits((half + 1023) << 52)
    second = float_from_bits((whole - half + 1023) << 52)
    found = p * first * second
    return found if x == x else x  # min and max gave NaN a number: NaN back
