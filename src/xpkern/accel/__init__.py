"""Existing SciPy and scikit-learn code on xpkern's kernels, with no code changed.

``install()`` replaces, in the running process, SciPy's ``logsumexp``, ``softmax``,
``log_softmax`` and ``cdist`` and scikit-learn's ``euclidean_distances`` and ``rbf_kernel``
(also in the tables ``pairwise_distances`` and ``pairwise_kernels`` use) by drop-ins that
serve the calls xpkern answers exactly as the original would (same signature, defaults,
dtypes and return types) and pass every other call to the original. Modules imported later
are patched when they are imported; importing ``xpkern.accel`` imports neither library.

Ways to turn it on:

* ``python -m xpkern.accel script.py [args]`` or ``python -m xpkern.accel -m module [args]``;
* ``xpkern.accel.install()`` / ``xpkern.accel.uninstall()``, or ``with xpkern.accel.enabled():``;
* ``XPKERN_ACCEL=1`` in the environment of any Python process (``XPKERN_ACCEL_SUMMARY=1``
  also prints :func:`report` when the process exits).

Code that took a reference before ``install()`` (``from scipy.special import logsumexp`` in
an already imported module) keeps the original: install first, as ``python -m xpkern.accel``
does.

Examples
--------
>>> import numpy as np
>>> import xpkern.accel
>>> xpkern.accel.reset()
>>> with xpkern.accel.enabled():
...     from scipy.special import logsumexp
...     float(logsumexp(np.array([1000.0, 1000.0])))
1000.6931471805599
>>> print(xpkern.accel.report())
xpkern.accel:
scipy.special.logsumexp: 1 served (numba-cpu 1), 0 passed to the original
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .._dispatch import probe
from .._signature import call_key
from ..dropin import Tally
from .hook import PatchOnImport
from .targets import TARGETS, Target

__all__ = ["Report", "enabled", "install", "installed", "report", "reset", "uninstall"]

_LOCK = threading.RLock()
_depth = 0  # install() calls not yet undone
_hook: PatchOnImport | None = None
# (module name, attribute) -> (original, replacement) while installed
_patched: dict[tuple[str, str], tuple[Any, Any]] = {}
# target label -> {implementation: calls}; kept across installs until reset
_served_by: dict[str, dict[str, int]] = {}
_tallies: dict[str, list[Tally]] = {}


def install() -> None:
    """Turn acceleration on (again: calls nest, each ``install`` needs its ``uninstall``)."""
    global _depth, _hook
    with _LOCK:
        _depth += 1
        if _depth > 1:
            return
        names = {t.module for t in TARGETS} | {m for t in TARGETS for m in t.also}
        _hook = PatchOnImport(names, _patch_module)
        sys.meta_path.insert(0, _hook)
        for name in sorted(names):
            module = sys.modules.get(name)
            if module is not None:
                _patch_module(module)


def uninstall() -> None:
    """Undo one :func:`install`; the last one restores every original (the same objects)."""
    global _depth, _hook
    with _LOCK:
        if _depth == 0:
            return
        _depth -= 1
        if _depth:
            return
        if _hook in sys.meta_path:
            sys.meta_path.remove(_hook)
        _hook = None
        for (module_name, attribute), (original, ours) in list(_patched.items()):
            module = sys.modules.get(module_name)
            if module is None:
                continue
            owner, key = _locate(module, attribute)
            if owner.get(key) is ours:
                owner[key] = original
        _patched.clear()


def installed() -> bool:
    """Whether acceleration is on."""
    return _depth > 0


@contextlib.contextmanager
def enabled() -> Iterator[None]:
    """Acceleration on inside the block (for the whole process, as patching is)."""
    install()
    try:
        yield
    finally:
        uninstall()


def _locate(module: ModuleType, attribute: str) -> tuple[dict[str, Any], str]:
    """The dict holding ``attribute`` ("name" or "TABLE[key]") and its key."""
    if "[" in attribute:
        table, key = attribute[:-1].split("[", 1)
        return getattr(module, table), key
    return vars(module), attribute


def _patch_module(module: ModuleType) -> None:
    with _LOCK:
        for target in TARGETS:
            if target.module == module.__name__:
                _patch_target(module, target)
            elif module.__name__ in target.also:
                _patch_reexport(module, target)


def _patch_target(module: ModuleType, target: Target) -> None:
    original = getattr(module, target.name, None)
    if original is None or (module.__name__, target.name) in _patched:
        return
    ours = _counted(target, target.build(original))
    _set(module, target.name, original, ours)
    if target.module.startswith("scipy."):
        _share_capabilities(original, ours)
    for table in target.tables:
        for key, fn in list(getattr(module, table, {}).items()):
            if fn is original:
                _set(module, f"{table}[{key}]", original, ours)
    for name in target.also:
        if name in sys.modules:
            _patch_reexport(sys.modules[name], target)


def _share_capabilities(original: Any, ours: Any) -> None:
    """Give the replacement SciPy's record of the original's array-API capabilities, which
    SciPy's own test helpers look functions up in (the replacement has the same ones)."""
    try:
        from scipy._lib._array_api import xp_capabilities_table
    except ImportError:  # a SciPy without the table
        return
    if original in xp_capabilities_table:
        xp_capabilities_table[ours] = xp_capabilities_table[original]


