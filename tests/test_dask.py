"""Dask arrays on a real dask.distributed LocalCluster (2 worker processes, loopback)."""

import numpy as np
import pytest

import xpkern

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    )  # fmt: skip
    with cluster, distributed.Client(cluster) as c:
        yield c


poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)


class _Starts:
    """Counts graph executions on the local schedulers while it is active."""

    def __init__(self):
        from dask.callbacks import Callback

        self.count = 0
        outer = self

        class Counter(Callback):
            def _start(self, dsk):
                outer.count += 1

        self.callback = Counter()


def test_elementwise_is_lazy_and_chunk_wise(client):
    x_np = np.random.default_rng(0).random((400_000,))
    x = da.from_array(x_np, chunks=100_000)
    starts = _Starts()
    with starts.callback:
        y = poly(x)
    assert isinstance(y, da.Array) and starts.count == 0
    assert xpkern.explain(poly, x).impl == "dask-chunks"
    np.testing.assert_allclose(client.compute(y).result(), x_np**2 + 2 * x_np + 1)


def test_broadcast_chunks(client):
    a = da.from_array(np.arange(12.0).reshape(4, 3), chunks=(2, 3))
    f = xpkern.elementwise(lambda x, y: x * y + 1.0)
    got = client.compute(f(a, da.from_array(np.array([1.0, 2.0, 3.0])))).result()
    np.testing.assert_allclose(got, np.arange(12.0).reshape(4, 3) * [1, 2, 3] + 1)


def test_reductions_and_products_stay_lazy(client):
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((2000, 16))
    x = da.from_array(x_np, chunks=(500, 16))
    results = {
        "logsumexp": (xpkern.logsumexp(x, axis=0), None),
        "softmax": (xpkern.softmax(x, axis=1), None),
        "mean_var": (xpkern.mean_var(x, axis=0)[1], np.var(x_np, axis=0)),
        "gram": (xpkern.matmul(x.T), x_np.T @ x_np),
        "cdist": (xpkern.cdist(x[:50], x[:40]), None),
    }
    from scipy import special
    from scipy.spatial import distance

    wanted = {
        "logsumexp": special.logsumexp(x_np, axis=0),
        "softmax": special.softmax(x_np, axis=1),
        "cdist": distance.cdist(x_np[:50], x_np[:40]),
    }
    for name, (lazy, want) in results.items():
        assert isinstance(lazy, da.Array), name
        want = wanted.get(name, want)
        np.testing.assert_allclose(client.compute(lazy).result(), want, rtol=1e-10, atol=1e-10)


def test_unknown_chunk_sizes_are_refused():
    x = da.from_array(np.arange(10.0), chunks=5)
    y = x[x > 3]  # unknown chunk sizes
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        poly(y)
    m = da.from_array(np.arange(20.0).reshape(10, 2), chunks=5)
    m = m[m[:, 0] > 3]
    for call in (xpkern.logsumexp, xpkern.softmax, xpkern.matmul, xpkern.mean_var,
                 lambda a: xpkern.cdist(a, a), lambda a: xpkern.kmeans(a, 2)):  # fmt: skip
        with pytest.raises(ValueError, match="unknown chunk sizes"):
            call(m)


def test_chunk_wise_implementations_are_chosen():
    x = da.from_array(np.ones((100, 8)), chunks=(25, 8))
    assert xpkern.explain(xpkern.matmul, x.T).impl == "dask-blocks"
    assert xpkern.explain(xpkern.logsumexp, x, axis=1).impl == "dask-tree"
    assert xpkern.explain(xpkern.logsumexp, x, axis=1, b=x).impl == "generic"
    assert xpkern.explain(xpkern.cdist, x, x).impl == "dask-blocks"
    assert xpkern.explain(xpkern.rbf_kernel, x).impl == "dask-blocks"


