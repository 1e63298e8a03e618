"""Choosing an implementation for each call: ``Op``, ``config`` and ``explain``.

An op has one generic implementation, written against the Array API, and any number of
specialised ones. Each specialised implementation comes with two checks:

* ``supports(ctx, *args)`` says whether it *can* run on these inputs (library, device, dtype,
  grad); forcing it with ``config(impl=...)`` is only allowed when it can;
* ``wins(ctx, *args)`` says whether it is *faster* there (a size or shape rule measured in
  ``benchmarks/``); ``impl="auto"`` takes it only when it wins.

Both return None when they hold and a short phrase saying why not otherwise, which is what
:func:`explain` reports.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._choice import auto_dispatch, explaining, impl_choice
from ._kept import Bound
from ._signature import call_key
from .backends import Context

__all__ = ["Bound", "Choice", "Explanation", "Impl", "Op", "auto_dispatch", "config", "declare",
           "explain", "public"]  # fmt: skip

Check = Callable[..., "str | None"]

GENERIC = "generic"


def _always(ctx: Context, *args: Any, **kwargs: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Impl:
    """One implementation of an op, with when it can run and when it wins."""

    name: str
    fn: Callable[..., Any]
    reason: str
    supports: Check = _always
    wins: Check = _always


@dataclass(frozen=True)
class Choice:
    """One implementation considered for a call, and the verdict on it."""

    impl: str
    supported: bool
    chosen: bool
    why: str


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` found: which implementation runs, why, and what else was considered.

    Attributes
    ----------
    op : str
        The op's name.
    impl : str
        The implementation that would run.
    reason : str
        Why that implementation was chosen.
    backend, device : str
        The library and device of the inputs.
    candidates : tuple of Choice
        Every implementation of the op with its verdict, in the order they are tried.
    """

    op: str
    impl: str
    reason: str
    backend: str
    device: str
    candidates: tuple[Choice, ...] = field(default_factory=tuple)

    def supported(self) -> list[str]:
        """Names of the implementations that can run on these inputs (generic included)."""
        return [c.impl for c in self.candidates if c.supported]

    def __str__(self) -> str:
        lines = [f"{self.op} on {self.backend} ({self.device}): {self.impl} - {self.reason}"]
        for c in self.candidates:
            mark = "*" if c.chosen else ("+" if c.supported else "-")
            lines.append(f"  {mark} {c.impl}: {c.why}")
        return "\n".join(lines)


# Choices kept per op; past this many argument signatures an op starts its cache afresh.
_CACHE_SIZE = 512

# Every implementation name any op registered: config refuses others, which are typos.
_NAMES: set[str] = set()


# Functions that import the ops not imported yet (the package imports them lazily), called
# before a name is refused as unknown.
NAME_SOURCES: list[Callable[[], None]] = []


def declare(*names: str) -> None:
    """Make implementation names known to :func:`config` before any op registers them (an
    op made at run time, such as each ``@elementwise`` function's, registers late)."""
    _NAMES.update(names)


class _Explained(Exception):
    def __init__(self, explanation: Explanation) -> None:
        self.explanation = explanation


