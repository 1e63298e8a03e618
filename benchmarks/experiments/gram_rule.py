"""Where the CPU Gram rule changes between BLAS syrk and gemm with its triangle mirrored: every
implementation forced on n x k NumPy arrays and CPU tensors, float32 and float64, next to the
library's own ``x @ x.T`` (one run).

Run: ``python -m benchmarks.experiments.gram_rule [--quick] [--out DIR]`` (--quick: float64,
fewer shapes). Chose ``_numpy_gemm_pays`` and ``_torch_gemm_pays`` in
``xpkern/ops/linalg/cpu.py`` (benchmarks/results/gram-rule-*.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, measure, save

# Rows on and off the multiples of 512 bytes where NumPy's syrk copies its triangle slowly
# (the multiples of 64 float64s and of 128 float32s).
ROWS = [32, 64, 100, 128, 200, 256, 320, 500, 512, 1000, 1024, 2000, 2048]
FEATURES = [4, 16, 64, 128, 256, 512, 1024]
MAX_WORK = 2**32  # multiply-adds; larger shapes take seconds each and add nothing new


def _row(lib: str, n: int, k: int, dtype: str, repeat: int) -> dict[str, Any]:
    host = np.random.default_rng(0).standard_normal((n, k)).astype(dtype)
    x = host
    if lib == "torch":
        import torch

        x = torch.from_numpy(host)
    found = xpkern.explain(xpkern.matmul, x)
    row: dict[str, Any] = {"library": lib, "dtype": dtype, "n": n, "k": k, "auto": found.impl}
    row["x @ x.T ms"] = measure(lambda: x @ x.T, lambda: None, repeat=repeat) * 1e3
    times = {}
    for impl in found.supported():
        if impl == "generic":
            continue
        with xpkern.config(impl=impl):
            times[impl] = measure(lambda: xpkern.matmul(x), lambda: None, repeat=repeat) * 1e3
        row[f"{impl.split('-')[-1]} ms"] = times[impl]
    best = min(times, key=times.__getitem__)
    row["fastest"] = best
    row["auto / fastest"] = times[found.impl] / times[best]
    return row


def main() -> None:
    args = arguments()
    libs = ["numpy"]
    try:
        import torch  # noqa: F401

        libs.append("torch")
    except ImportError:
        pass
    dtypes = ["float64"] if args.quick else ["float32", "float64"]
    rows = []
    for lib in libs:
        for dtype in dtypes:
            for n in ROWS[1::3] if args.quick else ROWS:
                for k in FEATURES:
                    if n * n * k <= MAX_WORK:
                        rows.append(_row(lib, n, k, dtype, 3 if args.quick else 7))
    columns = ["library", "dtype", "n", "k", "x @ x.T ms", "syrk ms", "gemm ms", "auto",
               "fastest", "auto / fastest"]  # fmt: skip
    save("gram-rule-stride", rows, columns, args.out)


if __name__ == "__main__":
    main()
