import threading

import numpy as np
import pytest

import xpkern
from xpkern._dispatch import Op, probe, public
from xpkern.backends import resolve

calls: list[str] = []


def _generic(ctx, x):
    calls.append("generic")
    return x + 1


_op = Op("demo", _generic)


@_op.register(
    "demo-fast",
    reason="fast for big NumPy inputs",
    supports=lambda ctx, x: None if ctx.backend.name == "numpy" else "NumPy only",
    wins=lambda ctx, x: None if x.size >= 10 else "small input",
)
def _fast(ctx, x):
    calls.append("fast")
    return x + 1


@public(_op)
def demo(x):
    return _op(resolve(x), x)


def test_auto_takes_the_fast_path_only_where_it_wins():
    calls.clear()
    demo(np.ones(100))
    demo(np.ones(3))
    assert calls == ["fast", "generic"]


def test_explain_reports_without_running():
    calls.clear()
    e = xpkern.explain(demo, np.ones(3))
    assert calls == []
    assert e.impl == "generic"
    assert e.op == "demo" and e.backend == "numpy"
    assert e.supported() == ["demo-fast", "generic"]
    assert "small input" in str(e)
    assert xpkern.explain(demo, np.ones(100)).reason == "fast for big NumPy inputs"


def test_config_forces_a_choice():
    with xpkern.config(impl="generic"):
        assert xpkern.explain(demo, np.ones(100)).impl == "generic"
    with xpkern.config(impl="fused"):
        e = xpkern.explain(demo, np.ones(3))
        assert e.impl == "demo-fast"
        assert "forced" in e.reason
    with xpkern.config(impl="demo-fast"):
        assert xpkern.explain(demo, np.ones(3)).impl == "demo-fast"


def test_config_naming_another_ops_impl_keeps_generic():
    with xpkern.config(impl="numpy-syrk"):
        assert xpkern.explain(demo, np.ones(3)).impl == "generic"


def test_forcing_an_unsupported_impl_raises():
    strict = pytest.importorskip("array_api_strict")
    with xpkern.config(impl="demo-fast"), pytest.raises(ValueError, match="NumPy only"):
        demo(strict.ones(3))


def test_config_is_thread_local():
    seen = {}
    ready = threading.Event()
    done = threading.Event()

    def other():
        ready.wait()
        seen["other"] = xpkern.explain(demo, np.ones(100)).impl
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with xpkern.config(impl="generic"):
        ready.set()
        done.wait()
        seen["here"] = xpkern.explain(demo, np.ones(100)).impl
    t.join()
    assert seen == {"other": "demo-fast", "here": "generic"}


def test_config_restores_on_error():
    with pytest.raises(RuntimeError), xpkern.config(impl="generic"):
        raise RuntimeError
    assert xpkern.explain(demo, np.ones(100)).impl == "demo-fast"


def test_config_rejects_non_string():
    with pytest.raises(TypeError, match="impl must be a string"), xpkern.config(impl=3):
        pass


def test_explain_rejects_other_functions():
    with pytest.raises(TypeError, match="not an xpkern function"):
        xpkern.explain(np.sum, np.ones(3))


def test_explain_raises_the_calls_errors():
    with pytest.raises(ValueError, match="inner dimensions"):
        xpkern.explain(xpkern.matmul, np.ones((2, 3)), np.ones((4, 2)))


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="already has"):
        _op.register("demo-fast", reason="again")


def _strict_only_generic(ctx, x):
    return None if ctx.backend.name == "numpy" else "demo2's generic needs NumPy"


_op2 = Op("demo2", lambda ctx, x: x, supports=_strict_only_generic)


@_op2.register(
    "demo2-other",
    reason="the only way off NumPy",
    supports=lambda ctx, x: "NumPy has the generic" if ctx.backend.name == "numpy" else None,
)
def _other(ctx, x):
    return x


@public(_op2)
def demo2(x):
    return _op2(resolve(x), x)


def test_a_blocked_generic_hands_over_to_a_specialised_impl():
    strict = pytest.importorskip("array_api_strict")
    e = xpkern.explain(demo2, strict.ones(3))
    assert e.impl == "demo2-other"
    assert e.supported() == ["demo2-other"]
    with xpkern.config(impl="generic"), pytest.raises(ValueError, match="needs NumPy"):
        demo2(strict.ones(3))


def test_no_supporting_impl_is_a_type_error():
    torch = pytest.importorskip("torch")
    blocked = Op("demo3", lambda ctx, x: x, supports=lambda ctx, x: "never")

    @public(blocked)
    def demo3(x):
        return blocked(resolve(x), x)

    with pytest.raises(TypeError, match="no implementation supports"):
        demo3(torch.ones(2))


