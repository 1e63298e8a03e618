"""logsumexp, softmax, log_softmax, mean_var, cdist, rbf_kernel, kmeans against SciPy."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special
from scipy.spatial import distance

import xpkern
from xpkern.testing import assert_backends_agree

EDGE = st.sampled_from([0.0, -np.inf, np.inf, np.nan, 1e300, -1e300, 1e-300, 709.0, -745.0])
VALUES = st.floats(-50, 50, width=64) | EDGE


def _agree(fn, *args, **kw):
    with np.errstate(all="ignore"):
        return assert_backends_agree(fn, *args, **kw)


@st.composite
def arrays_and_axis(draw, values=VALUES):
    x = draw(hnp.arrays("float64", hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                        elements=values))  # fmt: skip
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1) | st.just(tuple(range(x.ndim))))
    return x, axis


@given(arrays_and_axis(), st.booleans())
def test_logsumexp_matches_scipy(case, keepdims):
    x, axis = case
    with np.errstate(all="ignore"):
        want = special.logsumexp(x, axis=axis, keepdims=keepdims)
        got = xpkern.logsumexp(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    _agree(lambda x: xpkern.logsumexp(x, axis=axis, keepdims=keepdims), x)


def test_logsumexp_keeps_its_digits_when_the_sum_is_near_one():
    # log(1 + 2e-11): the log of the rounded sum would keep about 5 digits.
    x = np.array([-25.0, 0.0, -25.0])
    want = np.log1p(2 * np.exp(-25.0))
    np.testing.assert_allclose(xpkern.logsumexp(x), want, rtol=1e-15)
    np.testing.assert_allclose(xpkern.log_softmax(x)[1], -want, rtol=1e-15)
    _agree(lambda x: xpkern.logsumexp(x), x)
    _agree(lambda x: xpkern.log_softmax(x), x)


def test_logsumexp_weights_and_large_values():
    x = np.array([[1000.0, 1000.0, -5.0], [1.0, 2.0, 3.0]])
    b = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(xpkern.logsumexp(x, axis=1, b=b),
                               special.logsumexp(x, axis=1, b=b), rtol=1e-13)  # fmt: skip
    _agree(lambda x, b: xpkern.logsumexp(x, axis=-1, b=b), x, b)
    assert xpkern.logsumexp(np.arange(3)).dtype == np.float64
    with pytest.raises(ValueError, match="does not broadcast"):
        xpkern.logsumexp(x, b=np.ones(4))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@given(case=arrays_and_axis(values=st.floats(-50, 50) | st.sampled_from([0.0, -np.inf, 700.0])))
def test_softmax_family_matches_scipy(fn, case):
    x, axis = case
    axis = -1 if axis is None else axis
    with np.errstate(all="ignore"):
        if fn == "softmax":
            want = special.softmax(x, axis=axis)
        else:  # SciPy's log_softmax takes log of the rounded sum; its logsumexp does not
            want = x - special.logsumexp(x, axis=axis, keepdims=True)
            want[np.isnan(special.log_softmax(x, axis=axis))] = np.nan
        got = getattr(xpkern, fn)(x, axis=axis)
    # x - logsumexp(x) cancels: the reference itself is only good to about eps * |x|.
    scale = np.max(np.abs(x[np.isfinite(x)]), initial=1.0)
    atol = 1e-300 if fn == "softmax" else 4e-16 * scale
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=atol)
    _agree(lambda x: getattr(xpkern, fn)(x, axis=axis), x)


def test_softmax_rows_sum_to_one(backend):
    x = backend.asarray(np.random.default_rng(0).standard_normal((7, 9)) * 100)
    s = backend.to_numpy(xpkern.softmax(x, axis=1))
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-12)


@given(arrays_and_axis(values=st.floats(-1e3, 1e3)), st.sampled_from([0, 1]))
def test_mean_var_matches_numpy(case, correction):
    x, axis = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns where too few values remain
        want_m = np.mean(x, axis=axis)
        want_v = np.var(x, axis=axis, ddof=correction)
    m, v = xpkern.mean_var(x, axis=axis, correction=correction)
    np.testing.assert_allclose(m, want_m, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(v, want_v, rtol=1e-9, atol=1e-6)
    # The variance of equal values is rounding around 0 (NumPy: 7e-27, torch: 0): the
    # tolerance is absolute, on the scale of the squares.
    scale = float(np.max(np.abs(x))) ** 2 if x.size else 0.0
    _agree(lambda x: xpkern.mean_var(x, axis=axis, correction=correction), x, rtol=1e-6,
           atol=1e-12 * (1 + scale))  # fmt: skip


def test_mean_var_is_accurate_with_a_large_offset(backend):
    noise = np.random.default_rng(0).standard_normal(10_000)
    x = backend.asarray(1e8 + noise)
    m, v = (backend.to_numpy(a) for a in xpkern.mean_var(x, correction=1))
    np.testing.assert_allclose(v, np.var(noise, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(m, 1e8 + noise.mean(), rtol=1e-15)


METRICS = ["sqeuclidean", "euclidean", "cityblock", "cosine", "chebyshev"]


@settings(max_examples=30)
@given(
    n=st.integers(0, 6), m=st.integers(0, 6), d=st.integers(1, 5),
    metric=st.sampled_from(METRICS), data=st.data(),
)  # fmt: skip
def test_cdist_matches_scipy(n, m, d, metric, data):
    x = data.draw(hnp.arrays("float64", (n, d), elements=st.floats(-10, 10)))
    y = data.draw(hnp.arrays("float64", (m, d), elements=st.floats(-10, 10)))
    if metric == "cosine":
        x, y = x + 20.0, y + 20.0  # no zero vectors: their cosine distance is NaN
    want = distance.cdist(x, y, metric)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(xpkern.cdist(x, y, metric=metric), want, atol=1e-9)
    # Cosine distances of parallel vectors are 0 up to the rounding of unit vectors (~eps),
    # which a tolerance relative to the largest result (~0 too) would not allow.
    atol = 1e-12 if metric == "cosine" else None
    _agree(lambda x, y: xpkern.cdist(x, y, metric=metric), x, y, atol=atol)


@pytest.mark.parametrize("metric", METRICS)
def test_cdist_float32_nearby_points_and_exact_diagonal(backend, metric):
    rng = np.random.default_rng(0)
    x = (1000.0 + rng.standard_normal((64, 8)) * 1e-3).astype(np.float32)
    want = distance.cdist(x.astype(np.float64), x.astype(np.float64), metric)
    a = backend.asarray(x)
    for impl in xpkern.explain(xpkern.cdist, a, a, metric=metric).supported():
        with xpkern.config(impl=impl):
            got = backend.to_numpy(xpkern.cdist(a, a, metric=metric))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(np.diag(got), 0.0, err_msg=impl)
        if metric != "cosine":  # the cosine of nearby far-from-zero points is all rounding
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-6, err_msg=impl)


@pytest.mark.parametrize("metric", [*METRICS, "rbf"])
def test_large_pair_sets_run_on_every_core(metric, monkeypatch):
    from xpkern.engines import numba_cpu

    calls = []
    run = numba_cpu.run
    monkeypatch.setattr(
        numba_cpu, "run", lambda k, a, parallel: run(k, a, parallel) or calls.append(parallel)
    )
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((300, 8)) + 3.0, rng.standard_normal((200, 8)) + 3.0
    y[:50] = x[:50]  # duplicates: exact zeros
    x[7, 2], x[9, 0], y[11, 3] = np.inf, np.nan, -np.inf
    if metric == "rbf":
        got = xpkern.rbf_kernel(x, y, gamma=0.2)
        with np.errstate(all="ignore"):
            want = np.exp(-0.2 * distance.cdist(x, y, "sqeuclidean"))
    else:
        got = xpkern.cdist(x, y, metric=metric)
        with np.errstate(all="ignore"):
            want = distance.cdist(x, y, metric)
    assert calls == [True]  # 480 000 multiply-adds: the parallel loop
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    if metric != "rbf":  # equal rows away from the inf and NaN just put in rows 7, 9 and 11
        np.testing.assert_array_equal(np.delete(np.diag(got[:50, :50]), [7, 9, 11]), 0.0)


def test_rbf_kernel_matches_the_formula():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 4)), rng.standard_normal((20, 4))
    want = np.exp(-distance.cdist(x, y, "sqeuclidean") / 4)
    np.testing.assert_allclose(xpkern.rbf_kernel(x, y), want, rtol=1e-12)
    k = xpkern.rbf_kernel(x, gamma=0.5)
    np.testing.assert_allclose(np.diag(k), 1.0)
    _agree(lambda x, y: xpkern.rbf_kernel(x, y, gamma=0.3), x, y)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: xpkern.cdist(np.ones((2, 3)), np.ones((2, 4))), ValueError, "3 features"),
        (lambda: xpkern.cdist(np.ones(3), np.ones((2, 3))), ValueError, "x must be 2-D"),
        (lambda: xpkern.cdist(np.ones((2, 3)), np.ones((2, 3)), metric="minkowski"), ValueError,
         "unknown metric"),
        (lambda: xpkern.rbf_kernel(np.ones((2, 3)), gamma=-1.0), ValueError, "gamma"),
        (lambda: xpkern.logsumexp(np.ones((2, 3)), axis=2), ValueError, "axis 2 is out of range"),
        (lambda: xpkern.softmax(np.ones((2, 3)), axis=(0, 0)), ValueError, "repeats"),
        (lambda: xpkern.softmax(np.ones(3), axis="0"), TypeError, "axis must be"),
        (lambda: xpkern.mean_var(np.ones(3), correction=-1), ValueError, "correction"),
        (lambda: xpkern.mean_var(np.ones(3, dtype=complex)), TypeError, "real numeric dtype"),
        (lambda: xpkern.kmeans(np.ones((3, 2)), 4), ValueError, "1 <= k <= n_samples"),
        (lambda: xpkern.kmeans(np.ones((3, 2)), 0), ValueError, "k must be"),
        (lambda: xpkern.kmeans(np.ones((2, 0)), 1), ValueError, "at least one feature"),
        (lambda: xpkern.kmeans(np.ones((3, 2)), 2, init="best"), ValueError, "unknown init"),
        (lambda: xpkern.kmeans(np.ones((3, 2)), 2, init=np.ones((3, 2))), ValueError,
         "init must have shape"),
    ],
)  # fmt: skip
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0], [6.0, 6.0]])
    return np.concatenate([rng.normal(c, 0.3, (60, 2)) for c in centres]), centres


def test_kmeans_finds_separated_clusters(backend):
    x_np, centres = _blobs()
    x = backend.asarray(x_np)
    for impl in xpkern.explain(xpkern.kmeans, x, 4).supported():
        with xpkern.config(impl=impl):
            c, labels, inertia = xpkern.kmeans(x, 4, seed=3)
        c, labels = backend.to_numpy(c), backend.to_numpy(labels)
        found = sorted(map(tuple, np.round(c / 6) * 6))
        assert found == sorted(map(tuple, centres)), impl
        assert np.abs(c - np.round(c / 6) * 6).max() < 0.15, impl
        assert len(set(labels[:60])) == 1 and len(set(labels)) == 4
        want = sum(((x_np[labels == j] - c[j]) ** 2).sum() for j in range(4))
        np.testing.assert_allclose(float(backend.to_numpy(inertia)), want, rtol=1e-9)


def test_kmeans_is_deterministic_for_a_seed():
    x, _ = _blobs(1)
    a = xpkern.kmeans(x, 4, seed=7)
    b = xpkern.kmeans(x, 4, seed=7)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    c, labels, _ = xpkern.kmeans(x, 4, init=x[[0, 60, 120, 180]], max_iter=1)
    assert labels.shape == (240,) and c.shape == (4, 2)
    c, labels, _inertia = xpkern.kmeans(x, 1, init="random", seed=0)
    np.testing.assert_allclose(c[0], x.mean(axis=0))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_var_row_kernels_keep_the_generic_edges(dtype):
    # inf and NaN in a row, a constant row, data far from zero, and sums that overflow.
    big = np.finfo(dtype).max / 2
    x = np.array([[0.0, -40.0, 3.0], [-np.inf, -np.inf, 1.0], [np.inf, 1.0, 2.0],
                  [np.nan, 1.0, 2.0], [3.0, 3.0, 3.0], [1e4 + 1, 1e4 + 2, 1e4 + 3],
                  [np.inf, -np.inf, 0.0], [big, big, big]], dtype=dtype)  # fmt: skip
    for correction in (0, 1):
        with xpkern.config(impl="generic"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = xpkern.mean_var(x, axis=-1, correction=correction)
        for impl in xpkern.explain(xpkern.mean_var, x, axis=-1).supported():
            with xpkern.config(impl=impl):
                got = xpkern.mean_var(x, axis=-1, correction=correction)
            for g, w in zip(got, want, strict=True):
                assert g.dtype == w.dtype
                np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=impl)
                np.testing.assert_allclose(g, w, rtol=1e-6, err_msg=impl)


def test_torch_cdist_is_only_for_cuda_tensors():
    torch = pytest.importorskip("torch")
    x = torch.ones((4, 3), dtype=torch.float64)
    found = xpkern.explain(xpkern.cdist, x, x)
    assert "torch" not in found.supported() and found.impl != "torch"
    assert "needs CUDA torch tensors" in str(found)
    forced = xpkern.config(impl="torch")
    with forced, pytest.raises(ValueError, match="cannot run here: needs CUDA torch tensors"):
        xpkern.cdist(x, x)
