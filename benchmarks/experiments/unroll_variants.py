"""How many loads each thread of the elementwise CUDA kernel keeps in flight, and how many
blocks the grid has: x**2 + 2x + 1 on 2^27 float32 CUDA tensors for each unroll factor and
blocks per multiprocessor, next to the device copy (one run).

Run: ``python -m benchmarks.experiments.unroll_variants [--out DIR]`` on a CUDA machine. Decides
``xpkern.engines.cuda.device.grid_rule`` (4 loads in flight and 32 blocks per SM from 4 TB/s:
the H200 figures in benchmarks/results/unroll-variants-nvidia-h200.md); the last row is the
rule's own choice.
"""

from __future__ import annotations

from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, measure, save
from xpkern.backends import resolve
from xpkern.engines.cuda.device import grid_rule
from xpkern.ops.elementwise.cuda import run


def rows() -> list[dict[str, Any]]:
    x = torch.rand(2**27, device="cuda")
    sync = torch.cuda.synchronize
    out = torch.empty_like(x)
    copy = measure(lambda: out.copy_(x), sync)
    found: list[dict[str, Any]] = [{"variant": "copy_ into a buffer", "us": copy * 1e6}]
    poly = xpkern.elementwise(lambda v: v**2 + 2 * v + 1)
    ctx, shape = resolve(x), tuple(x.shape)
    for per_sm in (8, 16, 32):
        for unroll in (1, 2, 4, 8):
            t = measure(lambda u=unroll, b=per_sm: run(ctx, poly, (x,), shape, None, unroll=u,
                                                       blocks_per_sm=b), sync)  # fmt: skip
            found.append({"variant": f"unroll {unroll}, {per_sm} blocks/SM", "us": t * 1e6,
                          "x copy": t / copy})  # fmt: skip
    t = measure(lambda: poly(x), sync)
    unroll, per_sm = grid_rule()
    found.append({"variant": f"the rule: unroll {unroll}, {per_sm} blocks/SM", "us": t * 1e6,
                  "x copy": t / copy})  # fmt: skip
    return found


def main() -> None:
    args = arguments()
    save("unroll-variants", rows(), ["variant", "us", "x copy"], args.out)


if __name__ == "__main__":
    main()
