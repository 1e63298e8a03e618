"""``cdist`` and ``rbf_kernel`` on the GPU: the GEMM expansion with an exact in-place
epilogue for the euclidean family, a tiled pair kernel for the others.

Each block computes a (16 R) x (16 R) tile of the output, each thread an R x R patch held in
registers; features stream through shared memory 16 at a time. Exact differences (no GEMM
expansion), so nearby points keep float32 accuracy and equal rows give exactly 0; the sqrt
or exp is applied as each result is written, so the output is written once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..._checks import dtype_name, not_contiguous
from ...backends import Context
from ...engines import cuda as engine
from .core import cdist_op, cosine, rbf_op

__all__ = ["EPILOGUE_FINAL", "EPILOGUE_GRID", "EPILOGUE_SOURCE", "cdist_cuda", "cross",
           "pairs_gemm", "pairs_source", "pairs_tiled", "ptx_cases"]  # fmt: skip


_TK = 16  # features per shared-memory step
_R = 4  # outputs per thread along each side
# Each shared-memory step sums its _TK features into part{r}{c} in the data's dtype; the steps
# are merged into float64 acc{r}{c}, so a float32 distance errs by a step's rounding, not in
# proportion to the number of features.
_UPDATE = {
    "sqeuclidean": "part{r}{c} += diff * diff",
    "euclidean": "part{r}{c} += diff * diff",
    "rbf": "part{r}{c} += diff * diff",
    "cityblock": "part{r}{c} += abs(diff)",
    "chebyshev": "t = abs(diff)\n{pad}"
                 "part{r}{c} = t if (t > part{r}{c} or t != t) else part{r}{c}",
}  # fmt: skip
_MERGE = {
    "chebyshev": "acc{r}{c} = part{r}{c} if (part{r}{c} > acc{r}{c} or part{r}{c} != part{r}{c}) "
                 "else acc{r}{c}",
}  # fmt: skip
_SUM = "acc{r}{c} += part{r}{c}"
_FINAL = {
    "sqeuclidean": "acc{r}{c}",
    "euclidean": "math.sqrt(acc{r}{c})",
    "rbf": "math.exp(-gamma * acc{r}{c})",
    "cityblock": "acc{r}{c}",
    "chebyshev": "acc{r}{c}",
}


def pairs_source(metric: str, dtype: str, r: int = _R) -> str:
    tile = 16 * r
    pad = " " * 12
    cells = [(i, j) for i in range(r) for j in range(r)]
    update = "\n".join(
        f"{pad}diff = a{i} - b{j}\n{pad}" + _UPDATE[metric].format(r=i, c=j, pad=pad)
        for i, j in cells
    )
    merge = "\n".join("        " + _MERGE.get(metric, _SUM).format(r=i, c=j) for i, j in cells)
    writes = "\n".join(
        f"        gi = row0 + ty + {16 * i}\n"
        f"        if gi < n:\n"
        + "\n".join(
            f"            if col0 + tx + {16 * j} < m:\n"
            f"                out[gi, col0 + tx + {16 * j}] = {_FINAL[metric].format(r=i, c=j)}"
            for j in range(r)
        )
        for i in range(r)
    )
    return f"""
import math
import numba
from xpkern.engines.cuda.compiler import cuda


def kernel(x, y, out, gamma):
    xs = cuda.shared.array(({_TK}, {tile + 1}), numba.{dtype})
    ys = cuda.shared.array(({_TK}, {tile + 1}), numba.{dtype})
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * 16 + tx
    n = x.shape[0]
    m = y.shape[0]
    d = x.shape[1]
    row0 = cuda.blockIdx.y * {tile}
    col0 = cuda.blockIdx.x * {tile}
    zero = numba.{dtype}(0.0)
{chr(10).join(f"    acc{i}{j} = numba.float64(0.0)" for i, j in cells)}
    for k0 in range(0, d, {_TK}):
{chr(10).join(f"        part{i}{j} = zero" for i, j in cells)}
        for t in range(tid, {_TK * tile}, 256):
            i = t // {_TK}
            kk = t - i * {_TK}
            gk = k0 + kk
            xs[kk, i] = x[row0 + i, gk] if row0 + i < n and gk < d else zero
            ys[kk, i] = y[col0 + i, gk] if col0 + i < m and gk < d else zero
        cuda.syncthreads()
        for kk in range({_TK}):
{chr(10).join(f"            a{i} = xs[kk, ty + {16 * i}]" for i in range(r))}
{chr(10).join(f"            b{j} = ys[kk, tx + {16 * j}]" for j in range(r))}
{update}
        cuda.syncthreads()
{merge}
    if True:
{writes}
"""


def pairs_tiled(ctx: Context, x: Any, y: Any, metric: str, gamma: float, r: int = _R) -> Any:
    import numpy as np

    dtype = dtype_name(x.dtype)
    kernel = engine.cached_kernel(("pairs", metric, dtype, r), f"cuda_pairs_{metric}",
                                 lambda: pairs_source(metric, dtype, r))  # fmt: skip
    n, m = int(x.shape[0]), int(y.shape[0])
    out = engine.empty(ctx, (n, m), x.dtype, x)
    tile = 16 * r
    grid = (-(-m // tile), -(-n // tile))
    scalar = np.float32(gamma) if dtype == "float32" else np.float64(gamma)
    kernel(ctx, grid, (16, 16), [x, y, out, scalar])
    return out


# The euclidean family on the GPU: x @ y.T (see cross: float32 on tensor cores in three TF32
# products, float64 by cuBLAS DGEMM), then one kernel turning |x|^2 + |y|^2 - 2 x.y into the
# result in place. Where that difference is under 1/16 of |x|^2 + |y|^2 (nearby points, equal
# rows, inf or NaN), cancellation could cost digits, so that pair is recomputed from exact
# differences: cdist(x, x) has an exactly zero diagonal and nearby points keep their accuracy.
# 16384^2 x 64 float32 on an H200: 1.17 ms against 2.22-2.24 ms for torch.cdist (1.9x), 1.76 ms
# with cuBLAS's SGEMM in place of the split product (benchmarks/algorithms_gpu.py). This beats
# the tiled direct kernel (4.06 ms), which does twice the arithmetic without a GEMM's
# efficiency, and, on an H100, one kernel that accumulates x.y in the direct kernel's register
# tiles and applies this epilogue before its single write (3.04 ms against 1.89 ms for SGEMM
# and epilogue). Row chunks small enough for the epilogue to find them in L2 did not pay even
# in device time (benchmarks/results/cdist-chunks-nvidia-h200.md).

EPILOGUE_SOURCE = """
import math
import numba
from xpkern.engines.cuda.compiler import cuda


