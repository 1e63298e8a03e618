"""``x**2 + 2*x + 1``: xpkern's fused kernel vs the composed ops and the usual peers.

Run: ``python -m benchmarks.elementwise [--gpu] [--quick] [--out DIR]``. The copy floor (one
read and one write of the input) is measured in the same run, so results read as ratios.
The CPU size threshold in ``xpkern/ops/elementwise/cpu.py`` and the GPU rule in
``xpkern/ops/elementwise/cuda.py`` come from this table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, measure, save, sync_for

poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)


def _forced(impl: str) -> Callable[[Any], Any]:
    def run(x: Any) -> Any:
        with xpkern.config(impl=impl):
            return poly(x)

    return run


def _cpu_peers(x: np.ndarray) -> dict[str, Callable[[], Any]]:
    import numba

    vec = numba.vectorize(["float64(float64)", "float32(float32)"], target="parallel")(
        lambda v: v**2 + 2 * v + 1
    )
    peers: dict[str, Callable[[], Any]] = {
        "copy": lambda: x.copy(),
        "numpy": lambda: x**2 + 2 * x + 1,
        "numba.vectorize": lambda: vec(x),
        "xpkern auto": lambda: poly(x),
        "xpkern fused": lambda: _forced("numba-cpu")(x),
        "xpkern generic": lambda: _forced("generic")(x),
    }
    try:
        import torch

        t = torch.from_numpy(x)
        peers["torch eager"] = lambda: t**2 + 2 * t + 1
    except ImportError:
        pass
    return peers


def _gpu_peers(n: int, dtype: str) -> dict[str, tuple[Any, Callable[[], Any]]]:
    import cupy
    import torch

    t = torch.rand(n, device="cuda", dtype=getattr(torch, dtype))
    c = cupy.random.random(n, dtype=dtype)

    def poly_ops(v: Any) -> Any:
        return v**2 + 2 * v + 1

    compiled = torch.compile(poly_ops)
    fused = cupy.fuse(poly_ops)
    return {
        "copy": (t, lambda: t.clone()),
        "torch eager": (t, lambda: t**2 + 2 * t + 1),
        "torch.compile": (t, lambda: compiled(t)),
        "cupy.fuse": (c, lambda: fused(c)),
        "xpkern torch": (t, lambda: poly(t)),
        "xpkern cupy": (c, lambda: poly(c)),
        "xpkern generic torch": (t, lambda: _forced("generic")(t)),
    }


def run_cpu(sizes: list[int], repeat: int) -> list[dict]:
    rows = []
    for n in sizes:
        for dtype in ("float64", "float32"):
            x = np.random.default_rng(0).random(n).astype(dtype)
            row: dict[str, Any] = {"device": "cpu", "n": n, "dtype": dtype,
                                   "auto": xpkern.explain(poly, x).impl}  # fmt: skip
            for name, fn in _cpu_peers(x).items():
                row[f"{name} ms"] = measure(fn, lambda: None, repeat=repeat) * 1e3
            row["fused vs numpy"] = row["numpy ms"] / row["xpkern fused ms"]
            row["fused / copy"] = row["xpkern fused ms"] / row["copy ms"]
            rows.append(row)
            print(row, flush=True)
    return rows


def run_gpu(sizes: list[int], repeat: int) -> list[dict]:
    rows = []
    for n in sizes:
        for dtype in ("float32",):
            row: dict[str, Any] = {"device": "cuda", "n": n, "dtype": dtype}
            for name, (x, fn) in _gpu_peers(n, dtype).items():
                row[f"{name} us"] = measure(fn, sync_for(x), repeat=repeat) * 1e6
            row["fused / copy"] = row["xpkern torch us"] / row["copy us"]
            row["torch eager / fused"] = row["torch eager us"] / row["xpkern torch us"]
            rows.append(row)
            print(row, flush=True)
    return rows


def suite(gpu: bool, quick: bool) -> list[dict]:
    """The rows of this benchmark (the harness in ``benchmarks/__main__.py`` calls it)."""
    if gpu:
        sizes = [10**3, 10**4, 10**5, 10**6, 10**7, 2**27] if not quick else [10**3, 10**6]
        return run_gpu(sizes, 3 if quick else 7)
    sizes = [10**3, 10**4, 10**5, 10**6, 10**7] if not quick else [10**3, 10**5]
    return run_cpu(sizes, 3 if quick else 7)


def main() -> None:
    args = arguments()
    rows = suite(args.gpu, args.quick)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    save("elementwise-gpu" if args.gpu else "elementwise-cpu", rows, columns, args.out)


if __name__ == "__main__":
    main()
