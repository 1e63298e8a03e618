"""When the whole training loop as one kernel beats the matmul-based generic path.

benchmarks/results/fit_linear-*.md, 1000 steps. CPU (2 cores): 64x10 takes 0.71 ms in the
Numba loop against 149 ms for torch's loop and 41 ms for the composed generic path; at
256x32 (n*d*m = 8192) the loop still wins 4x (9.8 vs 43 ms), at 65536 it loses (81-90 vs
57-64 ms): the loop is serial. H100: the one-block kernel takes 5.8 ms for 64x10 (torch's
loop: 711 ms) and 15 ms for 256x32 (generic: 218 ms); past 2^14 the data outgrows shared
memory and the matmul-based generic path takes over.
"""

from __future__ import annotations

from typing import Any

from ...backends import Context

__all__ = ["CPU_MAX_WORK", "CUDA_MAX_WORK", "small"]

CPU_MAX_WORK = 2**15
CUDA_MAX_WORK = 2**14


def small(limit: int) -> Any:
    def wins(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> str | None:
        work = X.shape[0] * X.shape[1] * Y.shape[1]
        if work > limit:
            return f"n*d*m = {work} > {limit}: the matmul-based generic path is faster"
        return None

    return wins
