"""``@elementwise`` on Dask arrays: lazy ``map_blocks``, each chunk dispatched on its own
(NumPy chunks to the Numba kernel, CuPy chunks to the CUDA one)."""

from __future__ import annotations

import math
from typing import Any

from ..._dispatch import Op, declare
from ...backends import Context, backend_of, resolve
from ...engines.dask import only_dask, per_chunk
from .core import ENGINES, Elementwise

__all__ = ["per_chunks"]


class _ChunkCall:
    """One chunk's call: the chunks of the array arguments put back among the numbers."""

    def __init__(self, ew: Elementwise, slots: tuple[int, ...], template: tuple[Any, ...]):
        self.ew, self.slots, self.template = ew, slots, template

    def __call__(self, *blocks: Any) -> Any:
        full = list(self.template)
        for i, block in zip(self.slots, blocks, strict=True):
            full[i] = block
        return self.ew(*full)


def per_chunks(ew: Elementwise, args: tuple[Any, ...]) -> Any:
    """A lazy Dask array: ``ew`` mapped over the chunks of the Dask arguments."""
    import dask.array as da

    slots = [i for i, a in enumerate(args) if backend_of(a) is not None]
    try:
        arrays = da.broadcast_arrays(*(args[i] for i in slots))
    except ValueError as exc:
        raise ValueError(f"{ew.__name__}: input shapes do not broadcast: {exc}") from exc
    if any(math.isnan(s) for a in arrays for s in a.shape):
        raise ValueError(f"{ew.__name__}: Dask arrays with unknown chunk sizes are not "
                         "supported; call compute_chunk_sizes() first")  # fmt: skip
    meta_args = tuple(a._meta if backend_of(a) is not None else a for a in args)
    meta_ctx = resolve(*meta_args)
    probes = tuple(meta_ctx.xp.ones((1,), dtype=a.dtype) if backend_of(a) is not None else a
                   for a in meta_args)  # fmt: skip
    dtype = ew.result_dtype(meta_ctx, probes)
    template = tuple(None if i in slots else a for i, a in enumerate(args))
    call = per_chunk(_ChunkCall(ew, tuple(slots), template))
    return da.map_blocks(call, *arrays, dtype=dtype)


def _run(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> Any:
    return per_chunks(ew, args)


def register(op: Op) -> None:
    op.register(
        "dask-chunks",
        reason="lazy map_blocks: each chunk dispatched on its own (Numba or CUDA kernel)",
        supports=only_dask,
    )(_run)


ENGINES.append(register)
declare("dask-chunks")  # config knows the name before the first @elementwise function exists
