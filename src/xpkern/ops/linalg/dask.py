"""The Gram matrix of a Dask array: the sum of its column chunks' Grams."""

from __future__ import annotations

from typing import Any

from ...backends import Context
from ...engines.dask import only_dask, per_chunk, sum_of_column_grams
from .core import gram, matmul


def _dask_gram_supports(ctx: Context, x: Any) -> str | None:
    return only_dask(ctx) or (None if x.ndim == 2 else "needs a 2-D Dask array")


@gram.register(
    "dask-blocks",
    reason="sum of the column chunks' Grams, each formed where its chunk lives (syrk on "
    "NumPy/CuPy chunks), tree-reduced: only n x n partials travel",
    supports=_dask_gram_supports,
)
def _gram_dask(ctx: Context, x: Any) -> Any:
    return sum_of_column_grams(per_chunk(matmul), x)
