import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpkern
from xpkern import fmath
from xpkern.backends import backend_of
from xpkern.testing import assert_backends_agree, available_cases

from ._grammar import expressions, make_function

poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)


@xpkern.elementwise
def soft_clip(x, limit):
    """A function with a local, a branch and fmath calls."""
    t = fmath.tanh(x / limit) * limit
    return t if fmath.abs(x) > limit / 2 else x


def _ran(checked, backend, impl):
    """Whether (backend, impl) was checked, where that backend is part of this run."""
    if backend not in {c.name for c in available_cases()}:
        return True
    return (backend, impl) in {(c.backend, c.impl) for c in checked}


def _impls(f, *args):
    return xpkern.explain(f, *args).supported()


def test_seed_example_on_every_backend():
    x = np.linspace(-3, 3, 101)
    checked = assert_backends_agree(poly, x)
    assert _ran(checked, "numpy", "numba-cpu")


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_dtypes_follow_the_generic_path(dtype):
    x = np.arange(-5, 20).astype(dtype) if dtype != "uint8" else np.arange(25, dtype=dtype)
    assert_backends_agree(poly, x)


def test_comparisons_give_booleans():
    gt = xpkern.elementwise(lambda x, y: x > y)
    checked = assert_backends_agree(gt, np.arange(6.0), np.full(6, 2.5))
    assert checked
    assert poly(np.arange(3.0)).dtype == np.float64
    assert gt(np.arange(3.0), 1.0).dtype == np.bool_


def test_bool_inputs():
    f = xpkern.elementwise(lambda a, b: a and not b)
    assert_backends_agree(f, np.array([True, True, False, False]), np.array([True, False] * 2))


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, np.inf, -np.inf, np.nan, 1e300, -1e300,
                    1e-300, 700.0, 720.0])  # fmt: skip
# No subnormals: XLA on the CPU flushes them to zero. pow(-inf, 0.5) is +inf in C and NumPy
# but NaN in XLA, so powers of negative numbers are left out too.


@pytest.mark.parametrize(
    "body",
    ["fmath.log(x)", "fmath.sqrt(x)", "1 / x", "x / x", "fmath.exp(x)", "fmath.log1p(x)",
     "fmath.floor(x) + fmath.ceil(x)", "fmath.sign(x)", "fmath.minimum(x, 0.5)",
     "fmath.maximum(x, fmath.nan)", "fmath.isnan(x)", "fmath.isfinite(x)", "fmath.isinf(x)",
     "x % 1.5", "fmath.abs(x) ** 0.5", "fmath.cosh(x) - fmath.sinh(x)", "fmath.arcsin(x)",
     "fmath.where(x > 0, x, -x)", "fmath.trunc(x)", "fmath.copysign(1.0, x)",
     "x if x == x else 0.0"],
)  # fmt: skip
def test_special_values_match_the_reference(body):
    f = make_function(body, ["x"])
    assert_backends_agree(xpkern.elementwise(f), SPECIAL)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_random_functions_agree_float64(data):
    body = data.draw(expressions(("x", "y"), depth=3), label="body")
    f = xpkern.elementwise(make_function(body, ["x", "y"]))
    values = st.floats(-10, 10, width=64, allow_subnormal=False) | st.sampled_from(
        [0.0, -1.0, np.nan, np.inf]
    )
    x = data.draw(hnp.arrays("float64", (4, 5), elements=values), label="x")
    y = data.draw(hnp.arrays("float64", st.sampled_from([(5,), (4, 5), (1, 5)]),
                             elements=values), label="y")  # fmt: skip
    checked = assert_backends_agree(f, x, y, rtol=1e-9)
    assert _ran(checked, "numpy", "numba-cpu")


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_random_functions_agree_float32(data):
    body = data.draw(expressions(("x",), depth=2), label="body")
    f = xpkern.elementwise(make_function(body, ["x"]))
    x = data.draw(
        hnp.arrays("float32", 9, elements=st.floats(-4, 4, width=32, allow_subnormal=False)),
        label="x",
    )
    assert_backends_agree(f, x, rtol=2e-4)


