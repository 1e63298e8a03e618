"""Where the CUDA row kernels (logsumexp, softmax, log_softmax) keep a row, and how many
threads share it: each variant on float32 CUDA tensors of several shapes, next to the device
copy of the input and torch's own op (one run).

Run: ``python -m benchmarks.experiments.rows_variants [--quick] [--out DIR]`` on a CUDA
machine (--quick: the 8192 x 8192 shape only). Chose ``xpkern.ops.special.cuda.rows_layout``
(a warp a row to 256 elements, 128 threads to 1024, 256 threads of 32 registers for float32 rows
of 4097-8192, shared memory between: benchmarks/results/rows-variants-*.md).
"""

from __future__ import annotations

from typing import Any

import torch

from benchmarks._harness import arguments, measure, save
from xpkern.backends import resolve
from xpkern.ops.special.cuda import REG_MAX, registers, rows_run
from xpkern.ops.special.rows_source import STASH_BYTES

SHAPES = [(8192, 8192), (16384, 2048), (65536, 1024), (2**20, 128)]
VARIANTS = [
    ("registers", 32),
    ("registers", 128),
    ("registers", 256),
    ("registers", 512),
    ("registers", 1024),
    ("shared", 128),
    ("global", 128),
]
REFERENCE = {
    "logsumexp": lambda x: torch.logsumexp(x, dim=-1),
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
}


def variant(x: Any, name: str, layout: str, threads: int, copy: float) -> dict[str, Any] | None:
    n = int(x.shape[-1])
    if layout == "registers" and registers(n, threads) > REG_MAX["float32"]:
        return None
    if layout == "shared" and n * 4 > STASH_BYTES:
        return None
    row: dict[str, Any] = {"shape": "x".join(map(str, x.shape)), "op": name, "layout": layout,
                           "threads": threads}  # fmt: skip
    ctx = resolve(x)
    try:
        got = rows_run(ctx, x, name, layout, threads)
        t = measure(lambda: rows_run(ctx, x, name, layout, threads),
                    torch.cuda.synchronize)  # fmt: skip
    except Exception as exc:  # a block size the kernel's registers do not allow
        row["error"] = type(exc).__name__
        return row
    want = REFERENCE[name](x.double())
    row["us"] = t * 1e6
    row["x copy"] = t / copy
    row["max abs err"] = float((got.double() - want).abs().max())
    return row


def main() -> None:
    args = arguments()
    rows: list[dict[str, Any]] = []
    for shape in SHAPES[:1] if args.quick else SHAPES:
        x = torch.randn(shape, device="cuda") * 4
        copy = measure(lambda x=x: x.clone(), torch.cuda.synchronize)
        for name in REFERENCE:
            t_torch = measure(lambda x=x, name=name: REFERENCE[name](x), torch.cuda.synchronize)
            rows.append({"shape": "x".join(map(str, shape)), "op": name, "layout": "torch",
                         "us": t_torch * 1e6, "x copy": t_torch / copy})  # fmt: skip
            found = (variant(x, name, layout, threads, copy) for layout, threads in VARIANTS)
            rows.extend(row for row in found if row is not None)
        del x
    save("rows-variants", rows, ["shape", "op", "layout", "threads", "us", "x copy", "max abs err",
                                 "error"], args.out)  # fmt: skip


if __name__ == "__main__":
    main()
