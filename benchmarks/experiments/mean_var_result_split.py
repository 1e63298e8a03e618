"""What the kept ``mean_var`` call on CUDA arrays costs in splitting its (2, rows) output into
the mean and the variance: each half indexed and reshaped (two library calls a half, the way
before 6824086) against the pair reshaped once, or only indexed where the result is 1-D
(``xpkern.ops.stats.cuda._split``). Host time decides on small inputs, so the two are timed
on the same machine in alternating batches, as a user's single call (synchronised after
each call) and pipelined, against the library's own ``var_mean`` / ``mean`` and ``var``.

Run: ``python -m benchmarks.experiments.mean_var_result_split [--out DIR]`` on a CUDA machine
with torch (and CuPy, if installed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, fastest_batches, save, sync_for

SHAPES = [(1000,), (8, 1000), (4, 8, 1000)]


def _each_half(out: Any, shape: tuple[int, ...], keepdims: bool) -> tuple[Any, Any]:
    # The split as it was: an index and a reshape for each half.
    if keepdims:
        shape = (*shape, 1)
    return out[0].reshape(shape), out[1].reshape(shape)


def _libraries() -> list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]]:
    found = []
    import torch

    found.append(("torch", lambda a: torch.from_numpy(a).cuda(),
                  lambda x: torch.var_mean(x, -1, correction=0)))  # fmt: skip
    try:
        import cupy

        found.append(("cupy", cupy.asarray, lambda x: (x.mean(-1), x.var(-1))))
    except ImportError:
        pass
    return found


def rows() -> list[dict[str, Any]]:
    from xpkern.ops.stats import cuda

    now = cuda._split
    try:
        return _rows(cuda, now)
    finally:
        cuda._split = now


def _rows(cuda: Any, now: Any) -> list[dict[str, Any]]:
    found = []
    for library, convert, own in _libraries():
        for shape in SHAPES:
            x = convert(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
            fns = {
                "each half": lambda x=x: _with(cuda, _each_half, x),
                "pair once": lambda x=x: _with(cuda, now, x),
                "library's own": lambda x=x, own=own: own(x),
            }
            row: dict[str, Any] = {"library": library, "shape": "x".join(map(str, shape))}
            for label, each in (("", True), ("piped ", False)):
                inner = dict.fromkeys(fns, 2000)
                times = fastest_batches(fns, sync_for(x), rounds=7, inner=inner, each_sync=each)
                row.update({f"{label}{name} us": 1e6 * t for name, t in times.items()})
            print(row, flush=True)
            found.append(row)
    return found


def _with(module: Any, split: Any, x: Any) -> Any:
    # The module's _split is looked up by the kept call on each call: swapped in place.
    module._split = split
    return xpkern.mean_var(x, axis=-1)


if __name__ == "__main__":
    args = arguments()
    found = rows()
    columns = ["library", "shape", "each half us", "pair once us", "library's own us",
               "piped each half us", "piped pair once us", "piped library's own us"]  # fmt: skip
    save("mean-var-result-split", found, columns, args.out)
