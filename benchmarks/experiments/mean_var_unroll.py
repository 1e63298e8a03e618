"""The CUDA ``mean_var`` row kernel: threads a row, and values a thread reads before using them.

Run: ``python -m benchmarks.experiments.mean_var_unroll [--out DIR]`` on a CUDA machine with
torch.
Chose ``xpkern.ops.stats.cuda.UNROLL`` and ``threads_for``. With one load a thread in flight the
kernel reads far below the memory's bandwidth; reading several before using any keeps more
bytes in flight. A block of many threads on a short row spends its time merging the threads'
sums; fewer threads a row merge in fewer steps.
Each variant (threads a row / values read at a time) is launched (pipelined, so host time
hides) on rows of several shapes, next to ``torch.var_mean`` and the device copy of the input,
with its largest relative error against float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from benchmarks._harness import arguments, measure, save
from xpkern.backends import resolve
from xpkern.engines import cuda as engine
from xpkern.ops.stats.cuda import mean_var_kernel

SHAPES = [(8192, 8192), (16384, 4096), (65536, 1024), (262144, 256), (16384, 1000)]
VARIANTS = [(256, 1), (256, 4), (256, 8), (128, 4), (64, 4), (32, 4)]  # (threads, unroll)


def _relative(got: torch.Tensor, want: torch.Tensor) -> float:
    return float(((got.double() - want).abs() / want.abs().clamp_min(1e-30)).max())


def _row(x: torch.Tensor) -> dict[str, Any]:
    sync = torch.cuda.synchronize
    dtype = str(x.dtype).split(".")[1]
    copy = measure(lambda: x.clone(), sync)
    theirs = measure(lambda: torch.var_mean(x, dim=-1, correction=0), sync)
    row: dict[str, Any] = {"shape": "x".join(map(str, x.shape)), "dtype": dtype,
                           "copy us": copy * 1e6, "torch.var_mean us": theirs * 1e6}  # fmt: skip
    want_var, want_mean = torch.var_mean(x.double(), dim=-1, correction=0)
    ctx = resolve(x)
    largest = float(np.finfo(dtype).max)
    for threads, unroll in VARIANTS:
        kernel = mean_var_kernel(dtype, threads, unroll)
        out = engine.empty(ctx, (2, x.shape[0]), x.dtype, x)
        args = [x, 0.0, largest, out]
        launch = kernel.launcher(ctx, args)

        def call(launch: Any = launch, args: list[Any] = args, block: int = threads) -> None:
            launch.launch(ctx, (min(x.shape[0], 2**20),), (block,), args)

        call()
        sync()
        err = max(_relative(out[0], want_mean), _relative(out[1], want_var))
        t = measure(call, sync)
        row[f"{threads}/{unroll} us"] = t * 1e6
        row[f"{threads}/{unroll} x copy"] = t / copy
        row[f"{threads}/{unroll} rel err"] = err
    print(row, flush=True)
    return row


def rows() -> list[dict[str, Any]]:
    torch.manual_seed(0)
    found = []
    for dtype in (torch.float32, torch.float64):
        for shape in SHAPES:
            found.append(_row(torch.randn(shape, device="cuda", dtype=dtype) * 3 + 100))
    return found


def main() -> None:
    args = arguments()
    columns = ["shape", "dtype", "copy us", "torch.var_mean us"] + [
        f"{t}/{u} {what}" for t, u in VARIANTS for what in ("us", "x copy", "rel err")
    ]
    save("mean-var-unroll", rows(), columns, args.out)


if __name__ == "__main__":
    main()
