"""Where the time of one small fused GPU call goes: ``python -m benchmarks.launch_profile``.

Times x**2 + 2x + 1 on 1000 float32 elements (torch and CuPy), through the lean call (the
driver launch with a prepared argument block) and through the full dispatch, next to the pieces
of a call (output allocation, the launch alone) and to one-op torch and CuPy calls; then
profiles the xpkern call.
One run; a call's time is the mean over many calls queued back to back.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable
from typing import Any

import cupy
import torch

import xpkern
from benchmarks._harness import arguments, save
from xpkern import _cuda

CALLS = 20000


def per_call(fn: Callable[[], Any]) -> float:
    """Microseconds per call, best of five batches."""
    for _ in range(200):
        fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(CALLS // 5):
            fn()
        torch.cuda.synchronize()
        best = min(best, (time.perf_counter() - start) / (CALLS // 5))
    return best * 1e6


def _poly(v: Any) -> Any:
    return v**2 + 2 * v + 1


def _fast_call(poly: Any, x: Any) -> Any:
    return poly._fast[_cuda.fast_signature((x,))]


def rows() -> list[dict[str, Any]]:
    poly = xpkern.elementwise(lambda v: v**2 + 2 * v + 1)
    xt = torch.rand(1000, device="cuda")
    xc = cupy.random.rand(1000, dtype=cupy.float32)
    out: list[dict[str, Any]] = []

    def add(what: str, fn: Callable[[], Any]) -> None:
        out.append({"what": what, "us per call": per_call(fn)})

    add("torch op (x * 2.0)", lambda: xt * 2.0)
    add("torch.empty(1000)", lambda: torch.empty(1000, device="cuda"))
    add("torch.empty_like(x)", lambda: torch.empty_like(xt))
    add("cupy.empty(1000)", lambda: cupy.empty(1000, dtype=cupy.float32))
    double = cupy.ElementwiseKernel("T x", "T y", "y = x * 2", "xpkern_bench_double")
    add("cupy ElementwiseKernel (x * 2)", lambda: double(xc))
    poly_fuse = cupy.fuse(_poly)  # CuPy names the kernel after the function: no lambda
    add("cupy.fuse", lambda: poly_fuse(xc))
    for label, x in (("torch", xt), ("cupy", xc)):
        poly(x)
        fast = _fast_call(poly, x)
        block = fast.block
        scratch = x.clone() if label == "torch" else x.copy()
        values = [_cuda._pointer(scratch), _cuda._pointer(x), 1000]
        stream = _cuda._torch_raw_stream(torch, 0) if label == "torch" else 0
        add(f"driver launch alone ({label} stream)",
            lambda b=block, v=values, s=stream: b.launch(4, 256, s, v))  # fmt: skip
        add(f"xpkern {label}, lean call", lambda x=x: poly(x))
        lean, poly._fast_calls = poly._fast_calls, ()
        add(f"xpkern {label}, full path (dispatch each call)", lambda x=x: poly(x))
        poly._fast_calls = lean
        want = x**2 + 2 * x + 1
        assert float(abs(poly(x) - want).max()) <= 1e-6 * float(abs(want).max())
    return out


def profile() -> None:
    poly = xpkern.elementwise(lambda v: v**2 + 2 * v + 1)
    x = torch.rand(1000, device="cuda")
    poly(x)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(CALLS):
        poly(x)
    prof.disable()
    torch.cuda.synchronize()
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)


def main() -> None:
    args = arguments()
    save("launch", rows(), ["what", "us per call"], args.out)
    profile()


if __name__ == "__main__":
    main()
