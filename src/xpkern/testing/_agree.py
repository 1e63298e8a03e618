"""Run a function on every backend and implementation and compare with a float64 reference."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._dispatch import GENERIC, config, probe
from ..backends import array_device, backend_of
from ._cases import BackendCase, available_cases

__all__ = ["Checked", "assert_backends_agree", "default_rtol"]


@dataclass(frozen=True)
class Checked:
    """One (backend, implementation) pair that :func:`assert_backends_agree` verified."""

    backend: str
    impl: str


def default_rtol(dtype: Any) -> float:
    """The relative tolerance for results of ``dtype`` against a float64 reference."""
    dt = np.dtype(dtype)
    if dt.kind in "iub":
        return 0.0
    eps = float(np.finfo(dt).eps)
    return 1e-10 if eps < 1e-15 else float(min(1e-2, eps**0.5 * 0.3))


def _as_tuple(out: Any) -> tuple[Any, ...]:
    return tuple(out) if isinstance(out, tuple) else (out,)


def _reference(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, ...]:
    def widen(a: Any) -> Any:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f":
            return a.astype(np.float64)
        return a

    with config(impl=GENERIC):
        return tuple(np.asarray(r) for r in _as_tuple(fn(*[widen(a) for a in args])))


def _native_dtypes(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, ...]:
    with config(impl=GENERIC):
        return tuple(np.asarray(r).dtype for r in _as_tuple(fn(*args)))


def _compare(
    got: Any, want: Any, dtype: Any, rtol: float | None, atol: float | None, where: str
) -> None:
    assert got.shape == want.shape, f"{where}: shape {got.shape} != expected {want.shape}"
    assert got.dtype == dtype, f"{where}: dtype {got.dtype} != expected {dtype}"
    tol = default_rtol(dtype) if rtol is None else rtol
    if want.dtype.kind == got.dtype.kind == "f" and got.dtype.itemsize < want.dtype.itemsize:
        # The reference in the result's dtype: a value beyond its range is inf there too.
        with np.errstate(over="ignore"):
            want = want.astype(got.dtype).astype(want.dtype)
    finite = np.abs(want[np.isfinite(want)]) if want.size else want
    scale = float(finite.max()) if finite.size else 0.0
    # Results below the dtype's smallest normal number are rounding, not disagreement.
    floor = float(np.finfo(dtype).tiny) if np.dtype(dtype).kind == "f" else 0.0
    np.testing.assert_allclose(
        got.astype(want.dtype) if got.dtype.kind != want.dtype.kind else got,
        want,
        rtol=tol,
        atol=max(tol * scale, floor) if atol is None else atol,
        equal_nan=True,
        err_msg=where,
    )


def _check_placement(out: Any, case: BackendCase, args: Sequence[Any], where: str) -> None:
    arrays = [a for a in args if backend_of(a) is not None]
    lib = backend_of(out)
    assert lib is not None and lib.name == case.library.name, (
        f"{where}: result is {type(out).__name__}, expected a {case.library.name} array"
    )
    if arrays:
        assert array_device(out) == array_device(arrays[0]), (
            f"{where}: result on {array_device(out)}, inputs on {array_device(arrays[0])}"
        )


def assert_backends_agree(
    fn: Callable[..., Any],
    *numpy_args: Any,
    rtol: float | None = None,
    atol: float | None = None,
    backends: Iterable[BackendCase | str] | None = None,
) -> list[Checked]:
    """Check that ``fn`` gives the same answer on every backend and every implementation.

    ``fn`` is first run on float64 copies of the NumPy arguments with the generic
    implementation: that is the reference. Then, for every backend case, the arguments are
    converted, and ``fn`` is run once per implementation the dispatcher can use for them
    (generic and each supported specialised one, forced through :func:`xpkern.config`). Each
    result must be an array of the inputs' library on their device, of the dtype NumPy gives
    (on other libraries: of the same kind, and the same for every implementation), and close
    to the reference; NaN positions must match. The inputs must be unchanged.

    Parameters
    ----------
    fn : callable
        Takes arrays (positionally) and returns an array or a tuple of arrays.
    *numpy_args
        NumPy arrays (converted for each backend) or other arguments (passed as they are).
    rtol, atol : float, optional
        Tolerances; by default ``rtol`` follows the result dtype (exact for integers, about
        ``sqrt(eps)`` for floats) and ``atol`` is ``rtol`` times the largest finite magnitude
        of the reference.
    backends : iterable of BackendCase or str, optional
        Which backend cases to run; default: every available one.

    Returns
    -------
    list of Checked
        Each (backend, implementation) pair that was run and agreed.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> from xpkern.testing import assert_backends_agree
    >>> done = assert_backends_agree(xpkern.matmul, np.ones((3, 2), dtype=np.float32))
    >>> ("numpy", "generic") in [(c.backend, c.impl) for c in done]
    True
    """
    reference = _reference(fn, numpy_args)
    dtypes = _native_dtypes(fn, numpy_args)
    if backends is None:
        cases = available_cases()
    else:
        cases = [b if isinstance(b, BackendCase) else available_cases(b)[0] for b in backends]
    checked = []
    for case in cases:
        args = [case.asarray(a) if isinstance(a, np.ndarray) else a for a in numpy_args]
        before = [np.array(case.to_numpy(a), copy=True) if backend_of(a) else None for a in args]
        found = probe(fn, *args)
        impls = found.supported() if found else [GENERIC]
        expected: list[Any] | None = list(dtypes) if case.name == "numpy" else None
        for impl in sorted(impls, key=lambda name: name != GENERIC):
            where = f"{case.name}/{impl}"
            with config(impl=impl):
                outs = _as_tuple(fn(*args))
            assert len(outs) == len(reference), f"{where}: {len(outs)} results"
            hosts = [np.asarray(case.to_numpy(out)) for out in outs]
            if expected is None:
                # Libraries differ in their default dtypes (torch: float32): the first
                # implementation sets the dtype, of the same kind as NumPy's; the others match.
                expected = [h.dtype for h in hosts]
                for got, want in zip(expected, dtypes, strict=True):
                    assert got.kind == np.dtype(want).kind, f"{where}: {got} is not like {want}"
            for i, (out, host, want, dtype) in enumerate(
                zip(outs, hosts, reference, expected, strict=True)
            ):
                _check_placement(out, case, args, f"{where} result {i}")
                _compare(host, want, dtype, rtol, atol, f"{where} result {i}")
            for a, old in zip(args, before, strict=True):
                if old is not None:
                    np.testing.assert_array_equal(case.to_numpy(a), old, f"{where}: input mutated")
            checked.append(Checked(case.name, impl))
    return checked