def test_layouts_and_broadcasting(backend):
    base = np.arange(24.0).reshape(4, 6)
    for args in [(base.T, 2.0), (base[::2, 1::2], 0.7), (base, base[0]), (np.float64(3.0), 2.0),
                 (np.zeros((0, 6)), 1.0), (base[:, :1], base[0])]:  # fmt: skip
        xs = [backend.asarray(a) if isinstance(a, np.ndarray | np.generic) else a for a in args]
        want = np.asarray(soft_clip(*[np.asarray(a) for a in args]))
        for impl in _impls(soft_clip, *xs):
            with xpkern.config(impl=impl):
                got = soft_clip(*xs)
            assert backend_of(got).name == backend.library.name
            np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-6, err_msg=impl)


def test_floor_division_of_finite_values():
    # inf // 2.0 is left to each library (NumPy: nan, CuPy: inf); finite values must agree.
    f = xpkern.elementwise(lambda x: x // 2.0 + x // -0.75)
    assert_backends_agree(f, np.array([0.0, -0.0, 1.0, -1.0, 2.5, -7.25, 1e300, 3.0]))


def test_read_only_inputs():
    x = np.linspace(0, 1, 50_000)
    x.flags.writeable = False
    np.testing.assert_allclose(poly(x), x**2 + 2 * x + 1)


def test_out_argument(backend):
    x = backend.asarray(np.linspace(0, 1, 30))
    if backend.name in ("jax", "dask"):
        with pytest.raises(TypeError, match=r"JAX arrays are not|Dask arrays"):
            poly(x, out=backend.asarray(np.zeros(30)))
        return
    for impl in _impls(poly, x):
        out = backend.asarray(np.zeros(30))
        with xpkern.config(impl=impl):
            got = poly(x, out=out)
        assert got is out
        np.testing.assert_allclose(backend.to_numpy(out), np.linspace(0, 1, 30) ** 2 +
                                   2 * np.linspace(0, 1, 30) + 1)  # fmt: skip
    with pytest.raises(ValueError, match="out has shape"):
        poly(x, out=backend.asarray(np.zeros(3)))


def test_inputs_requiring_grad_take_the_generic_path():
    torch = pytest.importorskip("torch")
    x = torch.linspace(0, 1, 100_000, dtype=torch.float64, requires_grad=True)
    assert xpkern.explain(poly, x).impl == "generic"
    poly(x).sum().backward()
    torch.testing.assert_close(x.grad, 2 * x.detach() + 2)


def test_size_rule_is_reported():
    small, big = np.ones(10), np.ones(10**6)
    assert xpkern.explain(poly, small).impl == "generic"
    assert "below" in str(xpkern.explain(poly, small))
    assert xpkern.explain(poly, big).impl == "numba-cpu"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("def f(x):\n    if x > 0:\n        return x\n    return -x", "if statements"),
        ("def f(x):\n    for i in range(3):\n        x = x + i\n    return x", "for loops"),
        ("def f(x):\n    return x[0]", "indexing"),
        ("def f(x):\n    return len(x)", "function 'len'"),
        ("def f(x):\n    return x + 'a'", "value 'a'"),
        ("def f(x):\n    return undefined_name + x", "undefined name"),
        ("def f(x, *rest):\n    return x", "positional arguments only"),
        ("def f(x):\n    x += 1\n    return x", "augmented assignment"),
        ("def f(x):\n    return fmath.where(x)", "where takes 3"),
    ],
)
def test_unsupported_constructs_fail_at_decoration(tmp_path, source, match):
    path = tmp_path / "bad.py"
    path.write_text("from xpkern import fmath\n\n" + source + "\n")
    scope = {}
    exec(compile(path.read_text(), str(path), "exec"), scope)
    import linecache

    linecache.checkcache(str(path))
    with pytest.raises(xpkern.UnsupportedFunction, match=match):
        xpkern.elementwise(scope["f"])


