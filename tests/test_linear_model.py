import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpkern
from xpkern.testing import assert_backends_agree


def _data(n=64, d=10, m=None, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.standard_normal((n,) if m is None else (n, m)).astype(dtype)
    return X, y


def test_seed_loop_follows_torchs_trajectory():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X, y = torch.randn(64, 10), torch.randn(64, 1)
    model = torch.nn.Linear(10, 1)
    w0, b0 = model.weight.detach().clone(), model.bias.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    seen = []
    for _ in range(1000):
        opt.zero_grad()
        loss = torch.nn.MSELoss()(model(X), y)
        loss.backward()
        opt.step()
        seen.append(loss.item())
    for impl in xpkern.explain(xpkern.fit_linear, X, y, w0=w0, b0=b0).supported():
        with xpkern.config(impl=impl):
            w, b, losses = xpkern.fit_linear(X, y, w0=w0, b0=b0)
        assert isinstance(w, torch.Tensor) and w.shape == (1, 10) and b.shape == (1,)
        assert (w - model.weight).abs().max().item() <= 1e-5, impl
        assert (b - model.bias).abs().max().item() <= 1e-5, impl
        np.testing.assert_allclose(losses.numpy(), seen, rtol=1e-5, err_msg=impl)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 12),
    d=st.integers(1, 5),
    m=st.sampled_from([None, 1, 3]),
    dtype=st.sampled_from(["float32", "float64"]),
    data=st.data(),
)
def test_backends_and_implementations_agree(n, d, m, dtype, data):
    # |x| <= 1 keeps 40 steps of lr=0.05 stable (the loss's curvature stays under 2(d + 1) = 12);
    # with 3s gradient descent diverges and float32 overflows, which compares nothing useful.
    values = st.floats(-1, 1, width=32)
    X = data.draw(hnp.arrays(dtype, (n, d), elements=values))
    y = data.draw(hnp.arrays(dtype, (n,) if m is None else (n, m), elements=values))
    checked = assert_backends_agree(
        lambda X, y: xpkern.fit_linear(X, y, lr=0.05, steps=40), X, y, rtol=1e-3
    )
    assert checked


def test_converges_to_least_squares():
    X, _ = _data(200, 3, dtype="float64")
    true_w = np.array([[1.5, -2.0, 0.5], [0.0, 1.0, 3.0]])
    Y = X @ true_w.T + np.array([0.25, -1.0])
    w, b, losses = xpkern.fit_linear(X, Y, lr=0.2, steps=3000)
    np.testing.assert_allclose(w, true_w, atol=1e-6)
    np.testing.assert_allclose(b, [0.25, -1.0], atol=1e-6)
    assert losses.shape == (3000,) and losses[-1] < 1e-12 < losses[0]
    np.testing.assert_allclose(xpkern.predict_linear(X, w, b), Y, atol=1e-5)


def test_starting_weights_are_not_mutated_and_shapes_follow_y(backend):
    X, y = (backend.asarray(a) for a in _data(20, 4))
    w0, b0 = backend.asarray(np.ones(4, dtype="float32")), backend.asarray(np.float32(0.5))
    before = backend.to_numpy(w0).copy()
    for impl in xpkern.explain(xpkern.fit_linear, X, y, w0=w0, b0=b0).supported():
        with xpkern.config(impl=impl):
            w, b, losses = xpkern.fit_linear(X, y, w0=w0, b0=b0, steps=10, lr=0.01)
        assert tuple(w.shape) == (4,) and tuple(b.shape) == () and tuple(losses.shape) == (10,)
        np.testing.assert_array_equal(backend.to_numpy(w0), before)


def test_zero_steps_returns_the_start():
    X, y = _data(5, 2, dtype="float64")
    w, b, losses = xpkern.fit_linear(X, y, steps=0, w0=np.array([1.0, 2.0]), b0=3.0)
    np.testing.assert_array_equal(w, [1.0, 2.0])
    assert float(b) == 3.0 and losses.shape == (0,)


def test_integer_inputs_are_promoted():
    w, _b, losses = xpkern.fit_linear(np.arange(6).reshape(3, 2), np.arange(3), steps=5)
    assert w.dtype == np.float64 and losses.dtype == np.float64


def test_non_finite_data_propagates_nan():
    X, y = _data(8, 2, dtype="float64")
    X[3, 1] = np.nan
    w, _b, losses = xpkern.fit_linear(X, y, steps=3)
    assert np.isnan(w).all() and np.isnan(losses).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"steps": -1}, ValueError, "steps must be an integer"),
        ({"steps": 2.5}, ValueError, "steps must be an integer"),
        ({"lr": 0.0}, ValueError, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be"),
        ({"loss": "huber"}, ValueError, "unknown loss 'huber'"),
        ({"w0": np.ones(3)}, ValueError, "w0 must have shape"),
        ({"b0": np.ones(2)}, ValueError, "b0 must have shape"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    X, y = _data(6, 2, dtype="float64")
    with pytest.raises(error, match=match):
        xpkern.fit_linear(X, y, **kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match="X has 6 samples but y has 5"):
        xpkern.fit_linear(np.ones((6, 2)), np.ones(5))
    with pytest.raises(ValueError, match="X must be 2-D"):
        xpkern.fit_linear(np.ones(6), np.ones(6))
    with pytest.raises(ValueError, match="no samples"):
        xpkern.fit_linear(np.ones((0, 2)), np.ones(0))
    with pytest.raises(TypeError, match="X has unsupported dtype"):
        xpkern.fit_linear(np.ones((2, 2), dtype=complex), np.ones(2))


def test_size_rule():
    small, big = _data(64, 10), _data(4096, 64)
    assert xpkern.explain(xpkern.fit_linear, *small).impl == "numba-cpu"
    e = xpkern.explain(xpkern.fit_linear, *big)
    assert e.impl == "generic" and "matmul-based" in str(e)


def test_inputs_requiring_grad_take_the_generic_path():
    torch = pytest.importorskip("torch")
    X = torch.randn(20, 3, dtype=torch.float64, requires_grad=True)
    y = torch.randn(20, dtype=torch.float64)
    e = xpkern.explain(xpkern.fit_linear, X, y)
    assert e.impl == "generic" and "requires grad" in str(e)
    w, _, _ = xpkern.fit_linear(X, y, steps=5)
    assert w.shape == (3,)
