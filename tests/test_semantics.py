"""Every operator and fmath function computes what NumPy computes, on every path and at every
size: checked on the edges of each dtype's value space (docs/semantics.rst states the rules)."""

import functools
import itertools
import os

import array_api_compat
import numpy as np
import pytest

import xpkern
from xpkern.backends import dtype_name
from xpkern.ops.elementwise.cpu import CPU_MIN_SIZE, PARALLEL_MIN_SIZE
from xpkern.testing import EDGE_DTYPES, assert_matches_numpy, available_cases, edge_values

from ._grammar import make_function

ARITHMETIC = ["+", "-", "*", "/", "//", "%", "**"]
COMPARISONS = ["<", "<=", ">", ">=", "==", "!="]
LOGIC = ["and", "or"]
LARGE = PARALLEL_MIN_SIZE + 7  # past both thresholds: the parallel Numba loop runs

# Which libraries' arrays the operator matrix runs on (one nox session each: the matrix
# compiles a few hundred kernels); the other tests run where NumPy's session runs them.
LIBS = [c for c in available_cases()
        if c.name in os.environ.get("XPKERN_SEMANTICS", "numpy").split(",")]  # fmt: skip
numpy_session = pytest.mark.skipif(
    "numpy" not in {c.name for c in LIBS}, reason="runs in the NumPy session"
)
pytestmark = pytest.mark.skipif(not LIBS, reason="XPKERN_SEMANTICS names no library here")
# torch has no arithmetic for uint16/32/64 on the CPU.
TORCH_DTYPES = [d for d in EDGE_DTYPES if d not in ("uint16", "uint32", "uint64")]


LIB_DTYPES = [pytest.param(c, d, id=f"{c}-{d}") for c in LIBS
              for d in (TORCH_DTYPES if c.name.startswith("torch") else EDGE_DTYPES)]  # fmt: skip


def truth(a):
    return a != 0 if isinstance(a, np.ndarray) and a.dtype != bool else a


def fits(number, array):
    if type(number) is not int or array.dtype.kind not in "iu":
        return True
    info = np.iinfo(array.dtype)
    return info.min <= number <= info.max


def oracle(op, x, y):
    """NumPy's answer, with Python's ``and``/``or`` taken value by value. (np.where wraps a
    Python int beyond the array's dtype; xpkern raises OverflowError there, as ``+`` does.)"""
    if op in LOGIC:
        number, array = (x, y) if isinstance(y, np.ndarray) else (y, x)
        if isinstance(array, np.ndarray) and not fits(number, array):
            raise OverflowError(f"Python integer {number} out of bounds for {array.dtype}")
    with np.errstate(all="ignore"):
        if op == "and":
            return np.where(truth(x), y, x)
        if op == "or":
            return np.where(truth(x), x, y)
        return eval(f"x {op} y")


@functools.cache
def binary(op, left="x", right="y"):
    args = [a for a in (left, right) if a.isidentifier()]
    return xpkern.elementwise(make_function(f"{left} {op} {right}", args))


def pairs(a, b):
    x, y = np.meshgrid(a, b, indexing="ij")
    return x.reshape(-1), y.reshape(-1)


def check_paths(f, want, *args, what="", ulps=0, large=True):
    """``f(*args)`` on each implementation that takes them, and tiled past the size
    thresholds under ``auto``: each the same as NumPy's ``want`` (or the same error)."""
    failing = isinstance(want, Exception)
    impls = ["generic"] if failing else xpkern.explain(f, *args).supported()
    runs = [(impl, args) for impl in impls]
    if large:
        tiled = tuple(np.resize(a, LARGE) if isinstance(a, np.ndarray) else a for a in args)
        runs.append(("auto", tiled))
    for impl, call_args in runs:
        if isinstance(want, Exception):
            with xpkern.config(impl=impl), pytest.raises(type(want)):
                f(*call_args)
            continue
        with xpkern.config(impl=impl):
            got = f(*call_args)
        expected = want if impl != "auto" else np.resize(want, LARGE)
        assert_matches_numpy(got, expected, ulps=ulps, what=f"{what} [{impl}]")
    return impls


