"""array-api-strict: the standard's reference namespace, for testing the generic paths."""

from __future__ import annotations

from .base import Backend

__all__ = ["BACKEND"]

BACKEND = Backend("array_api_strict", "array_api_strict", "test")
