"""Generated kernel source, imported from a file so that Numba can cache what it compiles."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
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


@functools.cache
def _library_digest(modules: tuple[str, ...]) -> bytes:
    """The contents of the xpkern modules generated code imports (and of the scalar helpers
    they compile): Numba's cache of a kernel holds the helpers it called, so a kernel compiled
    against other helpers must not be reused."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for module in ("_scalar", *modules):
        path = package.joinpath(*module.split(".")).with_suffix(".py")
        digest.update(path.read_bytes() if path.exists() else module.encode())
    return digest.digest()


def load_module(source: str, tag: str) -> tuple[ModuleType, bool]:
    """Import generated ``source`` from a file (so Numba can cache it); (module, cached)."""
    imports = tuple(sorted(set(re.findall(r"^from xpkern\.([\w.]+) import", source, re.M))))
    digest = hashlib.sha256(source.encode() + _library_digest(imports)).hexdigest()[:20]
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
