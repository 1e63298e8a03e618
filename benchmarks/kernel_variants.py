"""Variants of the fused CUDA kernel for x**2 + 2x + 1 on 2^27 float32, timed with events.

Run: ``python -m benchmarks.kernel_variants``. Decides how literals are typed and how the
grid is sized in ``xpkern/_cuda.py``.
"""

from __future__ import annotations

import cupy
import numpy as np
from numba import types

from xpkern import _cuda
from xpkern._backends import resolve
from xpkern.elementwise import load_module

HEAD = "import numpy as _np\nfrom numba import cuda\n\n"
BODIES = {
    "typed literals": "out[i] = x * x + _np.float32(2) * x + _np.float32(1)",
    "python literals": "out[i] = x * x + 2 * x + 1",
    "float64 literals": "out[i] = x * x + 2.0 * x + 1.0",
}


def _source(body: str) -> str:
    return (HEAD + "def kernel(out, a):\n    i = cuda.grid(1)\n    stride = cuda.gridsize(1)\n"
            "    while i < out.shape[0]:\n        x = a[i]\n        " + body + "\n"
            "        i += stride\n")  # fmt: skip


def main() -> None:
    n = 2**27
    a = cupy.random.random(n, dtype="float32")
    out = cupy.empty_like(a)
    ctx = resolve(a)
    arr = types.Array(types.float32, 1, "C")
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    copy_ms = []
    for _ in range(20):
        start.record()
        out[...] = a
        stop.record()
        stop.synchronize()
        copy_ms.append(cupy.cuda.get_elapsed_time(start, stop))
    print(f"copy: {np.median(copy_ms) * 1e3:.1f} us")
    for name, body in BODIES.items():
        module, _ = load_module(_source(body), "variant")
        launcher = _cuda._Launcher(module.kernel, [arr, arr])
        for label, blocks in [("full grid", None), ("132*16 blocks", 132 * 16)]:
            times = []
            for _ in range(20):
                start.record()
                if blocks is None:
                    launcher(ctx, n, [out, a])
                else:
                    packed = _cuda._pack_array(out) + _cuda._pack_array(a)
                    launcher.cupy_fn((blocks,), (256,), tuple(packed))
                stop.record()
                stop.synchronize()
                times.append(cupy.cuda.get_elapsed_time(start, stop))
            want = a * a + 2 * a + 1
            err = float(cupy.abs(out - want).max())
            print(f"{name:17s} {label:14s}: {np.median(times) * 1e3:.1f} us  max err {err:.1e}")


if __name__ == "__main__":
    main()