@pytest.mark.parametrize("axis", [0, 1, None, (0, 1)])
def test_tree_logsumexp_keeps_edge_values(client, axis):
    from scipy import special

    x_np = np.random.default_rng(2).standard_normal((600, 30)) * 300
    x_np[3] = -np.inf
    x_np[5, 3] = np.inf
    x_np[7, 2] = np.nan
    x = da.from_array(x_np, chunks=(100, 7))
    got = client.compute(xpkern.logsumexp(x, axis=axis, keepdims=True)).result()
    want = special.logsumexp(x_np, axis=axis, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gram_of_column_chunks_moves_only_partials(client):
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((40, 5000))
    x = da.from_array(x_np, chunks=(40, 500))
    g = xpkern.matmul(x)
    assert g.shape == (40, 40) and g.chunks == ((40,), (40,))
    # Ten chunk Grams feed a sum: no task holds more than one chunk of x.
    assert sum(1 for k in g.__dask_graph__() if "_stacked" in str(k)) == 10
    np.testing.assert_allclose(client.compute(g).result(), x_np @ x_np.T, rtol=1e-12)


def test_dask_array_of_cupy_chunks():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:
        pytest.skip("needs a CUDA device")
    rng = np.random.default_rng(4)
    x_np = rng.standard_normal((4000, 16)).astype(np.float32)
    x = da.from_array(cupy.asarray(x_np), chunks=(1000, 16), asarray=False)
    lazy = {
        "poly": poly(x),
        "logsumexp": xpkern.logsumexp(x, axis=1),
        "gram": xpkern.matmul(x.T),
        "cdist": xpkern.cdist(x[:500], x[:300]),
    }
    from scipy import special
    from scipy.spatial import distance

    want = {
        "poly": x_np**2 + 2 * x_np + 1,
        "logsumexp": special.logsumexp(x_np.astype(np.float64), axis=1),
        "gram": x_np.astype(np.float64).T @ x_np.astype(np.float64),
        "cdist": distance.cdist(x_np[:500].astype(np.float64), x_np[:300].astype(np.float64)),
    }
    for name, arr in lazy.items():
        assert isinstance(arr._meta, cupy.ndarray), name
        got = arr.compute(scheduler="threads")  # CuPy chunks stay on this process's GPU
        assert isinstance(got, cupy.ndarray), name
        np.testing.assert_allclose(cupy.asnumpy(got), want[name], rtol=2e-4, atol=2e-3)


def test_mixing_dask_with_numpy_follows_dask():
    # As in Dask, a NumPy array joins the graph as a one-chunk Dask array; the result is lazy.
    x_np = np.arange(12.0).reshape(3, 4)
    x = da.from_array(x_np, chunks=2)
    y = np.linspace(0, 1, 8).reshape(4, 2)
    results = {
        "matmul": (xpkern.matmul(x, y), x_np @ y),
        "cdist": (xpkern.cdist(x, y.T), None),
        "elementwise": (
            xpkern.elementwise(lambda a, b: a * b + 1)(x, y[:, 0]),
            x_np * y[:, 0] + 1,
        ),
    }
    from scipy.spatial import distance

    results["cdist"] = (results["cdist"][0], distance.cdist(x_np, y.T))
    for name, (lazy, want) in results.items():
        assert isinstance(lazy, da.Array), name
        np.testing.assert_allclose(lazy.compute(scheduler="sync"), want, err_msg=name)


def test_mixing_dask_with_torch_is_refused_clearly():
    torch = pytest.importorskip("torch")
    x = da.from_array(np.arange(4.0), chunks=2)
    with pytest.raises(TypeError, match="dask and torch"):
        xpkern.matmul(x, torch.ones(4, dtype=torch.float64))


def test_chunks_run_single_threaded_kernels():
    # Dask computes one chunk per core already: a chunk's kernel must not take every core too.
    f = xpkern.elementwise(lambda x: x * 0.5 + 3.0)
    x = np.linspace(-1.0, 1.0, 2**18)
    got = f(da.from_array(x, chunks=2**17)).compute(scheduler="sync")
    np.testing.assert_array_equal(got, x * 0.5 + 3.0)
    parallel = 2  # the kernel key: ("cpu", ndim, parallel, *signature)
    assert [key[parallel] for key in f._kernels] == [False]
    f(x)  # the same size outside Dask: the parallel kernel
    assert sorted(key[parallel] for key in f._kernels) == [False, True]
