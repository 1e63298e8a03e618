"""The algorithm library's GPU targets, each as a ratio measured in one run.

Run: ``python -m benchmarks.algorithms_gpu [--quick] [--out DIR]`` on a machine with a CUDA GPU.

- logsumexp / softmax / log_softmax of an 8192 x 8192 float32 array along the last axis,
  against the device copy of the same array (one read, one write) and torch's own ops;
- cdist / rbf_kernel of 16384 x 64 against 16384 x 64 float32, against ``torch.cdist``
  (and ``exp`` for rbf), with the max abs error against a float64 reference;
- one k-means Lloyd iteration on 10^6 x 16 float32 with k = 64, fused against the composed
  generic path on the same backend.
"""

from __future__ import annotations

from typing import Any

import xpkern
from benchmarks._harness import arguments, measure, save
from xpkern.backends import resolve
from xpkern.ops.cluster import core as cluster
from xpkern.ops.distance import cuda as distance
from xpkern.ops.special.cuda import rows_run

COLUMNS = ["case", "impl", "ms", "ratio", "vs", "max_abs_err"]


def _rows_cases(torch: Any, n: int, rows: list[dict], repeat: int) -> None:
    x = torch.randn(n, n, device="cuda")
    out = torch.empty_like(x)
    sync = torch.cuda.synchronize
    copy = measure(lambda: out.copy_(x), sync, repeat=repeat)
    rows.append({"case": f"copy {n}x{n} f32", "impl": "torch copy_", "ms": 1e3 * copy})
    peers = {"logsumexp": torch.logsumexp, "softmax": torch.softmax,
             "log_softmax": torch.log_softmax}  # fmt: skip
    x64 = x.double()
    for name, peer in peers.items():
        fn = getattr(xpkern, name)
        want = fn(x64, axis=-1)
        for impl in ("numba-cuda", "generic"):
            with xpkern.config(impl=impl):
                t = measure(lambda fn=fn: fn(x, axis=-1), sync, repeat=repeat)
                err = float((fn(x, axis=-1).double() - want).abs().max())
            rows.append({"case": f"{name} {n}x{n} f32", "impl": impl, "ms": 1e3 * t,
                         "ratio": t / copy, "vs": "copy", "max_abs_err": err})  # fmt: skip
        for layout in ("registers", "shared", "global"):  # all layouts, for the record
            lanes = 256 if layout == "registers" else None
            t = measure(lambda name=name, layout=layout, lanes=lanes: rows_run(
                resolve(x), x, name, layout, lanes), sync, repeat=3)  # fmt: skip
            rows.append({"case": f"{name} {n}x{n} f32", "impl": f"numba-cuda, row in {layout}",
                         "ms": 1e3 * t, "ratio": t / copy, "vs": "copy"})  # fmt: skip
        t = measure(lambda peer=peer: peer(x, -1), sync, repeat=repeat)
        rows.append({"case": f"{name} {n}x{n} f32", "impl": f"torch.{name}", "ms": 1e3 * t,
                     "ratio": t / copy, "vs": "copy"})  # fmt: skip