def expect(fn):
    try:
        return fn()
    except (ArithmeticError, TypeError, ValueError) as exc:
        return exc


def ran_kernel(f, *args):
    """The implementation ``auto`` picks for ``args`` tiled past the thresholds."""
    tiled = tuple(np.resize(a, LARGE) if isinstance(a, np.ndarray) else a for a in args)
    return xpkern.explain(f, *tiled).impl


@pytest.mark.parametrize(("lib", "dtype"), LIB_DTYPES)
@pytest.mark.parametrize("op", ARITHMETIC + COMPARISONS + LOGIC)
def test_operator_on_edge_values(op, lib, dtype):
    x, y = pairs(edge_values(dtype), edge_values(dtype))
    if op == "**" and dtype != "bool" and np.dtype(dtype).kind in "iu":
        # NumPy raises for any negative exponent in the array: that case is checked apart.
        x, y = x[y >= 0], y[y >= 0]
    f = binary(op)
    want = expect(lambda: oracle(op, x, y))
    # NumPy has a pow of its own; CUDA's is within 2 units in the last place of it.
    ulps = (2 if lib.gpu else 1) if op == "**" and x.dtype.kind == "f" else 0
    if lib.name == "numpy":
        check_paths(f, want, x, y, what=f"{dtype} {op} {dtype}", ulps=ulps)
        chosen = None if isinstance(want, Exception) else ran_kernel(f, x, y)
    else:
        chosen = check_library_paths(lib, f, want, x, y, what=f"{dtype} {op}", ulps=ulps)
    if chosen is None:  # NumPy (or the library) raises here: every path raised the same
        return
    if op == "**" and np.dtype(dtype).kind in "iub":
        assert chosen == "generic"  # NumPy raises on negative array exponents: no kernel
    else:
        assert chosen == ("numba-cuda" if lib.gpu else "numba-cpu"), xpkern.explain(f, x, y)


def check_library_paths(lib, f, want, *args, what="", ulps=0, numpy_rules=None):
    """On another library's arrays: every path gives what the generic path gives there (the
    library's own promotion, as in NumPy where its dtypes agree, or where ``numpy_rules``
    says the library promotes these arguments as NumPy does), errors included; returns
    the implementation ``auto`` chose past the thresholds."""
    small = tuple(lib.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    large = tuple(lib.asarray(np.resize(a, LARGE)) if isinstance(a, np.ndarray) else a
                  for a in args)  # fmt: skip
    try:
        with xpkern.config(impl="generic"):
            ref = lib.to_numpy(f(*small))
    except Exception as exc:  # the library's own error: every path raises it
        with pytest.raises(type(exc)):
            f(*large)
        return None
    same = not isinstance(want, Exception) and ref.dtype == want.dtype
    if numpy_rules is not None:
        same = same and numpy_rules
    auto = xpkern.explain(f, *large).impl
    # CuPy's own float operators (the generic path there) flush float32 subnormals to zero and
    # floor-divide their own way, also where an integer array meets a Python float; CuPy
    # arrays take the kernel, which follows NumPy, wherever it supports the arguments: its
    # generic path is compared with NumPy where auto runs it.
    floats = ref.dtype.kind == "f" or any(
        isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype.kind == "f") for a in args
    )
    own_rules = lib.name == "cupy" and floats and auto != "generic"
    if same and not own_rules:
        assert_matches_numpy(ref, want, ulps=ulps, what=f"{what} [generic on {lib}]")
    for impl in xpkern.explain(f, *small).supported():
        if impl == "generic":
            continue  # ref
        with xpkern.config(impl=impl):
            got = lib.to_numpy(f(*small))
        # The kernels against NumPy itself where the dtypes agree, else against the generic.
        assert_matches_numpy(
            got, want if same else ref, ulps=ulps, what=f"{what} [{impl} on {lib}]"
        )
    expected = want if same else ref
    assert_matches_numpy(lib.to_numpy(f(*large)), np.resize(expected, LARGE), ulps=ulps,
                         what=f"{what} [auto on {lib}]")  # fmt: skip
    return auto


