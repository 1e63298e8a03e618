"""Torch CUDA tensors: torch's own ops against xpkern's row kernels, both as kept calls.

Run: ``python -m benchmarks.experiments.torch_cuda_rules [--quick] [--out DIR]`` on a CUDA
machine with torch and CuPy.
For ``mean_var`` and ``softmax`` xpkern takes torch's own ops on CUDA tensors first
(``ops/stats/native.py``, ``ops/special/native.py``); the row kernels are the alternative. Both
are timed as a user's repeated call runs them (kept per signature): the default, and the same
call with torch's implementation ruled out so that the kernel is kept instead; torch's own op
is the floor. Rows are reduced along the last axis. Each is timed synchronised after every
call (latency) and pipelined. (The rules this chose now put the kernels first where they
won, so the default column shows the kernel there and both columns time it.)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, fastest_batches, save
from xpkern._dispatch import Op
from xpkern.ops.special import core as special
from xpkern.ops.stats import core as stats

# The auto suite's shapes (rows of 1000 from 1000 elements on) and the large call's.
SHAPES = [(1000,), (100, 1000), (1000, 1000), (16384, 1000), (65536, 256), (4096, 4096),
          (8192, 8192)]  # fmt: skip
_KEPT = (special._softmax_calls, special._log_softmax_calls, special._logsumexp_calls,
         stats._calls)  # fmt: skip


@contextlib.contextmanager
def ruled_out(op: Op, name: str) -> Iterator[None]:
    """``op`` with its implementation ``name`` never winning, kept calls started afresh."""
    i = next(k for k, impl in enumerate(op.impls) if impl.name == name)
    saved = op.impls[i]
    op.impls[i] = dataclasses.replace(saved, wins=lambda *a, **k: "ruled out to measure")
    _forget()
    try:
        yield
    finally:
        op.impls[i] = saved
        _forget()


def _forget() -> None:
    for kept in _KEPT:
        kept.clear()
    for op in (stats.mean_var_op, special.softmax_op):
        op._chosen.clear()


def _cases(x: torch.Tensor) -> dict[str, tuple[Op, Callable[[], Any], Callable[[], Any]]]:
    return {
        "mean_var": (stats.mean_var_op, lambda: xpkern.mean_var(x, axis=-1),
                     lambda: torch.var_mean(x, dim=-1, correction=0)),
        "softmax": (special.softmax_op, lambda: xpkern.softmax(x, axis=-1),
                    lambda: torch.softmax(x, -1)),
    }  # fmt: skip


def _time(fns: dict[str, Callable[[], Any]], quick: bool, each_sync: bool) -> dict[str, float]:
    inner = dict.fromkeys(fns, 20 if quick else 100)
    return fastest_batches(fns, torch.cuda.synchronize, rounds=5 if quick else 7, inner=inner,
                           each_sync=each_sync)  # fmt: skip


def rows(quick: bool) -> list[dict[str, Any]]:
    found = []
    for dtype in (torch.float32, torch.float64):
        for shape in SHAPES[:3] if quick else SHAPES:
            x = torch.randn(shape, device="cuda", dtype=dtype)
            for name, (op, ours, theirs) in _cases(x).items():
                public = _public(name)
                row: dict[str, Any] = {
                    "op": name,
                    "dtype": str(dtype).split(".")[1],
                    "shape": "x".join(map(str, shape)),
                    "default": xpkern.explain(public, x, axis=-1).impl,
                }
                with ruled_out(op, "torch"):
                    row["instead"] = xpkern.explain(public, x, axis=-1).impl
                for each_sync, label in ((True, "latency"), (False, "pipelined")):
                    times = _time({"torch": theirs}, quick, each_sync)
                    _forget()
                    times.update(_time({"default": ours}, quick, each_sync))
                    with ruled_out(op, "torch"):
                        times.update(_time({"instead": ours}, quick, each_sync))
                    for key, t in times.items():
                        row[f"{label} {key} us"] = 1e6 * t
                print(row, flush=True)
                found.append(row)
    return found


def _public(name: str) -> Callable[..., Any]:
    return {"mean_var": xpkern.mean_var, "softmax": xpkern.softmax}[name]


def main() -> None:
    args = arguments()
    columns = ["op", "dtype", "shape", "default", "instead"] + [
        f"{label} {key} us"
        for label in ("latency", "pipelined")
        for key in ("torch", "default", "instead")
    ]
    save("torch-cuda-rules", rows(args.quick), columns, args.out)


if __name__ == "__main__":
    main()
