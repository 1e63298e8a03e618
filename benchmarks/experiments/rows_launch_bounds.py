"""The register row kernels of 8192-element float32 rows with PTX launch bounds: does capping
registers (more blocks resident per multiprocessor) pay?

Run: ``python -m benchmarks.experiments.rows_launch_bounds [--out DIR]`` on a CUDA machine
with CuPy.
Chose ``xpkern.ops.special.cuda.LAUNCH_BOUNDS`` (5 blocks of 256 threads a multiprocessor:
benchmarks/results/rows-launch-bounds-nvidia-h200.md). Each kernel is compiled as xpkern
compiles it (without the bounds that rule adds), then loaded with ``.maxntid 256`` and
``.minnctapersm B`` for several B; its registers, local memory (spills) and time on an
8192 x 8192 input are printed next to the device copy, with the max abs error against float64.
"""

from __future__ import annotations

import re
from typing import Any

import cupy
import torch

from benchmarks._harness import arguments, measure, save
from xpkern.engines.cuda import compiler
from xpkern.engines.cuda.launch import pack_array, with_launch_bounds
from xpkern.ops.special.cuda import rows_kernel

N = 8192
THREADS = 256
REFERENCE = {
    "logsumexp": lambda x: torch.logsumexp(x, dim=-1, keepdim=True),
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
}


def _attribute(fn: Any, which: int) -> int | str:
    """A CUfunction_attribute of ``fn`` (3: local bytes a thread, 4: registers a thread)."""
    try:
        return int(cupy.cuda.driver.funcGetAttribute(which, fn.ptr))
    except Exception:  # an old CuPy without the call
        return ""


def rows() -> list[dict[str, Any]]:
    x = torch.randn(N, N, device="cuda") * 4
    sync = torch.cuda.synchronize
    copy = measure(lambda: x.clone(), sync)
    found: list[dict[str, Any]] = [{"op": "copy", "us": copy * 1e6}]
    for name, reference in REFERENCE.items():
        want = reference(x.double())
        out = torch.empty(N, 1 if name == "logsumexp" else N, device="cuda")
        kernel = rows_kernel(name, "float32", "registers", THREADS, N // THREADS)
        types_ = [compiler.numba_type(a) for a in (x, out)]
        ptx = compiler.compile_ptx(kernel.module().kernel, types_)
        entry = re.search(r"\.entry\s+([\w$]+)\s*\(", ptx)
        assert entry is not None
        packed = tuple(pack_array(x) + pack_array(out))
        for blocks in (None, 3, 4, 5, 6, 8):
            loaded = cupy.cuda.function.Module()
            text = ptx if blocks is None else with_launch_bounds(ptx, THREADS, blocks)
            loaded.load(text.encode())
            fn = loaded.get_function(entry.group(1))

            def call(fn: Any = fn, packed: tuple[Any, ...] = packed) -> None:
                fn((N,), (THREADS,), packed)

            out.fill_(float("nan"))
            call()
            sync()
            t = measure(call, sync)
            found.append({"op": name, "min blocks/SM": blocks or "",
                          "registers": _attribute(fn, 4), "local bytes": _attribute(fn, 3),
                          "us": t * 1e6, "x copy": t / copy,
                          "max abs err": float((out.double() - want).abs().max())})  # fmt: skip
    return found


def main() -> None:
    args = arguments()
    columns = ["op", "min blocks/SM", "registers", "local bytes", "us", "x copy", "max abs err"]
    save("rows-launch-bounds", rows(), columns, args.out)


if __name__ == "__main__":
    main()
