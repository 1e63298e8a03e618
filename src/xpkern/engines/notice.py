"""One warning per reason that a fused engine is off."""

from __future__ import annotations

import warnings

__all__ = ["warn_once"]

_warned: set[str] = set()


def warn_once(reason: str, engine: str = "fused CUDA kernels") -> None:
    """A RuntimeWarning the first time ``engine`` is off for ``reason``; silence after."""
    if reason not in _warned:
        _warned.add(reason)
        warnings.warn(
            f"xpkern: {engine} are off ({reason}); using the generic path",
            RuntimeWarning,
            stacklevel=4,
        )
