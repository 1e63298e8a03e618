import numpy as np
import pytest

import xpkern
from xpkern.backends import backend_of, resolve


def test_namespace_of_each_backend(backend):
    x = backend.asarray(np.ones(3))
    xp = xpkern.namespace(x)
    assert backend_of(xp.asarray(x)).name == backend.library.name
    assert xpkern.namespace(x, 2.0, [1.0, 2.0], None) is xp


def test_array_likes_alone_are_numpy():
    assert xpkern.namespace(1.0, [1, 2]).__name__ == "array_api_compat.numpy"
    assert xpkern.namespace().__name__ == "array_api_compat.numpy"


def test_array_likes_take_the_arrays_namespace(backend):
    x = backend.asarray(np.ones((2, 2)))
    out = xpkern.matmul(x, [1.0, 2.0])
    assert backend_of(out).name == backend.library.name
    np.testing.assert_allclose(backend.to_numpy(out), [3.0, 3.0])


def test_mixed_libraries_raise_type_error_naming_both():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="numpy and torch"):
        xpkern.namespace(np.ones(2), torch.ones(2))
    with pytest.raises(TypeError, match="torch and numpy"):
        xpkern.matmul(torch.ones(2, 2), np.ones(2))


def test_mixed_devices_raise_value_error_naming_both():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="cpu and meta"):
        xpkern.namespace(torch.ones(2), torch.ones(2, device="meta"))


def test_detection_does_not_import(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    assert backend_of(1.0) is None
    assert backend_of([1.0]) is None
    assert backend_of(np.float32(1)).name == "numpy"
    assert "jax" not in sys.modules


def test_context_device_type(backend):
    ctx = resolve(backend.asarray(np.ones(2)))
    assert ctx.device_type == ("cuda" if backend.gpu else "cpu")


def test_repeated_calls_reuse_the_context_and_the_kept_call(backend):
    # Both are kept per device: a library whose device objects do not hash (CuPy's) must
    # still have them found, or every call pays the full dispatch.
    from xpkern.ops.special import core

    x = backend.asarray(np.linspace(0.0, 1.0, 8))
    if backend.library.reusable_context:
        assert resolve(x) is resolve(backend.asarray(np.ones(3)))
    core._softmax_calls.clear()
    first = xpkern.softmax(x)
    kept = dict(core._softmax_calls._calls)
    np.testing.assert_array_equal(backend.to_numpy(xpkern.softmax(x)), backend.to_numpy(first))
    if backend.name == "dask":  # no signature: each call dispatched afresh
        assert not kept
    else:
        assert len(kept) == 1 and core._softmax_calls._calls == kept


def test_to_backend_round_trip(backend):
    x = np.arange(6.0).reshape(2, 3)
    y = xpkern.to_backend(x, backend.library.name, device=backend.device)
    assert backend_of(y).name == backend.library.name
    if backend.name == "dask":  # xpkern never computes a Dask array by itself
        with pytest.raises(TypeError, match="compute"):
            xpkern.to_backend(y, "numpy")
        y = y.compute()
    np.testing.assert_array_equal(xpkern.to_backend(y, "numpy"), x)


def test_to_backend_is_zero_copy_between_numpy_and_torch_cpu():
    pytest.importorskip("torch")
    x = np.arange(4.0)
    t = xpkern.to_backend(x, "torch")
    t[0] = 42.0
    assert x[0] == 42.0
    back = xpkern.to_backend(t, "numpy")
    back[1] = 7.0
    assert t[1] == 7.0


def test_to_backend_read_only_numpy_to_torch():
    pytest.importorskip("torch")
    x = np.arange(3.0)
    x.flags.writeable = False
    t = xpkern.to_backend(x, "torch")
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_to_backend_errors():
    with pytest.raises(ValueError, match="to_backend: unknown backend 'tensorflow'"):
        xpkern.to_backend(np.ones(2), "tensorflow")
    with pytest.raises(ValueError, match="CPU"):
        xpkern.to_backend(np.ones(2), "numpy", device="cuda")


def test_to_backend_refuses_grad_tensor():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="requires grad"):
        xpkern.to_backend(torch.ones(2, requires_grad=True), "numpy")


def test_torch_host_view_resolves_lazy_conjugate_and_negation():
    torch = pytest.importorskip("torch")
    backend = resolve(torch.ones(1)).backend
    plain = torch.arange(3.0)
    assert np.shares_memory(backend.host_view(plain), plain.numpy())
    z = torch.tensor([1 + 2j, 3 - 1j])
    assert z.conj().is_conj()
    np.testing.assert_array_equal(backend.host_view(z.conj()), [1 - 2j, 3 + 1j])
    negated = z.conj().imag  # a real tensor with torch's negative bit set
    assert negated.is_neg()
    np.testing.assert_array_equal(backend.host_view(negated), [-2.0, 1.0])


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_torch_division_takes_python_numbers_as_device_tensors(device):
    # torch divides by a host number through its reciprocal on CUDA (a device other than
    # the CPU; "meta" stands in for one here), and computes number / tensor as
    # reciprocal(tensor) * number everywhere: both round twice.
    torch = pytest.importorskip("torch")
    backend = resolve(torch.ones(1)).backend
    x = torch.ones(3, dtype=torch.float32, device=device)
    k, y = backend.division_operands(0.3, x)
    assert y is x and k.shape == () and k.dtype == x.dtype and k.device == x.device
    y, k = backend.division_operands(x, 0.3)
    assert y is x
    if device == "cpu":
        assert k == 0.3  # torch's CPU kernel divides by a host number once
    else:
        assert k.shape == () and k.dtype == x.dtype and k.device == x.device


def test_torch_division_rounds_a_number_beyond_the_dtype_to_infinity():
    torch = pytest.importorskip("torch")
    backend = resolve(torch.ones(1)).backend
    x = torch.tensor([1.0, -2.0, 0.0])
    k, _ = backend.division_operands(-1e300, x)  # torch.full refuses it for float32
    assert k.dtype == torch.float32 and k.item() == -np.inf
    with np.errstate(over="ignore", divide="ignore"):
        want = np.asarray(-1e300, dtype=np.float32) / x.numpy()
    np.testing.assert_array_equal((k / x).numpy(), want)
