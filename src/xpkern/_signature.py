"""What two calls must share for dispatch to choose the same implementation for both.

Every ``supports``/``wins`` rule looks at the inputs' library, device, dtypes, shapes,
contiguity and grad, and at the values of small arguments (axes, metric names, flags); never at
the values inside arrays. Those properties make the key under which :class:`xpkern._dispatch.Op`
keeps its choice. An argument without a cheap key (a list, a Dask array, an arbitrary object)
makes the call uncacheable: it is dispatched afresh, as before.
"""

from __future__ import annotations

from typing import Any

from .backends import array_key, backend_of

__all__ = ["call_key", "value_key"]

_PLAIN = frozenset({bool, int, float, complex, str, type(None)})


def call_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """A hashable key of the arguments' dispatch-relevant properties, or None."""
    if len(args) == 1 and not kwargs:  # the most common call, keyed on every kept call
        only = value_key(args[0])
        return None if only is None else (only,)
    key: list[Any] = []
    for a in args:
        k = value_key(a)
        if k is None:
            return None
        key.append(k)
    for name, value in kwargs.items():
        k = value_key(value)
        if k is None:
            return None
        key.append((name, k))
    return tuple(key)


def value_key(a: Any) -> Any:
    """The key of one argument: a plain value with its type, a tuple item by item, an array
    by :func:`~xpkern.backends.array_key`, an xpkern function by identity; None where there
    is no cheap key."""
    cls = type(a)
    if cls in _PLAIN:
        return (cls, a)
    if cls is tuple:
        if all(type(x) is int for x in a):  # axes
            return a
        parts = tuple(value_key(x) for x in a)
        return None if None in parts else parts
    key = array_key(a)
    if key is not None:
        return key
    if backend_of(a) is not None:
        return None  # an array without a cheap key (Dask's)
    if getattr(a, "__xpkern_op__", None) is not None:
        return a  # an xpkern function (an @elementwise one): fixed once built, hashed by identity
    return None
