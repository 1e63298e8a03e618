"""The Gram matrix on the CPU: BLAS syrk or gemm (NumPy's, also for CPU tensors, zero-copy),
whichever the measurements below say is faster, always exactly symmetric.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..._checks import GRAD, needs_grad
from ...backends import Context
from .core import gram, real_float

# NumPy's matmul calls BLAS syrk when its operands are one C- or F-contiguous buffer and its
# transpose, and then copies the computed triangle to the other half. torch (CPU and CUDA)
# and CuPy always call gemm for ``x @ x.T``.
#
# Whether syrk wins on the CPU (benchmarks/results/gram-cpu2.md, 2-core OpenBLAS, n x k
# input): syrk does half the flops, but OpenBLAS parallelises it worse than gemm, and gemm's
# two triangles can differ in the last bit (777x33 float64), so a gemm result needs its lower
# triangle mirrored (a Numba kernel, about 2 ms for 1024^2 values). With that cost paid, gemm
# wins only for very tall inputs: 4096x64 float32 59 ms vs syrk 72 ms, float64 75 vs 88 ms;
# at 2048x128 they tie and at 2048x512 syrk wins (25 vs 36 ms). torch's own gemm is never
# exactly symmetric, so CPU tensors go through the same NumPy path, zero-copy. Small products
# (< 2^27 multiply-adds) stay on syrk, NumPy's own choice, with no mirror to pay for.

_CPU_MIN_WORK = 2**27


def _gemm_pays(ctx: Context, x: Any) -> bool:
    n, k = x.shape[-2], x.shape[-1]
    return n * n * k >= _CPU_MIN_WORK and 32 * k <= n


def _cpu_syrk_wins(ctx: Context, x: Any) -> str | None:
    if _gemm_pays(ctx, x):
        return f"the input is tall ({x.shape[-2]}x{x.shape[-1]}): gemm parallelises better"
    return None


def _cpu_gemm_wins(ctx: Context, x: Any) -> str | None:
    if not _gemm_pays(ctx, x):
        return f"syrk is as fast or faster for {x.shape[-2]}x{x.shape[-1]}"
    return None


def _numpy_supports(ctx: Context, x: Any) -> str | None:
    if ctx.backend.name != "numpy":
        return f"needs NumPy arrays, got {ctx.backend.name}"
    if x.ndim < 2 or not real_float(ctx, x):
        return "needs a float32/float64 array with at least 2 dimensions"
    return None


def _torch_cpu_supports(ctx: Context, x: Any) -> str | None:
    if ctx.backend.name != "torch" or ctx.device_type != "cpu":
        return f"needs CPU torch tensors, got {ctx.backend.name} on {ctx.device_type}"
    if needs_grad(x):
        return GRAD
    if x.ndim < 2 or not real_float(ctx, x):
        return "needs a float32/float64 tensor with at least 2 dimensions"
    return None


def _host_syrk(x: Any) -> Any:
    import numpy as np

    # NumPy hands x @ x.T to syrk when both are views of one buffer, in either memory order;
    # a transposed view (a column chunk of a tall matrix, say) needs no copy first.
    fortran = x.ndim == 2 and x.flags.f_contiguous
    a = x if fortran else np.ascontiguousarray(x)
    return np.matmul(a, np.swapaxes(a, -1, -2))


def _mirror_in_place(g: Any) -> Any:
    if g.size:
        _mirror_kernel()(g.reshape(-1, *g.shape[-2:]))
    return g


def _host_gemm(x: Any) -> Any:
    import numpy as np

    # A copy of the transpose stops NumPy from recognising x @ x.T and calling syrk.
    return _mirror_in_place(np.matmul(x, np.ascontiguousarray(np.swapaxes(x, -1, -2))))


def _gram_syrk(ctx: Context, x: Any) -> Any:
    return ctx.from_host(_host_syrk(ctx.host_view(x)))


def _gram_gemm(ctx: Context, x: Any) -> Any:
    return ctx.from_host(_host_gemm(ctx.host_view(x)))


_SYRK_REASON = "BLAS syrk: half the flops of gemm, exactly symmetric"
_GEMM_REASON = "tall input: BLAS gemm is faster than syrk here; lower triangle mirrored"
_VIEW = " (on a zero-copy NumPy view)"

# NumPy arrays and CPU tensors share the code; they differ in when it applies.
gram.register("numpy-syrk", reason=_SYRK_REASON, supports=_numpy_supports, wins=_cpu_syrk_wins)(
    _gram_syrk
)
gram.register("numpy-gemm", reason=_GEMM_REASON, supports=_numpy_supports, wins=_cpu_gemm_wins)(
    _gram_gemm
)
gram.register(
    "torch-cpu-syrk", reason=_SYRK_REASON + _VIEW, supports=_torch_cpu_supports,
    wins=_cpu_syrk_wins,
)(_gram_syrk)  # fmt: skip
gram.register(
    "torch-cpu-gemm", reason=_GEMM_REASON + _VIEW, supports=_torch_cpu_supports,
    wins=_cpu_gemm_wins,
)(_gram_gemm)  # fmt: skip


@cache
def _mirror_kernel() -> Any:
    # Compiled on first use (and cached on disk) so that importing xpkern stays light.
    import numba

    @numba.njit(cache=True)
    def mirror(g: Any) -> None:
        # Square tiles keep the strided reads of a column block in cache.
        tile = 64
        n = g.shape[1]
        tiles = (n + tile - 1) // tile
        for b in range(g.shape[0]):
            for ti in range(tiles):
                for tj in range(ti + 1):
                    for i in range(ti * tile, min(n, ti * tile + tile)):
                        for j in range(tj * tile, min(tj * tile + tile, i)):
                            g[b, j, i] = g[b, i, j]

    return mirror
