"""``softmax`` of NumPy arrays past 1024 elements: the Numba row loop against the composed
form, which wins only where NumPy's ``exp`` is vectorised for the dtype.

Run: ``python -m benchmarks.experiments.softmax_cpu_exp [--out DIR]`` on the CPU.
Checks the rules in ``xpkern.ops.special.cpu`` (``_SERIAL_MAX``, ``_SERIAL_ROWS``,
``_SOFTMAX_MIN_CORES``: which sizes, row lengths and core counts take the loop). Each row
records the vector target NumPy dispatches ``exp`` to for that dtype; on x86-64 NumPy
vectorises float64 ``exp`` only with AVX512F, float32 ``exp`` from AVX2 on. Both
implementations are forced through ``xpkern.config``, so each takes the full path (the same
host time on both sides); SciPy's ``softmax`` is the peer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

import xpkern
from benchmarks._harness import arguments, fastest_batches
from benchmarks._harness import save as save_rows
from xpkern.backends.numpy import exp_target

# One row; then rows of up to 4096 in fewer than 2^16 elements (the loop runs on one core);
# then rows over every core.
SHAPES = [(1000,), (4096,), (10**4,), (10**5,), (10**6,), (10, 1000), (60, 1000), (1000, 10),
          (200, 100), (15, 4096), (100, 1000), (1000, 1000), (100, 10**4)]  # fmt: skip


def rows(quick: bool) -> list[dict[str, Any]]:
    found = []
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        for shape in SHAPES[:5] if quick else SHAPES:
            x = rng.standard_normal(shape).astype(dtype)
            size = x.size
            axis = -1 if x.ndim > 1 else None

            def forced(impl: str, x: Any = x, axis: Any = axis) -> Any:
                with xpkern.config(impl=impl):
                    return xpkern.softmax(x, axis=axis)

            fns = {
                "numba-cpu": lambda: forced("numba-cpu"),
                "generic": lambda: forced("generic"),
                "scipy": lambda x=x, axis=axis: special.softmax(x, axis=axis),
            }
            inner = dict.fromkeys(fns, max(1, 2 * 10**6 // (10 * size)))
            best = fastest_batches(fns, lambda: None, rounds=7, inner=inner, each_sync=False)
            dtype_name = np.dtype(dtype).name
            row: dict[str, Any] = {"dtype": dtype_name, "shape": "x".join(map(str, shape)),
                                   "exp target": exp_target(dtype_name) or ""}  # fmt: skip
            row.update({f"{name} us": 1e6 * t for name, t in best.items()})
            row["loop / composed"] = best["numba-cpu"] / best["generic"]
            with xpkern.config(impl="auto"):
                row["auto picks"] = xpkern.explain(xpkern.softmax, x, axis=axis).impl
            print(row, flush=True)
            found.append(row)
    return found


def main() -> None:
    args = arguments()
    columns = ["dtype", "shape", "exp target", "numba-cpu us", "generic us", "scipy us",
               "loop / composed", "auto picks"]  # fmt: skip
    save_rows("softmax-cpu-exp", rows(args.quick), columns, args.out)


if __name__ == "__main__":
    main()
