"""Variants of the cdist epilogue (an in-place pass over a 16384 x 16384 float32 matrix),
timed with CUDA events next to the device copy of the same matrix.

Run: ``python -m benchmarks.experiments.epilogue_variants`` on a CUDA machine with CuPy. It
chose how the epilogue in ``xpkern/ops/distance/cuda.py`` indexes and how its grid is shaped
(``EPILOGUE_GRID``: a few wide blocks per row band, 1.22 ms against 1.83 ms for 16384^2 float32
on an H100, copy 0.72 ms).
"""

from __future__ import annotations

import cupy
import numpy as np

from xpkern.backends import resolve
from xpkern.engines import cuda as engine

HEAD = "import math\nimport numba\nfrom xpkern.engines.cuda.compiler import cuda\n\n"
KERNELS = {
    "2-D, refine branch (current)": """
def kernel(g, xx, yy, x, y):
    n = g.shape[0]
    m = g.shape[1]
    d = x.shape[1]
    tau = numba.float32(0.0625)
    two = numba.float32(2.0)
    step = cuda.gridDim.x * cuda.blockDim.x
    row = cuda.blockIdx.y
    while row < n:
        a = xx[row]
        col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        while col < m:
            s = a + yy[col]
            v = s - two * g[row, col]
            if not (v >= tau * s):
                v = numba.float32(0.0)
                for t in range(d):
                    q = x[row, t] - y[col, t]
                    v += q * q
            g[row, col] = math.sqrt(v)
            col += step
        row += cuda.gridDim.y
""",
    "2-D, no refine": """
def kernel(g, xx, yy, x, y):
    n = g.shape[0]
    m = g.shape[1]
    two = numba.float32(2.0)
    step = cuda.gridDim.x * cuda.blockDim.x
    row = cuda.blockIdx.y
    while row < n:
        a = xx[row]
        col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        while col < m:
            v = a + yy[col] - two * g[row, col]
            g[row, col] = math.sqrt(max(v, numba.float32(0.0)))
            col += step
        row += cuda.gridDim.y
""",
    "flat 1-D scale (floor)": """
def kernel(g, xx, yy, x, y):
    m = g.shape[1]
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    two = numba.float32(2.0)
    while i < g.shape[0] * m:
        row = i // m
        g[row, i - row * m] = g[row, i - row * m] * two
        i += step
""",
    "flat 1-D, row from index": """
def kernel(g, xx, yy, x, y):
    m = g.shape[1]
    total = g.shape[0] * m
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    two = numba.float32(2.0)
    tau = numba.float32(0.0625)
    while i < total:
        row = i // m
        col = i - row * m
        s = xx[row] + yy[col]
        v = s - two * g[row, col]
        if not (v >= tau * s):
            v = numba.float32(0.0)
        g[row, col] = math.sqrt(v)
        i += step
""",
}


def main() -> None:
    n = 16384
    g = cupy.random.random((n, n), dtype="float32") + 100
    xx = cupy.full(n, 100.0, dtype="float32")
    x = cupy.random.random((n, 64), dtype="float32")
    ctx = resolve(g)
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    out = cupy.empty_like(g)

    def timed(fn) -> float:
        fn()
        times = []
        for _ in range(10):
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(cupy.cuda.get_elapsed_time(start, stop))
        return float(np.median(times))

    copy = timed(lambda: out.__setitem__(Ellipsis, g))
    print(f"copy {copy:.3f} ms")
    sms = engine.multiprocessors()
    for name, body in KERNELS.items():
        kernel = engine.Kernel(HEAD + body, "epilogue_variant")
        flat = name.startswith("flat")
        shapes = (
            [((sms * 16,), "16 blocks/SM")]
            if flat
            else [((64, n), "one element a thread"), ((16, n), "4 a thread"), ((4, 2048), "wide")]
        )
        for grid, label in shapes:
            try:
                t = timed(lambda k=kernel, grid=grid: k(ctx, grid, (256,), [g, xx, xx, x, x]))
            except Exception as exc:  # a variant that does not build is reported, not fatal
                print(f"{name:32s} {label:22s} failed: {type(exc).__name__}: {exc}")
                break
            print(f"{name:32s} {label:22s} {t:.3f} ms  {t / copy:.2f}x copy")


if __name__ == "__main__":
    main()
