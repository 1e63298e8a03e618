"""NumPy: the host library, and the arrays of the CUDA simulator."""

from __future__ import annotations

from typing import Any

from .base import Backend

__all__ = ["BACKEND"]


class NumPy(Backend):
    signature_has_device = True  # one device: the CPU

    def signature(self, x: Any) -> Any:
        return (type(x), x.dtype, x.shape, x.flags.c_contiguous)

    def device_of(self, x: Any) -> Any:
        return "cpu"

    def to_numpy(self, x: Any) -> Any:
        import numpy as np

        return np.asarray(x)  # a NumPy scalar becomes a 0-d array

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        if device not in (None, "cpu"):
            raise ValueError(f"numpy arrays live on the CPU, not on {device!r}")
        return source.to_numpy(x) if source is not None else x

    def empty(self, shape: Any, dtype: Any, like: Any) -> Any:
        import numpy as np

        return np.empty(shape, dtype=dtype)


BACKEND = NumPy("numpy", "numpy")
