"""The Gram matrix of a few rows on CUDA: one kernel launch against BLAS.

Run: ``python -m benchmarks.experiments.small_gram [--quick] [--out DIR]`` on a CUDA machine
with torch and CuPy.
Chose ``xpkern.ops.linalg.cuda.SMALL_N`` and ``SMALL_WORK``. ``matmul(x)`` must be exactly
symmetric; through BLAS that takes a product and a mirroring pass (two launches, or syrk and
its mirror), through the small kernel one launch that writes each dot product to both halves.
For CuPy arrays and CUDA tensors of several shapes, ``xpkern.matmul(x)`` is timed as a user's
repeated call runs it (kept), once with the kernel made to win and once with it ruled out
(xpkern then takes what it takes without it), next to the library's ``m @ m.T`` (not exactly
symmetric); each synchronised after every call (latency) and pipelined.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import cupy
import torch

import xpkern
from benchmarks._harness import arguments, fastest_batches, save
from xpkern.ops.linalg import core

SHAPES = [(16, 10), (100, 10), (256, 10), (100, 100), (256, 64), (512, 16), (1024, 16),
          (100, 1000), (256, 256), (512, 128)]  # fmt: skip


@contextlib.contextmanager
def kernel_wins(verdict: str | None) -> Iterator[None]:
    """The small kernel's rule replaced by ``verdict`` (None: it wins where it runs)."""
    i = next(k for k, impl in enumerate(core.gram.impls) if impl.name == "numba-cuda")
    saved = core.gram.impls[i]
    core.gram.impls[i] = dataclasses.replace(saved, wins=lambda *a, **k: verdict)
    _forget()
    try:
        yield
    finally:
        core.gram.impls[i] = saved
        _forget()


def _forget() -> None:
    core._gram_calls.clear()
    core.gram._chosen.clear()


def _row(name: str, m: Any, sync: Callable[[], None], quick: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"backend": name, "shape": "x".join(map(str, m.shape)),
                           "auto": xpkern.explain(xpkern.matmul, m).impl}  # fmt: skip
    inner = 20 if quick else 100
    for each_sync, label in ((True, "latency"), (False, "pipelined")):
        native = {"m @ m.T": lambda: m @ m.T}
        times = fastest_batches(native, sync, rounds=5, inner=dict.fromkeys(native, inner),
                                each_sync=each_sync)  # fmt: skip
        for key, verdict in (("kernel", None), ("without", "ruled out to measure")):
            with kernel_wins(verdict):
                row[f"{key} impl"] = xpkern.explain(xpkern.matmul, m).impl
                times.update(fastest_batches({key: lambda: xpkern.matmul(m)}, sync, rounds=5,
                                             inner={key: inner}, each_sync=each_sync))  # fmt: skip
        for key, t in times.items():
            row[f"{label} {key} us"] = 1e6 * t
    print(row, flush=True)
    return row


def rows(quick: bool) -> list[dict[str, Any]]:
    found = []
    for shape in SHAPES[:4] if quick else SHAPES:
        x = torch.randn(shape, device="cuda")
        found.append(_row("torch-cuda", x, torch.cuda.synchronize, quick))
        found.append(_row("cupy", cupy.asarray(x), cupy.cuda.Device().synchronize, quick))
    return found


def main() -> None:
    args = arguments()
    columns = ["backend", "shape", "auto", "kernel impl", "without impl"] + [
        f"{label} {key} us"
        for label in ("latency", "pipelined")
        for key in ("m @ m.T", "kernel", "without")
    ]
    save("small-gram", rows(args.quick), columns, args.out)


if __name__ == "__main__":
    main()