def test_config_refuses_unknown_implementation_names():
    with pytest.raises(ValueError, match="unknown implementation 'numba_cpu'"):
        xpkern.config(impl="numba_cpu").__enter__()
    with xpkern.config(impl="dask-chunks"):  # known before any elementwise function exists
        pass


@pytest.mark.parametrize("dtype", ["notadtype", "asarray"])
def test_elementwise_refuses_unknown_dtype_names(dtype):
    with pytest.raises(TypeError, match="unknown dtype"):
        xpkern.elementwise(lambda v: v, dtype=dtype)(np.ones(2))


def _counting_op():
    """An op whose rules count how often they are asked."""
    asked = []

    def supports(ctx, x, flag=None):
        asked.append("supports")
        return None

    def wins(ctx, x, flag=None):
        return None if x.size >= 10 else "small input"

    op = Op("counted", lambda ctx, x, flag=None: "generic")
    op.register("counted-fast", reason="fast", supports=supports, wins=wins)(
        lambda ctx, x, flag=None: "fast"
    )
    return op, asked


def test_a_repeated_call_asks_the_rules_once():
    op, asked = _counting_op()
    x = np.ones(100)
    ctx = resolve(x)
    assert [op(ctx, x) for _ in range(5)] == ["fast"] * 5
    assert asked == ["supports"]
    # Another shape, dtype, layout or small argument is another signature.
    assert op(ctx, np.ones(3)) == "generic"
    assert op(ctx, np.ones(100, dtype=np.float32)) == "fast"
    assert op(ctx, np.ones((100, 2))[:, 0]) == "fast"
    assert op(ctx, x, flag=True) == "fast"
    assert len(asked) == 5


def test_the_cache_follows_config_and_explain():
    op, asked = _counting_op()
    x = np.ones(100)
    ctx = resolve(x)
    assert op(ctx, x) == "fast"
    with xpkern.config(impl="generic"):
        assert op(ctx, x) == "generic"
    assert op(ctx, x) == "fast"
    # explain always asks the rules afresh, so it can give every reason.
    before = len(asked)
    e = probe(lambda a: op(resolve(a), a), x)
    assert e is not None and e.impl == "counted-fast"
    assert len(asked) == before + 1


def test_arguments_without_a_cheap_key_are_dispatched_afresh():
    op, asked = _counting_op()
    x = np.ones(100)
    ctx = resolve(x)
    for _ in range(3):
        assert op(ctx, x, flag=[1, 2]) == "fast"
    assert len(asked) == 3


def test_a_late_registration_is_seen():
    op, _ = _counting_op()
    x = np.ones(100)
    ctx = resolve(x)
    assert op(ctx, x) == "fast"
    op.register("later", reason="first in line? no: registered last")(lambda ctx, x: "later")
    assert op(ctx, x) == "fast"  # tried in order: still the first that wins
    with xpkern.config(impl="later"):
        assert op(ctx, x) == "later"


@pytest.mark.parametrize(
    "call",
    [
        lambda x, axis: xpkern.softmax(x, axis=axis),
        lambda x, axis: xpkern.log_softmax(x, axis=axis),
        lambda x, axis: xpkern.logsumexp(x, axis=axis),
        lambda x, axis: xpkern.mean_var(x, axis=axis),
    ],
)
def test_kept_calls_check_what_they_keep(call):
    # A call kept for axis=0 must not serve axis=0.0, [0] or (0.0,): equal values, refused types.
    x = np.linspace(0.0, 1.0, 5)
    want = call(x, 0)
    for _ in range(3):
        np.testing.assert_array_equal(call(x, 0), want)
    for bad in (0.0, [0], (0.0,), "0"):
        with pytest.raises(TypeError, match="axis must be an int"):
            call(x, bad)
    # Another dtype or shape is another signature; integers still go to the default float.
    np.testing.assert_allclose(call(x.astype(np.float32), 0), want, rtol=1e-6)
    np.testing.assert_allclose(call(np.arange(3), 0), call(np.arange(3.0), 0))


def test_kept_calls_follow_config_and_explain():
    x = np.linspace(0.0, 1.0, 7)
    xpkern.softmax(x)
    xpkern.softmax(x)
    assert xpkern.explain(xpkern.softmax, x).impl == "numba-cpu"
    with xpkern.config(impl="generic"):
        assert xpkern.explain(xpkern.softmax, x).impl == "generic"
        np.testing.assert_allclose(xpkern.softmax(x), np.exp(x) / np.exp(x).sum())


