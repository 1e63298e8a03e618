"""Which Python function an ``@elementwise`` object computes, and where its source is.

Besides plain functions and lambdas, an elementwise function may be a bound method or a
callable object (the instance is a constant of the function), a ``functools.partial`` of
numbers, or one of the math functions xpkern knows (``math.sin``, ``numpy.sin``, ``abs``,
the functions of :mod:`xpkern.fmath`).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import math
import numbers
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from ... import fmath

__all__ = ["SourceUnavailable", "Target", "UnsupportedFunction", "fmath_name", "is_number",
           "source_tree", "target_of"]  # fmt: skip


class UnsupportedFunction(TypeError):
    """The function uses something an elementwise kernel cannot express."""


class SourceUnavailable(UnsupportedFunction):
    """The function's source cannot be read (made by ``exec``, or typed at a bare prompt)."""


_FMATH_FUNCS = {name for name in fmath.__all__ if callable(getattr(fmath, name))} | {
    "logical_and",
    "logical_or",
    "logical_not",
}
_ALIASES = {  # functions users may call instead of fmath's, by module and name
    ("math", "fabs"): "abs", ("math", "atan"): "arctan", ("math", "atan2"): "arctan2",
    ("math", "asin"): "arcsin", ("math", "acos"): "arccos",
    ("numpy", "absolute"): "abs", ("numpy", "fmin"): "minimum", ("numpy", "fmax"): "maximum",
}  # fmt: skip
ARITY = {"where": 3, "minimum": 2, "maximum": 2, "arctan2": 2, "hypot": 2, "copysign": 2,
         "logical_and": 2, "logical_or": 2}  # fmt: skip


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (Python's or NumPy's, bools included)."""
    return isinstance(value, bool | numbers.Integral | numbers.Real) and not isinstance(
        value, complex
    )


def fmath_name(value: Any) -> str | None:
    """The :mod:`xpkern.fmath` name of a function users may call, or None."""
    for name in _FMATH_FUNCS:
        if value is getattr(fmath, name, None):
            return name
    if value is builtins.abs:
        return "abs"
    if value in (builtins.min, builtins.max):
        return "minimum" if value is builtins.min else "maximum"
    module = getattr(value, "__module__", None) or type(value).__module__
    name = getattr(value, "__name__", "")
    top = (module or "").partition(".")[0]
    if top in ("math", "numpy") or (module == "builtins" and name in dir(math)):
        key = ("math" if module == "builtins" else top, name)
        if key in _ALIASES:
            return _ALIASES[key]
        if name in _FMATH_FUNCS:
            return name
    return None


@dataclass
class Target:
    """The function to read: its code, the names bound to constants, and its arguments."""

    name: str
    args: tuple[str, ...]
    defaults: tuple[Any, ...] = ()  # for the last len(defaults) arguments
    fn: Any = None  # the Python function; None for a known math function
    bound: dict[str, Any] = field(default_factory=dict)
    builtin: str | None = None  # the fmath name of a known math function

    @property
    def required(self) -> int:
        return len(self.args) - len(self.defaults)


def target_of(obj: Any) -> Target:
    """The :class:`Target` of a callable, or a TypeError saying why it cannot be one."""
    if not callable(obj):
        raise TypeError(f"elementwise needs a function, got {type(obj).__name__}")
    known = fmath_name(obj)
    if known is not None:
        nargs = ARITY.get(known, 1)
        return Target(known, ("x", "y", "z")[:nargs], builtin=known)
    if isinstance(obj, functools.partial):
        return _partial(obj)
    if isinstance(obj, types.MethodType):
        return _bind(target_of(obj.__func__), [obj.__self__], {})
    if isinstance(obj, types.FunctionType):
        return _function(obj)
    call = type(obj).__call__  # obj is callable: its class has one
    if isinstance(call, types.FunctionType):
        return _bind(_function(call), [obj], {})
    raise UnsupportedFunction(
        f"elementwise cannot read {obj!r}: it needs a Python function, lambda, method, "
        "functools.partial or one of the math functions of xpkern.fmath"
    )


def _function(fn: types.FunctionType) -> Target:
    code = fn.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        raise UnsupportedFunction("elementwise functions take positional arguments only")
    args = tuple(code.co_varnames[: code.co_argcount])
    defaults = tuple(fn.__defaults__ or ())
    for value in defaults:
        if not is_number(value):
            raise UnsupportedFunction(
                f"the default value {value!r} of {fn.__name__!r} is not a number"
            )
    return Target(fn.__name__, args, defaults, fn)


def _partial(p: functools.partial[Any]) -> Target:
    return _bind(target_of(p.func), list(p.args), dict(p.keywords or {}))


def _bind(target: Target, values: list[Any], keywords: dict[str, Any]) -> Target:
    """``target`` with its first arguments (and the named ones) bound to ``values``."""
    if target.builtin is not None and not values and not keywords:
        return target
    if target.fn is None:
        raise UnsupportedFunction(f"elementwise cannot bind arguments of {target.name!r}")
    if len(values) > len(target.args):
        raise TypeError(f"{target.name}() takes {len(target.args)} argument(s), "
                        f"{len(values)} were bound")  # fmt: skip
    bound = dict(target.bound)
    bound.update(zip(target.args, values, strict=False))
    rest = target.args[len(values) :]
    unknown = set(keywords) - set(rest)
    if unknown:
        raise TypeError(f"{target.name}() has no argument {sorted(unknown)[0]!r} to bind")
    defaults = dict(zip(target.args[target.required :], target.defaults, strict=True))
    for name, value in keywords.items():
        if not is_number(value):
            raise UnsupportedFunction(f"the bound value {value!r} of {name!r} is not a number")
        defaults[name] = value
    # A keyword-bound argument keeps its place; those after it need defaults too (as Python).
    first_default = next((i for i, a in enumerate(rest) if a in defaults), len(rest))
    missing = [a for a in rest[first_default:] if a not in defaults]
    if missing:
        raise UnsupportedFunction(
            f"binding {sorted(keywords)} leaves {missing[0]!r} without a value; bind it too"
        )
    return Target(target.name, rest, tuple(defaults[a] for a in rest[first_default:]),
                  target.fn, bound)  # fmt: skip


def source_tree(target: Target) -> ast.FunctionDef | ast.Lambda:
    """The syntax tree of the target's function, found from its code object."""
    fn = target.fn
    assert fn is not None
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceUnavailable(f"the source of {fn.__name__!r} is not available") from exc
    source = textwrap.dedent("".join(lines))
    shift = first - 1
    if fn.__name__ != "<lambda>":
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise UnsupportedFunction(f"cannot parse the source of {fn.__name__!r}") from exc
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == fn.__name__:
                return node
        raise UnsupportedFunction(f"cannot find the definition of {fn.__name__!r}")
    return _find_lambda(fn, source, shift)


