"""The benchmark harness: every op on every installed backend, one run, one results file.

Run ``python -m benchmarks [--gpu] [--quick] [--only NAME ...] [--out DIR]`` (or
``nox -s bench -- --quick``). It measures the machine's copy floor and matmul ceiling first, so
every other figure can be read as a ratio taken in the same run, then each suite; it writes
``<machine>.json`` (machine, card, library versions, every row), ``<machine>.md`` (the tables)
and PNG plots (time against size per implementation) to ``benchmarks/results/`` or ``--out``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import _harness, _plots

# name -> (module, runs on the CPU, runs on the GPU)
SUITES: dict[str, tuple[str, bool, bool]] = {
    "floors": ("benchmarks._floors", True, True),
    "overhead": ("benchmarks.overhead", True, True),
    "auto": ("benchmarks.auto", True, True),
    "elementwise": ("benchmarks.elementwise", True, True),
    "gram": ("benchmarks.gram", True, True),
    "algorithms": ("benchmarks.algorithms", True, True),
    "targets": ("benchmarks.algorithms_gpu", False, True),
    "fit_linear": ("benchmarks.fit_linear", True, True),
    "scaling": ("benchmarks.scaling", True, True),
}


def _versions() -> dict[str, str]:
    found = {}
    for name in ("xpkern", "numpy", "scipy", "numba", "numba_cuda", "torch", "cupy", "dask",
                 "jax"):  # fmt: skip
        try:
            found[name] = str(importlib.import_module(name).__version__)
        except Exception:  # not installed, or no version: left out
            continue
    return found


def _progress(names: list[str]) -> Iterator[str]:
    """The suites' names in order, shown as a progress bar (rich's if installed, else a line
    per suite)."""
    try:
        from rich.progress import track
    except ImportError:
        for name in names:
            print(f"== {name}", flush=True)
            yield name
        return
    for name in track(names, description="benchmarks"):
        print(f"== {name}", flush=True)
        yield name


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--gpu", action="store_true", help="CUDA arrays (needs a GPU)")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="suites to run")
    parser.add_argument("--out", type=Path, default=_harness.RESULTS, help="where results go")
    args = parser.parse_args()
    names = [n for n, (_, cpu, gpu) in SUITES.items()
             if (gpu if args.gpu else cpu) and (not args.only or n in args.only)]  # fmt: skip
    info = _harness.machine()
    payload: dict[str, Any] = {"machine": info, "versions": _versions(), "quick": args.quick,
                               "gpu": args.gpu, "date": time.strftime("%Y-%m-%d"),
                               "suites": {}}  # fmt: skip
    for name in _progress(names):
        module = importlib.import_module(SUITES[name][0])
        start = time.perf_counter()
        rows = module.suite(args.gpu, args.quick)
        payload["suites"][name] = {"rows": rows, "seconds": time.perf_counter() - start}
    _write(payload, args.out, info)


def _write(payload: dict[str, Any], out: Path, info: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = _harness.machine_tag(info) + ("-quick" if payload["quick"] else "")
    (out / f"{stem}.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    lines = [
        f"# Benchmarks on {info['gpu'] or info['cpu']} ({payload['date']})",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in payload["versions"].items()),
        "",
    ]
    for name, suite in payload["suites"].items():
        rows = suite["rows"]
        # Nested figures (every candidate's time) go to the JSON only.
        columns = list(dict.fromkeys(k for r in rows for k, v in r.items()
                                     if not isinstance(v, dict)))  # fmt: skip
        lines += [f"## {name}", "", _harness.table(rows, columns), ""]
    (out / f"{stem}.md").write_text("\n".join(lines))
    plots = _plots.render(payload, out, stem)
    print("\n".join(lines))
    print(f"wrote {out / stem}.json, .md and {len(plots)} plot(s)")


if __name__ == "__main__":
    main()
