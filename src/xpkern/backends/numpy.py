"""NumPy: the host library, and the arrays of the CUDA simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import Backend

__all__ = ["BACKEND"]


def _scalar_key(x: Any) -> Any:
    # A NumPy scalar passed where a Python number goes (axis=np.int64(1)): its value matters.
    return (x.dtype, x)


class NumPy(Backend):
    signature_has_device = True  # one device: the CPU

    @staticmethod
    def signature(x: Any) -> Any:
        # The strides tell every layout apart and cost less to read than x.flags (a plain
        # function, not a method: this runs on every kept call).
        return (x.dtype, x.shape, x.strides)

    def key_function(self, cls: type) -> Callable[[Any], Any] | None:
        import numpy as np

        if issubclass(cls, np.ndarray):
            return self.signature
        if issubclass(cls, np.generic):
            return _scalar_key
        return None  # a NumPy type object, a dtype: not an array

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
