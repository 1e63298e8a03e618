"""The CUDA ``mean_var`` kernel on a few long rows, where a block a row leaves most
multiprocessors idle, against torch's own reductions, which spread one row over the device.

Run: ``python -m benchmarks.experiments.mean_var_few_rows [--out DIR]`` on a CUDA machine with
torch.
Checks the rule ``xpkern.ops.stats.cuda.LONG_ROW`` (set without this run: torch tensors with
fewer rows than multiprocessors, longer than it, keep torch's own reductions). Each call is
synchronised (a user's single call); the implementations are forced through
``xpkern.config``, so each takes the full path (the same host time on both sides).
"""

from __future__ import annotations

from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, measure, save

SHAPES = [(1, 1 << 14), (1, 1 << 16), (1, 1 << 20), (1, 1 << 24), (16, 1 << 16), (16, 1 << 20),
          (128, 1 << 16), (128, 1 << 17)]  # fmt: skip


def rows() -> list[dict[str, Any]]:
    sync = torch.cuda.synchronize
    found = []
    for shape in SHAPES:
        x = torch.randn(shape, device="cuda")
        row: dict[str, Any] = {"shape": "x".join(map(str, shape))}
        row["torch.var_mean us"] = 1e6 * measure(
            lambda x=x: torch.var_mean(x, dim=-1, correction=0), sync
        )
        for impl in ("numba-cuda", "torch"):
            with xpkern.config(impl=impl):
                row[f"{impl} us"] = 1e6 * measure(lambda x=x: xpkern.mean_var(x, axis=-1), sync)
        print(row, flush=True)
        found.append(row)
    return found


def main() -> None:
    args = arguments()
    columns = ["shape", "torch.var_mean us", "numba-cuda us", "torch us"]
    save("mean-var-few-rows", rows(), columns, args.out)


if __name__ == "__main__":
    main()
