"""What ``@elementwise`` accepts (lambdas, methods, partials, callables, math functions,
defaults), what it refuses and how it says so, on every path and at every size."""

import functools
import math

import numpy as np
import pytest

import xpkern
from xpkern import fmath
from xpkern.ops.elementwise import UnsupportedFunction
from xpkern.ops.elementwise.cpu import CPU_MIN_SIZE

SIZES = [5, CPU_MIN_SIZE + 10]


def every_path(f, *args):
    """f(*args) at a small and a large size, on each implementation: all the same."""
    results = []
    for n in SIZES:
        call = tuple(np.resize(a, n) if isinstance(a, np.ndarray) else a for a in args)
        for impl in xpkern.explain(f, *call).supported():
            with xpkern.config(impl=impl):
                results.append((n, impl, np.asarray(f(*call))[:5]))
    first = results[0][2]
    for n, impl, got in results:
        np.testing.assert_array_equal(got, first, err_msg=f"{impl} at {n}")
    return first


FNS = {"inc": lambda x: x + 1,
       "times10": lambda x: x * 10}  # fmt: skip
PAIR = (lambda x: x - 1, lambda x: x * 3)


def test_lambdas_sharing_a_statement_are_told_apart():
    x = np.arange(5.0)
    np.testing.assert_array_equal(every_path(xpkern.elementwise(FNS["times10"]), x), x * 10)
    np.testing.assert_array_equal(every_path(xpkern.elementwise(FNS["inc"]), x), x + 1)
    np.testing.assert_array_equal(every_path(xpkern.elementwise(PAIR[1]), x), x * 3)
    np.testing.assert_array_equal(every_path(xpkern.elementwise(PAIR[0]), x), x - 1)


A, B = 2.0, 5.0


def test_lambdas_on_one_line_are_told_apart_by_their_code():
    x = np.arange(5.0)
    same_line = [lambda x: x + 1, lambda x: x + 2, lambda x: x * A, lambda x: x * B]
    for fn, want in zip(same_line, [x + 1, x + 2, x * A, x * B], strict=True):
        np.testing.assert_array_equal(every_path(xpkern.elementwise(fn), x), want)


def test_default_arguments():
    f = xpkern.elementwise(lambda x, y=2.0: x + y)
    x = np.arange(5.0)
    np.testing.assert_array_equal(every_path(f, x), x + 2.0)
    np.testing.assert_array_equal(every_path(f, x, 3.0), x + 3.0)
    with pytest.raises(TypeError, match="from 1 to 2 positional"):
        f()
    with pytest.raises(UnsupportedFunction, match="default value"):
        xpkern.elementwise(lambda x, y="a": x)


class Scale:
    factor = 2.5

    def apply(self, x):
        return x * self.factor

    def __call__(self, x, y):
        return x - self.factor * y


def test_bound_methods_and_callable_objects():
    x = np.arange(5.0)
    np.testing.assert_array_equal(every_path(xpkern.elementwise(Scale().apply), x), x * 2.5)
    np.testing.assert_array_equal(every_path(xpkern.elementwise(Scale()), x, x), x - 2.5 * x)


def test_partials_of_numbers():
    def affine(a, x, b=0.0):
        return a * x + b

    x = np.arange(5.0)
    f = xpkern.elementwise(functools.partial(affine, 3.0))
    np.testing.assert_array_equal(every_path(f, x), 3.0 * x)
    g = xpkern.elementwise(functools.partial(affine, 2.0, b=1.0))
    np.testing.assert_array_equal(every_path(g, x), 2.0 * x + 1.0)
    with pytest.raises(UnsupportedFunction, match="only numbers"):
        xpkern.elementwise(functools.partial(affine, "a"))


@pytest.mark.parametrize("fn", [np.sin, math.sin, fmath.sin, abs, math.fabs, np.absolute,
                                math.atan2, np.hypot, max, np.fmin])  # fmt: skip
def test_math_functions_themselves(fn):
    x = np.linspace(-2, 2, 5)
    nargs = 2 if fn in (math.atan2, np.hypot, max, np.fmin) else 1
    got = every_path(xpkern.elementwise(fn), *([x] * nargs))
    with np.errstate(all="ignore"):
        want = np.vectorize(fn)(*([x] * nargs))
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_other_builtins_are_refused_with_their_name():
    with pytest.raises(UnsupportedFunction, match="cannot read"):
        xpkern.elementwise(np.logaddexp)
    with pytest.raises(TypeError, match="needs a function"):
        xpkern.elementwise(3.0)


def test_a_function_without_source_runs_the_same_at_every_size():
    scope = {}
    exec("def made(x):\n    return x * 2 + 1\n", scope)
    f = xpkern.elementwise(scope["made"])
    x = np.arange(5.0)
    np.testing.assert_array_equal(every_path(f, x), x * 2 + 1)
    big = np.resize(x, CPU_MIN_SIZE + 10)
    assert xpkern.explain(f, big).impl == "generic"
    assert "source" in str(xpkern.explain(f, big))


OFFSET = 1.0


def test_globals_are_read_at_decoration():
    global OFFSET
    f = xpkern.elementwise(lambda x: x + OFFSET)
    x = np.arange(5.0)
    OFFSET = 100.0
    try:
        np.testing.assert_array_equal(every_path(f, x), x + 1.0)
    finally:
        OFFSET = 1.0


def test_out_follows_numpys_casting_rule():
    f = xpkern.elementwise(lambda x: x * 1.5)
    x = np.arange(5.0)
    with pytest.raises(TypeError, match="same_kind"):
        f(x, out=np.zeros(5, dtype=np.int64))
    out = np.zeros(5, dtype=np.float32)  # float64 into float32 is same_kind, as in NumPy
    assert f(x, out=out) is out
    with pytest.raises(TypeError, match="out must be an array"):
        f(x, out=[0.0] * 5)
    with pytest.raises(TypeError, match="MaskedArray"):
        f(x, out=np.ma.zeros(5))
    with pytest.raises(TypeError, match="MaskedArray"):
        f(np.ma.masked_array(x, mask=[0, 1, 0, 0, 0]))
    with pytest.warns(PendingDeprecationWarning):
        matrix = np.asmatrix(x)
    with pytest.raises(TypeError, match=r"numpy\.matrix"):
        f(matrix)


@pytest.mark.parametrize(
    ("source", "message"),
    [("def f(x):\n    return x.real\n", "attribute access 'x.real' on an argument"),
     ("def f(x):\n    print(x)\n    return x\n", "a statement whose value is dropped"),
     ("def f(x):\n    yield x\n", "yield"),
     ("def f(x):\n    x += 1\n    return x\n", "augmented assignment"),
     ("def f(x):\n    return x[0]\n", "indexing"),
     ("def f(x):\n    return x & 1\n", "the operator '&'"),
     ("def f(x):\n    return x is None\n", "'is', 'in'"),
     ("def f(x):\n    return undefined_name\n", "undefined name 'undefined_name'"),
     ("def f(x):\n    return len(x)\n", "the function 'len'")],
)  # fmt: skip
def test_unsupported_constructs_are_named(source, message, tmp_path):
    import importlib.util

    path = tmp_path / "mod.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("mod_for_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(UnsupportedFunction, match=message.replace("(", r"\(")):
        xpkern.elementwise(module.f)