MIXED = [("int8", "uint8"), ("int64", "uint64"), ("uint64", "int8"), ("int32", "float32"),
         ("bool", "int8"), ("float32", "float64"), ("uint8", "float32"), ("int16", "uint32"),
         ("bool", "float32"), ("uint16", "int64")]  # fmt: skip


@numpy_session
@pytest.mark.parametrize(("left", "right"), MIXED)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "<", "==", ">=", "and", "or"])
def test_mixed_dtypes(op, left, right):
    x, y = pairs(edge_values(left), edge_values(right))
    want = expect(lambda: oracle(op, x, y))
    check_paths(binary(op), want, x, y, what=f"{left} {op} {right}", large=False)


SCALARS = {"int": [0, 1, -1, 2, 7, 127, 128, 255, 256, -129, 2**31, 2**63 - 1, -(2**63)],
           "float": [0.3, -0.0, 2.5, np.inf, -np.inf, np.nan, 1e300, 1e-320],
           "bool": [True, False]}  # fmt: skip


@numpy_session
@pytest.mark.parametrize("kind", sorted(SCALARS))
@pytest.mark.parametrize("dtype", EDGE_DTYPES)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "<", "==", "or"])
def test_python_scalar_arguments(op, dtype, kind):
    """Python numbers are weak (NEP 50): they take the array's dtype, or raise where their
    value does not fit it, as in NumPy; on every call, at every size."""
    x = edge_values(dtype)
    if op == "**" and x.dtype.kind in "iu":
        x = x[x >= 0]
    ulps = 1 if op == "**" else 0  # NumPy has a pow of its own
    for k in SCALARS[kind]:
        check_paths(binary(op, "x", "k"), expect(lambda k=k: oracle(op, x, k)), x, k,
                    what=f"{dtype}: x {op} {k!r}", large=False, ulps=ulps)  # fmt: skip
        check_paths(binary(op, "k", "x"), expect(lambda k=k: oracle(op, k, x)), k, x,
                    what=f"{dtype}: {k!r} {op} x", large=False, ulps=ulps)  # fmt: skip


OTHER_LIB_DTYPES = [p for p in LIB_DTYPES if p.values[0].name != "numpy"]


def same_promotion(lib, *args):
    """Whether ``lib`` promotes these arguments (arrays given as NumPy's) as NumPy does:
    torch compares an int64 tensor with a Python float in float32, NumPy in float64."""
    theirs = [lib.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    xp = array_api_compat.array_namespace(*(a for a in theirs if not isinstance(a, int | float)))
    try:
        return dtype_name(xp.result_type(*theirs)) == str(np.result_type(*args))
    except (TypeError, ValueError, OverflowError, RuntimeError):  # a number beyond the dtype
        return False


@pytest.mark.parametrize(("lib", "dtype"), OTHER_LIB_DTYPES)
@pytest.mark.parametrize("kind", sorted(SCALARS))
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "<", "==", "or"])
def test_python_scalar_arguments_on_other_libraries(op, kind, lib, dtype):
    """On other libraries' arrays a Python number gives the same answer on every path, at
    every size: NumPy's where the library promotes as NumPy does, else what the library's
    promotion and NumPy's rules give (the generic path's)."""
    x = edge_values(dtype)
    if op == "**" and x.dtype.kind in "iu":
        x = x[x >= 0]
    ulps = (2 if lib.gpu else 1) if op == "**" else 0
    for k in SCALARS[kind]:
        for left, right, args in (("x", "k", (x, k)), ("k", "x", (k, x))):
            check_library_paths(lib, binary(op, left, right),
                                expect(lambda a=args: oracle(op, *a)), *args,
                                what=f"{dtype}: {args[0] if left == 'k' else 'x'} {op} "
                                     f"{args[1] if right == 'k' else 'x'}",
                                ulps=ulps, numpy_rules=same_promotion(lib, *args))  # fmt: skip


