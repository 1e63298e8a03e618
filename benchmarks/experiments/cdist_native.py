"""Where torch's own ``cdist`` on exact differences stops beating the CUDA kernels: every
``cdist`` implementation forced on n x n x d float32 CUDA tensors, next to ``torch.cdist`` in
its default mode, one synchronised call each (one run). The generic Gram's call (the product
and the mirrored triangle) beside ``m @ m.T`` on the same tensors.

Run on a GPU: ``python -m benchmarks.experiments.cdist_native [--quick] [--out DIR]``. Chose
``_MAX_WORK`` in ``xpkern/ops/distance/native.py`` (benchmarks/results/cdist-native-*.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, measure, save

SHAPES = [(7, 16), (79, 16), (256, 16), (1024, 16), (1024, 64), (2048, 64), (4096, 64),
          (8192, 64), (16384, 64)]  # fmt: skip


def _latency(fn: Callable[[], Any], sync: Callable[[], None], repeat: int) -> float:
    def call() -> None:
        fn()
        sync()

    return measure(call, lambda: None, repeat=repeat, min_time=0.02) * 1e6


def _row(n: int, d: int, repeat: int) -> dict[str, Any]:
    import torch

    host = np.random.default_rng(n + d).standard_normal((n, d)).astype(np.float32)
    m = torch.from_numpy(host).cuda()
    sync = torch.cuda.synchronize
    found = xpkern.explain(xpkern.cdist, m, m)
    row: dict[str, Any] = {"n": n, "d": d, "pair-features": n * n * d, "auto": found.impl}
    row["torch.cdist us"] = _latency(lambda: torch.cdist(m, m), sync, repeat)
    times = {}
    for impl in found.supported():
        if impl == "generic" and n * n * d > 2**28:
            continue  # its difference blocks take seconds here
        with xpkern.config(impl=impl):
            times[impl] = _latency(lambda: xpkern.cdist(m, m), sync, repeat)
        row[f"{impl} us"] = times[impl]
    best = min(times, key=times.__getitem__)
    row["fastest"] = best
    row["auto / fastest"] = times[found.impl] / times[best]
    if n <= 2048:
        wide = host.astype(np.float64)
        ref = np.sqrt(((wide[:, None, :] - wide[None]) ** 2).sum(-1))
        got = xpkern.cdist(m, m).cpu().numpy()
        row["max rel err"] = float(np.max(np.abs(got - ref) / np.maximum(ref, 1e-30)))
    if n <= 1024:
        with xpkern.config(impl="generic"):
            row["gram generic us"] = _latency(lambda: xpkern.matmul(m), sync, repeat)
        row["m @ m.T us"] = _latency(lambda: m @ m.T, sync, repeat)
    return row


def main() -> None:
    args = arguments()
    rows = [_row(n, d, 3 if args.quick else 7) for n, d in SHAPES]
    columns = ["n", "d", "pair-features", "torch.cdist us", "torch us", "numba-cuda us",
               "generic us", "auto", "fastest", "auto / fastest", "max rel err",
               "gram generic us", "m @ m.T us"]  # fmt: skip
    save("cdist-native", rows, columns, args.out)


if __name__ == "__main__":
    main()
