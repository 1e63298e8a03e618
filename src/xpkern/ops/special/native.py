"""``softmax`` on torch tensors: torch's own ``softmax``, where it computes what the generic
path computes (``exp(x - max) / sum`` along one axis; it also keeps autograd).

A call into torch's one fused op costs less than the composed form's five at every size of the
sweep, on the CPU and on CUDA (``python -m benchmarks --only auto``), and less than xpkern's
CUDA row kernel but on float32 rows of 4097 to 8192, which take the kernel (see cuda.py).
"""

from __future__ import annotations

import math
import operator
from typing import Any

from ..._checks import FLOATS
from ...backends import Context, dtype_name
from .core import softmax_op


def _supports(ctx: Context, x: Any, axes: tuple[int, ...]) -> str | None:
    if ctx.backend.name != "torch":
        return f"needs torch tensors, got {ctx.backend.name}"
    if len(axes) != 1:
        return "torch.softmax reduces one axis"
    if dtype_name(x.dtype) not in FLOATS:
        return "float32/float64 tensors only"
    return None if math.prod(x.shape) else "an empty tensor"


@softmax_op.register(
    "torch", reason="torch's own softmax: one fused op, autograd kept", supports=_supports
)
def _softmax_torch(ctx: Context, x: Any, axes: tuple[int, ...]) -> Any:
    return x.softmax(axes[0])


# A kept call (see _dispatch.Op._prepared) calls the method itself: no Python frame between.
_softmax_torch.bind = lambda ctx, x, axes: operator.methodcaller(  # type: ignore[attr-defined]
    "softmax", axes[0])  # fmt: skip
