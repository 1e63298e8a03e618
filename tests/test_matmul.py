import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpkern
from xpkern.backends import backend_of
from xpkern.testing import assert_backends_agree, available_cases

DTYPES = ["float32", "float64", "int64"]
LAYOUTS = ["contiguous", "transposed", "sliced"]


def _values(dtype):
    if dtype == "int64":
        return st.integers(-50, 50)
    width = 32 if dtype == "float32" else 64
    # No magnitude under tiny**(1/4): products, and differences of products, then stay normal.
    # XLA on the CPU flushes subnormals to zero where the other backends keep them.
    floor = float(np.finfo(dtype).tiny) ** 0.25
    floats = st.floats(-100, 100, width=width, allow_nan=False, allow_infinity=False,
                       allow_subnormal=False)  # fmt: skip
    return floats.filter(lambda v: v == 0 or abs(v) >= floor)


@st.composite
def gram_inputs(draw):
    dtype = draw(st.sampled_from(DTYPES))
    layout = draw(st.sampled_from(LAYOUTS))
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    n, k = draw(st.integers(0, 6)), draw(st.integers(0, 6))
    stored = {"contiguous": (n, k), "transposed": (k, n), "sliced": (2 * n, k + 1)}[layout]
    x = draw(hnp.arrays(dtype, batch + stored, elements=_values(dtype)))
    return x, layout


def _gram_of_layout(layout):
    def fn(x):
        xp = xpkern.namespace(x)
        if layout == "transposed":
            x = xp.matrix_transpose(x)
        elif layout == "sliced":
            x = x[..., ::2, 1:]
        return xpkern.matmul(x)

    return fn


@given(gram_inputs())
def test_gram_agrees_on_every_backend_and_impl(case):
    x, layout = case
    checked = assert_backends_agree(_gram_of_layout(layout), x)
    assert {c.backend for c in checked} == {c.name for c in available_cases()}
    # Every backend ran, the generic path wherever it can (torch has no CUDA integer matmul).
    for b in available_cases():
        impls = [c.impl for c in checked if c.backend == b.name]
        assert "generic" in impls or (b.name == "torch-cuda" and x.dtype.kind == "i"), impls


@st.composite
def matmul_pairs(draw):
    dtype = draw(st.sampled_from(DTYPES))
    dtype2 = "float64" if dtype == "float32" and draw(st.booleans()) else dtype
    n, k, m = (draw(st.integers(0, 5)) for _ in range(3))
    b1 = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    b2 = draw(st.sampled_from([b1, b1[1:], (1,) * len(b1), ()]))
    s1 = draw(st.sampled_from([(*b1, n, k), (k,)]))
    s2 = draw(st.sampled_from([(*b2, k, m), (k,)]))
    x1 = draw(hnp.arrays(dtype, s1, elements=_values(dtype)))
    x2 = draw(hnp.arrays(dtype2, s2, elements=_values(dtype2)))
    return x1, x2


@given(matmul_pairs())
def test_matmul_agrees_on_every_backend(pair):
    x1, x2 = pair
    assert_backends_agree(xpkern.matmul, x1, x2)


def _all_impls(x):
    return xpkern.explain(xpkern.matmul, x).supported()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(70, 33), (777, 33), (2, 130, 7)])
def test_gram_is_exactly_symmetric_for_every_impl(backend, dtype, shape):
    # A plain gemm of 777x33 float64 is not symmetric in the last bit on OpenBLAS.
    rng = np.random.default_rng(0)
    x = backend.asarray(rng.standard_normal(shape).astype(dtype))
    for impl in _all_impls(x):
        with xpkern.config(impl=impl):
            g = backend.to_numpy(xpkern.matmul(x))
        np.testing.assert_array_equal(g, np.swapaxes(g, -1, -2), err_msg=impl)


def test_generic_gram_mirrors_every_size_it_meets_again(backend):
    # The generic path keeps its lower-triangle masks per size on eager libraries: a size met
    # again, between others, still gets its own mask.
    rng = np.random.default_rng(2)
    with xpkern.config(impl="generic"):
        for n in (5, 9, 5, 1, 9, 300, 5):
            x_np = rng.standard_normal((n, 4))
            g = backend.to_numpy(xpkern.matmul(backend.asarray(x_np)))
            assert g.shape == (n, n)
            np.testing.assert_array_equal(g, g.T)
            np.testing.assert_allclose(g, x_np @ x_np.T, rtol=1e-12, atol=1e-12)


def test_kept_gram_calls_give_the_full_paths_answer(backend):
    # A repeated call runs the implementation kept for its signature (the generic one's takes
    # the product and the mirror straight from the backend): the answer of the full path.
    rng = np.random.default_rng(3)
    for shape in [(2, 50, 7), (40, 6), (1, 3)]:
        for step in range(3):
            x = backend.asarray(rng.standard_normal(shape) + step)
            g = backend.to_numpy(xpkern.matmul(x))
            with xpkern.config(impl=xpkern.explain(xpkern.matmul, x).impl):
                want = backend.to_numpy(xpkern.matmul(x))
            np.testing.assert_array_equal(g, want)
            np.testing.assert_array_equal(g, np.swapaxes(g, -1, -2))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((0, 3), (0, 0)), ((3, 0), (3, 3)), ((2, 0, 4), (2, 0, 0)), ((1, 1), (1, 1))],
)
def test_gram_edge_shapes(backend, shape, expected):
    x = backend.asarray(np.ones(shape))
    for impl in _all_impls(x):
        with xpkern.config(impl=impl):
            g = xpkern.matmul(x)
        assert tuple(g.shape) == expected
        assert backend_of(g).name == backend.library.name
        np.testing.assert_array_equal(backend.to_numpy(g), np.full(expected, shape[-1]))


