"""SciPy's conventions for logsumexp / softmax / log_softmax, on every backend and
implementation: weights (zeros, negatives), return_sign, complex input, promotion, NumPy
scalars for full reductions, axis=None by default."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import xpkern
from xpkern.testing import assert_backends_agree

# No subnormal terms: XLA on the CPU flushes them to zero, so on JAX a weighted sum of one
# (exp(-745), or exp(-709) * 1e-300) is 0 where NumPy's is not. exp(-800) is 0 everywhere.
EDGE = st.sampled_from([0.0, -np.inf, np.inf, np.nan, 1e300, -1e300, 300.0, -800.0])
WEIGHTS = st.sampled_from([0.0, 1.0, -1.0, 2.5, -0.5, 1e-30])


def _agree(fn, *args, **kw):
    with np.errstate(all="ignore"):
        return assert_backends_agree(fn, *args, **kw)


@st.composite
def weighted(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    a = draw(hnp.arrays("float64", shape, elements=st.floats(-30, 30) | EDGE))
    b = draw(hnp.arrays("float64", shape,
                        elements=WEIGHTS | st.floats(-3, 3, allow_subnormal=False)))  # fmt: skip
    axis = draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    return a, b, axis


def _close(got, want, rtol=1e-10):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=1e-12)


@given(weighted())
def test_weights_and_sign_match_scipy(case):
    a, b, axis = case
    with np.errstate(all="ignore"):
        want = special.logsumexp(a, axis=axis, b=b)
        want_r, want_s = special.logsumexp(a, axis=axis, b=b, return_sign=True)
        got = xpkern.logsumexp(a, axis=axis, b=b)
        got_r, got_s = xpkern.logsumexp(a, axis=axis, b=b, return_sign=True)
    _close(got, want)
    _close(got_r, want_r)
    np.testing.assert_array_equal(got_s, want_s)
    _agree(lambda a, b: xpkern.logsumexp(a, axis=axis, b=b), a, b)
    _agree(lambda a, b: xpkern.logsumexp(a, axis=axis, b=b, return_sign=True), a, b)


def test_zero_weights_drop_their_terms_even_on_the_maximum():
    assert xpkern.logsumexp([1.0, 10000.0], b=[1.0, 0.0]) == 1.0
    assert xpkern.logsumexp([np.inf, 1.0], b=[0.0, 1.0]) == 1.0
    assert xpkern.logsumexp([np.nan, 1.0], b=[0.0, 1.0]) == 1.0
    r, s = xpkern.logsumexp([1.0, 1.0], b=[1.0, -1.0], return_sign=True)
    assert r == -np.inf and s == 0


COMPLEX = st.complex_numbers(max_magnitude=40, allow_nan=False, allow_infinity=False)


@given(hnp.arrays("complex128", hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                  elements=COMPLEX), st.booleans())  # fmt: skip
def test_complex_input_matches_scipy(a, sign):
    with np.errstate(all="ignore"):
        want = special.logsumexp(a, axis=-1, return_sign=sign)
        got = xpkern.logsumexp(a, axis=-1, return_sign=sign)
    for g, w in zip(got if sign else [got], want if sign else [want], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9)
    if not sign:  # the principal branch
        assert np.all(np.abs(np.imag(got)) <= np.pi)
    _agree(lambda a: xpkern.logsumexp(a, axis=-1, return_sign=sign), a, rtol=1e-9, atol=1e-9)


def test_promotion_follows_the_inputs(backend):
    xp = backend.xp
    a = backend.asarray(np.array([2.0, 1.0], dtype=np.float32))
    got = xpkern.logsumexp(a, b=backend.asarray(np.array([1, -1], dtype=np.int32)))
    try:
        want = xp.result_type(a.dtype, xp.int32, 1.0)
    except TypeError:  # array-api-strict promotes no integers with floats: the default float
        want = xp.result_type(a.dtype, xp.asarray(0.0).dtype)
    assert got.dtype == want
    np.testing.assert_allclose(backend.to_numpy(got), math.log(math.exp(2) - math.e), rtol=1e-6)
    ints = xpkern.logsumexp(backend.asarray(np.array([1, 2])))
    assert ints.dtype == xp.asarray(0.0).dtype


def test_full_reductions_of_numpy_input_are_numpy_scalars(backend):
    x = backend.asarray(np.array([[1.0, 2.0], [3.0, 4.0]]))
    results = [xpkern.logsumexp(x), *xpkern.logsumexp(x, b=x, return_sign=True),
               xpkern.softmax(backend.asarray(np.array(3.0)))]  # fmt: skip
    for r in results:
        if backend.name == "numpy":
            assert isinstance(r, np.generic), type(r)
        else:
            assert r.ndim == 0 and not isinstance(r, np.generic)
    assert isinstance(xpkern.logsumexp(x, axis=1), type(x))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_family_defaults_to_the_whole_array(fn, backend):
    x = np.arange(6.0).reshape(2, 3)
    want = getattr(special, fn)(x)
    got = getattr(xpkern, fn)(backend.asarray(x))
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-6)
    _agree(lambda x: getattr(xpkern, fn)(x), x)
    assert float(getattr(xpkern, fn)(1000)) == (1.0 if fn == "softmax" else 0.0)


def test_scipy_signatures():
    import inspect

    for name in ("logsumexp", "softmax", "log_softmax"):
        ours = inspect.signature(getattr(xpkern, name))
        theirs = inspect.signature(getattr(special, name))
        assert list(ours.parameters) == list(theirs.parameters)
        assert [p.default for p in ours.parameters.values()] == [
            p.default for p in theirs.parameters.values()
        ]
        assert [p.kind for p in ours.parameters.values()] == [
            p.kind for p in theirs.parameters.values()
        ]


def test_weights_extend_the_shape_as_scipy_broadcasts_them():
    a = np.zeros((4, 1, 2, 1))
    b = np.ones((3, 1, 5))
    assert xpkern.logsumexp(a, b=b) == special.logsumexp(a, b=b)
    assert xpkern.logsumexp(a, b=b, axis=1).shape == (4, 2, 5)


def test_bad_weights_and_dtypes_name_the_cause():
    with pytest.raises(ValueError, match="does not broadcast"):
        xpkern.logsumexp(np.ones((2, 3)), b=np.ones(4))
    with pytest.raises(TypeError, match="numeric dtype"):
        xpkern.logsumexp(np.array(["a"]))
    with pytest.raises(TypeError, match="real numeric dtype"):
        xpkern.softmax(np.ones(3, dtype=complex))
