"""Dask: lazy arrays of chunks of another library; xpkern never computes them."""

from __future__ import annotations

from typing import Any

from .base import Backend

__all__ = ["BACKEND"]


class Dask(Backend):
    def signature(self, x: Any) -> Any:
        return None  # chunks and their library matter; a Dask call is dispatched afresh

    reusable_context = False

    def chunk_meta(self, x: Any) -> Any:
        return getattr(x, "_meta", None)

    def to_numpy(self, x: Any) -> Any:
        raise TypeError("convert a dask array with .compute(); xpkern never computes it for you")

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        import dask.array

        self.load()
        host = source.to_numpy(x) if source is not None else x
        return dask.array.from_array(host)


BACKEND = Dask("dask", "dask", "dask")
