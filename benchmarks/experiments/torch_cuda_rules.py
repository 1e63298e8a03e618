"""Torch CUDA tensors: torch's own ops against xpkern's row kernels, as repeated calls.

Run: ``python -m benchmarks.experiments.torch_cuda_rules [--quick] [--out DIR]`` on a CUDA
machine with torch and CuPy.
For ``mean_var`` and ``softmax`` xpkern takes torch's own ops on CUDA tensors first
(``ops/stats/native.py``, ``ops/special/native.py``); the CUDA row kernels are the
alternative. Each is timed as a user's repeated call runs it (kept per signature and per
``config``): ``auto`` (torch's ops) and ``config(impl="numba-cuda")`` (the kernel), with
torch's own single op as the floor and the cost of entering ``config`` (timed alone)
subtracted. Each is timed synchronised after every call (latency) and pipelined.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, fastest_batches, save

SIZES = [1000, 100_000, 1 << 20, 1 << 24]
CASES: dict[str, tuple[Callable[..., Any], Callable[[torch.Tensor], Any]]] = {
    "mean_var": (xpkern.mean_var, lambda x: torch.var_mean(x, correction=0)),
    "softmax": (xpkern.softmax, lambda x: torch.softmax(x, -1)),
}


def _forced(fn: Callable[[], Any], impl: str) -> Callable[[], Any]:
    def call() -> Any:
        with xpkern.config(impl=impl):
            return fn()

    return call


def _row(name: str, x: torch.Tensor, quick: bool) -> dict[str, Any]:
    ours, theirs = CASES[name]
    fns = {
        "torch": lambda: theirs(x),
        "auto": lambda: ours(x),
        "kernel": _forced(lambda: ours(x), "numba-cuda"),
        "config": _forced(lambda: None, "auto"),
    }
    picks = xpkern.explain(ours, x).impl
    row: dict[str, Any] = {"op": name, "dtype": str(x.dtype).split(".")[1],
                           "size": x.numel(), "auto picks": picks}  # fmt: skip
    for label, each_sync in (("latency", True), ("pipelined", False)):
        inner = dict.fromkeys(fns, 20 if quick else 100)
        times = fastest_batches(fns, torch.cuda.synchronize, rounds=5 if quick else 7,
                                inner=inner, each_sync=each_sync)  # fmt: skip
        times["kernel"] = max(times["kernel"] - times.pop("config"), 1e-9)
        for key, t in times.items():
            row[f"{label} {key} us"] = 1e6 * t
    return row


def rows(quick: bool) -> list[dict[str, Any]]:
    found = []
    for dtype in (torch.float32, torch.float64):
        for size in SIZES[:2] if quick else SIZES:
            x = torch.randn(size, device="cuda", dtype=dtype)
            found += [_row(name, x, quick) for name in CASES]
    return found


def main() -> None:
    args = arguments()
    columns = ["op", "dtype", "size", "auto picks"] + [
        f"{label} {key} us"
        for label in ("latency", "pipelined")
        for key in ("torch", "auto", "kernel")
    ]
    save("torch-cuda-rules", rows(args.quick), columns, args.out)


if __name__ == "__main__":
    main()
