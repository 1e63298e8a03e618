"""Random elementwise functions over every dtype family, on the edges of the value space:
each path computes what NumPy computes for the same values (docs/semantics.rst)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xpkern
from xpkern import fmath
from xpkern.testing import EDGE_DTYPES, assert_matches_numpy, edge_elements

from ._grammar import make_function
from .test_semantics import fits, numpy_session, truth

pytestmark = numpy_session

CONSTANTS = ["0", "1", "2", "-1", "3", "7", "100", "0.5", "-2.5", "True"]
ARITH = ["+", "-", "*", "/", "//", "%"]
COMPARE = ["<", "<=", ">", ">=", "==", "!="]


def _oracle_scope():
    """NumPy's functions for arrays; on Python numbers alone, what Python numbers give (weak
    numbers, where NumPy's functions would return strong NumPy scalars)."""

    def arrays(*args):
        return any(isinstance(a, np.ndarray) for a in args)

    def where(c, a, b):
        if not arrays(c, a, b):
            return a if c else b
        for number, array in ((a, b), (b, a)):  # np.where wraps these; xpkern raises
            if isinstance(array, np.ndarray) and not fits(number, array):
                raise OverflowError(f"Python integer {number} out of bounds for {array.dtype}")
        return np.where(truth(c), a, b)

    def call(name, *args):
        if not arrays(*args):
            return getattr(fmath, name)(*args)
        if name == "sqrt":  # fmath takes integers as float64
            args = tuple(a.astype(np.float64) if a.dtype.kind in "iub" else a for a in args)
        return getattr(np, name)(*args)

    def logical_not(a):
        return np.logical_not(a) if arrays(a) else (not a)

    return {"_where": where, "_call": call, "_not": logical_not, "_truth": truth}


class Expr:
    """One expression in two spellings: for the elementwise function, and for NumPy."""

    def __init__(self, fn, ref, has_arg):
        self.fn, self.ref, self.has_arg = fn, ref, has_arg


def _leaf(args):
    return st.one_of(
        st.sampled_from(args).map(lambda a: Expr(a, a, True)),
        st.sampled_from(CONSTANTS).map(lambda c: Expr(c, c, False)),
    )


def _combine(kind, a, b, op=None):
    if kind == "bin":
        return Expr(f"({a.fn} {op} {b.fn})", f"({a.ref} {op} {b.ref})", True)
    if kind == "bool":
        value = (f"_where({a.ref}, {a.ref}, {b.ref})" if op == "or"
                 else f"_where({a.ref}, {b.ref}, {a.ref})")  # fmt: skip
        return Expr(f"({a.fn} {op} {b.fn})", value, True)
    raise AssertionError(kind)


def expressions(args, depth):
    """A strategy of :class:`Expr` over ``args``: arithmetic, comparisons, ``and``/``or``/
    ``not``, conditional expressions and the exact fmath functions, never an operation of
    two constants (Python would compute those itself)."""
    if depth == 0:
        return _leaf(args)
    sub = expressions(args, depth - 1)
    pair = st.tuples(sub, sub).filter(lambda t: t[0].has_arg or t[1].has_arg)
    return st.one_of(
        _leaf(args),
        st.tuples(pair, st.sampled_from(ARITH + COMPARE)).map(
            lambda t: _combine("bin", *t[0], op=t[1])),
        st.tuples(pair, st.sampled_from(["and", "or"])).map(
            lambda t: _combine("bool", *t[0], op=t[1])),
        st.tuples(sub.filter(lambda e: e.has_arg), st.sampled_from(["0", "1", "2", "3"])).map(
            lambda t: Expr(f"({t[0].fn}) ** {t[1]}", f"({t[0].ref}) ** {t[1]}", True)),
        sub.filter(lambda e: e.has_arg).map(
            lambda e: Expr(f"(not {e.fn})", f"_not({e.ref})", True)),
        sub.filter(lambda e: e.has_arg).map(lambda e: Expr(f"(-{e.fn})", f"(-{e.ref})", True)),
        st.tuples(pair, st.sampled_from(COMPARE)).map(
            lambda t: Expr(f"({t[0][0].fn} if {t[0][0].fn} {t[1]} {t[0][1].fn} else "
                           f"{t[0][1].fn})",
                           f"_where({t[0][0].ref} {t[1]} {t[0][1].ref}, {t[0][0].ref}, "
                           f"{t[0][1].ref})", True)),
        st.tuples(st.sampled_from(["abs", "floor", "sign", "square"]),
                  sub.filter(lambda e: e.has_arg)).map(
            lambda t: Expr(f"fmath.{t[0]}({t[1].fn})", f"_call({t[0]!r}, {t[1].ref})", True)),
        sub.filter(lambda e: e.has_arg).map(
            lambda e: Expr(f"fmath.sqrt({e.fn})", f"_call('sqrt', {e.ref})", True)),
        st.tuples(st.sampled_from(["minimum", "maximum"]), pair).map(
            lambda t: Expr(f"fmath.{t[0]}({t[1][0].fn}, {t[1][1].fn})",
                           f"_call({t[0]!r}, {t[1][0].ref}, {t[1][1].ref})", True)),
    )  # fmt: skip


