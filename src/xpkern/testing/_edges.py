"""The edges of each dtype's value space, and a comparison that is exact where NumPy is."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EDGE_DTYPES", "assert_matches_numpy", "edge_elements", "edge_values", "ulp_distance"]

EDGE_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
               "uint64", "float32", "float64")  # fmt: skip


def edge_values(dtype: Any) -> np.ndarray:
    """Values where arithmetic on ``dtype`` goes wrong first, as a NumPy array of it.

    Integers: the minimum and maximum and their neighbours, 0, +-1, +-2, 7 and values whose
    square or sum overflows. Floats: +-0, +-inf, NaN, the largest and smallest normal and a
    subnormal of each sign, +-0.5, +-1, +-2.5, 3 and values near the overflow of ``exp``.

    Examples
    --------
    >>> from xpkern.testing import edge_values
    >>> edge_values("uint8")
    array([  0,   1,   2,   7,  15,  16, 127, 128, 254, 255], dtype=uint8)
    """
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return np.array([False, True])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        root = int(np.sqrt(float(info.max)))
        values = {0, 1, 2, 7, root, root + 1, int(info.max), int(info.max) - 1,
                  int(info.max) // 2, int(info.max) // 2 + 1}  # fmt: skip
        if dt.kind == "i":
            values |= {-v for v in values} | {int(info.min), int(info.min) + 1}
        return np.array(sorted(v for v in values if info.min <= v <= info.max), dtype=dt)
    info_f = np.finfo(dt)
    tiny, big = float(info_f.tiny), float(info_f.max)
    sub = float(info_f.smallest_subnormal)
    positive = [0.0, sub, tiny, 0.5, 1.0, 2.5, 3.0, 88.5, 710.0, big, np.inf]
    return np.array([*positive, *(-v for v in positive), np.nan], dtype=dt)


def edge_elements(dtype: Any) -> Any:
    """A Hypothesis strategy of ``dtype`` elements that draws the :func:`edge_values` often
    and any other value of the dtype besides."""
    from hypothesis import strategies as st

    dt = np.dtype(dtype)
    edges = st.sampled_from([v.item() for v in edge_values(dt)])
    if dt.kind == "b":
        return st.booleans()
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return st.one_of(edges, st.integers(int(info.min), int(info.max)))
    floats = st.floats(width=32) if dt == np.float32 else st.floats(width=64)
    return st.one_of(edges, floats)


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many representable floats lie between ``a`` and ``b`` (same dtype), elementwise."""
    kind = {4: np.int32, 8: np.int64}[a.dtype.itemsize]

    def ordered(x: np.ndarray) -> np.ndarray:
        bits = x.view(kind).astype(np.int64)
        return np.where(bits < 0, np.iinfo(kind).min - bits, bits)  # type: ignore[type-var]

    return np.abs(ordered(a) - ordered(b))


def assert_matches_numpy(got: Any, want: Any, *, ulps: int = 0, what: str = "") -> None:
    """Assert that ``got`` (a NumPy array) is what NumPy computed as ``want``.

    The dtypes must be equal. Integers and bools must be equal bit for bit; floats must have
    NaN at the same places, the same sign everywhere (zeros included) and be at most ``ulps``
    representable numbers apart elsewhere (0: equal).

    Examples
    --------
    >>> import numpy as np
    >>> from xpkern.testing import assert_matches_numpy
    >>> assert_matches_numpy(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    """
    got, want = np.asarray(got), np.asarray(want)
    label = f"{what}: " if what else ""
    if got.dtype != want.dtype:
        raise AssertionError(f"{label}dtype {got.dtype}, NumPy gives {want.dtype}")
    if got.shape != want.shape:
        raise AssertionError(f"{label}shape {got.shape}, NumPy gives {want.shape}")
    if got.dtype.kind not in "fc":
        bad = got != want
    else:
        nan_g, nan_w = np.isnan(got), np.isnan(want)
        both = ~(nan_g | nan_w)
        far = np.zeros(got.shape, bool)
        far[both] = ulp_distance(got[both], want[both]) > ulps
        sign = np.signbit(got) != np.signbit(want)
        bad = (nan_g != nan_w) | (both & (far | sign))
    if bad.any():
        where = np.flatnonzero(bad)[:8]
        raise AssertionError(
            f"{label}{int(bad.sum())} of {bad.size} differ from NumPy; first at "
            f"{where.tolist()}: got {got.reshape(-1)[where].tolist()}, NumPy "
            f"{want.reshape(-1)[where].tolist()}"
        )
