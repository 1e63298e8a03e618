"""The CPU row kernels' own ``exp``: within one unit in the last place of the true value over
the whole float64 range, the subnormal results included, and exact at its special values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from numba import njit

from xpkern.engines.numba_cpu_exp import exp64
from xpkern.testing import ulp_distance

# 80-bit (or wider) long doubles give exp to 11 more bits than float64: the reference rounded
# once to float64. Where long double is float64 (some platforms), NumPy's exp is the
# reference, itself within an ulp: two apart at most.
_WIDE = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant
_TOLERANCE = 1 if _WIDE else 2


@njit(error_model="numpy", fastmath={"contract"})
def _exp_all(x, out):
    # As the row kernels call it: a loop the compiler vectorises, multiply-adds fused.
    for j in range(x.size):
        out[j] = exp64(x[j])


def _exp(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _exp_all(x, out)
    return out


def _reference(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        if _WIDE:
            return np.exp(x.astype(np.longdouble)).astype(np.float64)
        return np.exp(x)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (-0.35, 0.35),
        (-1.0, 1.0),
        (-40.0, 0.0),
        (-708.5, -600.0),
        (-745.2, -708.0),
        (600.0, 709.8),
        (-1e-9, 1e-9),
    ],
)
def test_exp64_within_an_ulp(low, high):
    x = np.random.default_rng(int(high - low)).uniform(low, high, 200_000)
    assert ulp_distance(_exp(x), _reference(x)).max() <= _TOLERANCE


def test_exp64_special_values_exact():
    tiny = np.nextafter(0.0, 1.0)
    largest = np.log(np.finfo(np.float64).max)
    x = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            -746.0,
            -745.2,
            -745.13321910194122,
            709.79,
            710.0,
            1e308,
            -1e308,
            tiny,
            -tiny,
            largest,
        ]
    )
    got = _exp(x)
    want = _reference(x)
    np.testing.assert_array_equal(got[:5], [1.0, 1.0, np.inf, 0.0, np.nan])
    assert np.signbit(got).sum() == 0  # exp is never -0.0
    assert ulp_distance(got, want).max() <= _TOLERANCE
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got == 0, want == 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1,
                max_size=40))  # fmt: skip
def test_exp64_matches_exp_anywhere(values):
    x = np.array(values, dtype=np.float64)
    got, want = _exp(x), _reference(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = ~np.isnan(want)
    assert ulp_distance(got[finite], want[finite]).max(initial=0) <= _TOLERANCE
