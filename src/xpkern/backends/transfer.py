"""``to_backend``: the one explicit transfer between libraries and devices."""

from __future__ import annotations

from typing import Any

from .registry import BACKENDS, backend_of

__all__ = ["to_backend"]


def to_backend(x: Any, backend: str, *, device: Any = None) -> Any:
    """Move or convert an array to another library (and optionally device), explicitly.

    This is the one place where xpkern moves data between libraries or between host and
    device; no other function does so. Conversions are zero-copy through DLPack or shared
    memory where the source and target live on the same device.

    Parameters
    ----------
    x : array
        An array of any supported library.
    backend : {"numpy", "torch", "cupy", "array_api_strict", "jax", "dask"}
        The target library.
    device : optional
        The target device in the target library's terms (e.g. ``"cuda:0"`` for torch).

    Returns
    -------
    array
        An array of the target library with the same values.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> t = xpkern.to_backend(np.arange(3.0), "torch")  # doctest: +SKIP
    >>> type(xpkern.to_backend(np.arange(3.0), "numpy")).__name__
    'ndarray'
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(
            f"to_backend: unknown backend {backend!r}; expected one of {sorted(BACKENDS)}"
        )
    source = backend_of(x)
    if source is None:
        import numpy as np

        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"to_backend: x must be an array or array-like: {exc}") from exc
        source = BACKENDS["numpy"]
    return BACKENDS[backend].convert(x, source, device)