@pytest.mark.parametrize("lib", [c for c in LIBS if c.name != "numpy"], ids=str)
@pytest.mark.parametrize(("left", "right"), MIXED)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "<", "==", ">=", "and", "or"])
def test_mixed_dtypes_on_other_libraries(op, left, right, lib):
    """Two dtypes on another library's arrays: every path compares and computes in the
    library's common dtype (torch: int32 and float32 in float32), at every size."""
    if lib.name.startswith("torch") and {left, right} - set(TORCH_DTYPES):
        pytest.skip(f"torch has no arithmetic for {left} with {right}")
    x, y = pairs(edge_values(left), edge_values(right))
    check_library_paths(
        lib,
        binary(op),
        expect(lambda: oracle(op, x, y)),
        x,
        y,
        what=f"{left} {op} {right}",
        numpy_rules=same_promotion(lib, x, y),
    )


@numpy_session
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64", "float32", "float64"])
def test_python_scalar_literals(dtype):
    x = edge_values(dtype)
    for body in ["x + 100", "(x + 200) // 2", "(x + 100) > 0", "x * 0.3 - 0.9", "x * 3 % 7",
                 "x > 300", "x < -300", "x == 2 ** 70", "300 >= x", "x - True",
                 "(x * x) // 7", "x ** 3", "x ** 0.5", "-x"]:  # fmt: skip
        f = xpkern.elementwise(make_function(body, ["x"]))
        with np.errstate(all="ignore"):
            want = expect(lambda b=body: eval(b, {"x": x, "np": np}))
        check_paths(f, want, x, what=f"{dtype}: {body}", ulps=1 if "**" in body else 0)


