"""The machine's own limits, measured in the same run as everything else: the copy floor
(one read and one write of an array, the least any elementwise op can cost) and the matmul
ceiling (the rate of the library's own GEMM)."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks._harness import measure


def suite(gpu: bool, quick: bool) -> list[dict[str, Any]]:
    return _gpu(quick) if gpu else _cpu(quick)


def _cpu(quick: bool) -> list[dict[str, Any]]:
    n = 10**6 if quick else 10**7
    x = np.random.default_rng(0).random(n)
    out = np.empty_like(x)
    copy = measure(lambda: np.copyto(out, x), lambda: None)
    k = 1024 if quick else 2048
    a = np.random.default_rng(1).random((k, k), dtype=np.float32)
    gemm = measure(lambda: a @ a, lambda: None)
    return [
        {"what": f"copy {n} float64", "ms": 1e3 * copy, "rate": 2 * x.nbytes / copy / 1e9,
         "unit": "GB/s"},
        {"what": f"matmul {k}x{k} float32 (NumPy)", "ms": 1e3 * gemm,
         "rate": 2 * k**3 / gemm / 1e9, "unit": "GFLOP/s"},
    ]  # fmt: skip


def _gpu(quick: bool) -> list[dict[str, Any]]:
    import torch

    n = 2**24 if quick else 2**27
    x = torch.rand(n, device="cuda")
    out = torch.empty_like(x)
    sync = torch.cuda.synchronize
    copy = measure(lambda: out.copy_(x), sync)
    k = 4096 if quick else 8192
    a = torch.randn(k, k, device="cuda")
    gemm = measure(lambda: a @ a, sync)
    return [
        {"what": f"copy {n} float32", "ms": 1e3 * copy, "rate": 2 * 4 * n / copy / 1e9,
         "unit": "GB/s"},
        {"what": f"matmul {k}x{k} float32 (torch, no TF32)", "ms": 1e3 * gemm,
         "rate": 2 * k**3 / gemm / 1e12, "unit": "TFLOP/s"},
    ]  # fmt: skip
