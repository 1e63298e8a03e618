"""``cdist`` and ``rbf_kernel`` of Dask arrays: one task per pair of row chunks."""

from __future__ import annotations

from typing import Any

from ...backends import Context
from ...engines.dask import only_dask, per_chunk, row_blocks
from .core import cdist, cdist_op, rbf_kernel, rbf_op

_DASK_REASON = "one task per pair of row chunks, each chunk pair dispatched in its own library"


@cdist_op.register("dask-blocks", reason=_DASK_REASON, supports=only_dask)
def _cdist_dask(ctx: Context, x: Any, y: Any, metric: str) -> Any:
    return row_blocks(per_chunk(cdist), x, y, x.dtype, metric=metric)


@rbf_op.register("dask-blocks", reason=_DASK_REASON, supports=only_dask)
def _rbf_dask(ctx: Context, x: Any, y: Any, gamma: float) -> Any:
    return row_blocks(per_chunk(rbf_kernel), x, y, x.dtype, gamma=gamma)