def _patch_reexport(module: ModuleType, target: Target) -> None:
    found = _patched.get((target.module, target.name))
    # the module may have taken the replacement itself, importing it after it was patched
    if found is not None and getattr(module, target.name, None) in found:
        _set(module, target.name, *found)


def _set(module: ModuleType, attribute: str, original: Any, ours: Any) -> None:
    owner, key = _locate(module, attribute)
    owner[key] = ours
    _patched[(module.__name__, attribute)] = (original, ours)


def _counted(target: Target, fn: Any) -> Any:
    """``fn`` noting which implementation served each call (looked up once per argument
    signature with :func:`xpkern.explain`'s machinery, which runs no computation)."""
    tally: Tally = fn.tally
    _tallies.setdefault(target.label, []).append(tally)
    by_impl = _served_by.setdefault(target.label, {})
    seen: dict[Any, str] = {}

    def call(*args: Any, **kwargs: Any) -> Any:
        before = tally.served
        out = fn(*args, **kwargs)
        if tally.served != before:
            key = call_key(args, kwargs)
            impl = seen.get(key) if key is not None else None
            if impl is None:
                found = probe(fn, *args, **kwargs)
                impl = found.impl if found is not None else "xpkern"
                if key is not None:
                    seen[key] = impl
            with _LOCK:
                by_impl[impl] = by_impl.get(impl, 0) + 1
        return out

    functools.update_wrapper(call, fn.original)
    call.original = fn.original  # type: ignore[attr-defined]
    call.tally = tally  # type: ignore[attr-defined]
    return call


@dataclass
class Report:
    """Per replaced function: calls served by xpkern (by implementation) and calls passed to
    the original (by reason)."""

    served: dict[str, dict[str, int]] = field(default_factory=dict)
    passed: dict[str, dict[str, int]] = field(default_factory=dict)

    def rows(self) -> list[str]:
        lines = []
        for label in sorted(set(self.served) | set(self.passed)):
            served = self.served.get(label, {})
            passed = self.passed.get(label, {})
            if not served and not passed:
                continue
            impls = ", ".join(f"{k} {v}" for k, v in sorted(served.items()))
            lines.append(f"{label}: {sum(served.values())} served"
                         f"{f' ({impls})' if impls else ''}, "
                         f"{sum(passed.values())} passed to the original")  # fmt: skip
            lines += [
                f"    {n:6d}  {reason}"
                for reason, n in sorted(passed.items(), key=lambda kv: -kv[1])
            ]
        return lines

    def __str__(self) -> str:
        return "\n".join(["xpkern.accel:", *self.rows()])


def report() -> Report:
    """What the replacements did since the process started (or since :func:`reset`)."""
    with _LOCK:
        passed: dict[str, dict[str, int]] = {}
        for label, tallies in _tallies.items():
            merged: dict[str, int] = {}
            for t in tallies:
                for reason, n in t.passed.items():
                    merged[reason] = merged.get(reason, 0) + n
            passed[label] = merged
        return Report({k: dict(v) for k, v in _served_by.items() if v},
                      {k: v for k, v in passed.items() if v})  # fmt: skip


def reset() -> None:
    """Forget the counts :func:`report` gives."""
    with _LOCK:
        for by_impl in _served_by.values():
            by_impl.clear()
        for tallies in _tallies.values():
            for t in tallies:
                with t.lock:
                    t.served = 0
                    t.passed.clear()
