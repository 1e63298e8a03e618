"""Hypothesis strategies for arrays of any backend."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ._cases import BackendCase, available_cases

__all__ = ["arrays", "float_elements"]


def float_elements(dtype: Any, *, magnitude: float = 1e3, special: bool = False) -> Any:
    """Float elements: finite up to ``magnitude``, or any value with NaN/inf if ``special``."""
    from hypothesis import strategies as st

    width: Literal[32, 64] = 32 if np.dtype(dtype) == np.float32 else 64
    return (
        st.floats(-magnitude, magnitude, width=width, allow_nan=False, allow_infinity=False)
        if not special
        else st.floats(width=width, allow_subnormal=False)
    )


def _case(xp: Any) -> BackendCase:
    if isinstance(xp, BackendCase):
        return xp
    if isinstance(xp, str):
        return available_cases(xp)[0]
    name = getattr(xp, "__name__", "")
    for case in available_cases(""):
        if case.device is None and name.rpartition(".")[2] == case.library.module:
            return case
    raise ValueError(f"no backend case for namespace {name!r}")


def arrays(
    xp: Any,
    *,
    dtype: Any = "float64",
    shape: Any,
    elements: Any = None,
    unique: bool = False,
) -> Any:
    """A Hypothesis strategy drawing arrays of one backend.

    Values are drawn with ``hypothesis.extra.array_api`` on NumPy (which every backend can
    receive without loss) and then converted, so that every backend sees the same values for
    the same draw and GPU backends get arrays on their device.

    Parameters
    ----------
    xp : BackendCase, str or namespace
        Where the arrays should live: a case from the ``backend`` fixture, a case name such
        as ``"torch"``, or an Array-API namespace.
    dtype : str or dtype
        A NumPy dtype name such as ``"float32"``.
    shape : int, tuple of int, or strategy
        The shape, or a strategy of shapes (e.g. ``array_shapes()`` of
        ``hypothesis.extra.array_api``).
    elements : strategy or dict, optional
        Element values, as in ``hypothesis.extra.array_api.arrays``.
    unique : bool
        Whether all elements must differ.

    Examples
    --------
    >>> from xpkern.testing import arrays
    >>> arrays("numpy", dtype="float32", shape=(2, 3)).example().shape  # doctest: +SKIP
    (2, 3)
    """
    from hypothesis.extra.array_api import make_strategies_namespace

    case = _case(xp)
    host = make_strategies_namespace(np, api_version="2023.12")
    strategy = host.arrays(np.dtype(dtype), shape, elements=elements, unique=unique)
    return strategy if case.name == "numpy" else strategy.map(case.asarray)
