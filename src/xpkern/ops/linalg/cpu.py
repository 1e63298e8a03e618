"""The Gram matrix on the CPU: BLAS syrk (NumPy's, also for CPU tensors, zero-copy) or gemm
(NumPy's, or torch's own for CPU tensors) with its triangle mirrored, whichever the
measurements below say is faster; always exactly symmetric.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..._checks import GRAD, needs_grad
from ...backends import Context
from .core import gram, real_float

# NumPy's matmul calls BLAS syrk when its operands are one C- or F-contiguous buffer and its
# transpose (taken for CPU tensors too, through a NumPy view), then copies the computed
# triangle down the columns of the result. torch (CPU and CUDA) and CuPy always call gemm for
# ``x @ x.T``. A gemm result's two triangles can differ in the last bit (777x33 float64), so
# it gets its lower triangle mirrored by a tiled Numba loop (0.6 ms for 1024^2 float64 on
# the 2-core CI machine).
#
# Where a row of the result is a multiple of 512 bytes (n a multiple of 64 float64s or 128
# float32s) syrk's column walk lands in a few cache sets and costs up to 5x the multiply
# (1024x4 float64: 3.2 ms against 0.7 ms for gemm plus the mirror); at other n syrk is
# 1.3-2x faster than gemm plus the mirror. Measured over n x k inputs, n from 32 to 2048 on
# and off those multiples, k from 4 to 1024, float32 and float64, every implementation
# forced in one run (2-core OpenBLAS and MKL: benchmarks/results/gram-rule-stride-cpu2.md,
# ``python -m benchmarks.experiments.gram_rule``):
# * gemm plus the mirror wins on those strides from 128 rows where 2k <= n and its extra
#   flops are few: rows of x up to 2048 bytes for NumPy (OpenBLAS; 256 float64s), up to
#   1024 bytes for torch (MKL);
# * below 128 rows syrk: right after torch's threaded gemm the mirror's call costs more
#   than the loop itself (100x10 float64: 23 us against syrk's 13; benchmarks/results/
#   overhead-rules-cpu2.md).
_GEMM_MIN_ROWS = 128
_ALIASED_ROW_BYTES = 512
_NUMPY_GEMM_MAX_ROW_BYTES = 2048
_TORCH_GEMM_MAX_ROW_BYTES = 1024


def _gemm_pays(x: Any, max_row_bytes: int) -> bool:
    n, k, size = x.shape[-2], x.shape[-1], x.dtype.itemsize
    aliased = (n * size) % _ALIASED_ROW_BYTES == 0
    return n >= _GEMM_MIN_ROWS and aliased and 2 * k <= n and k * size <= max_row_bytes


def _numpy_gemm_pays(ctx: Context, x: Any) -> bool:
    return _gemm_pays(x, _NUMPY_GEMM_MAX_ROW_BYTES)


def _torch_gemm_pays(ctx: Context, x: Any) -> bool:
    return _gemm_pays(x, _TORCH_GEMM_MAX_ROW_BYTES)


def _syrk_wins(pays: Any) -> Any:
    def wins(ctx: Context, x: Any) -> str | None:
        if pays(ctx, x):
            return (
                f"gemm with its triangle mirrored is faster for {x.shape[-2]}x{x.shape[-1]}"
                " (syrk's triangle copy is slow where a row is a multiple of 512 bytes)"
            )
        return None

    return wins


def _gemm_wins(pays: Any) -> Any:
    def wins(ctx: Context, x: Any) -> str | None:
        if not pays(ctx, x):
            return f"syrk is as fast or faster for {x.shape[-2]}x{x.shape[-1]}"
        return None

    return wins


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


_HAS_MT = hasattr(np.ndarray, "mT")


def _host_syrk(x: Any) -> Any:
    # NumPy hands x @ x.T to syrk when both are views of one buffer, in either memory order;
    # a transposed view (a column chunk of a tall matrix, say) needs no copy first.
    fortran = x.ndim == 2 and x.flags.f_contiguous
    return _syrk_of(x if fortran else np.ascontiguousarray(x))


def _syrk_of(a: Any) -> Any:
    """``a @ a.mT`` for a host array NumPy hands to syrk as it is (C- or F-contiguous)."""
    # .mT (NumPy 2) is a third of swapaxes' cost, which shows on a kept call's small Gram.
    return a @ (a.mT if _HAS_MT else a.swapaxes(-1, -2))


def _mirror_in_place(g: Any) -> Any:
    if g.size:
        _mirror_kernel()(g.reshape(-1, *g.shape[-2:]))
    return g


def _host_gemm(x: Any) -> Any:
    # A copy of the transpose stops NumPy from recognising x @ x.T and calling syrk.
    return _mirror_in_place(np.matmul(x, np.ascontiguousarray(np.swapaxes(x, -1, -2))))


def _gram_syrk(ctx: Context, x: Any) -> Any:
    return ctx.from_host(_host_syrk(ctx.host_view(x)))


def _bind_syrk(ctx: Context, x: Any) -> Any:
    """syrk's call for arrays like ``x`` (a kept call: same library, dtype, shape and
    C-contiguity): for a C-contiguous one no layout is looked at again."""
    if not ctx.backend.contiguous(x):
        return lambda a: _gram_syrk(ctx, a)
    if ctx.backend.host_native:
        return _syrk_of
    host_view, from_host = ctx.backend.host_view, ctx.from_host
    return lambda a: from_host(_syrk_of(host_view(a)))


_gram_syrk.bind = _bind_syrk  # type: ignore[attr-defined]


def _gram_gemm(ctx: Context, x: Any) -> Any:
    return ctx.from_host(_host_gemm(ctx.host_view(x)))


def _gram_torch_gemm(ctx: Context, x: Any) -> Any:
    g = x @ x.mT  # a fresh contiguous tensor: mirrored through its NumPy view
    _mirror_in_place(g.numpy())
    return g


_SYRK_REASON = "BLAS syrk: half the flops of gemm, exactly symmetric"
_GEMM_REASON = "tall input: BLAS gemm is faster than syrk here; lower triangle mirrored"
_TORCH_GEMM_REASON = "torch's own gemm, faster than syrk here; lower triangle mirrored"
_VIEW = " (on a zero-copy NumPy view)"

# Tried in this order; syrk runs on a NumPy view of a CPU tensor too.
for _name, _reason, _supports, _wins, _fn in (
    ("numpy-syrk", _SYRK_REASON, _numpy_supports, _syrk_wins(_numpy_gemm_pays), _gram_syrk),
    ("numpy-gemm", _GEMM_REASON, _numpy_supports, _gemm_wins(_numpy_gemm_pays), _gram_gemm),
    ("torch-cpu-syrk", _SYRK_REASON + _VIEW, _torch_cpu_supports, _syrk_wins(_torch_gemm_pays),
     _gram_syrk),
    ("torch-cpu-gemm", _TORCH_GEMM_REASON, _torch_cpu_supports, _gemm_wins(_torch_gemm_pays),
     _gram_torch_gemm),
):  # fmt: skip
    gram.register(_name, reason=_reason, supports=_supports, wins=_wins)(_fn)


@cache
def _mirror_kernel() -> Any:
    # Compiled on first use (and cached on disk) so that importing xpkern stays light.
    import numba

    @numba.njit(cache=True)
    def mirror(g: Any) -> None:
        # Square tiles of 16: the strided reads of a tile's column stay in cache while its
        # row is written in order (3-4x faster than tiles of 64 at 1024^2-2048^2, whose
        # power-of-two strides make the tile's rows evict each other).
        tile = 16
        n = g.shape[1]
        tiles = (n + tile - 1) // tile
        for b in range(g.shape[0]):
            for ti in range(tiles):
                i0 = ti * tile
                i1 = min(n, i0 + tile)
                for tj in range(ti + 1):
                    for j in range(tj * tile, min(tj * tile + tile, n)):
                        for i in range(max(i0, j + 1), i1):
                            g[b, j, i] = g[b, i, j]

    return mirror