@cuda.jit(device=True, inline=True)
def value(gv, a, b, x, y, row, col, gamma):
    s = a + b
    v = s - numba.{dtype}(2.0) * gv
    if not (v >= numba.{dtype}(0.0625) * s):
        v = numba.{dtype}(0.0)
        for t in range(x.shape[1]):
            q = x[row, t] - y[col, t]
            v += q * q
    return {final}


def kernel(g, xx, yy, x, y, gamma):
    n = g.shape[0]
    m = g.shape[1]
    step = cuda.gridDim.x * cuda.blockDim.x
    row = cuda.blockIdx.y
    while row < n:
        a = xx[row]
        col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        # Four loads in flight per thread, as in the elementwise kernels.
        while col + 3 * step < m:
            g0 = g[row, col]
            g1 = g[row, col + step]
            g2 = g[row, col + 2 * step]
            g3 = g[row, col + 3 * step]
            b0 = yy[col]
            b1 = yy[col + step]
            b2 = yy[col + 2 * step]
            b3 = yy[col + 3 * step]
            g[row, col] = value(g0, a, b0, x, y, row, col, gamma)
            g[row, col + step] = value(g1, a, b1, x, y, row, col + step, gamma)
            g[row, col + 2 * step] = value(g2, a, b2, x, y, row, col + 2 * step, gamma)
            g[row, col + 3 * step] = value(g3, a, b3, x, y, row, col + 3 * step, gamma)
            col += 4 * step
        while col < m:
            g[row, col] = value(g[row, col], a, yy[col], x, y, row, col, gamma)
            col += step
        row += cuda.gridDim.y