@numpy_session
def test_large_integer_floor_division_is_exact():
    x = np.array([2**62 + 1, 2**63 - 1, -(2**63), -(2**62) - 3] * 6000)
    f = binary("//", "x", "7")
    check_paths(f, x // 7, x)
    u = np.array([2**64 - 1, 2**63 + 5, 3] * 8000, dtype=np.uint64)
    check_paths(f, u // 7, u)


@numpy_session
def test_integer_powers_wrap_as_numpy():
    x = np.arange(-5, 6, dtype=np.int64).repeat(3000)
    for body, want in [("x ** 40", x**40), ("x ** 3", x**3)]:
        f = xpkern.elementwise(make_function(body, ["x"]))
        check_paths(f, want, x)
    f = binary("**", "x", "k")
    check_paths(f, x**41, x, 41)
    assert ran_kernel(f, x, 41) == "numba-cpu"


@numpy_session
@pytest.mark.parametrize("size", [5, CPU_MIN_SIZE - 1, CPU_MIN_SIZE, LARGE])
def test_errors_are_the_same_at_every_size(size):
    cases = [("x + 300", np.int8, OverflowError), ("x + -1", np.uint8, OverflowError),
             ("x ** -1", np.int64, ValueError), ("x - x", np.bool_, TypeError),
             ("-x", np.bool_, TypeError)]  # fmt: skip
    for body, dtype, error in cases:
        f = xpkern.elementwise(make_function(body, ["x"]))
        with pytest.raises(error):
            f(np.ones(size, dtype=dtype))
    power = binary("**", "x", "k")
    with pytest.raises(ValueError, match="negative integer powers"):
        power(np.ones(size, dtype=np.int32), -1)
    add = binary("+", "x", "k")
    with pytest.raises(OverflowError, match="out of bounds for int8"):
        add(np.ones(size, dtype=np.int8), 200)
    big = add(np.ones(size), 2**70)  # a float array takes any int, as a float
    assert big.dtype == np.float64 and big[0] == 2.0**70


SPECIALS = np.array([-np.inf, -2.5, -2.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, np.inf,
                     np.nan])  # fmt: skip


@numpy_session
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_power_special_values(dtype):
    """C99 Annex F: (-0.0) ** -1.0 is -inf, (-1.0) ** inf is 1.0, (-inf) ** 2.5 is inf..."""
    x, y = pairs(SPECIALS.astype(dtype), SPECIALS.astype(dtype))
    check_paths(binary("**"), oracle("**", x, y), x, y, what="x ** y", ulps=1)
    base = SPECIALS.astype(dtype)
    for p in [0.5, 2, -1, 0, 1, 3, 2.5, -0.5]:
        with np.errstate(all="ignore"):
            want = base**p
        check_paths(binary("**", "x", repr(p)), want, base, what=f"x ** {p}", ulps=1)
        check_paths(binary("**", "x", "k"), want, base, p, what=f"x ** k, k={p}", ulps=1)


EXACT = ["abs", "floor", "ceil", "trunc", "sign", "square", "sqrt", "isnan", "isinf",
         "isfinite"]  # fmt: skip
# The largest distance from NumPy, in units in the last place, of the math functions: both
# call a libm (NumPy its own SIMD loops for some); correctly rounded results need not agree.
TRANSCENDENTAL = {"exp": 2, "expm1": 2, "log": 2, "log1p": 2, "log2": 2, "log10": 2, "sin": 2,
                  "cos": 2, "tan": 3, "arcsin": 2, "arccos": 2, "arctan": 2, "sinh": 3,
                  "cosh": 3, "tanh": 3}  # fmt: skip


def numpy_math(name, x):
    floats = x.astype(np.float64) if x.dtype.kind in "iub" else x
    keep = name in ("abs", "floor", "ceil", "trunc", "sign", "square", "isnan", "isinf",
                    "isfinite", "negative")  # fmt: skip
    with np.errstate(all="ignore"):
        return getattr(np, name)(x if keep else floats)


@numpy_session
@pytest.mark.parametrize("dtype", EDGE_DTYPES)
@pytest.mark.parametrize("name", [*EXACT, "negative", "not"])
def test_exact_functions(name, dtype):
    x = edge_values(dtype)
    body = {"negative": "-x", "not": "not x"}.get(name, f"fmath.{name}(x)")
    f = xpkern.elementwise(make_function(body, ["x"]))
    want = expect(lambda: np.logical_not(x) if name == "not" else numpy_math(name, x))
    check_paths(f, want, x, what=body)


@numpy_session
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16"])
@pytest.mark.parametrize("name", sorted(TRANSCENDENTAL))
def test_math_functions_within_ulps(name, dtype):
    x = np.concatenate([edge_values(dtype), np.linspace(-3, 3, 61).astype(dtype)])
    f = xpkern.elementwise(make_function(f"fmath.{name}(x)", ["x"]))
    check_paths(f, numpy_math(name, x), x, what=name, ulps=TRANSCENDENTAL[name])


# On other libraries' arrays the Numba loop (CPU tensors) calls the same C library as on NumPy
# arrays; the CUDA kernel calls CUDA's math library, which documents its own error bounds of a
# few units in the last place: 2 units more are allowed there than on the CPU.
GPU_EXTRA_ULPS = 2


@pytest.mark.parametrize(("lib", "dtype"), [pytest.param(c, d, id=f"{c}-{d}")
                                            for c in LIBS if c.name != "numpy"
                                            for d in ("float32", "float64")])  # fmt: skip
@pytest.mark.parametrize("name", sorted(TRANSCENDENTAL))
def test_math_functions_within_ulps_on_other_libraries(name, lib, dtype):
    every = np.concatenate([edge_values(dtype), np.linspace(-3, 3, 61).astype(dtype)])
    f = xpkern.elementwise(make_function(f"fmath.{name}(x)", ["x"]))
    ulps = TRANSCENDENTAL[name] + (GPU_EXTRA_ULPS if lib.gpu else 0)
    kernel = "numba-cuda" if lib.gpu else "numba-cpu"
    x = every[~torch_own_math_differs(name, every)] if lib.name == "torch" else every
    chosen = check_library_paths(lib, f, numpy_math(name, x), x, what=f"{name} {dtype}",
                                 ulps=ulps)  # fmt: skip
    assert chosen == kernel, xpkern.explain(f, x)
    with xpkern.config(impl=kernel):  # the kernel on every value, those left out above too
        got = lib.to_numpy(f(lib.asarray(every)))
    assert_matches_numpy(got, numpy_math(name, every), ulps=ulps, what=f"{name} [{kernel}]")


def torch_own_math_differs(name, x):
    """Where torch's own (vectorised) function, which small CPU tensors take on the generic
    path, gives another answer than NumPy (docs/semantics.rst): sinh and cosh overflow to inf
    where exp(|x|) does, before their result does; log1p of a subnormal is +0.0."""
    info = np.finfo(x.dtype)
    with np.errstate(all="ignore"):
        if name in ("sinh", "cosh"):
            return (np.abs(x) > np.log(info.max)) & np.isfinite(np.cosh(x))
        if name == "log1p":
            return (x != 0) & (np.abs(x) < info.smallest_normal)
    return np.zeros(x.shape, bool)


@numpy_session
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "uint64"])
@pytest.mark.parametrize("name", ["minimum", "maximum", "arctan2", "hypot", "copysign"])
def test_binary_functions(name, dtype):
    x, y = pairs(edge_values(dtype), edge_values(dtype))
    if name in ("arctan2", "hypot", "copysign") and x.dtype.kind in "iu":
        x, y = x.astype(np.float64), y.astype(np.float64)  # fmath's rule for integers
    f = xpkern.elementwise(make_function(f"fmath.{name}(x, y)", ["x", "y"]))
    with np.errstate(all="ignore"):
        want = getattr(np, name)(x, y)
    ulps = {"minimum": 0, "maximum": 0, "copysign": 0, "hypot": 1, "arctan2": 2}[name]
    check_paths(f, want, x, y, what=name, ulps=ulps)


