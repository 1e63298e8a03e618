"""Generated kernel source, imported from a file so that Numba can cache what it compiles."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

__all__ = ["cache_dir", "load_module"]


def cache_dir() -> Path | None:
    """Where generated kernel modules are written, so that Numba can cache them on disk."""
    root = os.environ.get("XPKERN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xpkern"
    )
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        return None
    return path


def load_module(source: str, tag: str) -> tuple[ModuleType, bool]:
    """Import generated ``source`` from a file (so Numba can cache it); (module, cached)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"xpkern_kernel_{tag}_{digest}"
    if name in sys.modules:
        return sys.modules[name], True
    where = cache_dir()
    cached = where is not None
    if where is None:
        where = Path(tempfile.mkdtemp(prefix="xpkern-"))
        source = source.replace("cache=True", "cache=False")
    path = where / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module, cached
