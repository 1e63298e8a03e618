"""Which library an array belongs to, its namespace and device, and explicit transfers.

Detection never imports an array library: a library the user has not imported cannot have
produced the arrays we are given, so looking at ``type(x).__module__`` is enough, and the answer
is cached per type.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

__all__ = [
    "BACKENDS",
    "Backend",
    "Context",
    "backend_of",
    "installed_backends",
    "namespace",
    "resolve",
    "to_backend",
]


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
    """

    name: str
    module: str
    extra: str | None = None

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


NUMPY = Backend("numpy", "numpy")
TORCH = Backend("torch", "torch", "torch")
CUPY = Backend("cupy", "cupy", "cuda13")
DASK = Backend("dask", "dask", "dask")
JAX = Backend("jax", "jax", "jax")
STRICT = Backend("array_api_strict", "array_api_strict", "test")

BACKENDS: dict[str, Backend] = {b.name: b for b in (NUMPY, TORCH, CUPY, DASK, JAX, STRICT)}
_BY_MODULE = {b.module: b for b in BACKENDS.values()} | {"jaxlib": JAX}


@lru_cache(maxsize=256)
def _backend_of_type(cls: Any) -> Backend | None:
    for klass in cls.__mro__:
        top = klass.__module__.partition(".")[0]
        if top in _BY_MODULE:
            return _BY_MODULE[top]
    if hasattr(cls, "__array_namespace__"):
        top = cls.__module__.partition(".")[0]
        return Backend(top, top)
    return None


def backend_of(x: object) -> Backend | None:
    """The :class:`Backend` of an array, or None for Python scalars, lists and other objects."""
    cls: Any = type(x)
    backend = _backend_of_type(cls)
    if backend is NUMPY and not hasattr(x, "dtype"):
        return None  # a numpy type object or similar, not an array
    return backend


def installed_backends() -> list[Backend]:
    """The known array libraries that are importable in this environment."""
    return [b for b in BACKENDS.values() if b.installed()]


def device_type(x: Any) -> str:
    """``"cpu"`` or ``"cuda"`` (or the library's own word) for where ``x`` lives."""
    backend = backend_of(x)
    name = backend.name if backend else "numpy"
    if name == "torch":
        return str(x.device.type)
    if name == "cupy":
        return "cuda"
    if name == "jax":
        try:
            platform = str(next(iter(x.devices())).platform)
        except Exception:  # a tracer inside jax.jit has no device: the default one will run it
            import jax

            platform = str(jax.default_backend())
        return "cuda" if platform == "gpu" else platform
    if name == "dask":
        meta = getattr(x, "_meta", None)
        return device_type(meta) if meta is not None else "cpu"
    return "cpu"


@dataclass(frozen=True)
class Context:
    """What dispatch knows about the arrays of one call.

    Attributes
    ----------
    xp : module
        The Array-API namespace of the inputs.
    backend : Backend
        The library of the inputs.
    device : object
        The device of the inputs, in the library's own terms.
    device_type : str
        ``"cpu"``, ``"cuda"``, ...
    """

    xp: ModuleType
    backend: Backend
    device: Any
    device_type: str

    def asarray(self, x: Any) -> Any:
        """``x`` unchanged if it is an array, else an array of this namespace on this device.

        A NumPy array given with Dask arrays becomes a one-chunk Dask array, as in Dask.
        """
        found = backend_of(x)
        if found is DASK or (found is not None and self.backend is not DASK):
            return x
        if found is not None:
            import dask.array as da

            return da.from_array(x, chunks=-1)
        try:
            return self.xp.asarray(x, device=self.device)
        except (TypeError, ValueError, OverflowError) as exc:
            raise TypeError(
                f"inputs must be arrays or array-likes; a {type(x).__name__} could not be "
                f"converted: {exc}"
            ) from exc


