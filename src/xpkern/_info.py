"""``python -m xpkern info``: versions, backends, devices and the state of each fused engine."""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

from .backends import BACKENDS

__all__ = ["engines", "info"]

_DISTRIBUTIONS: dict[str, str | tuple[str, ...]] = {
    "numpy": "numpy",
    "torch": "torch",
    "cupy": ("cupy-cuda13x", "cupy-cuda12x", "cupy"),
    "dask": "dask",
    "jax": "jax",
    "array_api_strict": "array-api-strict",
}


def _version(dists: str | tuple[str, ...]) -> str | None:
    for dist in (dists,) if isinstance(dists, str) else dists:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _devices() -> list[str]:
    found = ["cpu"]
    if BACKENDS["torch"].installed():
        try:
            import torch

            found += [
                f"cuda:{i} {torch.cuda.get_device_name(i)} (torch)"
                for i in range(torch.cuda.device_count())
            ]
        except Exception as exc:  # a broken CUDA install must not stop the report
            found.append(f"torch CUDA unavailable: {exc}")
    return found


def _numba_cpu() -> tuple[bool, str]:
    try:
        import numba
    except ImportError as exc:
        return False, f"numba is not importable ({exc}); reinstall xpkern"
    return True, f"numba {numba.__version__}"


def _cublas() -> tuple[bool, str]:
    if not BACKENDS["cupy"].installed():
        return False, 'CuPy is not installed (pip install "xpkern[cuda13]" or "xpkern[cuda12]")'
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return False, f"CuPy cannot reach a GPU: {exc}"
    if not count:
        return False, "no CUDA device"
    return True, f"cupy {cupy.__version__}, {count} device(s)"


def engines() -> dict[str, tuple[bool, str]]:
    """Each fused engine's availability, with the reason when it is unavailable."""
    from .engines import cuda

    return {
        "numba CPU": _numba_cpu(),
        "CUDA kernels": cuda.status(),
        "cuBLAS syrk": _cublas(),
    }


def info() -> dict[str, Any]:
    """Everything ``python -m xpkern info`` prints, as a dict."""
    from . import __version__

    return {
        "xpkern": __version__,
        "python": platform.python_version(),
        "array-api-compat": _version("array-api-compat"),
        "numba": _version("numba"),
        "backends": {name: _version(dist) for name, dist in _DISTRIBUTIONS.items()},
        "devices": _devices(),
        "engines": {k: {"available": ok, "detail": why} for k, (ok, why) in engines().items()},
    }


def format_info(data: dict[str, Any]) -> str:
    lines = [
        f"xpkern {data['xpkern']} on Python {data['python']}",
        f"array-api-compat {data['array-api-compat']}, numba {data['numba']}",
        "",
        "backends:",
    ]
    for name, version in data["backends"].items():
        lines.append(f"  {name:18s} {version or 'not installed'}")
    lines += ["", "devices:"] + [f"  {d}" for d in data["devices"]] + ["", "fused engines:"]
    for name, state in data["engines"].items():
        mark = "yes" if state["available"] else "no "
        lines.append(f"  {name:12s} {mark}  {state['detail']}")
    return "\n".join(lines)