def test_gram_of_a_vector_is_its_squared_norm(backend):
    g = xpkern.matmul(backend.asarray(np.array([1.0, 2.0, 3.0])))
    assert float(backend.to_numpy(g)) == 14.0


def test_inputs_are_not_mutated(backend):
    x_np = np.random.default_rng(1).standard_normal((40, 40))
    x = backend.asarray(x_np)
    for impl in _all_impls(x):
        with xpkern.config(impl=impl):
            xpkern.matmul(x)
            xpkern.matmul(x, x)
    np.testing.assert_array_equal(backend.to_numpy(x), x_np)


def test_auto_choice_follows_the_measured_shape_rule():
    assert xpkern.explain(xpkern.matmul, np.ones((1024, 1024))).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((4096, 64))).impl == "numpy-gemm"
    assert xpkern.explain(xpkern.matmul, np.ones((4096, 64), np.float32)).impl == "numpy-gemm"
    assert xpkern.explain(xpkern.matmul, np.ones((2048, 512), np.float32)).impl == "numpy-gemm"
    assert xpkern.explain(xpkern.matmul, np.ones((2048, 1024), np.float32)).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((2048, 128))).impl == "numpy-gemm"
    assert xpkern.explain(xpkern.matmul, np.ones((1024, 512))).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((20, 20))).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((64, 4))).impl == "numpy-syrk"
    # NumPy's syrk copies its triangle slowly only where a row of the result is a multiple
    # of 512 bytes: 192 or 256 float64s, not 200; 256 float32s, not 192.
    assert xpkern.explain(xpkern.matmul, np.ones((200, 10))).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((192, 10))).impl == "numpy-gemm"
    assert xpkern.explain(xpkern.matmul, np.ones((256, 10), np.float32)).impl == "numpy-gemm"
    assert xpkern.explain(xpkern.matmul, np.ones((192, 10), np.float32)).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((1000, 16))).impl == "numpy-syrk"
    assert xpkern.explain(xpkern.matmul, np.ones((1024, 1024), int)).impl == "generic"
    assert xpkern.explain(xpkern.matmul, np.ones((1024, 1024), np.float16)).impl == "generic"


def test_torch_gram_takes_syrk_only_without_grad():
    torch = pytest.importorskip("torch")
    assert xpkern.explain(xpkern.matmul, torch.ones(256, 10)).impl == "torch-cpu-gemm"
    assert xpkern.explain(xpkern.matmul, torch.ones(200, 10)).impl == "torch-cpu-syrk"
    assert xpkern.explain(xpkern.matmul, torch.ones(128, 1024)).impl == "torch-cpu-syrk"
    assert xpkern.explain(xpkern.matmul, torch.ones(100, 10)).impl == "torch-cpu-syrk"
    assert xpkern.explain(xpkern.matmul, torch.ones(256, 1024)).impl == "torch-cpu-syrk"
    assert xpkern.explain(xpkern.matmul, torch.ones(4096, 64)).impl == "torch-cpu-gemm"
    x = torch.ones(1024, 1024, dtype=torch.float64)
    assert xpkern.explain(xpkern.matmul, x).impl == "torch-cpu-syrk"
    x.requires_grad_(True)
    e = xpkern.explain(xpkern.matmul, x)
    assert e.impl == "generic"
    assert "requires grad" in str(e)


def test_gram_supports_autograd():
    torch = pytest.importorskip("torch")
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    xpkern.matmul(x).sum().backward()
    # d/dx sum(x x^T) = 2 * ones(n, n) @ x
    expected = 2 * torch.ones(5, 5, dtype=torch.float64) @ x.detach()
    torch.testing.assert_close(x.grad, expected)


def test_torch_syrk_result_is_a_tensor_owning_fresh_memory():
    torch = pytest.importorskip("torch")
    x = torch.randn(300, 300, dtype=torch.float64)
    with xpkern.config(impl="torch-cpu-syrk"):
        g = xpkern.matmul(x)
    assert isinstance(g, torch.Tensor) and g.dtype == torch.float64
    torch.testing.assert_close(g, x @ x.T)


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ((2, 3), (4, 2), r"inner dimensions differ.*\(2, 3\).*\(4, 2\)"),
        ((3,), (4,), "inner dimensions differ"),
        ((2, 2, 3), (3, 3, 1), "batch dimensions"),
        ((), (3,), "at least one dimension"),
    ],
)
def test_matmul_shape_errors(backend, a, b, match):
    x1 = backend.asarray(np.ones(a))
    x2 = backend.asarray(np.ones(b))
    with pytest.raises(ValueError, match=match):
        xpkern.matmul(x1, x2)


def test_gram_of_0d_raises(backend):
    with pytest.raises(ValueError, match="at least one dimension"):
        xpkern.matmul(backend.asarray(np.float64(2.0)))


def test_non_numeric_inputs_raise_type_error():
    with pytest.raises(TypeError, match="x1 must have a numeric dtype"):
        xpkern.matmul(np.ones((2, 2), dtype=bool))
    with pytest.raises(TypeError, match="x2 must have a numeric dtype"):
        xpkern.matmul(np.ones((2, 2)), np.array([["a", "b"]]).T)


@given(matmul_pairs())
def test_torch_integer_matmul_fallback_is_exact(pair):
    # The stand-in for torch's missing CUDA integer matmul, checked on the CPU.
    torch = pytest.importorskip("torch")
    from xpkern.ops.linalg import torch_int_matmul

    x1, x2 = pair
    assume(x1.dtype.kind == "i" and x2.dtype.kind == "i")
    got = torch_int_matmul(torch.from_numpy(x1), torch.from_numpy(x2))
    np.testing.assert_array_equal(got.numpy(), np.matmul(x1, x2))
    assert got.dtype == torch.int64
