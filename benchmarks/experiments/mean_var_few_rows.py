"""The CUDA ``mean_var`` kernel on a few long rows, where a warp or block a row leaves most
multiprocessors idle, against the library's own reductions, which spread one row over the
device: torch's (``mean`` and ``var``, and ``var_mean``), and with CuPy installed CuPy's
(the generic path, and ``mean`` and ``var``).

Run: ``python -m benchmarks.experiments.mean_var_few_rows [--out DIR]`` on a CUDA machine with
torch.
Checks the rules ``xpkern.ops.stats.cuda.LONG_ROW`` (fewer rows than multiprocessors, longer
than it, keep the library's own reductions) and ``parts_for`` (such rows split over several
blocks each). Each call is synchronised (a user's single call). The kernels are called
directly, with no dispatch ("split" as ``parts_for`` splits rows longer than 8192, "block a
row" one block a row), and so are the libraries' own reductions; "auto" is
``xpkern.mean_var`` itself, a kept call; CuPy's "generic" is forced through
``xpkern.config`` (the full path each call).
"""

from __future__ import annotations

from typing import Any

import torch

import xpkern
from benchmarks._harness import arguments, measure, save

SHAPES = [(1, 1 << 14), (1, 1 << 16), (1, 1 << 18), (1, 1 << 19), (1, 1 << 20), (1, 1 << 24),
          (16, 1 << 16), (16, 1 << 18), (16, 1 << 19), (16, 1 << 20), (128, 1 << 16),
          (128, 1 << 17)]  # fmt: skip


def _kernel(x: Any, parts: int | None) -> Any:
    """The kernel's call on ``x`` in ``parts`` blocks a row (None: as ``parts_for`` splits
    rows longer than 8192, whatever the library, so that the split is timed everywhere)."""
    from xpkern.backends import resolve
    from xpkern.engines.cuda import multiprocessors
    from xpkern.ops.stats.cuda import parts_for, rows_mean_var

    ctx = resolve(x)
    if parts is None:
        parts = parts_for(int(x.shape[-1]), int(x.shape[0]), multiprocessors())
    return lambda: rows_mean_var(ctx, x, 0.0, parts=parts)


def rows() -> list[dict[str, Any]]:
    sync = torch.cuda.synchronize
    found = []
    for shape in SHAPES:
        x = torch.randn(shape, device="cuda")
        row: dict[str, Any] = {"shape": "x".join(map(str, shape))}
        row["torch.var_mean us"] = 1e6 * measure(
            lambda x=x: torch.var_mean(x, dim=-1, correction=0), sync
        )
        row["torch mean, var us"] = 1e6 * measure(
            lambda x=x: (torch.mean(x, dim=-1), torch.var(x, dim=-1, correction=0)), sync
        )
        row["split us"] = 1e6 * measure(_kernel(x, None), sync)
        row["block a row us"] = 1e6 * measure(_kernel(x, 1), sync)
        row["auto us"] = 1e6 * measure(lambda x=x: xpkern.mean_var(x, axis=-1), sync)
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
    found = {"cupy mean, var us": 1e6 * measure(lambda: (c.mean(axis=-1), c.var(axis=-1)), sync)}
    found["cupy split us"] = 1e6 * measure(_kernel(c, None), sync)
    with xpkern.config(impl="generic"):
        found["cupy generic us"] = 1e6 * measure(lambda: xpkern.mean_var(c, axis=-1), sync)
    found["cupy auto us"] = 1e6 * measure(lambda: xpkern.mean_var(c, axis=-1), sync)
    return found


def main() -> None:
    args = arguments()
    columns = ["shape", "torch.var_mean us", "torch mean, var us", "split us", "block a row us",
               "auto us", "cupy mean, var us", "cupy split us", "cupy generic us",
               "cupy auto us"]  # fmt: skip
    save("mean-var-few-rows", rows(), columns, args.out)


if __name__ == "__main__":
    main()