def _device(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(x)


_NAMESPACES: dict[type, ModuleType] = {}


def _namespace(x: Any) -> ModuleType:
    # The namespace depends on the array's type only: look it up once per type.
    found = _NAMESPACES.get(type(x))
    if found is None:
        import array_api_compat

        found = _NAMESPACES[type(x)] = array_api_compat.array_namespace(x)
    return found


def resolve(*args: Any) -> Context:
    """The :class:`Context` shared by the arrays among ``args``.

    Python scalars, lists and None are skipped; they take the arrays' namespace. With no array
    at all the namespace is NumPy's, as in SciPy.

    Raises
    ------
    TypeError
        If the arrays come from different libraries.
    ValueError
        If the arrays live on different devices, or a Dask array has unknown chunk sizes.
    """
    arrays = [a for a in args if backend_of(a) is not None]
    if not arrays:
        import numpy as np

        arrays = [np.empty(0)]
    # Dask's own rule: NumPy arrays among Dask arrays join the graph as single-chunk arrays.
    names = {b.name for b in map(backend_of, arrays) if b is not None}
    if names == {"dask", "numpy"}:
        arrays = [a for a in arrays if backend_of(a) is DASK]
    first, first_backend = arrays[0], backend_of(arrays[0])
    assert first_backend is not None
    for other in arrays[1:]:
        other_backend = backend_of(other)
        assert other_backend is not None
        if other_backend.name != first_backend.name:
            raise TypeError(
                f"inputs mix array libraries: {first_backend.name} and {other_backend.name}; "
                "convert one of them explicitly with xpkern.to_backend"
            )
    device = _device(first)
    for other in arrays[1:]:
        if _device(other) != device:
            raise ValueError(
                f"inputs live on different devices: {device} and {_device(other)}; "
                "move one of them explicitly with xpkern.to_backend(..., device=...)"
            )
    if first_backend.name == "dask" and any(s != s for a in arrays for s in a.shape):
        raise ValueError(
            "a Dask array has unknown chunk sizes (NaN in its shape); call "
            "x.compute_chunk_sizes() first"
        )
    return Context(_namespace(first), first_backend, device, device_type(first))


def namespace(*arrays: Any) -> ModuleType:
    """The Array-API namespace of the given arrays.

    Parameters
    ----------
    *arrays
        Arrays of one library and one device. Python scalars, lists and None may stand beside
        them; alone, they give NumPy's namespace.

    Returns
    -------
    module
        The namespace (from ``array_api_compat``) that operates on these arrays.

    Raises
    ------
    TypeError
        If the arrays come from different libraries.
    ValueError
        If the arrays live on different devices.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.namespace(np.ones(3), 2.0).__name__
    'array_api_compat.numpy'
    """
    return resolve(*arrays).xp


def torch_cpu_as_numpy(t: Any) -> Any:
    """A NumPy view of a CPU tensor that needs no grad: the same memory, no copy."""
    return t.resolve_conj().resolve_neg().numpy()


def host_view(ctx: Context, a: Any) -> Any:
    """A CPU tensor as a zero-copy NumPy view; NumPy arrays and numbers unchanged."""
    if ctx.backend.name == "torch" and backend_of(a) is not None:
        return torch_cpu_as_numpy(a)
    return a


def from_host(ctx: Context, a: Any) -> Any:
    """A NumPy result back in the inputs' library: a tensor sharing its memory for torch."""
    if ctx.backend.name == "torch":
        import torch

        return torch.from_numpy(a)
    return a


def _to_numpy(x: Any) -> Any:
    import numpy as np

    source = backend_of(x)
    name = source.name if source else "numpy"
    if name == "torch":
        if x.requires_grad:
            raise ValueError("the tensor requires grad; call .detach() before converting it")
        return x.cpu().resolve_conj().resolve_neg().numpy()
    if name == "cupy":
        return x.get()
    if name == "dask":
        raise TypeError("convert a dask array with .compute(); xpkern never computes it for you")
    try:
        return np.from_dlpack(x)
    except (TypeError, BufferError, RuntimeError, AttributeError):
        return np.asarray(x)


def _to_torch(x: Any, device: Any) -> Any:
    torch = TORCH.load()
    source = backend_of(x)
    if source is TORCH:
        return x if device is None else x.to(device)
    if source is CUPY or (source is not None and source is not NUMPY and device_type(x) != "cpu"):
        out = torch.from_dlpack(x)
    else:
        host = _to_numpy(x)
        out = torch.from_numpy(host) if host.flags.writeable else torch.from_numpy(host.copy())
    return out if device is None else out.to(device)


def _to_cupy(x: Any, device: Any) -> Any:
    cupy = CUPY.load()
    source = backend_of(x)
    if source is CUPY:
        out = x
    elif source is not None and source is not NUMPY and device_type(x) == "cuda":
        out = cupy.from_dlpack(x)
    else:
        out = cupy.asarray(_to_numpy(x))
    if device is not None and out.device.id != int(getattr(device, "id", device)):
        with cupy.cuda.Device(int(getattr(device, "id", device))):
            out = out.copy()
    return out


def to_backend(x: Any, backend: str, *, device: Any = None) -> Any:
    """Move or convert an array to another library (and optionally device), explicitly.

    This is the one place where xpkern moves data between libraries or between host and
    device; no other function does so. Conversions are zero-copy through DLPack or shared
    memory where the source and target live on the same device.

    Parameters
    ----------
    x : array
        An array of any supported library.
    backend : {"numpy", "torch", "cupy", "array_api_strict", "jax", "dask"}
        The target library.
    device : optional
        The target device in the target library's terms (e.g. ``"cuda:0"`` for torch).

    Returns
    -------
    array
        An array of the target library with the same values.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> t = xpkern.to_backend(np.arange(3.0), "torch")  # doctest: +SKIP
    >>> type(xpkern.to_backend(np.arange(3.0), "numpy")).__name__
    'ndarray'
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(
            f"to_backend: unknown backend {backend!r}; expected one of {sorted(BACKENDS)}"
        )
    if backend_of(x) is None:
        import numpy as np

        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"to_backend: x must be an array or array-like: {exc}") from exc
    if backend == "numpy":
        if device not in (None, "cpu"):
            raise ValueError(f"numpy arrays live on the CPU, not on {device!r}")
        return _to_numpy(x)
    if backend == "torch":
        return _to_torch(x, device)
    if backend == "cupy":
        return _to_cupy(x, device)
    module = BACKENDS[backend].load()
    host = _to_numpy(x)
    if backend == "dask":
        import dask.array

        return dask.array.from_array(host)
    if backend == "jax":
        out = module.numpy.asarray(host)
        return out if device is None else module.device_put(out, device)
    return module.asarray(host) if device is None else module.asarray(host, device=device)