def test_mean_var_kept_call_still_refuses_a_bool_correction():
    x = np.ones(4)
    xpkern.mean_var(x, correction=1)
    xpkern.mean_var(x, correction=1)
    with pytest.raises(ValueError, match="correction"):
        xpkern.mean_var(x, correction=True)


@pytest.mark.parametrize("size", [3, 40])  # the generic path's kept call, the kernel's
def test_kept_pair_calls_take_each_calls_second_array(size):
    from scipy.spatial import distance

    rng = np.random.default_rng(size)
    x = rng.standard_normal((size, 16))
    for _ in range(3):
        y = rng.standard_normal((5, 16))  # same signature, other values
        np.testing.assert_allclose(xpkern.cdist(x, y), distance.cdist(x, y), rtol=1e-12)
        want = np.exp(-0.5 * distance.cdist(x, y, "sqeuclidean"))
        np.testing.assert_allclose(xpkern.rbf_kernel(x, y, gamma=0.5), want, rtol=1e-12)
    # y=None and y given are two keys; a y of another dtype, shape or metric is another call
    gram = np.exp(-distance.cdist(x, x, "sqeuclidean") / 16)
    for _ in range(2):
        np.testing.assert_allclose(xpkern.rbf_kernel(x), gram, rtol=1e-12)
        np.testing.assert_allclose(xpkern.rbf_kernel(x, x[::-1]), gram[:, ::-1], rtol=1e-12)
    # The same array twice, then another of its signature: one kept call serves both.
    for other in (x, x, x[::-1].copy(), x):
        want = distance.cdist(x, other)
        np.testing.assert_allclose(xpkern.cdist(x, other), want, rtol=1e-12, atol=1e-12)
    y32 = y.astype(np.float32)
    assert xpkern.cdist(x, y32).dtype == np.float64
    assert xpkern.cdist(x, y[:2]).shape == (size, 2)
    np.testing.assert_allclose(xpkern.cdist(x, y, metric="cityblock"),
                               distance.cdist(x, y, "cityblock"), rtol=1e-12)  # fmt: skip
    with pytest.raises(ValueError, match="unknown metric"):
        xpkern.cdist(x, y, metric="nope")
    with pytest.raises(ValueError, match="features"):
        xpkern.cdist(x, y[:, :3])


@pytest.mark.parametrize(
    "call",
    [
        lambda x, axis: xpkern.softmax(x, axis=axis),
        lambda x, axis: xpkern.log_softmax(x, axis=axis),
        lambda x, axis: xpkern.logsumexp(x, axis=axis),
        lambda x, axis: xpkern.mean_var(x, axis=axis)[1],
    ],
)
def test_kept_calls_tell_numpy_integer_axes_apart(call):
    # np.int64(0) and np.int64(1) are two keys: each call reduces along its own axis.
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    for axis in (0, 1, 0, 1):
        got = call(x, np.int64(axis))
        np.testing.assert_allclose(got, call(x, axis), rtol=1e-12)
        assert got.shape == call(x, axis).shape


def test_kept_calls_tell_layouts_apart():
    # One shape in three layouts (C order, Fortran order, a strided view): each is its own key,
    # and each gets NumPy's answer.
    base = np.arange(1.0, 25.0).reshape(4, 6) / 7
    layouts = [base[:, :3].copy(), np.asfortranarray(base[:, :3]), base[:, ::2]]
    for _ in range(2):
        for m in layouts:
            np.testing.assert_allclose(xpkern.matmul(m), m @ m.T, rtol=1e-13)
            np.testing.assert_allclose(xpkern.softmax(m, axis=0),
                                       np.exp(m) / np.exp(m).sum(0), rtol=1e-13)  # fmt: skip


def test_array_keys_hold_type_layout_and_the_value_of_numpy_scalars():
    from xpkern.backends import array_key

    x = np.ones((2, 3))
    assert array_key(x) == array_key(np.zeros((2, 3)))
    assert array_key(x) != array_key(np.asfortranarray(x))
    assert array_key(x) != array_key(x.astype(np.float32))
    assert array_key(x) != array_key(x.view(np.matrix))  # a subclass is another type
    assert array_key(np.int64(1)) != array_key(np.int64(2))
    assert array_key(np.int64(1)) != array_key(np.int32(1))
    for other in (1, 1.0, [1.0], (1,), np.float64, np.dtype("float64"), None):
        assert array_key(other) is None
