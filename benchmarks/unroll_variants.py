"""How many loads each thread of the elementwise CUDA kernel keeps in flight, and how many
blocks the grid has: x**2 + 2x + 1 on 2^27 float32 CUDA tensors for each unroll factor and
blocks per multiprocessor, next to the device copy (one run).

Run: ``python -m benchmarks.unroll_variants [--out DIR]`` on a CUDA machine. Decides
``_cuda._grid_rule``; the last row is the rule's own choice.
"""

from __future__ import annotations

from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, measure, save
from xpkern import _cuda


def rows() -> list[dict[str, Any]]:
    x = torch.rand(2**27, device="cuda")
    sync = torch.cuda.synchronize
    out = torch.empty_like(x)
    copy = measure(lambda: out.copy_(x), sync)
    found: list[dict[str, Any]] = [{"variant": "copy_ into a buffer", "us": copy * 1e6}]
    chosen = (_cuda.UNROLL, _cuda._BLOCKS_PER_SM)
    try:
        for per_sm in (8, 16, 32):
            for unroll in (1, 2, 4, 8):
                _cuda.UNROLL, _cuda._BLOCKS_PER_SM = unroll, per_sm
                _cuda._max_blocks.cache_clear()
                poly = xpkern.elementwise(lambda v: v**2 + 2 * v + 1)
                t = measure(lambda poly=poly: poly(x), sync)
                found.append({"variant": f"unroll {unroll}, {per_sm} blocks/SM", "us": t * 1e6,
                              "x copy": t / copy})  # fmt: skip
    finally:
        _cuda.UNROLL, _cuda._BLOCKS_PER_SM = chosen
        _cuda._max_blocks.cache_clear()
    poly = xpkern.elementwise(lambda v: v**2 + 2 * v + 1)
    t = measure(lambda: poly(x), sync)
    unroll, per_sm = _cuda._grid_rule()
    found.append({"variant": f"the rule: unroll {unroll}, {per_sm} blocks/SM", "us": t * 1e6,
                  "x copy": t / copy})  # fmt: skip
    return found


def main() -> None:
    args = arguments()
    save("unroll-variants", rows(), ["variant", "us", "x copy"], args.out)


if __name__ == "__main__":
    main()
