"""Gram matrix ``x @ x.T``: xpkern's choice and each implementation vs the library's own.

Run: ``python -m benchmarks.gram [--gpu] [--quick] [--out DIR]``. The CPU shape rule and the
GPU size threshold in ``xpkern/ops/linalg/cpu.py`` and ``cuda.py`` come from this table.
"""

from __future__ import annotations

import numpy as np

import xpkern
from benchmarks._harness import arguments, measure, save, sync_for

CPU_SHAPES = [
    (512, 512),
    (1024, 64),
    (1024, 1024),
    (2048, 128),
    (2048, 512),
    (2048, 2048),
    (4096, 64),
    (4096, 512),
]
GPU_SHAPES = [
    (256, 256),
    (512, 512),
    (1024, 256),
    (1024, 1024),
    (2048, 2048),
    (4096, 4096),
    (8192, 8192),
    (16384, 256),
    (8192, 64),
]


def _inputs(lib: str, shape: tuple[int, int], dtype: str):
    host = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    if lib == "numpy":
        return host
    if lib == "torch":
        import torch

        return torch.from_numpy(host)
    if lib == "torch-cuda":
        import torch

        return torch.from_numpy(host).cuda()
    import cupy

    return cupy.asarray(host)


def _row(lib: str, shape: tuple[int, int], dtype: str, repeat: int) -> dict:
    x = _inputs(lib, shape, dtype)
    sync = sync_for(x)
    xp = xpkern.namespace(x)
    plain = measure(lambda: xp.matmul(x, xp.matrix_transpose(x)), sync, repeat=repeat)
    found = xpkern.explain(xpkern.matmul, x)
    row = {
        "library": lib,
        "dtype": dtype,
        "n": shape[0],
        "k": shape[1],
        "plain_ms": plain * 1e3,
        "auto": found.impl,
    }
    for impl in found.supported():
        with xpkern.config(impl=impl):
            row[f"{impl}_ms"] = measure(lambda: xpkern.matmul(x), sync, repeat=repeat) * 1e3
    row["auto_speedup"] = row["plain_ms"] / row[f"{found.impl}_ms"]
    return row


def run(libs: list[str], shapes, dtypes, quick: bool) -> list[dict]:
    rows = []
    for lib in libs:
        for dtype in dtypes:
            for shape in shapes:
                rows.append(_row(lib, shape, dtype, 3 if quick else 7))
                print(rows[-1], flush=True)
    return rows


def suite(gpu: bool, quick: bool) -> list[dict]:
    """The rows of this benchmark (the harness in ``benchmarks/__main__.py`` calls it)."""
    libs, shapes = (["torch-cuda", "cupy"], GPU_SHAPES) if gpu else (["numpy"], CPU_SHAPES)
    if not gpu and not quick:
        libs = ["numpy", "torch"]
    return run(libs, shapes[:3] if quick else shapes, ["float32", "float64"], quick)


def main() -> None:
    args = arguments()
    rows = suite(args.gpu, args.quick)
    impls = sorted({k for r in rows for k in r if k.endswith("_ms") and k != "plain_ms"})
    save(
        "gram",
        rows,
        ["library", "dtype", "n", "k", "plain_ms", *impls, "auto", "auto_speedup"],
        args.out,
    )


if __name__ == "__main__":
    main()