def _parse_fragment(source: str) -> ast.Module | None:
    # getsource gives the whole statement that holds the lambda; it may be a fragment.
    for text in (source, source.strip().rstrip(",)"), "(" + source.strip() + ")"):
        try:
            return ast.parse(text)
        except SyntaxError:
            continue
    start = source.find("lambda")
    for end in range(len(source), start, -1):
        try:
            tree = ast.parse(source[start:end])
        except SyntaxError:
            continue
        # Lines are counted from the start of the fragment: put them back.
        ast.increment_lineno(tree, source.count("\n", 0, start))
        return tree
    return None


def _find_lambda(fn: Any, source: str, shift: int) -> ast.Lambda:
    tree = _parse_fragment(source)
    if tree is None:
        raise UnsupportedFunction("cannot parse the source of the lambda")
    code = fn.__code__
    names = code.co_varnames[: code.co_argcount]
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
             and tuple(a.arg for a in n.args.args) == names]  # fmt: skip
    if len(found) > 1:
        # Several lambdas with these arguments: keep the one at the code object's position.
        line = code.co_firstlineno - shift
        found = [n for n in found if n.lineno == line] or found
    if len(found) > 1:
        found = [n for n in found if _same_code(n, code)] or found
    if len({ast.dump(n) for n in found}) != 1:
        raise UnsupportedFunction(
            "cannot tell which lambda in its statement is the function; define it with def"
        )
    return found[0]


def _same_code(node: ast.Lambda, code: types.CodeType) -> bool:
    """Whether compiling ``node`` gives the constants, names and operations of ``code``."""
    try:
        module = compile(ast.Expression(node), "<lambda>", "eval")
    except (SyntaxError, ValueError):
        return False
    made = next((c for c in module.co_consts if isinstance(c, types.CodeType)), None)
    if made is None:
        return False
    # Captured variables load differently once compiled alone (as globals): compare the names
    # they read, the constants and the operations.
    names = set(code.co_names) | set(code.co_freevars)
    return (made.co_consts == code.co_consts and set(made.co_names) == names
            and _ops(made) == _ops(code))  # fmt: skip


def _ops(code: types.CodeType) -> list[str]:
    import dis

    skip = {"LOAD_GLOBAL", "LOAD_DEREF", "LOAD_NAME", "LOAD_CLOSURE", "COPY_FREE_VARS",
            "RESUME", "NOP", "CACHE", "PRECALL", "PUSH_NULL", "MAKE_CELL"}  # fmt: skip
    return [i.opname for i in dis.get_instructions(code) if i.opname not in skip]
