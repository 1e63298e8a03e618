"""The CUDA ``mean_var`` kernel on a few long rows, where a warp or block a row leaves most
multiprocessors idle, against the library's own reductions, which spread one row over the
device: torch's (``mean`` and ``var``, and ``var_mean``), and with CuPy installed CuPy's
(the generic path, and ``mean`` and ``var``).

Run: ``python -m benchmarks.experiments.mean_var_few_rows [--out DIR]`` on a CUDA machine with
torch.
Checks the rule ``xpkern.ops.stats.cuda.parts_for`` (fewer rows than multiprocessors, longer
than ``SPLIT_ROW``, split over several blocks each) and that such rows take the kernel rather
than the library's own reductions. Each column is timed as a user's single call (synchronised
after each call) and, as "piped", pipelined (one synchronisation a batch of calls). The
kernels are called directly as kept calls (launches prepared once, as ``auto`` keeps them),
with no dispatch ("split" as ``parts_for`` splits rows longer than ``SPLIT_ROW``, for
``SPLIT_BLOCKS`` blocks a multiprocessor, or as named for 1, 2 or 8; "block a row" one block
a row), and so are the libraries' own reductions; "auto" is ``xpkern.mean_var`` itself, a
kept call; CuPy's "generic" is forced through ``xpkern.config`` (the full path each call).
"""

from __future__ import annotations

from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, measure, save

SHAPES = [(1, 1 << 14), (1, 1 << 16), (1, 1 << 18), (1, 1 << 19), (1, 1 << 20), (1, 1 << 24),
          (16, 1 << 16), (16, 1 << 18), (16, 1 << 19), (16, 1 << 20), (128, 1 << 16),
          (128, 1 << 17)]  # fmt: skip


def _kernel(x: Any, parts: int | None, blocks: int | None = None) -> Any:
    """The kernel's call on ``x`` in ``parts`` blocks a row (None: as ``parts_for`` splits
    rows longer than ``SPLIT_ROW`` for ``blocks`` blocks a multiprocessor, by default
    ``SPLIT_BLOCKS``, whatever the library, so that the split is timed everywhere)."""
    from xpkern.backends import resolve
    from xpkern.engines.cuda import multiprocessors
    from xpkern.ops.stats.cuda import SPLIT_BLOCKS, kept_mean_var, parts_for

    ctx = resolve(x)
    if parts is None:
        n, count = int(x.shape[-1]), int(x.shape[0])
        parts = parts_for(n, count, multiprocessors(), blocks or SPLIT_BLOCKS)
    call = kept_mean_var(ctx, x, 0.0, parts=parts)
    return lambda: call(x)


def _timed(row: dict[str, Any], name: str, fn: Any, sync: Any) -> None:
    """``fn``'s single-call latency (synchronised after each call) as ``name us`` and its
    pipelined time a call (one synchronisation a batch) as ``name piped us``."""
    row[f"{name} us"] = 1e6 * measure(lambda: (fn(), sync()), sync)
    row[f"{name} piped us"] = 1e6 * measure(fn, sync)


def rows() -> list[dict[str, Any]]:
    sync = torch.cuda.synchronize
    found = []
    for shape in SHAPES:
        x = torch.randn(shape, device="cuda")
        row: dict[str, Any] = {"shape": "x".join(map(str, shape))}
        _timed(row, "torch.var_mean", lambda x=x: torch.var_mean(x, dim=-1, correction=0), sync)
        both = lambda x=x: (torch.mean(x, dim=-1), torch.var(x, dim=-1, correction=0))  # noqa: E731
        _timed(row, "torch mean, var", both, sync)
        _timed(row, "split", _kernel(x, None), sync)
        for blocks in (1, 2, 8):
            _timed(row, f"split {blocks}/SM", _kernel(x, None, blocks), sync)
        _timed(row, "block a row", _kernel(x, 1), sync)
        _timed(row, "auto", lambda x=x: xpkern.mean_var(x, axis=-1), sync)
        row.update(_cupy_columns(x))
        print(row, flush=True)
        found.append(row)
    return found


def _cupy_columns(x: Any) -> dict[str, float]:
    try:
        import cupy
    except ImportError:
        return {}
    c = cupy.asarray(x)
    sync = cupy.cuda.Device().synchronize
    found: dict[str, float] = {}
    _timed(found, "cupy mean, var", lambda: (c.mean(axis=-1), c.var(axis=-1)), sync)
    _timed(found, "cupy split", _kernel(c, None), sync)
    _timed(found, "cupy block a row", _kernel(c, 1), sync)
    with xpkern.config(impl="generic"):
        _timed(found, "cupy generic", lambda: xpkern.mean_var(c, axis=-1), sync)
    _timed(found, "cupy auto", lambda: xpkern.mean_var(c, axis=-1), sync)
    return found


def main() -> None:
    args = arguments()
    names = ["torch.var_mean", "torch mean, var", "split", "split 1/SM", "split 2/SM",
             "split 8/SM", "block a row", "auto", "cupy mean, var", "cupy split",
             "cupy block a row", "cupy generic", "cupy auto"]  # fmt: skip
    columns = ["shape"] + [f"{name}{kind} us" for kind in ("", " piped") for name in names]
    save("mean-var-few-rows", rows(), columns, args.out)


if __name__ == "__main__":
    main()
