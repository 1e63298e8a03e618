"""Dask plumbing shared by the ops' chunk-wise implementations.

Each op's Dask implementation hands every chunk to the public xpkern function, so a chunk is
dispatched like any array of its library: NumPy chunks reach the Numba kernels, CuPy chunks
the CUDA ones. Nothing here computes; every result is a lazy Dask array.
"""

from __future__ import annotations

import contextvars
from typing import Any

from .._dispatch import config
from ..backends import Context


def only_dask(ctx: Context, *args: Any, **kwargs: Any) -> str | None:
    return None if ctx.backend.name == "dask" else "only for Dask arrays"


_IN_CHUNK: contextvars.ContextVar[bool] = contextvars.ContextVar("xpkern_in_chunk", default=False)


def in_chunk() -> bool:
    """Whether this thread is computing one chunk of a Dask array (Dask runs the others)."""
    return _IN_CHUNK.get()


class per_chunk:
    """``fn`` called on chunks, each dispatched afresh: an implementation forced for the Dask
    array (``dask-blocks``, say) is not one the chunks have. Picklable for workers."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = _IN_CHUNK.set(True)
        try:
            with config(impl="auto"):
                return self.fn(*args, **kwargs)
        finally:
            _IN_CHUNK.reset(token)


def meta_like(x: Any, ndim: int) -> Any:
    """An empty array of ``x``'s chunk library, with ``ndim`` dimensions."""
    return x._meta.reshape((0,) * ndim)


def row_blocks(fn: Any, x: Any, y: Any, dtype: Any, **kwargs: Any) -> Any:
    """``fn(x_chunk, y_chunk, **kwargs)`` for each pair of row chunks: an (n, m) lazy array.

    The feature axis is merged into one chunk first, since every pair needs all of it.
    """
    import dask.array as da

    x = x.rechunk({1: -1})
    y = y.rechunk({1: -1})
    return da.blockwise(fn, "ij", x, "ik", y, "jk", dtype=dtype, concatenate=True,
                        meta=meta_like(x, 2), **kwargs)  # fmt: skip


def sum_of_column_grams(gram: Any, x: Any) -> Any:
    """``x @ x.T`` as the tree-reduced sum of the Grams of ``x``'s column chunks.

    A (n, 10^7) array in column chunks never exists whole: each chunk's (n, n) Gram is formed
    where the chunk lives, and only those small partial Grams travel.
    """
    import dask.array as da

    n = x.shape[0]
    x = x.rechunk({0: -1})
    parts = da.blockwise(_stacked(gram), "jik", x, "ij", new_axes={"k": n},
                         adjust_chunks={"j": 1}, dtype=x.dtype, meta=meta_like(x, 3))  # fmt: skip
    return parts.sum(axis=0)


class _stacked:
    """``fn(chunk)`` with a leading axis of length 1 (picklable for distributed workers)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __call__(self, chunk: Any) -> Any:
        return self.fn(chunk)[None, ...]
