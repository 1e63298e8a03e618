"""Random elementwise functions built from a grammar of the supported operations."""

import importlib.util
import itertools
import tempfile
from pathlib import Path

from hypothesis import strategies as st

UNARY = ["exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tanh", "arctan", "abs", "square"]
BINARY_FUNCS = ["minimum", "maximum", "arctan2", "hypot"]
BINARY_OPS = ["+", "-", "*", "/"]
CONSTANTS = ["0.5", "2", "-1.5", "3.0", "0"]

_counter = itertools.count()
_dir = Path(tempfile.mkdtemp(prefix="xpkern-grammar-"))


def expressions(args, depth):
    leaves = st.sampled_from(list(args) + CONSTANTS)
    if depth == 0:
        return leaves
    sub = expressions(args, depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(UNARY), sub).map(lambda t: f"fmath.{t[0]}({t[1]})"),
        st.tuples(sub, st.sampled_from(BINARY_OPS), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(BINARY_FUNCS), sub, sub).map(
            lambda t: f"fmath.{t[0]}({t[1]}, {t[2]})"
        ),
        sub.map(lambda e: f"({e}) ** 2"),
        st.tuples(sub, st.sampled_from(["<", ">", "<=", "!="]), sub, sub).map(
            lambda t: f"({t[3]} if {args[0]} {t[1]} {args[-1]} else {t[0]})"
        ),
        sub.map(lambda e: f"(-{e})"),
    )


def make_function(body, args):
    """Write ``def f(args): return body`` to a module file (so its source exists), import it."""
    name = f"grammar_{next(_counter)}"
    path = _dir / f"{name}.py"
    path.write_text(
        f"from xpkern import fmath\n\n\ndef f({', '.join(args)}):\n    return {body}\n"
    )
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f