def test_math_and_numpy_namesakes_are_accepted():
    import math

    f = xpkern.elementwise(lambda x: math.exp(x) + np.sin(x) + abs(x) + max(x, 0.0))
    x = np.linspace(-2, 2, 11)
    assert_backends_agree(f, x)


def test_wrong_arity_is_a_type_error():
    with pytest.raises(TypeError, match="takes 1 positional argument"):
        poly(np.ones(3), np.ones(3))


def test_bad_dtypes_and_shapes():
    with pytest.raises(TypeError, match="unsupported dtype"):
        poly(np.ones(3, dtype=complex))
    with pytest.raises(ValueError, match="do not broadcast"):
        soft_clip(np.ones(3), np.ones(4))


def test_kernels_compile_once_across_threads():
    f = xpkern.elementwise(lambda x: x * 3.0 - 1.0)
    x = np.linspace(0, 1, 100_000)
    results, start = [], threading.Barrier(8)

    def work():
        start.wait()
        results.append(f(x))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    for r in results:
        np.testing.assert_array_equal(r, x * 3.0 - 1.0)
    assert len(f._kernels) == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_inputs_run_on_every_core(dtype):
    f = xpkern.elementwise(lambda x, y: fmath.where(x > y, x * y - 1.0, fmath.exp(y) / (x + 2.0)))
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 400)).astype(dtype)  # 120 000 elements: the parallel loop
    y = rng.standard_normal(400).astype(dtype)
    x[5, :7] = [np.nan, np.inf, -np.inf, 0.0, -2.0, 1e30, -1e30]
    got = f(x, y)
    with xpkern.config(impl="generic"):
        want = f(x, y)
    assert [key[2] for key in f._kernels] == [
        True
    ]  # one kernel, parallel ("cpu", ndim, parallel, ...)
    np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == "float32" else 1e-14)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_kernels_work_with_an_unwritable_cache_dir(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("XPKERN_CACHE_DIR", str(blocked / "sub"))
    f = xpkern.elementwise(lambda x: x * 5.0 + 0.25)
    x = np.linspace(0, 1, 100_000)
    np.testing.assert_array_equal(f(x), x * 5.0 + 0.25)


def test_polyval_agrees_on_every_backend():
    c = np.array([2.0, -1.0, 0.5, 3.0])
    x = np.linspace(-2, 2, 41)
    checked = assert_backends_agree(xpkern.polyval, c, x)
    assert _ran(checked, "numpy", "numba-cpu")
    np.testing.assert_allclose(xpkern.polyval(c, x), np.polyval(c, x))
    np.testing.assert_allclose(xpkern.polyval([1, 2], np.arange(3)), [2.0, 3.0, 4.0])
    assert xpkern.polyval(np.array([]), np.ones(3)).tolist() == [0.0, 0.0, 0.0]


def test_polyval_errors():
    with pytest.raises(ValueError, match="coeffs must be 1-D"):
        xpkern.polyval(np.ones((2, 2)), np.ones(3))
    with pytest.raises(TypeError, match="x has unsupported dtype"):
        xpkern.polyval(np.ones(2), np.ones(3, dtype=complex))


def _hot(f, *args):
    from xpkern.ops.elementwise.warming import HOT_CALLS

    for _ in range(HOT_CALLS + 1):
        out = f(*args)
    return out


def test_a_hot_small_call_hands_over_to_the_kernel():
    f = xpkern.elementwise(lambda x, y: x * y + 1.5 if x > y else x - y)
    x = np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, 3.0, -2.0])
    y = np.float64(2.0).item()
    with xpkern.config(impl="generic"):
        want = f(x, y)
    assert xpkern.explain(f, x, y).impl == "generic"
    assert "seen 1024 times" in str(xpkern.explain(f, x, y))
    assert f(x, y).dtype == want.dtype and not f._kernels  # not compiled for a first call
    got = _hot(f, x, y)
    assert f._kernels, "the kernel took over"
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(f(x, y), want)  # and keeps serving it
    np.testing.assert_array_equal(f(x[::2], y), want[::2])  # another layout, another key


