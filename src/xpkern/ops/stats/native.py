"""``mean_var`` on torch tensors: torch's own ``mean`` and ``var`` (one pass, Welford's update),
where they give what the generic path gives: a non-empty reduction over at least one axis with
more values than ``correction``. They also keep autograd."""

from __future__ import annotations

import math
from typing import Any

from ..._checks import FLOATS
from ...backends import Context, dtype_name
from .core import mean_var_op


def _supports(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
              keepdims: bool) -> str | None:  # fmt: skip
    if ctx.backend.name != "torch":
        return f"needs torch tensors, got {ctx.backend.name}"
    if dtype_name(x.dtype) not in FLOATS:
        return "float32/float64 tensors only"
    if not axes:
        return "no axis to reduce"
    if math.prod(x.shape[a] for a in axes) <= correction:
        return "no more values than the correction: the generic path's NaN"
    return None


@mean_var_op.register(
    "torch", reason="torch's own mean and var: two ops, autograd kept", supports=_supports
)
def _mean_var_torch(ctx: Context, x: Any, axes: tuple[int, ...], correction: float,
                    keepdims: bool) -> tuple[Any, Any]:  # fmt: skip
    import torch

    # torch.var_mean's Welford mean of [-inf, -inf] is NaN (NumPy: -inf): the mean on its own.
    mean = torch.mean(x, dim=axes, keepdim=keepdims)
    return mean, torch.var(x, dim=axes, correction=correction, keepdim=keepdims)