FAMILIES = {
    "int": ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"],
    "float": ["float32", "float64"],
    "bool": ["bool"],
    "mixed": list(EDGE_DTYPES),
}
SCALARS = st.one_of(st.sampled_from([0, 1, -1, 2, 127, 255, 2**31, -(2**63)]),
                    st.sampled_from([0.0, -0.0, 0.5, np.inf, np.nan, 1e30]),
                    st.booleans())  # fmt: skip
VALUE_SETS = 8  # value draws per function: each a 32-element array per argument


class PythonRaises(Exception):
    """Python numbers alone raised (0 / 0, 1e300 ** 2), where xpkern gives NumPy's answer."""


def _expected(ref, values):
    with np.errstate(all="ignore"):
        try:
            return eval(ref, {**_oracle_scope(), **values})
        except (ZeroDivisionError, OverflowError) as exc:
            if "out of bounds" in str(exc):  # NumPy's: a Python int beyond an array's dtype
                return exc
            return PythonRaises(str(exc))
        except (ArithmeticError, TypeError, ValueError) as exc:
            return exc


def _check(f, ref, values, what):
    want = _expected(ref, values)
    args = tuple(values[a] for a in ("x", "y", "k"))
    if isinstance(want, PythonRaises):  # no NumPy answer to compare with
        return
    if isinstance(want, Exception):
        with xpkern.config(impl="generic"), pytest.raises(type(want)):
            f(*args)
        return
    if not isinstance(want, np.ndarray):  # the function is a constant of a Python number
        return
    ulps = 1 if "**" in ref or "sqrt" in ref else 0  # pow: NumPy has its own; sqrt of ints
    for impl in xpkern.explain(f, *args).supported():
        with xpkern.config(impl=impl):
            got = f(*args)
        assert_matches_numpy(got, want, ulps=ulps, what=f"{what} [{impl}]")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_random_functions_match_numpy(family):
    # 25 functions x 8 value sets x 32 elements: 6400 drawn value tuples per family.
    @settings(max_examples=25, deadline=None)
    @given(st.data())
    def run(data):
        expr = data.draw(expressions(("x", "y", "k"), depth=3), label="body")
        f = xpkern.elementwise(make_function(expr.fn, ["x", "y", "k"]))
        dtypes = [data.draw(st.sampled_from(FAMILIES[family]), label=a) for a in "xy"]
        for _ in range(VALUE_SETS):
            values = {a: data.draw(hnp.arrays(d, 32, elements=edge_elements(d)), label=a)
                      for a, d in zip("xy", dtypes, strict=True)}  # fmt: skip
            values["k"] = data.draw(SCALARS, label="k")
            _check(f, expr.ref, values, f"{expr.fn} on {dtypes} k={values['k']!r}")

    run()
