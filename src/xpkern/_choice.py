"""The choice in force for the current thread or task: the implementation ``config`` asks
for, and whether ``explain`` is probing a call rather than running it."""

from __future__ import annotations

import contextvars

__all__ = ["auto_dispatch", "explaining", "impl_choice"]

impl_choice: contextvars.ContextVar[str] = contextvars.ContextVar("xpkern_impl", default="auto")
explaining: contextvars.ContextVar[bool] = contextvars.ContextVar("xpkern_explain", default=False)


def auto_dispatch() -> bool:
    """Whether calls now choose implementations freely (no config override, no explain)."""
    return impl_choice.get() == "auto" and not explaining.get()
