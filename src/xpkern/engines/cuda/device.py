"""What the current CUDA device is: multiprocessors, memory bandwidth, compute capability."""

from __future__ import annotations

from functools import cache

__all__ = ["compute_capability", "grid_rule", "memory_bandwidth", "multiprocessors"]


@cache
def multiprocessors() -> int:
    """Streaming multiprocessors of the current device (132 on an H100 SXM or an H200)."""
    try:
        import cupy

        return int(cupy.cuda.Device().attributes["MultiProcessorCount"])
    except Exception:  # no CuPy or no device: the simulator or numba's own launch
        return 132


@cache
def memory_bandwidth() -> float:
    """The current device's peak memory bandwidth in bytes/s (0 where unknown)."""
    try:
        import cupy

        attributes = cupy.cuda.Device().attributes
        # kHz x bits, two transfers a clock
        return 2e3 * attributes["MemoryClockRate"] * attributes["GlobalMemoryBusWidth"] / 8
    except Exception:  # no CuPy or no device
        return 0.0


# Loads in flight must cover bandwidth x latency (Little's law), so faster memory wants more of
# them. 2^27 float32 x**2+2x+1 in units of the copy time (benchmarks/experiments/
# unroll_variants.py, one run each): H100 (3.35 TB/s) unrolled 1 / 2 / 4 / 8 with 16 blocks per
# SM: 1.235 / 1.085 / 1.107 / 1.136; H200 (4.8 TB/s) 1.40 / 1.16 / 1.14 / 1.18, and by 4 with
# 32 blocks per SM 1.10.
FAST_MEMORY = 4e12


@cache
def grid_rule() -> tuple[int, int]:
    """(loads in flight per thread, blocks per SM) for grid-stride kernels over flat arrays."""
    return (4, 32) if memory_bandwidth() >= FAST_MEMORY else (2, 16)


@cache
def compute_capability(device: int) -> int:
    """The compute capability of CUDA device ``device`` as one number (90 for 9.0)."""
    import cupy

    return int(cupy.cuda.Device(device).compute_capability)