@numpy_session
def test_and_or_return_one_of_their_operands():
    x = np.array([0.0, 1.0, np.nan, -0.0, 2.0], dtype=np.float32)
    y = np.array([3.0, 0.0, 1.0, 5.0, 0.0], dtype=np.float32)
    for body, want in [("x or 5.0", np.where(x != 0, x, np.float32(5.0))),
                       ("x and y", np.where(x != 0, y, x)),
                       ("x or y or 7.0", np.where(x != 0, x, np.where(y != 0, y, 7.0))),
                       ("x > 0 and y > 0", (x > 0) & (y > 0)),
                       ("not x", x == 0)]:  # fmt: skip
        f = xpkern.elementwise(make_function(body, ["x", "y"]))
        check_paths(f, want.astype(want.dtype), x, y, what=body)
    i = np.array([0, 3, -2], dtype=np.int8)
    f = binary("or", "x", "2.5")
    check_paths(f, np.where(i != 0, i, 2.5), i)  # int8 or float: float64, as np.where


@numpy_session
@pytest.mark.parametrize("dtype", ["float32", "int8", "uint64"])
def test_conditional_expressions(dtype):
    x, y = pairs(edge_values(dtype), edge_values(dtype))
    f = xpkern.elementwise(make_function("x if x > y else y - x", ["x", "y"]))
    with np.errstate(all="ignore"):
        want = np.where(x > y, x, y - x)
    check_paths(f, want, x, y)


@numpy_session
def test_every_dtype_pair_of_a_binary_operator_types_like_numpy():
    """The result dtype of every pair (the steps' dtypes come from NumPy itself)."""
    f = binary("+")
    for left, right in itertools.product(EDGE_DTYPES, repeat=2):
        x, y = np.ones(3, left), np.ones(3, right)
        want = expect(lambda x=x, y=y: x + y)
        if isinstance(want, Exception):
            with pytest.raises(type(want)):
                f(x, y)
            continue
        assert f(x, y).dtype == want.dtype, (left, right)
        assert f.result_dtype(xpkern.backends.resolve(x), (x, y)) == want.dtype
