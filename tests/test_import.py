import subprocess
import sys

HEAVY = ("numba", "torch", "cupy", "dask", "jax", "hypothesis", "pytest")


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_xpkern_is_light():
    loaded = _imported_after("import xpkern")
    heavy = {m for m in loaded if m.partition(".")[0] in HEAVY}
    assert not heavy, f"import xpkern imported {sorted(heavy)}"


def test_a_call_on_numpy_stays_light():
    loaded = _imported_after(
        "import numpy as np, xpkern; xpkern.matmul(np.ones((50, 40))); "
        "xpkern.matmul(np.ones((3, 2)), np.ones(2)); xpkern.explain(xpkern.matmul, np.ones(3))"
    )
    heavy = {m for m in loaded if m.partition(".")[0] in HEAVY}
    assert not heavy, f"a NumPy call imported {sorted(heavy)}"


def test_public_names():
    import xpkern

    for name in xpkern.__all__:
        assert hasattr(xpkern, name)
    assert xpkern.__version__


def test_import_xpkern_loads_only_its_init():
    loaded = _imported_after("import xpkern")
    ours = {m for m in loaded if m.startswith("xpkern.")}
    assert not ours, f"import xpkern imported {sorted(ours)}"


def test_config_knows_every_implementation_before_first_use():
    code = (
        "import numpy as np, xpkern\n"
        "with xpkern.config(impl='numba-cpu'):\n"
        "    print(xpkern.explain(xpkern.logsumexp, np.ones(5)).impl)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["numba-cpu"]


def test_unknown_public_name():
    import pytest

    import xpkern

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        xpkern.nope  # noqa: B018
    assert "softmax" in dir(xpkern)
