"""xpkern.dropin: SciPy's cdist and scikit-learn's euclidean_distances / rbf_kernel served by
xpkern with the originals' contracts, everything else handed to the originals."""

import threading

import numpy as np
import pytest
from scipy.spatial import distance

from xpkern.dropin import Decline, replacement
from xpkern.dropin.scipy_spatial import cdist
from xpkern.dropin.sklearn_pairwise import euclidean_distances, rbf_kernel

pairwise = pytest.importorskip("sklearn.metrics.pairwise")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((20, 5)).astype(np.float32)
Y = RNG.standard_normal((7, 5)).astype(np.float32)


def test_cdist_keeps_scipys_float64_contract():
    ours = cdist(distance.cdist)
    for metric in ("euclidean", "sqeuclidean", "cityblock", "cosine", "chebyshev"):
        got = ours(X, Y, metric)
        want = distance.cdist(X, Y, metric)
        assert got.dtype == np.float64 and type(got) is np.ndarray
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert ours.tally.served == 5 and not ours.tally.passed
    ints = ours([[0, 0]], [[3, 4]])
    assert ints.dtype == np.float64 and ints[0, 0] == 5.0
    out = np.empty((20, 7))
    assert ours(X, Y, out=out) is out


@pytest.mark.parametrize(
    ("args", "kwargs", "reason"),
    [((X, Y, "minkowski"), {"p": 3}, "metric arguments"),
     ((X, Y, "hamming"), {}, "a metric xpkern lacks"),
     ((X, Y, lambda u, v: 1.0), {}, "a callable metric"),
     ((X, Y), {"out": np.empty((20, 7), dtype=np.float32)}, "out="),
     ((X.astype(complex), Y), {}, "a dtype that is not real")],
)  # fmt: skip
def test_cdist_hands_the_rest_to_scipy(args, kwargs, reason):
    ours = cdist(distance.cdist)
    try:
        want = distance.cdist(*args, **kwargs)
    except Exception as exc:  # SciPy's own error is the answer
        with pytest.raises(type(exc)):
            ours(*args, **kwargs)
    else:
        np.testing.assert_array_equal(ours(*args, **kwargs), want)
    (got_reason,) = ours.tally.passed
    assert reason in got_reason and ours.tally.served == 0


def test_scikit_learn_functions():
    ed = euclidean_distances(pairwise.euclidean_distances)
    rbf = rbf_kernel(pairwise.rbf_kernel)
    for squared in (False, True):
        got = ed(X, Y, squared=squared)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, pairwise.euclidean_distances(X, Y, squared=squared),
                                   rtol=1e-5, atol=1e-5)  # fmt: skip
    assert np.all(np.diag(ed(X)) == 0)  # differences: exact zeros for equal rows
    np.testing.assert_allclose(rbf(X, Y, gamma=0.3), pairwise.rbf_kernel(X, Y, gamma=0.3),
                               rtol=1e-5)  # fmt: skip
    np.testing.assert_allclose(rbf(X.astype(np.float64)), pairwise.rbf_kernel(X.astype(float)))
    assert ed.tally.served == 3 and rbf.tally.served == 2
    with pytest.raises(ValueError, match="NaN"):  # scikit-learn's own check, same message
        ed(np.array([[np.nan, 1.0]]))


def test_scikit_learn_sparse_input_and_norms_go_to_scikit_learn():
    sparse = pytest.importorskip("scipy.sparse")
    ed = euclidean_distances(pairwise.euclidean_distances)
    xs = sparse.csr_matrix(X)
    np.testing.assert_array_equal(ed(xs, Y), pairwise.euclidean_distances(xs, Y))
    norms = (X.astype(np.float64) ** 2).sum(axis=1)
    want = pairwise.euclidean_distances(X, Y, X_norm_squared=norms)
    np.testing.assert_array_equal(ed(X, Y, X_norm_squared=norms), want)
    rbf = rbf_kernel(pairwise.rbf_kernel)
    with pytest.raises(ValueError):  # gamma < 0: scikit-learn's parameter validation
        rbf(X, gamma=-1.0)
    assert set(ed.tally.passed) == {"X is a csr_matrix, not a dense array", "precomputed norms"}
    assert ed.tally.served == 0


def test_replacement_counts_from_many_threads():
    def serve(v):
        if v % 2:
            raise Decline("odd")
        return -v

    fn = replacement(lambda v: v, serve)
    threads = [threading.Thread(target=lambda: [fn(i) for i in range(1000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fn.tally.served == 2000 and fn.tally.passed == {"odd": 2000}
    assert fn(3) == 3 and fn(4) == -4
