"""Where the time of one small fused GPU call goes: ``python -m benchmarks.launch_profile``."""

from __future__ import annotations

import cProfile
import pstats
import time

import torch

import xpkern

poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)


def main() -> None:
    x = torch.rand(1000, device="cuda")
    for _ in range(100):
        poly(x)
    torch.cuda.synchronize()
    for label, fn in [("xpkern", lambda: poly(x)), ("torch op", lambda: x * 2.0),
                      ("torch.empty", lambda: torch.empty(1000, device="cuda"))]:  # fmt: skip
        start = time.perf_counter()
        for _ in range(10000):
            fn()
        torch.cuda.synchronize()
        print(f"{label}: {(time.perf_counter() - start) / 10000 * 1e6:.1f} us per call")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(10000):
        poly(x)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(14)


if __name__ == "__main__":
    main()
