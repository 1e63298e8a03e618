import json
import subprocess
import sys


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "xpkern", *args], capture_output=True, text=True, check=True
    ).stdout


def test_info_lists_backends_and_engines():
    out = _run("info")
    assert "backends:" in out and "numpy" in out
    assert "numba CPU" in out and "cuBLAS syrk" in out and "numba-cuda" in out
    data = json.loads(_run("info", "--json"))
    assert data["engines"]["numba CPU"]["available"] is True


def test_quick_tour_checks_every_job():
    rows = json.loads(_run("--quick", "--json"))
    from xpkern.testing import available_cases

    jobs = {r["job"].split()[0] for r in rows}
    only_dask = {c.name for c in available_cases()} == {"dask"}
    # The 1000-step loop is left out on Dask, where it would be 1000 dependent graph layers.
    assert ({"x**2+2x+1", "gram"} if only_dask else {"x**2+2x+1", "gram", "SGD"}) <= jobs
    assert all(r["ok"] for r in rows), [r for r in rows if not r["ok"]]
    assert {r["backend"] for r in rows} == {c.name for c in available_cases()}
