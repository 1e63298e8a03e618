"""What users of NumPy, SciPy, scikit-learn and torch expect of mean_var, cdist and kmeans:
NumPy's variance rules, accurate float32 sums, torch.cdist's gradients, scikit-learn's
seeding, and NumPy scalars wherever a number is asked for."""

import numpy as np
import pytest

import xpkern


def test_mean_var_with_no_more_values_than_the_correction_follows_numpy(backend):
    for x, correction in (([1.0, 2.0, 3.0], 3), ([1.0, 2.0, 3.0], 5), ([1.0, 1.0], 2)):
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="Degrees"):
            want = np.var(np.array(x), ddof=correction)
        a = backend.asarray(np.array(x))
        for impl in xpkern.explain(xpkern.mean_var, a, correction=correction).supported():
            with xpkern.config(impl=impl), np.errstate(all="ignore"):
                _, v = xpkern.mean_var(a, correction=correction)
            np.testing.assert_array_equal(backend.to_numpy(v), want, err_msg=impl)


def test_mean_var_sums_float16_in_float32():
    x = np.full(70000, 1e-4, dtype=np.float16)
    m, v = xpkern.mean_var(x)
    assert m.dtype == v.dtype == np.float16
    np.testing.assert_allclose(m, np.mean(x), rtol=1e-3)
    assert v == np.var(x)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock"])
def test_float32_distances_over_many_features_stay_accurate(metric):
    # 10^6 float32 features: a float32 running sum errs by ~4e-5 here
    x = np.ones((1, 10**6), dtype=np.float32)
    y = np.full((1, 10**6), 1 + 1e-4, dtype=np.float32)
    want = xpkern.cdist(x.astype(np.float64), y.astype(np.float64), metric=metric)
    for impl in xpkern.explain(xpkern.cdist, x, y, metric=metric).supported():
        with xpkern.config(impl=impl):
            got = xpkern.cdist(x, y, metric=metric)
        np.testing.assert_allclose(got, want, rtol=2e-6, err_msg=impl)


def test_cdist_gradient_of_coincident_points_is_zero_as_in_torch():
    torch = pytest.importorskip("torch")
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]], dtype=torch.float64,
                     requires_grad=True)  # fmt: skip
    xpkern.cdist(x, x).sum().backward()
    ours = x.grad.clone()
    x.grad = None
    torch.cdist(x, x).sum().backward()
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, x.grad)


def _four_blobs(rng):
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    return np.concatenate([c + 0.5 * rng.standard_normal((250, 2)) for c in centres])


def test_kmeans_plus_plus_reaches_the_optimum_on_separated_blobs(backend):
    x_np = _four_blobs(np.random.default_rng(1))
    best = sum(((b - b.mean(axis=0)) ** 2).sum() for b in np.split(x_np, 4))
    x = backend.asarray(x_np)
    for seed in range(10):
        _, _, inertia = xpkern.kmeans(x, 4, seed=seed)
        np.testing.assert_allclose(float(backend.to_numpy(inertia)), best, rtol=1e-6)


def test_kmeans_n_init_keeps_the_best_run():
    x = _four_blobs(np.random.default_rng(2))
    one = [float(xpkern.kmeans(x, 4, init="random", n_init=1, seed=s)[2]) for s in range(8)]
    many = float(xpkern.kmeans(x, 4, init="random", n_init=8, seed=0)[2])
    assert many <= min(one) * (1 + 1e-9) or many <= one[0]
    assert many == pytest.approx(min(one), rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_init": 0}, "n_init"), ({"n_init": "many"}, "n_init"),
     ({"n_init": 2, "init": np.zeros((2, 2))}, "n_init > 1")],
)  # fmt: skip
def test_kmeans_bad_n_init(kwargs, match):
    with pytest.raises(ValueError, match=match):
        xpkern.kmeans(np.arange(8.0).reshape(4, 2), 2, **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_kmeans_refuses_nan_and_inf(bad, backend):
    x = np.arange(8.0).reshape(4, 2)
    x[2, 1] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        xpkern.kmeans(backend.asarray(x), 2, seed=0)


def test_numpy_scalars_are_numbers():
    x = _four_blobs(np.random.default_rng(3))
    centres, _, _ = xpkern.kmeans(x, np.int64(4), seed=np.int32(1), max_iter=np.int64(20),
                                  tol=np.float32(1e-4), n_init=np.int8(2))  # fmt: skip
    assert centres.shape == (4, 2)
    k = xpkern.rbf_kernel(x[:3], gamma=np.float32(0.5))
    np.testing.assert_allclose(k, xpkern.rbf_kernel(x[:3], gamma=0.5))
    _, v = xpkern.mean_var(x, correction=np.int64(1))
    np.testing.assert_allclose(v, np.var(x, ddof=1))
    w, _, _ = xpkern.fit_linear(x, x[:, 0], lr=np.float64(0.01), steps=np.int64(3))
    assert w.shape == (2,)
    for bad in (np.bool_(True), True, 2.5):
        with pytest.raises(ValueError, match="k must be"):
            xpkern.kmeans(x, bad)


@pytest.mark.parametrize("d", [64, 512, 513, 4096])
def test_float32_feature_sums_err_by_a_few_units_at_any_length(d):
    rng = np.random.default_rng(d)
    x, y = (
        (1 + rng.random((30, d))).astype(np.float32),
        (1 + rng.random((20, d))).astype(np.float32),
    )
    for metric in ("sqeuclidean", "cityblock"):
        want = xpkern.cdist(x.astype(np.float64), y.astype(np.float64), metric=metric)
        for impl in xpkern.explain(xpkern.cdist, x, y, metric=metric).supported():
            with xpkern.config(impl=impl):
                got = xpkern.cdist(x, y, metric=metric)
            assert np.max(np.abs(got - want) / want) < 4 * np.finfo(np.float32).eps, impl
