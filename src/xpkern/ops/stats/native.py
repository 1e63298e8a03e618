"""``mean_var`` on torch tensors: torch's own ``mean`` and ``var`` (one pass, Welford's update),
where they give what the generic path gives: a non-empty reduction over at least one axis with
more values than ``correction``. They also keep autograd."""

from __future__ import annotations

import math
from typing import Any

from ..._checks import FLOATS
from ...backends import Context, dtype_name
from .core import TOO_FEW, mean_var_op


def _supports(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
              keepdims: bool) -> str | None:  # fmt: skip
    if ctx.backend.name != "torch":
        return f"needs torch tensors, got {ctx.backend.name}"
    if dtype_name(x.dtype) not in FLOATS:
        return "float32/float64 tensors only"
    if not axes:
        return "no axis to reduce"
    if math.prod(x.shape[a] for a in axes) <= correction:
        return TOO_FEW
    return None


# On the CPU, torch's var is slower than the generic path's two sums from about 10^4 elements
# (2 cores: 10^4 float64, 94 us against 44; 10^6, 3.8 ms against 1.3); on CUDA it wins at every
# size of the H200 sweep. Figures: python -m benchmarks --only auto. (Contiguous float32/64
# tensors that need no grad take the row kernels before this, Numba's on the CPU and the CUDA
# one along the last axis: see cuda.py.)
_CPU_MAX_SIZE = 4096


def _wins(ctx: Context, x: Any, *rest: Any) -> str | None:
    size = math.prod(x.shape)
    if ctx.device_type != "cpu" or size <= _CPU_MAX_SIZE:
        return None
    return f"{size} elements on the CPU: the generic path's sums are faster above {_CPU_MAX_SIZE}"


@mean_var_op.register(
    "torch",
    reason="torch's own mean and var: two ops, autograd kept",
    supports=_supports,
    wins=_wins,
)
def _mean_var_torch(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
                    keepdims: bool) -> tuple[Any, Any]:  # fmt: skip
    import torch

    # torch.var_mean's Welford mean of [-inf, -inf] is NaN (NumPy: -inf): the mean on its own.
    mean = torch.mean(x, dim=axes, keepdim=keepdims)
    return mean, torch.var(x, dim=axes, correction=correction, keepdim=keepdims)
