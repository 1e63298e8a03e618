"""The backends a test can run on: a library plus a device."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

from ..backends import BACKENDS, Backend, backend_of, namespace, to_backend

__all__ = ["BackendCase", "available_cases"]

ENV_VAR = "XPKERN_BACKENDS"


@dataclass(frozen=True)
class BackendCase:
    """One library on one device, as tests see it.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"torch"``, ``"torch-cuda"``, ``"cupy"``, ``"array_api_strict"``, ...
    library : Backend
        The array library.
    device : str or None
        The device arrays are put on (None: the library's default).
    """

    name: str
    library: Backend
    device: str | None = None

    @property
    def xp(self) -> ModuleType:
        """The Array-API namespace of this case's arrays."""
        return namespace(self.asarray([0.0]))

    @property
    def gpu(self) -> bool:
        return self.name in ("cupy", "torch-cuda")

    def asarray(self, x: Any) -> Any:
        """``x`` (a NumPy array or array-like) as an array of this case."""
        import numpy as np

        host = x if backend_of(x) is not None else np.asarray(x)
        return to_backend(host, self.library.name, device=self.device)

    def to_numpy(self, x: Any) -> Any:
        """An array of this case back on the host, as NumPy (an explicit transfer; a Dask
        array is computed here, explicitly)."""
        if self.library.name == "dask":
            x = x.compute()
        return to_backend(x, "numpy")

    def __str__(self) -> str:
        return self.name


def _gpu_count(case: str) -> int:
    try:
        if case == "torch-cuda":
            import torch

            return int(torch.cuda.device_count())
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # a missing driver shows up as many different errors
        return 0


@lru_cache(maxsize=1)
def _all_cases() -> tuple[BackendCase, ...]:
    cases = [BackendCase("numpy", BACKENDS["numpy"])]
    if BACKENDS["torch"].installed():
        cases.append(BackendCase("torch", BACKENDS["torch"]))
    if BACKENDS["array_api_strict"].installed():
        cases.append(BackendCase("array_api_strict", BACKENDS["array_api_strict"]))
    if BACKENDS["jax"].installed():
        cases.append(BackendCase("jax", BACKENDS["jax"]))
    if BACKENDS["dask"].installed():
        cases.append(BackendCase("dask", BACKENDS["dask"]))
    if BACKENDS["torch"].installed() and _gpu_count("torch-cuda"):
        cases.append(BackendCase("torch-cuda", BACKENDS["torch"], "cuda"))
    if BACKENDS["cupy"].installed() and _gpu_count("cupy"):
        cases.append(BackendCase("cupy", BACKENDS["cupy"]))
    return tuple(cases)


def available_cases(names: str | None = None) -> list[BackendCase]:
    """The backend cases installed here, optionally restricted.

    Parameters
    ----------
    names : str, optional
        Comma-separated case names to keep. Defaults to the ``XPKERN_BACKENDS`` environment
        variable; when that is unset too, every installed case is returned.

    Raises
    ------
    ValueError
        If a requested case is unknown or not available here.
    """
    cases = _all_cases()
    wanted = names if names is not None else os.environ.get(ENV_VAR, "")
    if not wanted.strip():
        return list(cases)
    by_name = {c.name: c for c in cases}
    out = []
    for name in (n.strip() for n in wanted.split(",") if n.strip()):
        if name not in by_name:
            raise ValueError(f"backend {name!r} is not available here; have {sorted(by_name)}")
        out.append(by_name[name])
    return out
