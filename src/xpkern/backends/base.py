"""What every array library shares: the :class:`Backend` protocol and its defaults.

A backend file (``backends/<library>.py``) defines one subclass and one instance of it; the
registry in ``backends/__init__.py`` lists the instances. Nothing here imports an array library:
each method imports its own the first time an array of that library reaches it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

__all__ = ["Backend", "dtype_name", "weak_float"]


def dtype_name(dtype: Any) -> str:
    """``"float32"`` for NumPy's, torch's or CuPy's float32 alike."""
    return _dtype_name(type(dtype).__qualname__, dtype)


def weak_float(value: float, dtype: str) -> float:
    """A Python number rounded to the float dtype named ``dtype`` (a NumPy one) as NumPy
    rounds a weak scalar: beyond the dtype's range, infinite (1e300 in float32)."""
    import numpy as np

    with np.errstate(over="ignore"):
        return float(np.asarray(value, dtype=dtype))


@lru_cache(maxsize=256)
def _dtype_name(kind: str, dtype: Any) -> str:
    # Keyed by the type too: array-api-strict's dtypes hash as NumPy's and warn when the
    # cache compares the two.
    return str(dtype).rpartition(".")[2]


@dataclass(frozen=True)
class Backend:
    """An array library xpkern knows by name.

    Parameters
    ----------
    name : str
        The name used in messages and in :func:`xpkern.to_backend`.
    module : str
        The top-level module that defines the array type.
    extra : str or None
        The ``pip install "xpkern[extra]"`` that brings it, if any.
    modules : tuple of str
        Further top-level modules whose types belong to this library (``jaxlib`` for JAX).
    """

    name: str
    module: str
    extra: str | None = None
    modules: tuple[str, ...] = ()

    def installed(self) -> bool:
        """Whether the library can be imported (without importing it)."""
        if self.module in sys.modules:
            return True
        return importlib.util.find_spec(self.module) is not None

    def load(self) -> ModuleType:
        """Import the library, or raise an ImportError naming the extra that provides it."""
        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            hint = f' (pip install "xpkern[{self.extra}]")' if self.extra else ""
            raise ImportError(f"xpkern needs {self.module} for this{hint}") from exc

    # -- where an array lives, and the host ---------------------------------------------------
    # Whether a Context may be reused for every array of one type on one device (a lazy
    # library's context also depends on its chunks' library, so Dask says no).
    reusable_context = True

    def device_of(self, x: Any) -> Any:
        """The device of ``x`` in the library's own terms (array-api-compat's ``device``)."""
        import array_api_compat

        return array_api_compat.device(x)

    def device_key(self, x: Any) -> Any:
        """A hashable stand-in for the device of ``x``, for what is kept per device."""
        return self.device_of(x)

    # Whether signature() already tells devices apart (then callers need not ask for it)
    signature_has_device = False

    def signature(self, x: Any) -> Any:
        """What dispatch rules may look at in ``x`` (dtype, shape, layout, grad), as a hashable
        key; None where no cheap key exists (the call is then dispatched afresh)."""
        return (x.dtype, tuple(x.shape), self.contiguous(x))

    def key_function(self, cls: type) -> Callable[[Any], Any] | None:
        """The function giving :meth:`signature` of an array of type ``cls`` together with its
        device (where the signature does not already tell devices apart); None where ``cls``
        is not an array type."""
        signature = self.signature
        if self.signature_has_device:
            return signature
        device_key = self.device_key

        def key(x: Any) -> Any:
            sig = signature(x)
            return None if sig is None else (sig, device_key(x))

        return key

    def vector_exp(self, dtype: Any) -> bool | None:
        """Whether the library's ``exp`` of ``dtype`` runs on the CPU's vector unit (some CPU
        rules turn on it), or None where that is not known."""
        return None

    def device_type(self, x: Any) -> str:
        """``"cpu"`` or ``"cuda"`` (or the library's own word) for where ``x`` lives."""
        return "cpu"

    def chunk_meta(self, x: Any) -> Any:
        """For a lazy array of chunks, an empty array of its chunks' library; else None."""
        return None

    # Whether the library's arrays are NumPy arrays (host_view and from_host return them as
    # they are), which kept calls then skip.
    host_native = False

    def host_view(self, a: Any) -> Any:
        """A host array of this library as a zero-copy NumPy view (NumPy: unchanged)."""
        return a

    def from_host(self, a: Any) -> Any:
        """A NumPy result as an array of this library, sharing its memory where it can."""
        return a

    def to_numpy(self, x: Any) -> Any:
        """``x`` copied (or viewed) as a NumPy array on the host: an explicit transfer."""
        import numpy as np

        try:
            return np.from_dlpack(x)
        except (TypeError, BufferError, RuntimeError, AttributeError):
            return np.asarray(x)

    def convert(self, x: Any, source: Backend | None, device: Any) -> Any:
        """``x`` of library ``source`` as an array of this library (``to_backend``)."""
        module = self.load()
        host = source.to_numpy(x) if source is not None else x
        return module.asarray(host) if device is None else module.asarray(host, device=device)

    # -- what the CUDA engine needs of a GPU library (torch and CuPy) ---------------------------
    def pointer(self, a: Any) -> int:
        """The device address of ``a``'s first element."""
        raise TypeError(f"{self.name} arrays have no device pointer xpkern can use")

    def contiguous(self, a: Any) -> bool:
        """Whether ``a`` is C-contiguous."""
        return bool(getattr(getattr(a, "flags", None), "c_contiguous", False))

    def empty(self, shape: Any, dtype: Any, like: Any) -> Any:
        """An uninitialised array on ``like``'s device."""
        return like.__array_namespace__().empty(shape, dtype=dtype)

    def allocator(self, shape: tuple[int, ...], dtype: Any, like: Any) -> Callable[[], Any]:
        """``new()``: an uninitialised array of ``shape`` and ``dtype`` on ``like``'s device
        each call, for a kept call's output (holding no reference to ``like``)."""
        xp, device = like.__array_namespace__(), getattr(like, "device", None)
        return functools.partial(xp.empty, shape, dtype=dtype, device=device)

    def matmul(self, xp: Any, a: Any, b: Any) -> Any:
        """``a @ b`` at the dtype's full precision (a library that would round float32
        products to a lower precision by default is asked not to)."""
        return xp.matmul(a, b)

    def fmod(self, xp: Any, x: Any, y: Any) -> Any:
        """C's ``fmod`` element by element, exact as it always is in C (the remainder is
        representable) where the library's own may round."""
        return xp.fmod(x, y)

    def division_operands(self, a: Any, b: Any) -> tuple[Any, Any]:
        """``a`` and ``b`` as the library's ``/`` and ``//`` should take them to round the
        quotient once, as NumPy does, where one of them is a Python number."""
        return a, b

    def matrix_transpose(self, xp: Any, x: Any) -> Any:
        """``x`` with its last two axes swapped (at least two dimensions), as a view where the
        library makes one."""
        return xp.matrix_transpose(x)

    def settle(self, x: Any) -> bool:
        """Wait until the device has written ``x``, so that work on any stream may read it;
        False where no wait may be made now (a stream being captured into a graph)."""
        return True

    def device_index(self, x: Any) -> int:
        """The CUDA device ordinal of ``x``."""
        raise TypeError(f"{self.name} arrays do not live on a CUDA device")

    def stream_getter(self, device: int) -> Any:
        """A function returning the library's current CUDA stream on ``device`` as a raw
        handle (an int), cheap enough to call on every launch."""
        raise TypeError(f"{self.name} has no CUDA streams")
