"""An import hook: a module ``xpkern.accel`` targets is patched as soon as it has been
executed, so that code importing SciPy or scikit-learn after ``install()`` sees the
replacements without xpkern importing either library itself."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["PatchOnImport"]


class PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; for the named modules it wraps the real loader so that
    ``patch(module)`` runs right after the module's code."""

    def __init__(self, names: set[str], patch: Callable[[ModuleType], None]) -> None:
        self.names = names
        self.patch = patch

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> Any:  # fmt: skip
        if fullname not in self.names:
            return None
        for finder in sys.meta_path:  # the finder that would have found it without us
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader, self.patch)
                return spec
        return None


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: Any, patch: Callable[[ModuleType], None]) -> None:
        self.loader = loader
        self.patch = patch

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        self.patch(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self.loader, name)
