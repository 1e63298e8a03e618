"""Calls a public function keeps per argument signature, with everything decided."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ._choice import auto_dispatch
from ._signature import value_key
from .backends import array_key

__all__ = ["Bound"]

# Kept calls per function; past this many argument signatures it starts afresh.
_CACHE_SIZE = 512
# Arguments a kept call's key holds as they are (with their type).
_PLAIN_TYPES = frozenset({bool, int, float, complex, str, type(None)})


class Bound:
    """A public function's calls on one array (or two), kept per signature with everything
    decided.

    The first call with an array's library, device, dtype, shape and layout and with the
    same other arguments (a second array among them, keyed the same way) checks them,
    resolves and dispatches as usual, then keeps the implementation bound to its context and
    checked arguments (:meth:`keep`); a later such call (:meth:`get`) goes straight to it.
    Only under ``auto`` dispatch; arrays without a signature (Dask) always take the full path.
    """

    def __init__(self) -> None:
        self._calls: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def get(self, x: Any, *extra: Any) -> Callable[..., Any] | None:
        """The kept call for ``x`` and the other arguments ``extra`` (which may hold another
        array, keyed as ``x`` is), or None."""
        if not auto_dispatch():
            return None
        try:
            key = _key(x, extra)
            return None if key is None else self._calls.get(key)
        except TypeError:  # an unhashable device
            return None

    def keep(self, x: Any, extra: tuple[Any, ...], call: Callable[..., Any]) -> None:
        """Keep ``call`` (taking the array, or both) for arrays like ``x`` with these
        arguments."""
        if not auto_dispatch():
            return
        with contextlib.suppress(TypeError):
            key = _key(x, extra)
            if key is None:
                return
            if len(self._calls) >= _CACHE_SIZE:
                self._calls.clear()
            self._calls[key] = call

    def clear(self) -> None:
        """Forget every kept call (the next call of each signature decides afresh)."""
        self._calls.clear()


def _key(x: Any, extra: tuple[Any, ...]) -> tuple[Any, ...] | None:
    first = array_key(x)
    if first is None or not extra:
        return first
    # Typed, so that axis=1.0 is refused where axis=1 was kept; a tuple's items are typed
    # one by one (value_key), another array by its own key. One plain value, the most common
    # call, on its own; otherwise one loop over the values (this runs on every kept call).
    if len(extra) == 1 and type(extra[0]) in _PLAIN_TYPES:
        return (first, type(extra[0]), extra)
    key = [first]
    for a in extra:
        cls = type(a)
        if cls in _PLAIN_TYPES:
            key.append((cls, a))
            continue
        k = first if a is x else value_key(a)  # the same array twice: distances within a set
        if k is None:
            return None
        key.append(k)
    return tuple(key)
