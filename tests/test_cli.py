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

    jobs = {r["job"].split()[0].rstrip(",") for r in rows}
    only_dask = {c.name for c in available_cases()} == {"dask"}
    # The 1000-step loop is left out on Dask, where it would be 1000 dependent graph layers.
    assert ({"x**2+2x+1", "Gram"} if only_dask else {"x**2+2x+1", "Gram", "SGD"}) <= jobs
    assert all(r["ok"] is not False for r in rows), [r for r in rows if r["ok"] is False]
    assert {r["backend"] for r in rows} == {c.name for c in available_cases()}
    for job in {(r["job"], r["backend"]) for r in rows}:
        mine = [r for r in rows if (r["job"], r["backend"]) == job]
        assert mine[0]["ok"] is None and mine[0]["speedup"] == 1.0  # the baseline comes first
        assert sum(r["auto"] for r in mine) == 1, mine  # auto's choice is marked once
        assert all(r["ms"] > 0 and r["spread"] >= 0 for r in mine)


def test_tour_table_has_a_legend_and_plain_progress_lines():
    done = subprocess.run([sys.executable, "-m", "xpkern", "--quick"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert "medians of 5 runs" in done.stdout and "float64 NumPy reference" in done.stdout
    assert "x**2+2x+1 on " in done.stderr and "_job" not in done.stderr
