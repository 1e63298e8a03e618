"""xpkern.accel: SciPy's and scikit-learn's functions replaced in the running process, every
call the drop-ins cannot serve exactly passed to the original, and everything restored."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.spatial.distance as distance
import scipy.special as special

import xpkern.accel as accel

pairwise = pytest.importorskip("sklearn.metrics.pairwise")
import sklearn.metrics as metrics  # noqa: E402

ORIGINALS = {
    (special, "logsumexp"): special.logsumexp,
    (special, "softmax"): special.softmax,
    (special, "log_softmax"): special.log_softmax,
    (distance, "cdist"): distance.cdist,
    (pairwise, "euclidean_distances"): pairwise.euclidean_distances,
    (pairwise, "rbf_kernel"): pairwise.rbf_kernel,
    (metrics, "euclidean_distances"): metrics.euclidean_distances,
}


@pytest.fixture(autouse=True)
def _restored():
    assert not accel.installed()
    yield
    while accel.installed():
        accel.uninstall()
    _assert_originals()


def _assert_originals():
    for (module, name), fn in ORIGINALS.items():
        assert getattr(module, name) is fn, name
    assert (
        pairwise.PAIRWISE_DISTANCE_FUNCTIONS["euclidean"]
        is ORIGINALS[(pairwise, "euclidean_distances")]
    )
    assert pairwise.PAIRWISE_KERNEL_FUNCTIONS["rbf"] is ORIGINALS[(pairwise, "rbf_kernel")]


def _run(code, env=None, args=()):
    return subprocess.run(
        [sys.executable, *args, "-c", textwrap.dedent(code)],
        text=True,
        capture_output=True,
        check=True,
        env={**os.environ, **(env or {})},
    )


def test_importing_accel_imports_neither_scipy_nor_sklearn():
    out = _run("""
        import sys, xpkern.accel
        xpkern.accel.install()
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'sklearn')))
    """).stdout
    assert out.strip() == "[]"


def test_modules_imported_after_install_are_patched():
    out = _run("""
        import xpkern.accel
        xpkern.accel.install()
        import numpy as np
        from scipy.special import logsumexp
        from sklearn.metrics import euclidean_distances, pairwise_distances
        print(logsumexp.original is not None, euclidean_distances.original is not None)
        print(float(logsumexp(np.zeros(2))), pairwise_distances(np.eye(2)).dtype)
        print(xpkern.accel.report())
    """).stdout
    assert out.splitlines()[:2] == ["True True", f"{np.log(2.0)} float64"]
    assert "sklearn.metrics.pairwise.euclidean_distances: 1 served" in out


def test_install_patches_loaded_modules_and_tables_and_uninstall_restores_them():
    accel.install()
    for (module, name), fn in ORIGINALS.items():
        assert getattr(module, name) is not fn and getattr(module, name).original is fn
    assert pairwise.PAIRWISE_DISTANCE_FUNCTIONS["l2"] is pairwise.euclidean_distances
    assert pairwise.PAIRWISE_KERNEL_FUNCTIONS["rbf"] is pairwise.rbf_kernel
    accel.uninstall()
    _assert_originals()


def test_installs_nest_and_enabled_is_a_context():
    accel.install()
    with accel.enabled():
        assert accel.installed()
    assert accel.installed() and special.logsumexp is not ORIGINALS[(special, "logsumexp")]
    accel.uninstall()
    assert not accel.installed()
    accel.uninstall()  # one too many: nothing happens


def test_served_calls_match_the_originals_and_the_rest_reach_them():
    torch = pytest.importorskip("torch")
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 4))
    calls = [
        (special, "logsumexp", (x,), {"axis": 1, "b": x, "return_sign": True}),
        (special, "softmax", (x,), {}),
        (special, "log_softmax", (x.astype(np.float32),), {"axis": 0}),
        (special, "logsumexp", (torch.ones(3, dtype=torch.float64),), {}),  # SciPy -> NumPy
        (distance, "cdist", (x, x[:5]), {"metric": "cosine"}),
        (distance, "cdist", (x, x[:5]), {"metric": "minkowski", "p": 3}),
        (pairwise, "euclidean_distances", (x.astype(np.float32),), {"squared": True}),
        (pairwise, "euclidean_distances", (sparse.csr_matrix(x),), {}),
        (pairwise, "rbf_kernel", (x, x[:3]), {"gamma": np.float32(0.2)}),
    ]
    want = [ORIGINALS[(m, n)](*a, **k) for m, n, a, k in calls]
    accel.reset()
    with accel.enabled():
        got = [getattr(m, n)(*a, **k) for m, n, a, k in calls]
        done = accel.report()
    for (_, name, _, _), g, w in zip(calls, got, want, strict=True):
        for gi, wi in zip(g if isinstance(g, tuple) else (g,), w if isinstance(w, tuple) else (w,),
                          strict=True):  # fmt: skip
            assert type(gi) is type(wi) and gi.dtype == wi.dtype, name
            np.testing.assert_allclose(gi, wi, rtol=1e-6, atol=1e-12, err_msg=name)
    assert done.served["scipy.special.logsumexp"] == {"generic": 1}
    assert done.passed["scipy.special.logsumexp"] == {
        "torch input with SCIPY_ARRAY_API off (SciPy makes NumPy)": 1
    }
    assert done.passed["scipy.spatial.distance.cdist"] == {"metric arguments (w=, p=, ...)": 1}
    assert (
        "X is a csr_matrix, not a dense array"
        in done.passed["sklearn.metrics.pairwise.euclidean_distances"]
    )
    assert "scipy.special.softmax: 1 served" in str(done)


def test_arguments_the_original_must_judge_go_to_it():
    with accel.enabled():
        with pytest.raises(TypeError):  # an unknown keyword: SciPy's own error
            special.logsumexp(np.ones(3), axes=0)
        with pytest.raises(ValueError):  # scikit-learn's parameter validation
            pairwise.rbf_kernel(np.ones((2, 2)), gamma=-1.0)
        assert special.logsumexp(np.ma.masked_array([1.0, 2.0])) == ORIGINALS[
            (special, "logsumexp")
        ](np.ma.masked_array([1.0, 2.0]))


def test_install_and_uninstall_from_many_threads():
    def work():
        for _ in range(50):
            with accel.enabled():
                special.softmax(np.ones(3))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not accel.installed()


def test_command_line_runs_a_script_and_a_module(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent("""
        import sys
        import numpy as np
        from scipy.special import logsumexp
        print(sys.argv[1:], hasattr(logsumexp, "original"), float(logsumexp(np.zeros(4))))
    """)
    )
    done = subprocess.run([sys.executable, "-m", "xpkern.accel", "--summary", str(script), "a",
                           "b"], capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.strip() == f"['a', 'b'] True {np.log(4.0)}"
    assert "scipy.special.logsumexp: 1 served" in done.stderr
    done = subprocess.run([sys.executable, "-m", "xpkern.accel", "-m", "job", "c"],
                          capture_output=True, text=True, check=True, cwd=tmp_path)  # fmt: skip
    assert done.stdout.strip() == f"['c'] True {np.log(4.0)}"
    usage = subprocess.run([sys.executable, "-m", "xpkern.accel"], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_environment_variable_turns_it_on_for_a_process():
    code = """
        import numpy as np, scipy.special
        print(hasattr(scipy.special.logsumexp, "original"))
        scipy.special.logsumexp(np.zeros(3))
    """
    on = _run(code, env={"XPKERN_ACCEL": "1", "XPKERN_ACCEL_SUMMARY": "1"})
    assert on.stdout.strip() == "True" and "scipy.special.logsumexp: 1 served" in on.stderr
    off = _run(code, env={"XPKERN_ACCEL": "0"})
    assert off.stdout.strip() == "False"
