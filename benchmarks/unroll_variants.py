"""How many loads each thread of the elementwise CUDA kernel keeps in flight: x**2 + 2x + 1 on
2^27 float32 CUDA tensors for each unroll factor, next to the device copy (one run).

Run: ``python -m benchmarks.unroll_variants`` on a CUDA machine. Decides ``_cuda.UNROLL``.
"""

from __future__ import annotations

import torch

import xpkern
from benchmarks._harness import measure
from xpkern import _cuda


def main() -> None:
    x = torch.rand(2**27, device="cuda")
    sync = torch.cuda.synchronize
    copy = measure(lambda: x.clone(), sync)
    print(f"copy {copy * 1e6:.1f} us")
    for unroll in (1, 2, 4, 8):
        _cuda.UNROLL = unroll
        poly = xpkern.elementwise(lambda v: v**2 + 2 * v + 1)
        t = measure(lambda poly=poly: poly(x), sync)
        print(f"unroll {unroll}: {t * 1e6:.1f} us = {t / copy:.3f}x copy")
    _cuda.UNROLL = 2


if __name__ == "__main__":
    main()