def test_hot_calls_that_need_value_checks_stay_generic():
    f = xpkern.elementwise(lambda x, k: x + k)
    x = np.arange(5, dtype=np.int8)
    np.testing.assert_array_equal(_hot(f, x, 3), x + 3)
    assert not f._kernels  # Python ints are checked against int8 on each call
    with pytest.raises(OverflowError):
        f(x, 300)


def test_hot_tensors_hand_over_and_grad_stays_generic():
    torch = pytest.importorskip("torch")
    f = xpkern.elementwise(lambda x: x * x - 1.0)
    x = torch.linspace(-1, 1, 7, dtype=torch.float64)
    got = _hot(f, x)
    assert isinstance(got, torch.Tensor) and f._kernels
    torch.testing.assert_close(got, x * x - 1.0)
    g = xpkern.elementwise(lambda x: x * x - 1.0)
    w = x.clone().requires_grad_(True)
    _hot(g, w).sum().backward()
    assert not g._kernels
    torch.testing.assert_close(w.grad, 2 * x)


def test_hot_broadcast_and_strided_calls_agree_with_the_generic_path():
    f = xpkern.elementwise(lambda x, y: fmath.where(x > y, x * y, y - x))
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)[:, ::2]  # strided
    y = np.array([[0.5], [-0.5], [0.0]], dtype=np.float32)  # broadcast
    with xpkern.config(impl="generic"):
        want = f(x, y)
    got = _hot(f, x, y)
    assert f._kernels and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("n", [10, 100_000])  # the generic path's kept call, the kernel's
def test_kept_calls_do_not_hold_the_callers_arrays(n):
    import gc
    import weakref

    f = xpkern.elementwise(lambda x: x * 2.0 + 1.0)
    x = np.ones(n)
    seen = weakref.ref(x)
    _hot(f, x)
    assert f._kernels and f._bound  # the kept call is there, compiled
    del x
    gc.collect()
    assert seen() is None


@pytest.mark.parametrize("shape", [(9,), (3, 4), ()])
def test_hot_contiguous_calls_agree_and_return_fresh_arrays(shape):
    f = xpkern.elementwise(lambda x, y, c: x * c - y)
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    with xpkern.config(impl="generic"):
        want = f(x, y, 0.5)
    got = _hot(f, x, y, 0.5)
    assert f._kernels and got.shape == shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    again = f(x, y, 0.5)
    assert not np.shares_memory(again, got) and not np.shares_memory(again, x)
    np.testing.assert_array_equal(f(y, x, 2.0), y * 2.0 - x)  # the same key, other values


@pytest.mark.parametrize("body", ["x // k", "x % k"])
@pytest.mark.parametrize(("zero", "dtype"), [(False, "int8"), (True, "int8"), (0, "int64")])
def test_bool_tensors_divided_by_bools_and_zero_on_every_path(body, zero, dtype):
    # torch has no bool // bool or bool % bool (it raises); NumPy computes them in int8, and
    # a Python int makes bools int64. Every path gives NumPy's dtype, and 0 for a zero
    # divisor (the kernel once gave True, a float division; the generic path a bool).
    torch = pytest.importorskip("torch")
    f = xpkern.elementwise(make_function(body, ["x", "k"]))
    x = torch.tensor([False, True])
    want = torch.zeros(2, dtype=getattr(torch, dtype))
    if zero is True:
        want = x.to(want.dtype) if body == "x // k" else want
    for impl in xpkern.explain(f, x, zero).supported():
        with xpkern.config(impl=impl):
            got = f(x, zero)
        assert got.dtype == want.dtype and torch.equal(got, want), impl
