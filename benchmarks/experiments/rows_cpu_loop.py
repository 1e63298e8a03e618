"""``logsumexp`` and ``log_softmax`` on the CPU: the Numba row loop against the composed form
(the generic path) and the library's own op, on one long row (the loop runs on one core) and
on rows of 1000 (over every core from 2^16 elements).

Run: ``python -m benchmarks.experiments.rows_cpu_loop [--quick] [--out DIR]`` on the CPU
(--quick: float64 only). Checks the one-core limits in ``xpkern.ops.special.cpu``
(``_SERIAL_MAX``, ``_SERIAL_MAX_FLOAT32``). Both implementations are forced through
``xpkern.config``, so each takes the full path (the same host time on both sides); the
library's own op (SciPy's for NumPy arrays, torch's for CPU tensors) is a plain call and gives
another answer near zero (the log of the rounded sum).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, measure, save

SHAPES = [(4096,), (16384,), (10**5,), (10**6,), (100, 1000), (1000, 1000)]
OPS = ("logsumexp", "log_softmax")


def _peer(library: str, op: str, x: Any) -> Callable[[], Any]:
    if library == "torch":
        import torch

        return lambda: getattr(torch, op)(x, -1)
    from scipy import special

    return lambda: getattr(special, op)(x, axis=-1)


def _libraries() -> list[str]:
    try:
        import torch  # noqa: F401
    except ImportError:
        return ["numpy"]
    return ["numpy", "torch"]


def _row(library: str, op: str, x: Any) -> dict[str, Any]:
    fn = getattr(xpkern, op)
    row: dict[str, Any] = {"library": library, "dtype": str(x.dtype).removeprefix("torch."),
                           "shape": "x".join(map(str, x.shape)), "op": op}  # fmt: skip
    for impl in ("numba-cpu", "generic"):
        with xpkern.config(impl=impl):
            row[f"{impl} us"] = 1e6 * measure(lambda: fn(x, axis=-1), lambda: None)
    row["library's own us"] = 1e6 * measure(_peer(library, op, x), lambda: None)
    row["loop / composed"] = row["numba-cpu us"] / row["generic us"]
    row["auto picks"] = xpkern.explain(fn, x, axis=-1).impl
    print(row, flush=True)
    return row


def rows(quick: bool) -> list[dict[str, Any]]:
    found = []
    rng = np.random.default_rng(0)
    for library in _libraries():
        for dtype in ("float64",) if quick else ("float64", "float32"):
            for shape in SHAPES:
                x: Any = rng.standard_normal(shape).astype(dtype)
                if library == "torch":
                    import torch

                    x = torch.from_numpy(x)
                found += [_row(library, op, x) for op in OPS]
    return found


def main() -> None:
    args = arguments()
    columns = ["library", "dtype", "shape", "op", "numba-cpu us", "generic us",
               "library's own us", "loop / composed", "auto picks"]  # fmt: skip
    save("rows-cpu-loop", rows(args.quick), columns, args.out)


if __name__ == "__main__":
    main()
