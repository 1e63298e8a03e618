"""Drop-in replacements for SciPy's and scikit-learn's functions, served by xpkern.

Each replacement has the original's signature, defaults, dtypes and return types. It serves
the calls it can answer exactly as the original would, and hands every other call (sparse
input, a metric xpkern lacks, precomputed norms, ``out=``, arguments the original must
validate) to the original, unchanged. ``scipy.special.logsumexp``, ``softmax`` and
``log_softmax`` need no wrapper: :func:`xpkern.logsumexp` and friends have SciPy's semantics
themselves.

Nothing here patches anything; :func:`replacement` builds the function, and
``tally`` on it counts what was served and what was passed on, and why.
"""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Decline", "Tally", "replacement"]


class Decline(Exception):
    """Raised by a server to hand the call to the original; the message says why."""


@dataclass
class Tally:
    """Calls served by xpkern and calls passed to the original, with their reasons."""

    served: int = 0
    passed: collections.Counter[str] = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, reason: str | None) -> None:
        with self.lock:
            if reason is None:
                self.served += 1
            else:
                self.passed[reason] += 1


def replacement(original: Callable[..., Any], serve: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` with the calls ``serve`` accepts answered by ``serve``.

    ``serve(*args, **kwargs)`` returns the result or raises :class:`Decline` before it has
    consumed or changed any argument; the original then runs on the same arguments. The
    result carries ``tally`` (a :class:`Tally`) and ``original``.
    """
    tally = Tally()

    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            out = serve(*args, **kwargs)
        except Decline as why:
            tally.count(str(why))
            return original(*args, **kwargs)
        tally.count(None)
        return out

    call.tally = tally  # type: ignore[attr-defined]
    call.original = original  # type: ignore[attr-defined]
    return call