"""
EPILOGUE_FINAL = {"sqeuclidean": "v", "euclidean": "math.sqrt(v)", "rbf": "math.exp(-gamma * v)"}
# A few wide blocks per row band beat one block per 256 elements: 16384^2 float32 in place,
# 1.22 ms against 1.83 ms (copy 0.72 ms; benchmarks/experiments/epilogue_variants.py, H100).
EPILOGUE_GRID = (4, 2048)


def _tf32(ctx: Context) -> bool:
    import os

    if ctx.backend.name == "torch":
        import torch

        return bool(torch.backends.cuda.matmul.allow_tf32)
    return os.environ.get("CUPY_TF32", "0") not in ("", "0")


def cross(ctx: Context, x: Any, y: Any, out: Any) -> None:
    """``out[...] = x @ y.T``, to float32 accuracy.

    float32 on tensor cores: with ``x = xh + xl`` and ``y = yh + yl`` (the high parts exact in
    TF32), ``x.y = xh.yh + xh.yl + xl.yh`` up to ``xl.yl`` (about 2^-22 |x||y|), which is one
    TF32 product of ``[xh, xh, xl]`` and ``[yh, yl, yh]``, three times as deep. On an H200,
    16384^2 x 64 took 0.49-0.51 ms against 1.07 ms for cuBLAS's float32 SGEMM, with a max abs
    error of 9e-5 on products of up to 40 (SGEMM: a few 1e-6); the distances built from it
    stay within 1.3e-5 of float64 (benchmarks/results/algorithms-gpu-targets-nvidia-h200.md).
    """
    if engine.tf32_unavailable(ctx, x) is None:
        xp = ctx.xp
        xh, xl = engine.tf32_split(ctx, x)
        yh, yl = engine.tf32_split(ctx, y)
        a = xp.concat([xh, xh, xl], axis=1)
        b = xp.concat([yh, yl, yh], axis=1)
        engine.gemm_nt(ctx, a, b, out, tf32=True)
    else:
        engine.matmul_into(ctx, x, ctx.xp.matrix_transpose(y), out)


def pairs_gemm(ctx: Context, x: Any, y: Any, metric: str, gamma: float) -> Any:
    """cdist/rbf by the GEMM expansion (:func:`cross`) and the in-place epilogue."""
    import numpy as np

    xp = ctx.xp
    dtype = dtype_name(x.dtype)
    kernel = engine.cached_kernel(
        ("epilogue", metric, dtype),
        f"cuda_pairs_gemm_{metric}",
        lambda: EPILOGUE_SOURCE.replace("{dtype}", dtype).replace(
            "{final}", EPILOGUE_FINAL[metric]
        ),
    )
    n, m = int(x.shape[0]), int(y.shape[0])
    out = engine.empty(ctx, (n, m), x.dtype, x)
    cross(ctx, x, y, out)
    xx, yy = xp.sum(x * x, axis=1), xp.sum(y * y, axis=1)
    scalar = np.float32(gamma) if dtype == "float32" else np.float64(gamma)
    grid = (min(EPILOGUE_GRID[0], -(-m // 256)), min(n, EPILOGUE_GRID[1]))
    kernel(ctx, grid, (256,), [out, xx, yy, x, y, scalar])
    return out


def _pairs_best(ctx: Context, x: Any, y: Any, metric: str, gamma: float) -> Any:
    # The GEMM expansion needs a float32-accurate product: split TF32, or cuBLAS's SGEMM
    # where the library's global TF32 switch is off.
    accurate = engine.tf32_unavailable(ctx, x) is None or not _tf32(ctx)
    if metric in EPILOGUE_FINAL and accurate:
        return pairs_gemm(ctx, x, y, metric, gamma)
    return pairs_tiled(ctx, x, y, metric, gamma)


def _cuda_supports(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    blocked = engine.kernel_supports(ctx, x, y) or not_contiguous(ctx, x, y)
    if blocked:
        return blocked
    if 0 in (x.shape[0], y.shape[0], x.shape[1]):
        return "an empty input"
    if x.shape[0] > 65535 * 16 * _R:
        return "more rows than one grid holds"
    return None


_CUDA_REASON = ("euclidean family: x @ y.T by cuBLAS (float32: three TF32 tensor-core products, "
                "float32 accuracy) and one in-place CUDA pass (cancelling pairs recomputed "
                "exactly); cityblock/chebyshev: one tiled CUDA kernel")  # fmt: skip


# On an H100 (benchmarks/results/nvidia-h100-80gb-hbm3.md) the composed path is faster for
# small inputs (512 x 256 x 16 float32: 0.12 ms against 0.33 ms) and the kernels from
# 2048 x 1024 x 64 on (0.29 ms against 1.67 ms). On an H200 the composed path still wins at
# 1024 x 1024 x 16 = 2^24 (torch: 244 us against 310; CuPy: 519 against 737, one synchronised
# call; benchmarks/results/overhead-auto-nvidia-h200.md): the kernels take over above it.
_CUDA_MIN_WORK = 2**24


def _cuda_wins(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    work = x.shape[0] * y.shape[0] * x.shape[1]
    if work > _CUDA_MIN_WORK:
        return None
    return f"{work} pair-features: the composed path is faster up to {_CUDA_MIN_WORK}"


@cdist_op.register("numba-cuda", reason=_CUDA_REASON, supports=_cuda_supports, wins=_cuda_wins)
def cdist_cuda(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    if metric != "cosine":
        return _pairs_best(ctx, x, y, metric, 0.0)
    return cosine(ctx, x, y, lambda a, b: _pairs_best(ctx, a, b, "sqeuclidean", 0.0))


@rbf_op.register(
    "numba-cuda",
    reason="cuBLAS x @ y.T and one in-place CUDA pass with the exp fused in",
    supports=_cuda_supports,
    wins=_cuda_wins,
)
def _rbf_cuda(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return _pairs_best(ctx, x, y, "rbf", gamma)


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) of every pair kernel this family makes:
    the tiled kernel per metric and the GEMM epilogue per metric, in both dtypes."""
    from ...engines.cuda.compiler import array_type, scalar_type

    for dtype in ("float32", "float64"):
        matrix, vector, scalar = array_type(dtype, 2), array_type(dtype, 1), scalar_type(dtype)
        for metric in _UPDATE:
            kernel = engine.Kernel(pairs_source(metric, dtype), f"cuda_pairs_{metric}")
            yield (f"pairs {metric} {dtype}", kernel.module().kernel,
                   [matrix, matrix, matrix, scalar], False)  # fmt: skip
        for metric, final in EPILOGUE_FINAL.items():
            source = EPILOGUE_SOURCE.replace("{dtype}", dtype).replace("{final}", final)
            kernel = engine.Kernel(source, f"cuda_pairs_gemm_{metric}")
            yield (f"epilogue {metric} {dtype}", kernel.module().kernel,
                   [matrix, vector, vector, matrix, matrix, scalar], False)  # fmt: skip
