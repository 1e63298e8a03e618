"""scikit-learn's ``euclidean_distances`` and ``rbf_kernel`` served by xpkern.

Dense input only, validated and converted by scikit-learn's own ``check_pairwise_arrays``
(the same errors, the same float32/float64 choice and, with ``array_api_dispatch`` off, the
same conversion to NumPy); sparse input, precomputed norms and arguments scikit-learn must
validate go to scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import Decline, replacement
from .inputs import dense, positive_number

__all__ = ["euclidean_distances", "rbf_kernel"]


def _pair(X: Any, Y: Any) -> tuple[Any, Any]:
    from sklearn.metrics.pairwise import check_pairwise_arrays

    dense("X", X)
    if Y is not None:
        dense("Y", Y)
    X, Y = check_pairwise_arrays(X, Y)
    if 0 in tuple(X.shape) + tuple(Y.shape):
        raise Decline("an empty input")
    return X, Y


def _euclidean(X: Any, Y: Any = None, *, Y_norm_squared: Any = None,
               squared: Any = False, X_norm_squared: Any = None) -> Any:  # fmt: skip
    import xpkern

    if X_norm_squared is not None or Y_norm_squared is not None:
        raise Decline("precomputed norms")
    if not isinstance(squared, bool):
        raise Decline("squared is not a bool")
    X, Y = _pair(X, Y)
    return xpkern.cdist(X, Y, metric="sqeuclidean" if squared else "euclidean")


def _rbf(X: Any, Y: Any = None, gamma: Any = None) -> Any:
    import xpkern

    if gamma is not None:
        gamma = positive_number("gamma", gamma)
    X, Y = _pair(X, Y)
    return xpkern.rbf_kernel(X, Y, gamma=1.0 / X.shape[1] if gamma is None else gamma)


def euclidean_distances(original: Callable[..., Any]) -> Callable[..., Any]:
    """scikit-learn's ``euclidean_distances`` (``original``) with dense input served by
    :func:`xpkern.cdist` (differences, not the expansion: equal rows are exactly 0 apart)."""
    return replacement(original, _euclidean)


def rbf_kernel(original: Callable[..., Any]) -> Callable[..., Any]:
    """scikit-learn's ``rbf_kernel`` (``original``) with dense input served by
    :func:`xpkern.rbf_kernel`."""
    return replacement(original, _rbf)
