"""``logsumexp`` of a Dask array: a tree reduction of per-chunk results."""

from __future__ import annotations

import math
from typing import Any

from ...backends import Context
from ...engines.dask import only_dask, per_chunk
from .core import logsumexp, logsumexp_op


def _dask_tree_supports(ctx: Context, x: Any, axes: Any, keepdims: bool, b: Any) -> str | None:
    blocked = only_dask(ctx)
    if blocked:
        return blocked
    if b is not None:
        return "weights b take the generic path"
    return None if math.prod(x.shape[a] for a in axes) else "an empty reduction"


@logsumexp_op.register(
    "dask-tree",
    reason="tree reduction: each chunk's logsumexp (its own library's kernel), then the "
    "logsumexp of those partials; one read of the input",
    supports=_dask_tree_supports,
)
def _logsumexp_dask(ctx: Context, x: Any, axes: tuple[int, ...], keepdims: bool, b: Any) -> Any:
    import dask.array as da

    # logsumexp is associative: the logsumexp of partial logsumexps is the whole one, and
    # +-inf and NaN carry through each level as they do in one pass.
    partial = per_chunk(_partial_lse)
    return da.reduction(x, partial, partial, combine=partial, axis=axes, keepdims=keepdims,
                        dtype=x.dtype, concatenate=True, meta=x._meta)  # fmt: skip


def _partial_lse(chunk: Any, axis: Any = None, keepdims: bool = False, **_: Any) -> Any:
    # keepdims, then the chunk's own reshape: a full reduction stays an array (a NumPy chunk
    # would otherwise give a NumPy scalar), which is what Dask's reduction expects
    out = logsumexp(chunk, axis=axis, keepdims=True)
    if keepdims:
        return out
    axes = range(chunk.ndim) if axis is None else axis
    return out.reshape(tuple(n for i, n in enumerate(out.shape) if i not in axes))
