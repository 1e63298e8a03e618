"""The registry of array libraries, and which one an array belongs to.

Detection never imports an array library: a library the user has not imported cannot have
produced the arrays we are given, so looking at ``type(x).__module__`` is enough, and the answer
is cached per type. Adding a library is one file in this folder and one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from . import cupy, dask, jax, numpy, strict, torch
from .base import Backend

__all__ = ["BACKENDS", "array_key", "backend_of", "device_type", "installed_backends"]

# One line per library, in the order tests and reports list them.
_LIBRARIES = (numpy, torch, cupy, dask, jax, strict)
BACKENDS: dict[str, Backend] = {lib.BACKEND.name: lib.BACKEND for lib in _LIBRARIES}
_BY_MODULE = {m: b for b in BACKENDS.values() for m in (b.module, *b.modules)}


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
    if backend is numpy.BACKEND and not hasattr(x, "dtype"):
        return None  # a numpy type object or similar, not an array
    return backend


# The key function of each array type seen (None: not an array); starts afresh past this many.
_KEY_FUNCTIONS: dict[type, Callable[[Any], Any] | None] = {}
_KEY_TYPES = 256


def _key_function(cls: Any) -> Callable[[Any], Any] | None:
    backend = _backend_of_type(cls)
    return None if backend is None else backend.key_function(cls)


def array_key(x: object) -> tuple[Any, ...] | None:
    """A hashable key of what dispatch may look at in an array: its type, dtype, shape,
    layout, device (and grad); None for anything else, and for arrays without a cheap key
    (Dask's)."""
    cls = type(x)
    try:
        key = _KEY_FUNCTIONS[cls]
    except KeyError:
        if len(_KEY_FUNCTIONS) >= _KEY_TYPES:
            _KEY_FUNCTIONS.clear()
        key = _KEY_FUNCTIONS[cls] = _key_function(cls)
    if key is None:
        return None
    sig = key(x)
    return None if sig is None else (cls, sig)


def installed_backends() -> list[Backend]:
    """The known array libraries that are importable in this environment."""
    return [b for b in BACKENDS.values() if b.installed()]


def device_type(x: Any) -> str:
    """``"cpu"`` or ``"cuda"`` (or the library's own word) for where ``x`` lives."""
    backend = backend_of(x) or numpy.BACKEND
    meta = backend.chunk_meta(x)
    return device_type(meta) if meta is not None else backend.device_type(x)
