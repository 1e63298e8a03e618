"""The compiler behind the CUDA engine: numba-cuda.

Everything that names numba-cuda lives here; another compiler with the same ``cuda.jit``
kernel API (numba-cuda-mlir, say) is a replacement of this one file. Generated kernel modules
take ``cuda`` from here rather than from ``numba``. Importing this module imports the compiler.
"""

from __future__ import annotations

import contextlib
import types
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ...backends import dtype_name
from . import compat

compat.apply()

from numba import cuda  # noqa: E402  (after the compatibility measure)

__all__ = [
    "NAME",
    "array_type",
    "compile_ptx",
    "cuda",
    "default_stream",
    "device_function",
    "external_stream",
    "is_available",
    "jit",
    "numba_type",
    "scalar_type",
    "version",
]

NAME = "numba-cuda"


def version() -> str:
    import numba_cuda  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return str(getattr(numba_cuda, "__version__", "?"))


def _is_array(a: Any) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, np.generic)


def array_type(dtype: str, ndim: int) -> Any:
    """The compiler's type of a C-contiguous array of ``dtype`` with ``ndim`` dimensions."""
    import numba

    return numba.types.Array(numba.from_dtype(np.dtype(dtype)), max(1, ndim), "C")


def scalar_type(dtype: str) -> Any:
    """The compiler's type of a scalar of ``dtype``."""
    import numba

    return numba.from_dtype(np.dtype(dtype))


def numba_type(a: Any) -> Any:
    """The compiler's type of a kernel argument: an array, a NumPy scalar or a number."""
    if _is_array(a):
        return array_type(dtype_name(a.dtype), len(a.shape))
    if isinstance(a, np.generic):
        return scalar_type(str(a.dtype))
    return scalar_type("int64" if isinstance(a, bool | int) else "float64")


def _pointer_type(t: Any) -> Any:
    import numba

    types: Any = numba.types
    return types.CPointer(t.dtype) if isinstance(t, types.Array) else t


def compile_ptx(pyfunc: Any, types_: list[Any], *, raw: bool = False,
                cc: tuple[int, int] | None = None) -> str:  # fmt: skip
    """PTX of kernel ``pyfunc`` for argument types ``types_``; arrays as bare pointers if
    ``raw``. For the current device, or for compute capability ``cc`` (needs no GPU)."""
    from numba.core.errors import NumbaPerformanceWarning

    sig = tuple(_pointer_type(t) for t in types_) if raw else tuple(types_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaPerformanceWarning)
        if cc is None:
            ptx, _ = cuda.compile_ptx_for_current_device(pyfunc, sig, device=False)
        else:
            with _target(cc):
                ptx, _ = cuda.compile_ptx(pyfunc, sig, device=False, cc=cc)
    return str(ptx)


@contextlib.contextmanager
def _target(cc: tuple[int, int]) -> Iterator[None]:
    """Device functions called by a kernel are compiled for the current device's compute
    capability; where a kernel is compiled for a named ``cc`` (on a machine without a GPU,
    say), they are compiled for that one instead."""
    from numba.cuda import dispatcher

    found = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = found


def jit(pyfunc: Any) -> Any:
    """``pyfunc`` as a kernel that the compiler launches itself (simulator, or no CuPy)."""
    return cuda.jit(pyfunc)


def device_function() -> Any:
    """The decorator that makes a device function."""
    return cuda.jit(device=True)


def default_stream() -> Any:
    return cuda.default_stream()


def external_stream(handle: int) -> Any:
    return cuda.external_stream(handle)


def is_available() -> bool:
    return bool(cuda.is_available())
