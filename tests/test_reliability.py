"""Bad input: only TypeError or ValueError may escape a public function, naming the problem.

Each public function is called with every kind of bad value in every argument position;
anything else (IndexError, AttributeError, a Numba typing error, a crash) is a bug.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpkern

X = np.arange(12.0).reshape(4, 3)
V = np.arange(4.0)
poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)

BAD = [
    None,
    "abc",
    {"a": 1},
    object(),
    np.array([object(), object()]),
    [[1.0], [1.0, 2.0]],
    np.ones((2, 2), dtype=complex),
    np.array(["a", "b"]),
    float("nan"),
    -1,
    10**20,
    (0, 0),
    np.ones((0, 0)),
    np.ones((2, 3, 4, 5)),
]

# name -> (function, arguments, keyword arguments): each position is replaced in turn
CALLS = {
    "matmul": (xpkern.matmul, (X, X.T), {}),
    "gram": (xpkern.matmul, (X,), {}),
    "elementwise": (poly, (V,), {}),
    "polyval": (xpkern.polyval, (V, V), {}),
    "logsumexp": (xpkern.logsumexp, (X,), {"axis": 1, "b": X}),
    "softmax": (xpkern.softmax, (X,), {"axis": 0}),
    "log_softmax": (xpkern.log_softmax, (X,), {"axis": -1}),
    "mean_var": (xpkern.mean_var, (X,), {"axis": 0, "correction": 1}),
    "cdist": (xpkern.cdist, (X, X), {"metric": "cosine"}),
    "rbf_kernel": (xpkern.rbf_kernel, (X, X), {"gamma": 0.5}),
    "kmeans": (xpkern.kmeans, (X, 2), {"init": "random", "max_iter": 5, "tol": 1e-4, "seed": 0}),
    "fit_linear": (xpkern.fit_linear, (X, V), {"lr": 0.01, "steps": 3, "w0": np.zeros(3)}),
    "predict_linear": (xpkern.predict_linear, (X, np.ones(3), 0.5), {}),
    "namespace": (xpkern.namespace, (X, V), {}),
    "to_backend": (xpkern.to_backend, (X, "numpy"), {}),
}


def _variants(name):
    fn, args, kwargs = CALLS[name]
    for i in range(len(args)):
        yield f"arg{i}", lambda bad, i=i: fn(*args[:i], bad, *args[i + 1 :], **kwargs)
    for key in kwargs:
        yield key, lambda bad, key=key: fn(*args, **{**kwargs, key: bad})


@pytest.mark.parametrize("name", sorted(CALLS))
def test_valid_call_runs(name):
    fn, args, kwargs = CALLS[name]
    fn(*args, **kwargs)


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("bad", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_values_raise_only_type_or_value_errors(name, bad):
    for where, call in _variants(name):
        try:
            with np.errstate(all="ignore"):
                call(bad)
        except (TypeError, ValueError) as exc:
            fn = CALLS[name][0]
            words = {name, getattr(fn, "__name__", name), where, "argument", "inputs"}
            message = str(exc).lower()
            assert any(w.lower() in message for w in words), f"{name} {where}: {exc}"
        except Exception as exc:  # anything else is the bug this test looks for
            pytest.fail(f"{name}({where}={bad!r}) raised {type(exc).__name__}: {exc}")


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(CALLS)), data=st.data())
def test_random_junk(name, data):
    junk = data.draw(
        st.one_of(
            st.none(),
            st.text(max_size=3),
            st.floats(),
            st.integers(-(2**70), 2**70),
            st.lists(st.floats(), max_size=3),
            st.tuples(st.integers(-5, 5)),
            st.lists(st.lists(st.integers(), max_size=2), max_size=2),
        )
    )
    for where, call in _variants(name):
        try:
            with np.errstate(all="ignore"):
                call(junk)
        except (TypeError, ValueError):
            pass
        except Exception as exc:
            pytest.fail(f"{name}({where}={junk!r}) raised {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("name", sorted(CALLS))
def test_inputs_are_bit_identical_after_the_call(name, backend):
    fn, args, kwargs = CALLS[name]
    if name in ("to_backend", "namespace"):
        return
    converted = [backend.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    kw = {k: backend.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    before = [np.array(backend.to_numpy(a), copy=True) for a in converted if hasattr(a, "shape")]
    before_kw = {k: np.array(backend.to_numpy(v), copy=True) for k, v in kw.items()
                 if hasattr(v, "shape")}  # fmt: skip
    for impl in xpkern.explain(fn, *converted, **kw).supported():
        with xpkern.config(impl=impl):
            fn(*converted, **kw)
    after = [backend.to_numpy(a) for a in converted if hasattr(a, "shape")]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
    for k, old in before_kw.items():
        np.testing.assert_array_equal(old, backend.to_numpy(kw[k]))


def test_without_numba_the_generic_path_answers(monkeypatch):
    from xpkern.engines import numba_cpu

    monkeypatch.setattr(numba_cpu, "missing", lambda: "numba is not installed")
    x = np.linspace(0, 1, 100_000)
    e = xpkern.explain(poly, x)
    assert e.impl == "generic" and "numba is not installed" in str(e)
    np.testing.assert_allclose(poly(x), x**2 + 2 * x + 1)


def test_a_broken_cuda_engine_is_reported_once(monkeypatch):
    import warnings

    from xpkern.engines import notice
    from xpkern.engines.cuda import state as status

    monkeypatch.setattr(status, "status", lambda: (False, "numba-cuda cannot compile here: test"))
    monkeypatch.setattr(notice, "_warned", set())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert status.problem() == "numba-cuda cannot compile here: test"
        assert status.problem() == "numba-cuda cannot compile here: test"
    assert len([w for w in seen if "fused CUDA kernels are off" in str(w.message)]) == 1
