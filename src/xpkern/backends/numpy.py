"""NumPy: the host library, and the arrays of the CUDA simulator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .base import Backend

__all__ = ["BACKEND", "exp_target"]


def _scalar_key(x: Any) -> Any:
    # A NumPy scalar passed where a Python number goes (axis=np.int64(1)): its value matters.
    return (x.dtype, x)


# The vector targets (as NumPy names them) from which its exp runs on vectors, per dtype: on
# x86-64 float32 from AVX2 on, float64 only with AVX512F; elsewhere (Arm) on scalars.
_VECTOR_EXP = {
    "float32": ("AVX2", "AVX512", "X86_V3", "X86_V4"),
    "float64": ("AVX512", "X86_V4"),
}


@functools.cache
def exp_target(name: str) -> str | None:
    """The vector target NumPy dispatches ``exp`` of the dtype ``name`` to, as NumPy names it
    (``"X86_V4"``, ``"AVX512F"``, ``"baseline(X86_V2)"``), or None where NumPy cannot say."""
    try:
        from numpy.lib.introspect import opt_func_info
    except ImportError:  # NumPy < 2.1
        return None
    import numpy as np

    found = opt_func_info(func_name="^exp$", signature=f"^{name}$").get("exp", {})
    current = found.get(np.dtype(name).char * 2, {}).get("current")
    return current if isinstance(current, str) else None


def _vector_exp(name: str) -> bool | None:
    target = exp_target(name) if name in _VECTOR_EXP else None
    return None if target is None else any(t in target for t in _VECTOR_EXP[name])


class NumPy(Backend):
    signature_has_device = True  # one device: the CPU
    host_native = True

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

    def vector_exp(self, dtype: Any) -> bool | None:
        return _vector_exp(str(dtype))

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
