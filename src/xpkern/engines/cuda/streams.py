"""The caller's device and stream: work runs on the stream the caller's library is using
(torch's for tensors, CuPy's for CuPy arrays), never with a device-wide synchronisation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ...backends import Context

__all__ = [
    "ExternalStream",
    "caller_stream",
    "device_of",
    "numba_stream",
    "on_caller_stream",
    "raw_stream",
]


@contextlib.contextmanager
def on_caller_stream(ctx: Context, x: Any) -> Iterator[Any]:
    """CuPy, with its current device and stream set to those the caller's library is using."""
    import cupy

    with device_of(ctx, x), caller_stream(ctx, x):
        yield cupy


def device_of(ctx: Context, x: Any) -> Any:
    """CuPy's current device set to ``x``'s, where it is not already."""
    import cupy

    index = ctx.backend.device_index(x)
    if cupy.cuda.runtime.getDevice() == index:
        return contextlib.nullcontext()
    return cupy.cuda.Device(index)


class ExternalStream:
    """A raw stream handle seen through the CUDA stream protocol, which CuPy understands."""

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.handle)


_STREAMS: dict[tuple[int, int], Any] = {}


def caller_stream(ctx: Context, x: Any) -> Any:
    """The caller's current stream on ``x``'s device as a CuPy stream, cached per raw handle:
    building one costs microseconds that a small launch cannot spare."""
    import cupy

    if ctx.backend.name == "cupy":
        return cupy.cuda.get_current_stream()
    index = ctx.backend.device_index(x)
    key = (index, raw_stream(ctx, x))
    stream = _STREAMS.get(key)
    if stream is None:
        stream = _STREAMS[key] = cupy.cuda.Stream.from_external(ExternalStream(key[1]))
    return stream


def raw_stream(ctx: Context, x: Any) -> int:
    """The caller's current stream on ``x``'s device as a raw handle."""
    return int(ctx.backend.stream_getter(ctx.backend.device_index(x))())


def numba_stream(ctx: Context, x: Any) -> Any:
    """The caller's current stream as the compiler's stream object (its own launch path)."""
    from . import compiler

    return compiler.external_stream(raw_stream(ctx, x))
