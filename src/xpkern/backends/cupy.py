"""CuPy arrays, on CUDA devices."""

from __future__ import annotations

import functools
from typing import Any

from .base import Backend

__all__ = ["BACKEND"]


class CuPy(Backend):
    signature_has_device = True

    def signature(self, x: Any) -> Any:
        return (x.dtype, x.shape, x.device.id, x.flags.c_contiguous)

    def device_of(self, x: Any) -> Any:
        return x.device

    def device_key(self, x: Any) -> Any:
        # CuPy's Device objects compare by index but do not hash.
        return x.device.id

    def device_type(self, x: Any) -> str:
        return "cuda"

    def to_numpy(self, x: Any) -> Any:
        return x.get()

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        cupy = self.load()
        if source is self:
            out = x
        elif source is not None and source.name != "numpy" and source.device_type(x) == "cuda":
            out = cupy.from_dlpack(x)
        else:
            out = cupy.asarray(source.to_numpy(x) if source is not None else x)
        if device is not None and out.device.id != int(getattr(device, "id", device)):
            with cupy.cuda.Device(int(getattr(device, "id", device))):
                out = out.copy()
        return out

    def pointer(self, a: Any) -> int:
        return int(a.data.ptr)

    def empty(self, shape: Any, dtype: Any, like: Any) -> Any:
        import cupy

        with cupy.cuda.Device(like.device.id):
            return cupy.empty(shape, dtype=dtype)

    def allocator(self, shape: tuple[int, ...], dtype: Any, like: Any) -> Any:
        import cupy

        # On the current device: the one a prepared launch checks it runs on.
        return functools.partial(cupy.empty, shape, dtype)

    def settle(self, x: Any) -> bool:
        import cupy

        with cupy.cuda.Device(x.device.id):
            stream = cupy.cuda.get_current_stream()
            try:
                if stream.is_capturing():
                    return False
            except cupy.cuda.runtime.CUDARuntimeError:
                return False  # the null stream while another stream captures
            stream.synchronize()
        return True

    def device_index(self, x: Any) -> int:
        return int(x.device.id)

    def stream_getter(self, device: int) -> Any:
        import cupy

        # CuPy keeps the current Stream object per thread: a fraction of a microsecond.
        return lambda: int(cupy.cuda.get_current_stream().ptr)


BACKEND = CuPy("cupy", "cupy", "cuda13")