def _pair_cases(torch: Any, n: int, rows: list[dict], repeat: int) -> None:
    x = torch.randn(n, 64, device="cuda")
    y = torch.randn(n, 64, device="cuda")
    sync = torch.cuda.synchronize
    ctx = resolve(x)
    exact = torch.cdist(x.double(), y.double(), compute_mode="donot_use_mm_for_euclid_dist")
    peer = measure(lambda: torch.cdist(x, y), sync, repeat=repeat)
    err = float((torch.cdist(x, y).double() - exact).abs().max())
    case = f"cdist {n}x{n}x64 f32"
    rows.append({"case": case, "impl": "torch.cdist", "ms": 1e3 * peer, "max_abs_err": err})
    variants = {
        xpkern.explain(xpkern.cdist, x, y).impl: lambda: xpkern.cdist(x, y),
        "SGEMM + epilogue": lambda: _sgemm(ctx, x, y),
        "tiled direct kernel (r=4)": lambda: distance.pairs_tiled(ctx, x, y, "euclidean", 0.0),
    }
    g = torch.empty(n, n, device="cuda")
    t = measure(lambda: torch.matmul(x, y.T, out=g), sync, repeat=repeat)
    rows.append({"case": case, "impl": "(x @ y.T alone, SGEMM)", "ms": 1e3 * t})
    t = measure(lambda: distance.cross(ctx, x, y, g), sync, repeat=repeat)
    err = float((g.double() - x.double() @ y.double().T).abs().max())
    rows.append({"case": case, "impl": "(x @ y.T alone, split TF32)", "ms": 1e3 * t,
                 "max_abs_err": err})  # fmt: skip
    for impl, call in variants.items():
        try:
            t = measure(call, sync, repeat=repeat)
        except Exception as exc:  # a variant that fails is recorded, not fatal
            rows.append({"case": case, "impl": f"{impl}: {type(exc).__name__}: {exc}"})
            continue
        err = float((call().double() - exact).abs().max())
        rows.append({"case": case, "impl": impl, "ms": 1e3 * t, "ratio": peer / t,
                     "vs": "torch.cdist (speed-up)", "max_abs_err": err})  # fmt: skip
    gamma = 1.0 / 64
    exact_k = torch.exp(-gamma * exact**2)
    peer = measure(lambda: torch.exp(-gamma * torch.cdist(x, y) ** 2), sync, repeat=repeat)
    case = f"rbf_kernel {n}x{n}x64 f32"
    rows.append({"case": case, "impl": "torch exp(cdist^2)", "ms": 1e3 * peer})
    t = measure(lambda: xpkern.rbf_kernel(x, y), sync, repeat=repeat)
    err = float((xpkern.rbf_kernel(x, y).double() - exact_k).abs().max())
    rows.append({"case": case, "impl": xpkern.explain(xpkern.rbf_kernel, x, y).impl,
                 "ms": 1e3 * t, "ratio": peer / t, "vs": "torch (speed-up)",
                 "max_abs_err": err})  # fmt: skip


def _sgemm(ctx: Any, x: Any, y: Any) -> Any:
    """cdist with x @ y.T on cuBLAS's float32 SGEMM instead of the split TF32 product."""
    from unittest import mock

    with mock.patch.object(
        distance.engine, "tf32_unavailable", lambda ctx, x: "off for this variant"
    ):
        return distance.pairs_gemm(ctx, x, y, "euclidean", 0.0)


def _kmeans_cases(torch: Any, n: int, rows: list[dict], repeat: int) -> None:
    g = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(n, 16, device="cuda", generator=g)
    centers = x[:64].clone()
    ctx = resolve(x)
    labels, _ = cluster.assign(ctx, x, centers)
    sync = torch.cuda.synchronize
    times = {}
    for impl in ("auto", "generic"):
        with xpkern.config(impl=impl):
            times[impl] = measure(lambda: cluster.lloyd_step(ctx, x, labels, centers), sync,
                                  repeat=repeat)  # fmt: skip
    fused = cluster.lloyd_step(ctx, x, labels, centers)
    with xpkern.config(impl="generic"):
        plain = cluster.lloyd_step(ctx, x, labels, centers)
    same = float((fused[1] == plain[1]).double().mean())
    for part, call in {
        "assign": lambda: cluster.assign(ctx, x, centers),
        "update": lambda: cluster.update(ctx, x, labels, centers),
    }.items():
        t = measure(call, sync, repeat=repeat)
        rows.append({"case": f"kmeans {part} {n}x16 k=64 f32", "impl": "numba-cuda",
                     "ms": 1e3 * t})  # fmt: skip
    case = f"kmeans Lloyd step {n}x16 k=64 f32"
    rows.append({"case": case, "impl": "generic", "ms": 1e3 * times["generic"]})
    rows.append({"case": case, "impl": "numba-cuda", "ms": 1e3 * times["auto"],
                 "ratio": times["generic"] / times["auto"], "vs": "generic (speed-up)",
                 "max_abs_err": float((fused[0] - plain[0]).abs().max()),
                 "labels_equal": same})  # fmt: skip


def suite(gpu: bool, quick: bool) -> list[dict]:
    """The rows of this benchmark (the harness in ``benchmarks/__main__.py`` calls it)."""
    import torch

    repeat = 3 if quick else 7
    rows: list[dict] = []
    _rows_cases(torch, 2048 if quick else 8192, rows, repeat)
    _pair_cases(torch, 4096 if quick else 16384, rows, repeat)
    _kmeans_cases(torch, 10**5 if quick else 10**6, rows, repeat)
    return rows


def main() -> None:
    args = arguments()
    rows = suite(True, args.quick)
    save("algorithms-gpu-targets", rows, [*COLUMNS, "labels_equal"], args.out)


if __name__ == "__main__":
    main()
