"""xpkern: numerical kernels written once for every array library.

Algorithms are written against the Array API standard and run on the inputs' own library and
device (NumPy, PyTorch, CuPy, Dask, JAX, array-api-strict, ...). Where a benchmark shows a
fused kernel or a backend primitive is faster, it replaces the composed operations;
:func:`explain` says which implementation runs and why.

Each public name is imported the first time it is used (PEP 562), so ``import xpkern`` costs
next to nothing and loads no array library, compiler or parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import fmath
    from ._dispatch import Explanation, config, explain
    from .backends import namespace, to_backend
    from .ops.cluster import kmeans
    from .ops.distance import cdist, rbf_kernel
    from .ops.elementwise import Elementwise, UnsupportedFunction, elementwise
    from .ops.linalg import matmul
    from .ops.linear_model import fit_linear, predict_linear
    from .ops.polyval import polyval
    from .ops.special import log_softmax, logsumexp, softmax
    from .ops.stats import mean_var

__version__ = "0.1.0"

# public name -> the module that defines it
_WHERE = {
    "Explanation": "._dispatch",
    "config": "._dispatch",
    "explain": "._dispatch",
    "namespace": ".backends",
    "to_backend": ".backends",
    "kmeans": ".ops.cluster",
    "cdist": ".ops.distance",
    "rbf_kernel": ".ops.distance",
    "Elementwise": ".ops.elementwise",
    "UnsupportedFunction": ".ops.elementwise",
    "elementwise": ".ops.elementwise",
    "matmul": ".ops.linalg",
    "fit_linear": ".ops.linear_model",
    "predict_linear": ".ops.linear_model",
    "polyval": ".ops.polyval",
    "log_softmax": ".ops.special",
    "logsumexp": ".ops.special",
    "softmax": ".ops.special",
    "mean_var": ".ops.stats",
}
_SUBMODULES = ("fmath", "testing")

__all__ = [
    "Elementwise",
    "Explanation",
    "UnsupportedFunction",
    "__version__",
    "cdist",
    "config",
    "elementwise",
    "explain",
    "fit_linear",
    "fmath",
    "kmeans",
    "log_softmax",
    "logsumexp",
    "matmul",
    "mean_var",
    "namespace",
    "polyval",
    "predict_linear",
    "rbf_kernel",
    "softmax",
    "to_backend",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        module = importlib.import_module(_WHERE[name], __name__)
        if _WHERE[name] == "._dispatch" and _load_ops not in module.NAME_SOURCES:
            module.NAME_SOURCES.append(_load_ops)  # config names every op's implementations
        value = getattr(module, name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'xpkern' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def _load_ops() -> None:
    """Import every op family, so that every implementation name is registered."""
    for module in sorted(set(_WHERE.values())):
        if module.startswith(".ops."):
            importlib.import_module(module, __name__)
