"""``cdist`` and ``rbf_kernel``: pairwise distances and the Gaussian kernel, on any backend."""

from __future__ import annotations

import functools
import math
from typing import Any

from . import _checks, _cpu_threads
from ._backends import Context, from_host, host_view, resolve
from ._dask import only_dask, per_chunk, row_blocks
from ._dispatch import Op, public

__all__ = ["cdist", "rbf_kernel"]

METRICS = ("sqeuclidean", "euclidean", "cityblock", "cosine", "chebyshev")
_BLOCK = 2**22  # elements of the n x m x d difference block the generic path makes at once


def _direct(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    # Differences, not the |x|^2 + |y|^2 - 2xy expansion: exact zeros for equal points and no
    # cancellation for nearby ones, at the cost of a (rows x m x d) block per pass.
    xp = ctx.xp
    n, d = x.shape
    m = y.shape[0]
    if d == 0 or n == 0 or m == 0:
        return xp.zeros((n, m), dtype=x.dtype, device=ctx.device)
    rows = max(1, _BLOCK // max(1, m * d))
    parts = []
    for start in range(0, n, rows):
        diff = x[start : min(start + rows, n), None, :] - y[None, :, :]
        if metric == "cityblock":
            parts.append(xp.sum(xp.abs(diff), axis=-1))
        elif metric == "chebyshev":
            parts.append(xp.max(xp.abs(diff), axis=-1))
        else:
            parts.append(xp.sum(diff * diff, axis=-1))
    return xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def _cosine(ctx: Context, x: Any, y: Any, squared: Any = None) -> Any:
    # 1 - cos = |x/|x| - y/|y||^2 / 2: equal directions give exactly 0, nearby ones keep
    # their accuracy, and a zero vector gives NaN as in SciPy. ``squared`` computes the
    # squared distances of the unit vectors (the generic blocked loop by default).
    xp = ctx.xp
    xn = x / xp.sqrt(xp.sum(x * x, axis=-1, keepdims=True))
    yn = y / xp.sqrt(xp.sum(y * y, axis=-1, keepdims=True))
    d = squared(xn, yn) if squared else _direct(ctx, xn, yn, "sqeuclidean")
    return xp.clip(d / 2, 0.0, 2.0)


def _cdist_generic(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    if metric == "cosine":
        return _cosine(ctx, x, y)
    out = _direct(ctx, x, y, metric)
    return ctx.xp.sqrt(out) if metric == "euclidean" else out


_cdist = Op("cdist", _cdist_generic)


def _pair(op: str, x: Any, y: Any) -> tuple[Context, Any, Any]:
    ctx = resolve(x, y)
    x = _checks.floating(ctx, ctx.asarray(x), "x", op)
    y = x if y is None else _checks.floating(ctx, ctx.asarray(y), "y", op)
    for name, a in (("x", x), ("y", y)):
        if a.ndim != 2:
            raise ValueError(f"{op}: {name} must be 2-D (n_samples, n_features), got {a.shape}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{op}: x has {x.shape[1]} features but y has {y.shape[1]}")
    dtype = ctx.xp.result_type(x, y)
    return ctx, ctx.xp.astype(x, dtype, copy=False), ctx.xp.astype(y, dtype, copy=False)


@public(_cdist)
def cdist(x: Any, y: Any, /, *, metric: str = "euclidean") -> Any:
    """Distances between each row of ``x`` and each row of ``y`` (like scipy's cdist).

    Parameters
    ----------
    x : array, shape (n, d)
    y : array, shape (m, d)
    metric : {"euclidean", "sqeuclidean", "cityblock", "cosine", "chebyshev"}

    Returns
    -------
    array, shape (n, m)
        In the inputs' library, device and (floating) dtype; equal rows are exactly 0 apart.
        The cosine distance of a zero vector is NaN, as in SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.cdist(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[5., 0.]])
    """
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"cdist: unknown metric {metric!r}; expected one of {METRICS}")
    ctx, x, y = _pair("cdist", x, y)
    with _checks.quiet(ctx):
        return _cdist(ctx, x, y, metric)


def _rbf_generic(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return ctx.xp.exp(-gamma * _direct(ctx, x, y, "sqeuclidean"))


_rbf = Op("rbf_kernel", _rbf_generic)


@public(_rbf)
def rbf_kernel(x: Any, y: Any = None, /, *, gamma: float | None = None) -> Any:
    """The Gaussian kernel ``exp(-gamma * |x_i - y_j|^2)`` (like scikit-learn's rbf_kernel).

    Parameters
    ----------
    x : array, shape (n, d)
    y : array, shape (m, d), optional
        Defaults to ``x``.
    gamma : float, optional
        Defaults to ``1 / d``.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.rbf_kernel(np.array([[0.0], [1.0]]), gamma=1.0)
    array([[1.        , 0.36787944],
           [0.36787944, 1.        ]])
    """
    ctx, x, y = _pair("rbf_kernel", x, y)
    if gamma is None:
        gamma = 1.0 / x.shape[1] if x.shape[1] else 1.0
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, int | float)
        or not (math.isfinite(gamma) and gamma > 0)
    ):
        raise ValueError(f"rbf_kernel: gamma must be a finite number > 0, got {gamma!r}")
    return _rbf(ctx, x, y, float(gamma))


# --- fused CPU kernels -----------------------------------------------------------------------
#
# benchmarks/results/algorithms-cpu-cpu2.md (2 cores, float32): one Numba loop over the pairs
# computes each distance exactly (differences, no expansion, no n x m x d block); with the
# feature sums vectorised it takes 9.5 ms for 2048x1024x64 against 136 ms for the blocked
# generic path and 41 ms for SciPy (512x256x16: 0.60 vs 8.1 vs 0.82 ms). torch.cdist is
# faster still (2.2 ms) through the |x|^2 + |y|^2 - 2xy expansion, which loses accuracy for
# nearby points. Below about 4096 multiply-adds the call overhead dominates.
_CPU_MIN_WORK = 4096
_CODES = {name: i for i, name in enumerate(METRICS)}


def _cpu_supports(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    return _checks.host_float_kernel(ctx, x, y)


def _cpu_wins(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    work = x.shape[0] * y.shape[0] * x.shape[1]
    return None if work >= _CPU_MIN_WORK else f"{work} multiply-adds: too few to pay the call"


def _run_cpu(ctx: Context, x: Any, y: Any, code: int, gamma: float) -> Any:
    import numpy as np

    xs, ys = (np.ascontiguousarray(host_view(ctx, a)) for a in (x, y))
    out = np.empty((xs.shape[0], ys.shape[0]), dtype=xs.dtype)
    parallel = _cpu_parallel(xs.shape[0] * ys.shape[0] * xs.shape[1])
    _cpu_threads.run(_pairs_kernel(parallel), [xs, ys, code, gamma, out], parallel)
    return from_host(ctx, out)


# The pairs loop over every core from 2^16 multiply-adds: on 2 cores, serial / parallel = 1.42
# (64 x 64 x 16 sqeuclidean), 1.72 (rbf), 1.9-2.0 from 2^20 on (2048 x 1024 x 64: 8.6 ms
# against 17.3). Not inside Dask tasks or forked children (see _cpu_threads).
_CPU_PARALLEL_WORK = 2**16


def _cpu_parallel(work: int) -> bool:
    return work >= _CPU_PARALLEL_WORK and _cpu_threads.allowed()


@_cdist.register(
    "numba-cpu",
    reason="one Numba loop over the pairs: no n x m x d temporary",
    supports=_cpu_supports,
    wins=_cpu_wins,
)
def _cdist_cpu(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    return _run_cpu(ctx, x, y, _CODES[metric], 0.0)


@_rbf.register(
    "numba-cpu",
    reason="one Numba loop over the pairs with the exp fused in",
    supports=_cpu_supports,
    wins=_cpu_wins,
)
def _rbf_cpu(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return _run_cpu(ctx, x, y, len(METRICS), gamma)


@functools.cache
def _pairs_kernel(parallel: bool) -> Any:
    import numba
    import numpy as np

    def pairs(x: Any, y: Any, code: int, gamma: float, out: Any) -> None:
        n, d = x.shape
        m = y.shape[0]
        zero = x.dtype.type(0)
        for i in numba.prange(n):
            for j in range(m):
                acc = zero
                if code == 2:  # cityblock
                    for k in range(d):
                        acc += abs(x[i, k] - y[j, k])
                elif code == 4:  # chebyshev
                    for k in range(d):
                        acc = max(acc, abs(x[i, k] - y[j, k]))
                elif code == 3:  # cosine, as |x/|x| - y/|y||^2 / 2 (see _cosine)
                    xx = zero
                    yy = zero
                    for k in range(d):
                        xx += x[i, k] * x[i, k]
                        yy += y[j, k] * y[j, k]
                    nx = np.sqrt(xx)
                    ny = np.sqrt(yy)
                    for k in range(d):
                        t = x[i, k] / nx - y[j, k] / ny
                        acc += t * t
                    # Clipped to [0, 2] by comparisons, which leave NaN (an inf or NaN
                    # feature) as it is; min/max here would turn it into a bound.
                    acc = acc / 2.0
                    if acc < 0.0:
                        acc = zero
                    elif acc > 2.0:
                        acc = 2.0
                    if xx == 0.0 or yy == 0.0:
                        acc = np.nan
                else:
                    for k in range(d):
                        t = x[i, k] - y[j, k]
                        acc += t * t
                    if code == 1:
                        acc = np.sqrt(acc)
                    elif code == 5:
                        acc = np.exp(-gamma * acc)
                out[i, j] = acc

    # reassoc lets LLVM vectorise the sums over features (10x here); NaN and inf keep their
    # IEEE meaning since no finite-math flag is given.
    return _cpu_threads.jit(pairs, parallel, error_model="numpy",
                            fastmath={"reassoc", "contract"})  # fmt: skip


# --- Dask: one task per pair of row chunks -------------------------------------------------


_DASK_REASON = "one task per pair of row chunks, each chunk pair dispatched in its own library"


@_cdist.register("dask-blocks", reason=_DASK_REASON, supports=only_dask)
def _cdist_dask(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    return row_blocks(per_chunk(cdist), x, y, x.dtype, metric=metric)


@_rbf.register("dask-blocks", reason=_DASK_REASON, supports=only_dask)
def _rbf_dask(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return row_blocks(per_chunk(rbf_kernel), x, y, x.dtype, gamma=gamma)


# --- CUDA: a tiled pair kernel ----------------------------------------------------------------
#
# Each block computes a (16 R) x (16 R) tile of the output, each thread an R x R patch held in
# registers; features stream through shared memory 16 at a time. Exact differences (no GEMM
# expansion), so nearby points keep float32 accuracy and equal rows give exactly 0; the sqrt
# or exp is applied as each result is written, so the output is written once.

_TK = 16  # features per shared-memory step
_R = 4  # outputs per thread along each side
_UPDATE = {
    "sqeuclidean": "acc{r}{c} += diff * diff",
    "euclidean": "acc{r}{c} += diff * diff",
    "rbf": "acc{r}{c} += diff * diff",
    "cityblock": "acc{r}{c} += abs(diff)",
    "chebyshev": "t = abs(diff)\n{pad}acc{r}{c} = t if (t > acc{r}{c} or t != t) else acc{r}{c}",
}
_FINAL = {
    "sqeuclidean": "acc{r}{c}",
    "euclidean": "math.sqrt(acc{r}{c})",
    "rbf": "math.exp(-gamma * acc{r}{c})",
    "cityblock": "acc{r}{c}",
    "chebyshev": "acc{r}{c}",
}


def _pairs_source(metric: str, dtype: str, r: int = _R) -> str:
    tile = 16 * r
    pad = " " * 12
    cells = [(i, j) for i in range(r) for j in range(r)]
    update = "\n".join(
        f"{pad}diff = a{i} - b{j}\n{pad}" + _UPDATE[metric].format(r=i, c=j, pad=pad)
        for i, j in cells
    )
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
from numba import cuda


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
{chr(10).join(f"    acc{i}{j} = zero" for i, j in cells)}
    for k0 in range(0, d, {_TK}):
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
    if True:
{writes}
"""


def _pairs_cuda(ctx: Context, x: Any, y: Any, metric: str, gamma: float, r: int = _R) -> Any:
    import numpy as np

    from . import _cuda

    dtype = _checks.dtype_name(x.dtype)
    kernel = _cuda.cached_kernel(("pairs", metric, dtype, r), f"cuda_pairs_{metric}",
                                 lambda: _pairs_source(metric, dtype, r))  # fmt: skip
    n, m = int(x.shape[0]), int(y.shape[0])
    out = _cuda.empty(ctx, (n, m), x.dtype, x)
    tile = 16 * r
    grid = (-(-m // tile), -(-n // tile))
    scalar = np.float32(gamma) if dtype == "float32" else np.float64(gamma)
    kernel(ctx, grid, (16, 16), [x, y, out, scalar])
    return out


# The euclidean family on the GPU: x @ y.T (see _cross: float32 on tensor cores in three TF32
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

_EPILOGUE_SOURCE = """
import math
import numba
from numba import cuda


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
_EPILOGUE_FINAL = {"sqeuclidean": "v", "euclidean": "math.sqrt(v)", "rbf": "math.exp(-gamma * v)"}
# A few wide blocks per row band beat one block per 256 elements: 16384^2 float32 in place,
# 1.22 ms against 1.83 ms (copy 0.72 ms; benchmarks/epilogue_variants.py, H100).
_EPILOGUE_GRID = (4, 2048)


def _tf32(ctx: Context) -> bool:
    import os

    if ctx.backend.name == "torch":
        import torch

        return bool(torch.backends.cuda.matmul.allow_tf32)
    return os.environ.get("CUPY_TF32", "0") not in ("", "0")


def _cross(ctx: Context, x: Any, y: Any, out: Any) -> None:
    """``out[...] = x @ y.T``, to float32 accuracy.

    float32 on tensor cores: with ``x = xh + xl`` and ``y = yh + yl`` (the high parts exact in
    TF32), ``x.y = xh.yh + xh.yl + xl.yh`` up to ``xl.yl`` (about 2^-22 |x||y|), which is one
    TF32 product of ``[xh, xh, xl]`` and ``[yh, yl, yh]``, three times as deep. On an H200,
    16384^2 x 64 took 0.49-0.51 ms against 1.07 ms for cuBLAS's float32 SGEMM, with a max abs
    error of 9e-5 on products of up to 40 (SGEMM: a few 1e-6); the distances built from it
    stay within 1.3e-5 of float64 (benchmarks/results/algorithms-gpu-targets-nvidia-h200.md).
    """
    from . import _cuda

    if _cuda.tf32_gemm(ctx, x) is None:
        xp = ctx.xp
        xh, xl = _cuda.tf32_split(ctx, x)
        yh, yl = _cuda.tf32_split(ctx, y)
        a = xp.concat([xh, xh, xl], axis=1)
        b = xp.concat([yh, yl, yh], axis=1)
        _cuda.gemm_nt(ctx, a, b, out, tf32=True)
    else:
        _cuda.matmul_into(ctx, x, ctx.xp.matrix_transpose(y), out)


def _gemm_cuda(ctx: Context, x: Any, y: Any, metric: str, gamma: float) -> Any:
    """cdist/rbf by the GEMM expansion (:func:`_cross`) and the in-place epilogue."""
    import numpy as np

    from . import _cuda

    xp = ctx.xp
    dtype = _checks.dtype_name(x.dtype)
    kernel = _cuda.cached_kernel(
        ("epilogue", metric, dtype),
        f"cuda_pairs_gemm_{metric}",
        lambda: _EPILOGUE_SOURCE.replace("{dtype}", dtype).replace(
            "{final}", _EPILOGUE_FINAL[metric]
        ),
    )
    n, m = int(x.shape[0]), int(y.shape[0])
    out = _cuda.empty(ctx, (n, m), x.dtype, x)
    _cross(ctx, x, y, out)
    xx, yy = xp.sum(x * x, axis=1), xp.sum(y * y, axis=1)
    scalar = np.float32(gamma) if dtype == "float32" else np.float64(gamma)
    grid = (min(_EPILOGUE_GRID[0], -(-m // 256)), min(n, _EPILOGUE_GRID[1]))
    kernel(ctx, grid, (256,), [out, xx, yy, x, y, scalar])
    return out


def _pairs_best(ctx: Context, x: Any, y: Any, metric: str, gamma: float) -> Any:
    from . import _cuda

    # The GEMM expansion needs a float32-accurate product: split TF32, or cuBLAS's SGEMM
    # where the library's global TF32 switch is off.
    accurate = _cuda.tf32_gemm(ctx, x) is None or not _tf32(ctx)
    if metric in _EPILOGUE_FINAL and accurate:
        return _gemm_cuda(ctx, x, y, metric, gamma)
    return _pairs_cuda(ctx, x, y, metric, gamma)


def _cuda_supports(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    from . import _cuda

    blocked = _cuda.kernel_supports(ctx, x, y)
    if blocked:
        return blocked
    if not (_cuda._contiguous(x) and _cuda._contiguous(y)):
        return "the kernel needs C-contiguous inputs"
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
# 2048 x 1024 x 64 on (0.29 ms against 1.67 ms).
_CUDA_MIN_WORK = 2**24


def _cuda_wins(ctx: Context, x: Any, y: Any, *rest: Any) -> str | None:
    work = x.shape[0] * y.shape[0] * x.shape[1]
    if work >= _CUDA_MIN_WORK:
        return None
    return f"{work} pair-features: the composed path is faster below {_CUDA_MIN_WORK}"


@_cdist.register("numba-cuda", reason=_CUDA_REASON, supports=_cuda_supports, wins=_cuda_wins)
def _cdist_cuda(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    if metric != "cosine":
        return _pairs_best(ctx, x, y, metric, 0.0)
    return _cosine(ctx, x, y, lambda a, b: _pairs_best(ctx, a, b, "sqeuclidean", 0.0))


@_rbf.register(
    "numba-cuda",
    reason="cuBLAS x @ y.T and one in-place CUDA pass with the exp fused in",
    supports=_cuda_supports,
    wins=_cuda_wins,
)
def _rbf_cuda(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return _pairs_best(ctx, x, y, "rbf", gamma)