class Op:
    """An operation with a generic implementation and registered specialised ones.

    Parameters
    ----------
    name : str
        The name shown by :func:`explain`.
    generic : callable
        ``generic(ctx, *args, **kwargs)``, written against ``ctx.xp`` only.
    """

    def __init__(
        self, name: str, generic: Callable[..., Any], *, supports: Check = _always
    ) -> None:
        self.name = name
        self.impls: list[Impl] = []
        self._chosen: dict[tuple[Any, ...], Impl] = {}
        self.generic = Impl(
            GENERIC, generic, "the Array-API implementation, valid everywhere", supports
        )

    def register(
        self, name: str, *, reason: str, supports: Check = _always, wins: Check = _always
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator adding a specialised implementation, tried in registration order."""
        if name == GENERIC or any(i.name == name for i in self.impls):
            raise ValueError(f"{self.name} already has an implementation named {name!r}")

        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.impls.append(Impl(name, fn, reason, supports, wins))
            self._chosen.clear()
            _NAMES.add(name)
            return fn

        return add

    def _verdicts(
        self, ctx: Context, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Impl, list[Choice]]:
        wanted = impl_choice.get()
        choices: list[Choice] = []
        chosen: Impl | None = None
        for impl in [*self.impls, self.generic]:
            blocked = impl.supports(ctx, *args, **kwargs)
            if blocked and wanted == impl.name:
                raise ValueError(
                    f"implementation {impl.name!r} of {self.name} cannot run here: {blocked}"
                )
            special = impl is not self.generic
            loses = impl.wins(ctx, *args, **kwargs) if special and not blocked else None
            fits = not special or wanted == impl.name or wanted == "fused"
            take = chosen is None and not blocked and (fits or (wanted == "auto" and not loses))
            if take:
                chosen = impl
            why = blocked or (f"supported, but {loses}" if loses else impl.reason)
            if take and wanted not in ("auto", GENERIC):
                why = f"forced by config(impl={wanted!r}); {impl.reason}"
            choices.append(Choice(impl.name, blocked is None, take, why))
        if chosen is None:
            raise TypeError(f"{self.name}: no implementation supports these inputs")
        return chosen, choices

    def __call__(self, ctx: Context, *args: Any, **kwargs: Any) -> Any:
        if explaining.get():
            impl, choices = self._verdicts(ctx, args, kwargs)
            reason = next(c.why for c in choices if c.chosen)
            raise _Explained(
                Explanation(
                    self.name, impl.name, reason, ctx.backend.name, str(ctx.device), tuple(choices)
                )
            )
        return self.choose(ctx, args, kwargs).fn(ctx, *args, **kwargs)

    def call_kept(self, calls: Bound, given: Any, extra: tuple[Any, ...], ctx: Context, x: Any,
                  *rest: Any) -> Any:  # fmt: skip
        """``self(ctx, x, *rest)``, keeping the call in ``calls`` for arrays like ``given``
        (the caller's array, with the other arguments ``extra``) where ``x`` is that array
        unconverted, so that a later call skips the checks (see :class:`Bound`)."""
        if x is not given or not auto_dispatch():
            return self(ctx, x, *rest)
        call = self._prepared(ctx, (x,), rest)
        calls.keep(given, extra, call)
        return call(x)

    def call_kept_pair(self, calls: Bound, given: tuple[Any, Any], extra: tuple[Any, ...],
                       ctx: Context, x: Any, y: Any, *rest: Any) -> Any:  # fmt: skip
        """:meth:`call_kept` for ops of two arrays: where ``x`` and ``y`` are the caller's
        arrays unconverted (``given``), the call is kept for arrays like ``x`` with the
        arguments ``extra`` as the caller gave them (the second array among them, or what
        stood for it), and takes both arrays: ``call(x, y)``."""
        if x is not given[0] or y is not given[1] or not auto_dispatch():
            return self(ctx, x, y, *rest)
        call = self._prepared(ctx, (x, y), rest)
        calls.keep(x, extra, call)
        return call(x, y)

    def _prepared(self, ctx: Context, arrays: tuple[Any, ...], rest: tuple[Any, ...]
                  ) -> Callable[..., Any]:  # fmt: skip
        """The chosen implementation's call taking the arrays only. An implementation may
        prepare it for arrays like these once (sizes, buffers' shapes, the compiled kernel):
        ``fn.bind(ctx, *arrays, *rest)`` returns that call."""
        fn = self.choose(ctx, (*arrays, *rest), {}).fn
        bind = getattr(fn, "bind", None)
        if bind is not None:
            found: Callable[..., Any] = bind(ctx, *arrays, *rest)
            return found
        return lambda *given: fn(ctx, *given, *rest)

    def choose(self, ctx: Context, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Impl:
        """The implementation a call with these arguments runs: looked up by the arguments'
        signature and the ``config`` in force, decided (and kept) on the first such call."""
        key = call_key(args, kwargs)
        if key is None:
            return self._verdicts(ctx, args, kwargs)[0]
        key = (impl_choice.get(), ctx.backend.name, ctx.device_key, *key)
        try:
            found = self._chosen.get(key)
        except TypeError:  # a device or dtype that does not hash
            return self._verdicts(ctx, args, kwargs)[0]
        if found is None:
            found = self._verdicts(ctx, args, kwargs)[0]
            if len(self._chosen) >= _CACHE_SIZE:
                self._chosen.clear()
            self._chosen[key] = found
        return found


def public(op: Op) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a public function as the entry point of ``op``, for :func:`explain`."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__xpkern_op__ = op  # type: ignore[attr-defined]
        return fn

    return mark


@contextlib.contextmanager
def config(*, impl: str = "auto") -> Iterator[None]:
    """Force or free the choice of implementation, for the current thread or task only.

    Parameters
    ----------
    impl : str
        ``"auto"`` (the default) takes the first specialised implementation that supports the
        inputs and wins at their size; ``"generic"`` always takes the Array-API implementation;
        ``"fused"`` takes the first specialised implementation that supports the inputs,
        whatever their size; any other value names one implementation, which must support the
        inputs.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> x = np.ones((3, 2))
    >>> with xpkern.config(impl="generic"):
    ...     print(xpkern.explain(xpkern.matmul, x).impl)
    generic
    """
    if not isinstance(impl, str):
        raise TypeError(f"impl must be a string, not {type(impl).__name__}")
    if impl not in _NAMES | {"auto", "fused", GENERIC}:
        for load in NAME_SOURCES:
            load()
    if impl not in _NAMES | {"auto", "fused", GENERIC}:
        known = ", ".join(sorted(_NAMES | {"auto", "fused", GENERIC}))
        raise ValueError(f"config: unknown implementation {impl!r}; known: {known}")
    token = impl_choice.set(impl)
    try:
        yield
    finally:
        impl_choice.reset(token)


def explain(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Explanation:
    """Which implementation ``fn(*args, **kwargs)`` would run, and why, without running it.

    The arguments are checked exactly as in a real call, so invalid arguments raise the same
    errors. Where a function is built from several ops, the first op it reaches is reported.

    Parameters
    ----------
    fn : callable
        A public xpkern function, e.g. ``xpkern.matmul``.
    *args, **kwargs
        The arguments of the call to explain.

    Returns
    -------
    Explanation
        Printable; ``.impl`` names the implementation and ``.reason`` says why.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> e = xpkern.explain(xpkern.matmul, np.ones((4, 3)), np.ones((3, 2)))
    >>> e.impl
    'generic'
    """
    if getattr(fn, "__xpkern_op__", None) is None:
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not an xpkern function")
    found = probe(fn, *args, **kwargs)
    if found is None:
        raise RuntimeError(f"{fn.__name__} returned without reaching a dispatched op")
    return found


def probe(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Explanation | None:
    """Like :func:`explain` for any callable; None if it reaches no xpkern op."""
    token = explaining.set(True)
    try:
        fn(*args, **kwargs)
    except _Explained as done:
        return done.explanation
    finally:
        explaining.reset(token)
    return None
