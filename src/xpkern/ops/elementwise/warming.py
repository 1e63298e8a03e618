"""Kept calls that start on the generic path and hand over to a kernel once they are hot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["HOT_CALLS", "Warming"]

# Calls with one argument signature after which a kernel takes over from the generic path at
# sizes where the size rule chose the latter.
HOT_CALLS = 1024


class Warming:
    """A kept generic call (``lean``) that hands over to a kernel's kept call (``later``,
    which compiles its kernel on its first call; it replaces this one under ``key`` in
    ``kept``) once arrays like these have been seen ``HOT_CALLS`` times.

    A kept kernel call costs less than the generic path at every size (10 float64 NumPy
    values: 1.3 us against 4.1), but its first one compiles the kernel (0.03-0.3 s). A
    function called this often on these arrays will likely be called many more times, so the
    compile pays; one called a few times never compiles for them.
    """

    def __init__(self, kept: dict[Any, Any], key: tuple[Any, ...], lean: Callable[[Any], Any],
                 later: Callable[[Any], Any]) -> None:  # fmt: skip
        self.kept, self.key, self.lean, self.later = kept, key, lean, later
        self.calls = 0

    def __call__(self, args: tuple[Any, ...]) -> Any:
        self.calls += 1
        if self.calls < HOT_CALLS:
            return self.lean(args)
        self.kept[self.key] = self.later
        return self.later(args)
