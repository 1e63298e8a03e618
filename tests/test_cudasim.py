"""The CUDA kernels' logic, run on the CPU by numba's simulator (NUMBA_ENABLE_CUDASIM=1).

On a real GPU the same kernels run through tests/test_gpu.py and the backend fixture.
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpkern
from xpkern import fmath
from xpkern.engines import cuda as engine
from xpkern.ops.elementwise.cuda import run_on_simulator

from ._grammar import expressions, make_function

pytestmark = pytest.mark.skipif(
    os.environ.get("NUMBA_ENABLE_CUDASIM") != "1", reason="runs under NUMBA_ENABLE_CUDASIM=1"
)


def _generic(f, *args):
    with xpkern.config(impl="generic"):
        return f(*args)


def test_seed_example_kernel():
    poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)
    x = np.linspace(-3, 3, 257)
    np.testing.assert_allclose(run_on_simulator(poly, x), x**2 + 2 * x + 1)


def test_branches_locals_and_scalars():
    @xpkern.elementwise
    def f(x, y, c):
        t = x * y
        return fmath.exp(-t) if t > c and not x < y else fmath.minimum(x, 0.5)

    x, y = np.random.default_rng(0).standard_normal((2, 40))
    np.testing.assert_allclose(run_on_simulator(f, x, y, 0.1), _generic(f, x, y, 0.1))


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "bool"])
def test_dtypes(dtype):
    f = xpkern.elementwise(lambda a, b: a * b + a)
    x = np.arange(12).astype(dtype)
    np.testing.assert_array_equal(run_on_simulator(f, x, x[::-1].copy()),
                                  _generic(f, x, x[::-1].copy()))  # fmt: skip


def test_special_values():
    f = xpkern.elementwise(lambda x: fmath.log(x) + fmath.sqrt(x) + 1 / x)
    x = np.array([0.0, -1.0, 1.0, np.inf, -np.inf, np.nan, 1e-300])
    with np.errstate(all="ignore"):
        want = _generic(f, x)
    np.testing.assert_allclose(run_on_simulator(f, x), want)


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_random_functions(data):
    body = data.draw(expressions(("x", "y"), depth=2), label="body")
    f = xpkern.elementwise(make_function(body, ["x", "y"]))
    values = st.floats(-10, 10) | st.sampled_from([0.0, np.nan, np.inf])
    x = data.draw(hnp.arrays("float64", 7, elements=values), label="x")
    y = data.draw(hnp.arrays("float64", 7, elements=values), label="y")
    np.testing.assert_allclose(run_on_simulator(f, x, y), _generic(f, x, y), rtol=1e-9)


def test_engine_status_is_reported():
    ok, why = engine.status()
    assert ok, why


@pytest.mark.parametrize("m", [1, 3])
def test_fit_linear_kernel(m):
    from xpkern.backends import resolve
    from xpkern.ops.linear_model.core import prepare
    from xpkern.ops.linear_model.cuda import fit_linear_run

    rng = np.random.default_rng(1)
    X = rng.standard_normal((9, 4))
    y = rng.standard_normal((9, m))
    ctx = resolve(X)
    Xf, Y, W, B = prepare(ctx, X, y, None, None)
    w, b, losses = fit_linear_run(ctx, Xf, Y, W.copy(), B.copy(), 0.05, 4)
    want = _generic(lambda X, y: xpkern.fit_linear(X, y, lr=0.05, steps=4), X, y)
    np.testing.assert_allclose(w, want[0], rtol=1e-12)
    np.testing.assert_allclose(b, want[1], rtol=1e-12)
    np.testing.assert_allclose(losses, want[2], rtol=1e-12)


def _edge_rows(dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((7, 45)) * 30).astype(dtype)
    x[1] = -np.inf
    x[2, 5] = np.inf
    x[3, 7] = np.nan
    x[4, :3] = -np.inf
    x[5, [4, 9]] = np.inf
    return x


# The simulator computes with NumPy scalars in threads of its own: inf - inf warns there.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_row_kernels(name, dtype):
    from xpkern.backends import resolve
    from xpkern.ops.special.cuda import rows_run

    x = _edge_rows(dtype)
    cases = [(x, None, None), (x[:, :1].copy(), None, None), (x, "registers", 128),
             (x, "shared", None), (x, "global", None)]  # fmt: skip
    # By default a warp takes a row of 45 in two registers a thread (padded), four rows a block
    # (the second block's last row absent); 128 threads take a row one register each.
    for rows, layout, threads in cases:
        with np.errstate(all="ignore"):  # the simulator computes with NumPy scalars
            got = rows_run(resolve(rows), rows, name, layout=layout, threads=threads)
        want = _generic(lambda a: getattr(xpkern, name)(a, axis=-1), rows)
        assert got.dtype == rows.dtype and got.shape == want.shape
        rtol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("correction", [0, 1, 2.5])
def test_mean_var_kernel(dtype, correction):
    from xpkern.backends import resolve
    from xpkern.ops.stats.cuda import rows_mean_var

    rng = np.random.default_rng(3)
    finite = (rng.standard_normal((6, 300)) * 3 + 1e4).astype(dtype)
    big = np.full((2, 4), np.finfo(dtype).max / 2, dtype=dtype)  # sums that overflow
    cases = [_edge_rows(dtype), finite, finite[:, :5].copy(), big]
    if correction == 1:  # once a dtype: the simulator takes seconds a long row
        # Rows long enough for the unrolled reads and a tail, an inf or a NaN in each part.
        long = (rng.standard_normal((3, 2100)) * 3 - 50).astype(dtype)
        long[1, 1500] = np.inf
        long[2, 2090] = np.nan
        cases.append(long)
    for x in cases:
        with np.errstate(all="ignore"):
            mean, var = rows_mean_var(resolve(x), x, correction)
        with xpkern.config(impl="generic"):
            want_mean, want_var = xpkern.mean_var(x, axis=-1, correction=correction)
        assert mean.dtype == x.dtype and mean.shape == want_mean.shape == var.shape
        rtol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(mean, want_mean, rtol=rtol, equal_nan=True)
        np.testing.assert_allclose(var, want_var, rtol=rtol * 10, atol=rtol, equal_nan=True)


def test_mean_var_kernel_result_shapes():
    from xpkern.backends import resolve
    from xpkern.ops.stats.cuda import rows_mean_var

    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) ** 1.5
    cases = [(x, False), (x, True), (x[0], False), (x[0, 0], False), (x[0, 0], True)]
    for a, keepdims in cases:
        mean, var = rows_mean_var(resolve(a), a, 0, keepdims=keepdims)
        want = a.mean(-1, keepdims=keepdims)
        assert mean.shape == var.shape == want.shape, (a.shape, keepdims)
        np.testing.assert_allclose(mean, want, rtol=1e-12)
        np.testing.assert_allclose(var, a.var(-1, keepdims=keepdims), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_var_split_rows(dtype):
    # Rows read by several blocks each, their sums merged by a second kernel: the answers of
    # a block a row, and of the generic path, edges included (an inf, a NaN, -inf and +inf
    # in one row, a sum that overflows) in any part, the last part short.
    from xpkern.backends import resolve
    from xpkern.ops.stats.cuda import rows_mean_var

    rng = np.random.default_rng(5)
    x = (rng.standard_normal((6, 2100)) * 3 + 1e4).astype(dtype)
    x[1, 1500] = np.inf
    x[2, 2090] = np.nan
    x[3, [10, 2050]] = [-np.inf, np.inf]
    x[4] = np.finfo(dtype).max / 2
    x[5, :1100] = -np.inf
    want_mean, want_var = _generic(lambda a: xpkern.mean_var(a, axis=-1, correction=1), x)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for parts in (2, 3):
        with np.errstate(all="ignore"):
            mean, var = rows_mean_var(resolve(x), x, 1, parts=parts)
        assert mean.dtype == x.dtype and mean.shape == (6,) == var.shape
        np.testing.assert_allclose(mean, want_mean, rtol=rtol, equal_nan=True)
        np.testing.assert_allclose(var, want_var, rtol=rtol * 10, atol=rtol, equal_nan=True)
    kept = rows_mean_var(resolve(x[:1]), x[:1], 1, keepdims=True, parts=3)
    assert kept[0].shape == (1, 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mean_var_merge_of_more_parts_than_threads(dtype):
    # A row of more parts than the merge kernel's threads: each thread merges several parts
    # in turn, then the block merges the threads' sums; a NaN in one part of the second row.
    from xpkern.backends import resolve
    from xpkern.ops.stats.cuda import MERGE_THREADS, merge_kernel

    parts, size = 2 * MERGE_THREADS + 44, 7
    x = np.random.default_rng(8).standard_normal((2, parts * size)) * 3 + 1e4
    x[1, 100] = np.nan
    chunks = x.reshape(2 * parts, size)
    mean = chunks.mean(axis=1)
    partial = np.stack([np.full(2 * parts, float(size)), mean,
                        ((chunks - mean[:, None]) ** 2).sum(axis=1), chunks.sum(axis=1),
                        (chunks - chunks).sum(axis=1)])  # fmt: skip
    out = np.empty((2, 2), dtype=dtype)
    largest = float(np.finfo(dtype).max)
    merge_kernel(dtype)(resolve(out), (2,), (MERGE_THREADS,), [partial, parts, 1.0, largest, out])
    rtol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out[0], [x[0].mean(), np.nan], rtol=rtol)
    np.testing.assert_allclose(out[1], [x[0].var(ddof=1), np.nan], rtol=rtol)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_small_gram_kernel(dtype):
    from xpkern.backends import resolve
    from xpkern.ops.linalg.cuda import small_gram

    rng = np.random.default_rng(4)
    edges = (rng.standard_normal((19, 4)) * 1e3).astype(dtype)
    edges[3, 1] = np.inf
    edges[5] = 0.0
    edges[7, 2] = np.nan
    for x in [rng.standard_normal((1, 3)).astype(dtype),
              rng.standard_normal((37, 5)).astype(dtype), edges]:  # fmt: skip
        got = small_gram(resolve(x), x)
        want = _generic(xpkern.matmul, x)
        assert got.dtype == x.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, got.T)  # exactly symmetric, NaNs in place
        rtol = 1e-5 if dtype == "float32" else 1e-12
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True)


def _generic_pairs(metric, x, y, gamma):
    with xpkern.config(impl="generic"):
        if metric == "rbf":
            return xpkern.rbf_kernel(x, y, gamma=gamma)
        return xpkern.cdist(x, y, metric=metric)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock", "chebyshev", "rbf"])
def test_pair_kernel(metric):
    from xpkern.backends import resolve
    from xpkern.ops.distance.cuda import pairs_tiled

    rng = np.random.default_rng(3)
    x = rng.standard_normal((70, 19)).astype(np.float32)
    y = rng.standard_normal((5, 19)).astype(np.float32)
    x[4, 2] = np.nan
    y[1] = x[7]
    with np.errstate(all="ignore"):
        got = pairs_tiled(resolve(x), x, y, metric, 0.2, r=2)
    want = _generic_pairs(metric, x, y, 0.2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    if metric != "rbf":
        assert got[7, 1] == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kmeans_kernels(dtype):
    from xpkern.backends import resolve
    from xpkern.ops.cluster.core import update_generic
    from xpkern.ops.cluster.cuda import assign_cuda, update_cuda

    rng = np.random.default_rng(4)
    x = rng.standard_normal((1100, 9)).astype(dtype)  # several blocks and tiles
    centers = x[[0, 50, 100, 150]].copy()
    ctx = resolve(x)
    labels, closest = assign_cuda(ctx, x, centers)
    d = ((x[:, None, :].astype(np.float64) - centers[None].astype(np.float64)) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d.argmin(1))
    np.testing.assert_allclose(closest, d.min(1), rtol=1e-5)
    labels[labels == 3] = 2  # an empty cluster keeps its centre
    moved = update_cuda(ctx, x, labels, centers)
    np.testing.assert_allclose(moved, update_generic(ctx, x, labels, centers), rtol=1e-5)
    np.testing.assert_array_equal(moved[3], centers[3])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "rbf"])
def test_gemm_pair_kernel_refines_cancelling_pairs(metric):
    from xpkern.backends import resolve
    from xpkern.ops.distance.cuda import pairs_gemm

    rng = np.random.default_rng(5)
    x = (1000.0 + rng.standard_normal((40, 6)) * 1e-3).astype(np.float32)  # all cancel
    x[:20] = rng.standard_normal((20, 6))  # these do not
    x[3, 1] = np.inf
    x[5, 2] = np.nan
    y = x[:9].copy()
    want = _generic_pairs(metric, x, y, 0.3)
    got = pairs_gemm(resolve(x), x, y, metric, 0.3)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    if metric != "rbf":
        assert np.all(np.diag(got[:9])[[0, 1, 2, 4, 6, 7, 8]] == 0.0)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_split_tf32_product_keeps_float32_accuracy(scale):
    # The simulator's GEMM reads its operands as a TF32 tensor core does (10 mantissa bits):
    # one such product of x and y is 1e-3 off; the three of the split must be float32-close.
    from xpkern.backends import resolve
    from xpkern.ops.distance.cuda import cross

    rng = np.random.default_rng(8)
    x, y = (rng.standard_normal((s, 64)).astype(np.float32) * np.float32(scale)
            for s in (300, 200))  # fmt: skip
    ctx = resolve(x)
    want = x.astype(np.float64) @ y.astype(np.float64).T
    bound = 64 * np.finfo(np.float32).eps * float(np.abs(x).max() * np.abs(y).max())
    got = np.empty((300, 200), np.float32)
    cross(ctx, x, y, got)
    assert np.abs(got - want).max() < bound
    engine.gemm_nt(ctx, x, y, got, tf32=True)  # one TF32 product, for contrast
    assert np.abs(got - want).max() > 10 * bound


def test_unrolled_elementwise_loop_and_its_remainder():
    from xpkern.backends import resolve
    from xpkern.engines.cuda.compiler import numba_type
    from xpkern.engines.source import load_module
    from xpkern.ops.elementwise.cuda import kernel_source

    f = xpkern.elementwise(lambda x, y, c: x * y + c)
    x, y = np.random.default_rng(6).standard_normal((2, 301))
    out = np.empty_like(x)
    ctx = resolve(x)
    flat = [out, x, y, 0.5, x.size]
    source = kernel_source(f, ctx, (x, y, 0.5))
    module, _ = load_module(source, "cuda_unroll_test")
    # One block of 32 threads: 301 elements run as two unrolled rounds of 128 and a remainder.
    engine.Launcher(module.kernel, [numba_type(a) for a in flat]).launch(ctx, (1,), (32,), flat)
    np.testing.assert_allclose(out, x * y + 0.5)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_epilogue_unrolled_columns():
    from xpkern.backends import resolve
    from xpkern.ops.distance.cuda import EPILOGUE_SOURCE

    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    y = rng.standard_normal((37, 5)).astype(np.float32)
    y[4] = x[1]  # an exact pair: refined to 0
    g = x @ y.T
    xx, yy = (x * x).sum(1), (y * y).sum(1)
    source = EPILOGUE_SOURCE.replace("{dtype}", "float32").replace("{final}", "v")
    kernel = engine.Kernel(source, "cuda_epilogue_test")
    kernel(resolve(x), (1, 2), (4,), [g, xx, yy, x, y, np.float32(0.0)])
    with xpkern.config(impl="generic"):
        want = xpkern.cdist(x, y, metric="sqeuclidean")
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)
    assert g[1, 4] == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("metric", ["cosine", "euclidean", "cityblock"])
def test_cdist_cuda_implementation(metric):
    from xpkern.backends import resolve
    from xpkern.ops.distance.cuda import cdist_cuda

    rng = np.random.default_rng(8)
    x = rng.standard_normal((20, 7))
    y = np.concatenate([x[:3] * 2.5, rng.standard_normal((4, 7))])  # same directions too
    got = cdist_cuda(resolve(x), x, y, metric)
    np.testing.assert_allclose(got, _generic_pairs(metric, x, y, None), rtol=1e-9, atol=1e-12)


def test_launch_bounds_go_after_the_entry_parameters():
    ptx = ".version 8.0\n.visible .entry k(\n\t.param .u64 a,\n\t.param .u64 b\n)\n{\n\tret;\n}\n"
    bounded = engine.with_launch_bounds(ptx, 256, 5)
    head, body = bounded.split("{", 1)
    assert head.endswith("\t.param .u64 b\n)\n.maxntid 256, 1, 1\n.minnctapersm 5\n\n")
    assert body == ptx.split("{", 1)[1]


@pytest.mark.parametrize("library", ["torch", "cupy"])
def test_lean_call_source_checks_every_argument(library):
    # The generated lean call (run on a GPU by tests/test_gpu.py) checks each argument's type,
    # dtype and layout, and every array's shape against the first; here its text is checked.
    import types

    from xpkern.engines.cuda.lean import lean_source

    ctx = types.SimpleNamespace(backend=types.SimpleNamespace(name=library))
    x = np.ones(3, dtype=np.float32)
    source = lean_source(ctx, x, np.float32, (x, 2.0, x))
    compile(source, "<lean call>", "exec")
    for check in ("type(a0) is not t0", "type(a1) is not t1", "a2.shape != a0.shape",
                  "a0.dtype != d0", "a2.dtype != d2"):  # fmt: skip
        assert check in source
    assert ("a2.requires_grad" in source) == (library == "torch")
    assert "pack(buffer, 0, " in source and ", a1, " in source  # the scalar by value


SIM_DTYPES = ["bool", "int8", "uint8", "int32", "int64", "uint64", "float32", "float64"]
SIM_OPS = ["+", "-", "*", "/", "//", "%", "**", "<", ">=", "==", "and", "or"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", SIM_DTYPES)
@pytest.mark.parametrize("op", SIM_OPS)
def test_operators_on_edge_values_match_numpy(op, dtype):
    """The CUDA kernels compute NumPy's answer on the edges of each dtype (the semantics that
    tests/test_semantics.py checks on the CPU paths)."""
    from xpkern.testing import assert_matches_numpy, edge_values

    from .test_semantics import binary, expect, oracle, pairs

    x, y = pairs(edge_values(dtype), edge_values(dtype))
    f = binary(op)
    if op == "**" and dtype != "float32" and dtype != "float64":
        # An array exponent of integers: NumPy may raise, no kernel takes it; a Python int
        # exponent runs in the kernel, checked per call.
        x = edge_values(dtype)
        x = x[x >= 0] if dtype != "bool" else x
        # (NumPy's dtype for a bool array ** Python int depends on its value: a literal.)
        f, args = (binary("**", "x", "3"), (x,)) if dtype == "bool" else (binary("**", "x", "k"),
                                                                          (x, 3))  # fmt: skip
        with np.errstate(all="ignore"):
            want = x**3
    else:
        args = (x, y)
        want = expect(lambda: oracle(op, x, y))
    if isinstance(want, Exception):
        with pytest.raises(type(want)):
            run_on_simulator(f, *args)
        return
    ulps = 1 if op == "**" else 0  # the GPU's pow need not round as NumPy's
    assert_matches_numpy(run_on_simulator(f, *args), want, ulps=ulps, what=f"{dtype} {op}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64", "float32"])
def test_python_scalars_are_weak_in_kernels(dtype):
    from xpkern.testing import assert_matches_numpy, edge_values

    from .test_semantics import binary

    x = edge_values(dtype)
    for op, k in [("+", 100), ("*", 3), ("-", 0.3), ("<", 300), ("//", 0), ("%", 7)]:
        with np.errstate(all="ignore"):
            want = eval(f"x {op} k")
        assert_matches_numpy(run_on_simulator(binary(op, "x", "k"), x, k), want,
                             what=f"{dtype} {op} {k}")  # fmt: skip
    with pytest.raises(OverflowError):
        run_on_simulator(binary("+", "x", "k"), np.ones(3, np.int8), 200)
