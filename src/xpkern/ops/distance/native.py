"""``cdist`` of CUDA torch tensors: torch's own ``cdist`` computing exact differences.

``compute_mode="donot_use_mm_for_euclid_dist"`` makes ``torch.cdist`` sum the differences of
each pair as the generic path does (torch's default switches to the ``|x|^2 + |y|^2 - 2xy``
expansion above 25 rows, which loses the accuracy of nearby points): one launch against the
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

# Torch's direct kernel beat the composed path in two H200 runs at 79 x 79 x 16 float32
# (99856 pair-features: 58 us against 127 in cdist-native-nvidia-h200.md, 44 against 93 in
# overhead-auto-mask-nvidia-h200.md) and lost at 256 x 256 x 16 (2^20: 140 against 125, 128
# against 112); at 7 x 7 x 16 it took 46 us against 120 and the CUDA kernels' 376
# (benchmarks/experiments/cdist_native.py, one synchronised call each).
_MAX_WORK = 2**17


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
    return f"measured faster up to {_MAX_WORK} pair-features, got {work}"


@cdist_op.register(
    "torch",
    reason="torch's own cdist on exact differences: one launch, autograd kept",
    supports=_supports,
    wins=_wins,
)
def _cdist_torch(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    import torch

    return torch.cdist(x, y, p=_P[metric], compute_mode="donot_use_mm_for_euclid_dist")
