"""The :class:`Context` of one call: the inputs' library, namespace and device."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .base import Backend
from .registry import BACKENDS, backend_of, device_type

__all__ = ["Context", "array_device", "array_namespace", "namespace", "resolve"]

_DASK = BACKENDS["dask"]


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
    device_key : object
        A hashable stand-in for ``device``, for what is kept per device.
    """

    xp: ModuleType
    backend: Backend
    device: Any
    device_type: str
    device_key: Any = None

    def __post_init__(self) -> None:
        if self.device_key is None:  # built by hand: the device keys itself
            object.__setattr__(self, "device_key", self.device)

    def asarray(self, x: Any) -> Any:
        """``x`` unchanged if it is an array, else an array of this namespace on this device.

        A NumPy array given with Dask arrays becomes a one-chunk Dask array, as in Dask.
        """
        found = backend_of(x)
        if found is _DASK or (found is not None and self.backend is not _DASK):
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

    def host_view(self, a: Any) -> Any:
        """An array of a host library as a zero-copy NumPy view; numbers unchanged."""
        return self.backend.host_view(a) if backend_of(a) is not None else a

    def from_host(self, a: Any) -> Any:
        """A NumPy result back in the inputs' library, sharing its memory where it can."""
        return self.backend.from_host(a)


def array_device(x: Any) -> Any:
    """The device of ``x`` in its library's terms (array-api-compat's ``device``)."""
    import array_api_compat

    return array_api_compat.device(x)


_NAMESPACES: dict[type, ModuleType] = {}


def array_namespace(x: Any) -> ModuleType:
    """The Array-API namespace of ``x``, looked up once per type."""
    found = _NAMESPACES.get(type(x))
    if found is None:
        import array_api_compat

        found = _NAMESPACES[type(x)] = array_api_compat.array_namespace(x)
    return found


def _library(arrays: list[Any]) -> Backend:
    first = backend_of(arrays[0])
    assert first is not None
    for other in arrays[1:]:
        backend = backend_of(other)
        assert backend is not None
        if backend.name != first.name:
            raise TypeError(
                f"inputs mix array libraries: {first.name} and {backend.name}; "
                "convert one of them explicitly with xpkern.to_backend"
            )
    return first


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
    first = backend = None
    many = False
    for a in args:
        found = backend_of(a)
        if found is None:
            continue
        if first is None:
            first, backend = a, found
        else:
            many = True
    if many:
        return _resolve_many(args)
    if first is None or backend is None:
        import numpy as np

        first, backend = np.empty(0), BACKENDS["numpy"]
    return _context(backend, first)


# One Context per (array type, device): a repeated call looks it up instead of building it.
_CONTEXTS: dict[tuple[type, Any], Context] = {}


def _context(backend: Backend, x: Any) -> Context:
    if not backend.reusable_context:
        _check_chunks([x])
        return _new_context(backend, x)
    key = (type(x), backend.device_key(x))
    try:
        found = _CONTEXTS.get(key)
    except TypeError:  # a library whose devices do not hash, even as keys
        return _new_context(backend, x)
    if found is None:
        found = _CONTEXTS[key] = _new_context(backend, x)
    return found


def _new_context(backend: Backend, x: Any) -> Context:
    return Context(array_namespace(x), backend, backend.device_of(x), device_type(x),
                   backend.device_key(x))  # fmt: skip


def _resolve_many(args: tuple[Any, ...]) -> Context:
    arrays = [a for a in args if backend_of(a) is not None]
    # Dask's own rule: NumPy arrays among Dask arrays join the graph as single-chunk arrays.
    names = {b.name for b in map(backend_of, arrays) if b is not None}
    if names == {"dask", "numpy"}:
        arrays = [a for a in arrays if backend_of(a) is _DASK]
    backend = _library(arrays)
    first = arrays[0]
    device = backend.device_of(first)
    for other in arrays[1:]:
        if backend.device_of(other) != device:
            raise ValueError(
                f"inputs live on different devices: {device} and {backend.device_of(other)}; "
                "move one of them explicitly with xpkern.to_backend(..., device=...)"
            )
    if backend is _DASK:
        _check_chunks(arrays)
    return _context(backend, first)


def _check_chunks(arrays: list[Any]) -> None:
    if any(s != s for a in arrays for s in a.shape):
        raise ValueError(
            "a Dask array has unknown chunk sizes (NaN in its shape); call "
            "x.compute_chunk_sizes() first"
        )


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
