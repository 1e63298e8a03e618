"""``scipy.spatial.distance.cdist`` served by :func:`xpkern.cdist`, with SciPy's contract:
NumPy input of any real dtype, computed and returned in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import Decline, replacement
from .inputs import dense

__all__ = ["cdist"]

# SciPy's names for the metrics xpkern has (its aliases and the other metrics go to SciPy).
_METRICS = ("euclidean", "sqeuclidean", "cityblock", "cosine", "chebyshev")


def _serve(XA: Any, XB: Any, metric: Any = "euclidean", *, out: Any = None,
           **kwargs: Any) -> Any:  # fmt: skip
    import numpy as np

    import xpkern

    if kwargs:
        raise Decline("metric arguments (w=, p=, ...)")
    if not isinstance(metric, str):
        raise Decline("a callable metric")
    if metric not in _METRICS:
        raise Decline("a metric xpkern lacks")
    for name, a in (("XA", XA), ("XB", XB)):
        dense(name, a)
        if not isinstance(a, np.ndarray | list | tuple):
            raise Decline(f"{name} is not a NumPy array")
    xa, xb = np.asarray(XA), np.asarray(XB)
    if xa.dtype.kind not in "biuf" or xb.dtype.kind not in "biuf":
        raise Decline("a dtype that is not real")
    if xa.ndim != 2 or xb.ndim != 2 or xa.shape[1] != xb.shape[1] or 0 in xa.shape + xb.shape:
        raise Decline("shapes SciPy checks or answers itself")
    if out is not None and not _fits(out, (xa.shape[0], xb.shape[0])):
        raise Decline("an out= array SciPy must check")
    xa = np.ascontiguousarray(xa, dtype=np.float64)
    xb = np.ascontiguousarray(xb, dtype=np.float64)
    result = xpkern.cdist(xa, xb, metric=metric)
    if out is None:
        return result
    out[...] = result
    return out


def _fits(out: Any, shape: tuple[int, int]) -> bool:
    """Whether ``out`` is an array SciPy would write into: float64, C-contiguous, writeable,
    of the result's shape."""
    import numpy as np

    return (type(out) is np.ndarray and out.shape == shape and out.dtype == np.float64
            and out.flags.c_contiguous and out.flags.writeable)  # fmt: skip


def cdist(original: Callable[..., Any]) -> Callable[..., Any]:
    """SciPy's ``cdist`` (``original``) with its Euclidean, squared Euclidean, cityblock,
    cosine and Chebyshev distances of dense NumPy input served by xpkern."""
    return replacement(original, _serve)
