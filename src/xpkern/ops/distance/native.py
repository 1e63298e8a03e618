"""``cdist`` of CUDA torch tensors: torch's own ``cdist`` computing exact differences.

``compute_mode="donot_use_mm_for_euclid_dist"`` makes ``torch.cdist`` sum the differences of
each pair as the generic path does (torch's default switches to the ``|x|^2 + |y|^2 - 2xy``
expansion from 25 rows, which loses the accuracy of nearby points): one launch against the
generic path's four, and against the CUDA kernels' cuBLAS product and epilogue. Euclidean and
cityblock only: torch's Chebyshev maximum skips NaN differences, where the generic path's
maximum keeps them. It also keeps autograd (a zero gradient at coincident points, as the
generic path's).
"""

from __future__ import annotations

from typing import Any

from ..._checks import FLOATS
from ...backends import Context, dtype_name
from .core import cdist_op

_P = {"euclidean": 2.0, "cityblock": 1.0}

# Up to this many pair-features (rows of x times rows of y times features) torch's direct
# kernel is faster than the CUDA kernels (python -m benchmarks --only auto --gpu and
# benchmarks/experiments/cdist_native.py; figures in benchmarks/results/).
_MAX_WORK = 2**26


def _supports(ctx: Context, x: Any, y: Any, metric: str) -> str | None:
    if ctx.backend.name != "torch" or ctx.device_type != "cuda":
        return "needs CUDA torch tensors"
    if metric not in _P:
        return f"{metric}: torch.cdist computes it otherwise (euclidean and cityblock only)"
    if dtype_name(x.dtype) not in FLOATS:
        return "float32/float64 tensors only"
    if 0 in (x.shape[0], y.shape[0], x.shape[1]):
        return "an empty input"
    return None


def _wins(ctx: Context, x: Any, y: Any, metric: str) -> str | None:
    work = x.shape[0] * y.shape[0] * x.shape[1]
    if work <= _MAX_WORK:
        return None
    return f"{work} pair-features: the CUDA kernels are faster above {_MAX_WORK}"


@cdist_op.register(
    "torch",
    reason="torch's own cdist on exact differences: one launch, autograd kept",
    supports=_supports,
    wins=_wins,
)
def _cdist_torch(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    import torch

    return torch.cdist(x, y, p=_P[metric], compute_mode="donot_use_mm_for_euclid_dist")
