"""What ``xpkern.accel`` replaces: one :class:`Target` per public function, each built from
the original by a drop-in that serves only the calls it answers exactly as the original."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..backends import backend_of
from ..dropin import Decline, replacement

__all__ = ["TARGETS", "Target"]


@dataclass(frozen=True)
class Target:
    """``module.name`` replaced by ``build(original)``; ``tables`` names dicts of ``module``
    whose entries holding the original take the replacement too; ``also`` names modules that
    re-export the function."""

    module: str
    name: str
    build: Callable[[Callable[..., Any]], Callable[..., Any]]
    tables: tuple[str, ...] = ()
    also: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.module}.{self.name}"


def _scipy_array_api() -> bool:
    """Whether SciPy's array-API support is on (``SCIPY_ARRAY_API=1``): then SciPy returns
    arrays of the input's library; otherwise it converts every input to NumPy."""
    from scipy._lib import _array_api

    return bool(getattr(_array_api, "SCIPY_ARRAY_API", False))


# Libraries whose arrays SciPy's special functions take with its array-API support on and
# return in the same library; xpkern then serves them too. Dask (lazy) goes to SciPy.
_ARRAY_API_LIBRARIES = frozenset({"numpy", "torch", "cupy", "jax", "array_api_strict"})


def _scipy_inputs(*arrays: Any) -> None:
    """Decline inputs for which xpkern's result would differ in type from SciPy's."""
    import numpy as np

    array_api = None
    for a in arrays:
        if a is None or isinstance(a, list | tuple | int | float | complex):
            continue
        if type(a) is np.ndarray or isinstance(a, np.generic):
            continue
        backend = backend_of(a)
        if backend is None or isinstance(a, np.ndarray):  # subclasses: matrix, masked
            raise Decline(f"a {type(a).__name__} input")
        if array_api is None:
            array_api = _scipy_array_api()
        if not array_api:
            raise Decline(f"{backend.name} input with SCIPY_ARRAY_API off (SciPy makes NumPy)")
        if backend.name not in _ARRAY_API_LIBRARIES:
            raise Decline(f"{backend.name} input")


def _special(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The drop-in for ``scipy.special.<name>``: xpkern's own function (SciPy's semantics)
    where the arguments are ones its signature binds and the inputs ones SciPy would return
    in the same type."""

    def build(original: Callable[..., Any]) -> Callable[..., Any]:
        import xpkern

        ours = getattr(xpkern, name)
        signature = inspect.signature(ours)

        def serve(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                raise Decline("arguments xpkern's signature does not take") from None
            arrays = [bound.arguments.get(k) for k in ("a", "x", "b")]
            _scipy_inputs(*arrays)
            return ours(*args, **kwargs)

        return replacement(original, serve)

    return build


def _dropin(module: str, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def build(original: Callable[..., Any]) -> Callable[..., Any]:
        import importlib

        factory = getattr(importlib.import_module(f"xpkern.dropin.{module}"), name)
        return factory(original)

    return build


TARGETS: tuple[Target, ...] = (
    Target("scipy.special", "logsumexp", _special("logsumexp")),
    Target("scipy.special", "softmax", _special("softmax")),
    Target("scipy.special", "log_softmax", _special("log_softmax")),
    Target("scipy.spatial.distance", "cdist", _dropin("scipy_spatial", "cdist")),
    Target("sklearn.metrics.pairwise", "euclidean_distances",
           _dropin("sklearn_pairwise", "euclidean_distances"),
           tables=("PAIRWISE_DISTANCE_FUNCTIONS",), also=("sklearn.metrics",)),
    Target("sklearn.metrics.pairwise", "rbf_kernel", _dropin("sklearn_pairwise", "rbf_kernel"),
           tables=("PAIRWISE_KERNEL_FUNCTIONS",), also=("sklearn.metrics",)),
)  # fmt: skip
