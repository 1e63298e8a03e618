"""Reading an ``@elementwise`` function: check what it uses and write its two forms.

* the *array form* runs on whole arrays of any namespace: conditional expressions become
  ``where``, ``and``/``or``/``not`` become logical functions, math calls go to ``fmath``;
* the *scalar form* is what the fused kernels compile: math calls and the operators that
  can fail go to the helpers of :mod:`xpkern._scalar`.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import numbers
import textwrap
from dataclasses import dataclass
from typing import Any

from ... import _scalar, fmath

__all__ = ["Translation", "UnsupportedFunction", "translate"]


class UnsupportedFunction(TypeError):
    """The function uses something an elementwise kernel cannot express."""


class SourceUnavailable(UnsupportedFunction):
    """The function's source cannot be read (defined in an interactive session, say)."""


# fmath name -> helper of _scalar used in kernels
_SCALAR_HELPER = {name: name for name in _scalar.NAMES} | {"abs": "fabs"}
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
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "div", ast.FloorDiv: "floordiv",
           ast.Mod: "mod", ast.Pow: "power"}  # fmt: skip
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


@dataclass(frozen=True)
class Translation:
    """The two forms of an elementwise function, as source text."""

    name: str
    args: tuple[str, ...]
    array_source: str
    scalar_source: str


def _source_tree(fn: Any) -> ast.FunctionDef | ast.Lambda:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise SourceUnavailable(f"the source of {fn.__name__!r} is not available") from exc
    if fn.__name__ != "<lambda>":
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise UnsupportedFunction(f"cannot parse the source of {fn.__name__!r}") from exc
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for node in defs:
            if node.name == fn.__name__:
                return node
        raise UnsupportedFunction(f"cannot find the definition of {fn.__name__!r}")
    return _find_lambda(fn, source)


def _find_lambda(fn: Any, source: str) -> ast.Lambda:
    # getsource gives the whole statement that holds the lambda; it may be a fragment.
    tree = None
    for text in (source, source.strip().rstrip(",)"), "(" + source.strip() + ")"):
        try:
            tree = ast.parse(text)
            break
        except SyntaxError:
            continue
    if tree is None:
        start = source.find("lambda")
        for end in range(len(source), start, -1):
            try:
                tree = ast.parse(source[start:end])
                break
            except SyntaxError:
                continue
    if tree is None:
        raise UnsupportedFunction("cannot parse the source of the lambda")
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)
             and tuple(a.arg for a in n.args.args) == names]  # fmt: skip
    if len(found) != 1:
        raise UnsupportedFunction(
            "cannot tell which lambda on its line is the function; define it with def"
        )
    return found[0]


class _Reader:
    """Checks a function body and rewrites it into the array form and the scalar form."""

    def __init__(self, fn: Any, args: tuple[str, ...]) -> None:
        self.fn = fn
        self.args = args
        self.locals: set[str] = set()

    def fail(self, node: ast.AST, what: str) -> UnsupportedFunction:
        line = getattr(node, "lineno", None)
        where = f" (line {line} of the function)" if line else ""
        return UnsupportedFunction(f"elementwise functions cannot use {what}{where}")

    def lookup(self, name: str) -> Any:
        code = self.fn.__code__
        if self.fn.__closure__ and name in code.co_freevars:
            return self.fn.__closure__[code.co_freevars.index(name)].cell_contents
        if name in self.fn.__globals__:
            return self.fn.__globals__[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise self.fail(ast.Name(name), f"the undefined name {name!r}")

    def constant(self, node: ast.AST, value: Any) -> tuple[str, str]:
        if isinstance(value, bool | numbers.Integral | numbers.Real) and not isinstance(
            value, complex
        ):
            if isinstance(value, bool):
                return repr(value), repr(value)
            v: int | float = int(value) if isinstance(value, numbers.Integral) else float(value)
            if math.isfinite(v):
                text = repr(v)
            else:
                text = "_NAN" if v != v else ("_INF" if v > 0 else "(-_INF)")
            # In kernels numbers take the inputs' dtype, as Python scalars do with arrays in the
            # Array API (x * 2.0 stays float32), instead of Numba's int64/float64.
            cast = "_KI" if isinstance(v, int) else "_KF"
            return text, f"{cast}({text})"
        raise self.fail(node, f"the value {value!r} (only numbers can be captured)")

    def function_name(self, node: ast.AST) -> str:
        value = self.resolve(node)
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
        raise self.fail(node, f"the function {ast.unparse(node)!r}")

    def uses_inputs(self, node: ast.AST) -> bool:
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        return bool(names & (set(self.args) | self.locals))

    def resolve(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return getattr(self.resolve(node.value), node.attr, None)
        raise self.fail(node, f"the expression {ast.unparse(node)!r} as a function")

    def expr(self, node: ast.AST) -> tuple[str, str]:
        """(array form, scalar form) of an expression."""
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, _describe(node))
        found: tuple[str, str] = method(node)
        return found

    def expr_Constant(self, node: ast.Constant) -> tuple[str, str]:
        return self.constant(node, node.value)

    def expr_Name(self, node: ast.Name) -> tuple[str, str]:
        if node.id in self.args or node.id in self.locals:
            return node.id, node.id
        value = self.lookup(node.id)
        return self.constant(node, value)

    def expr_Attribute(self, node: ast.Attribute) -> tuple[str, str]:
        return self.constant(node, self.resolve(node))

    def expr_BinOp(self, node: ast.BinOp) -> tuple[str, str]:
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise self.fail(node, f"the operator {type(node.op).__name__}")
        (la, ls), (ra, rs) = self.expr(node.left), self.expr(node.right)
        array_op = {"div": "/", "floordiv": "//", "mod": "%", "power": "**"}.get(op, op)
        if len(op) > 1 and not self.uses_inputs(node):
            # Numbers only: Python would raise on 1 / 0 where arrays give inf.
            return f"_s.{op}({la}, {ra})", f"_s_{op}({ls}, {rs})"
        scalar = f"({ls} {op} {rs})" if len(op) == 1 else f"_s_{op}({ls}, {rs})"
        exponent = getattr(node.right, "value", None)
        if op == "power" and type(exponent) is int and 1 <= exponent <= 4:
            # Small literal powers as products: exact, and far cheaper in a kernel.
            scalar = "(" + " * ".join([ls] * exponent) + ")"
        return f"_f._binop({array_op!r}, {la}, {ra})", scalar

    def expr_UnaryOp(self, node: ast.UnaryOp) -> tuple[str, str]:
        a, s = self.expr(node.operand)
        if isinstance(node.op, ast.USub):
            return f"(-{a})", f"(-{s})"
        if isinstance(node.op, ast.UAdd):
            return f"(+{a})", f"(+{s})"
        if isinstance(node.op, ast.Not):
            return f"_f.logical_not({a})", f"(not {s})"
        raise self.fail(node, f"the operator {type(node.op).__name__}")

    def expr_Compare(self, node: ast.Compare) -> tuple[str, str]:
        parts_a, parts_s = [], []
        left = self.expr(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if not isinstance(op, _CMPOPS):
                raise self.fail(node, f"the comparison {type(op).__name__}")
            right = self.expr(right_node)
            sym = ast.unparse(ast.Compare(ast.Name("a"), [op], [ast.Name("b")]))[2:-2]
            parts_a.append(f"({left[0]} {sym} {right[0]})")
            parts_s.append(f"({left[1]} {sym} {right[1]})")
            left = right
        return _fold("_f.logical_and", parts_a), "(" + " and ".join(parts_s) + ")"

    def expr_BoolOp(self, node: ast.BoolOp) -> tuple[str, str]:
        values = [self.expr(v) for v in node.values]
        word = "and" if isinstance(node.op, ast.And) else "or"
        return (
            _fold(f"_f.logical_{word}", [a for a, _ in values]),
            "(" + f" {word} ".join(s for _, s in values) + ")",
        )

    def expr_IfExp(self, node: ast.IfExp) -> tuple[str, str]:
        (ta, ts), (ba, bs), (oa, os_) = map(self.expr, (node.test, node.body, node.orelse))
        return f"_f.where({ta}, {ba}, {oa}, _dtype)", f"({bs} if {ts} else {os_})"

    def expr_Call(self, node: ast.Call) -> tuple[str, str]:
        if node.keywords:
            raise self.fail(node, "keyword arguments in calls")
        name = self.function_name(node.func)
        args = [self.expr(a) for a in node.args]
        arity = 3 if name == "where" else (
            2 if name in ("minimum", "maximum", "arctan2", "hypot", "copysign", "logical_and",
                          "logical_or") else 1
        )  # fmt: skip
        if len(args) != arity:
            raise UnsupportedFunction(f"{name} takes {arity} argument(s), got {len(args)}")
        array = (
            f"_f.{name}({', '.join(a for a, _ in args)}{', _dtype' if name == 'where' else ''})"
        )
        if name.startswith("logical_"):
            word = name.removeprefix("logical_")
            scalar = (
                f"(not {args[0][1]})" if word == "not" else f"({args[0][1]} {word} {args[1][1]})"
            )
        else:
            scalar = f"_s_{_SCALAR_HELPER[name]}({', '.join(s for _, s in args)})"
        return array, scalar

    def body(self, statements: list[ast.stmt]) -> tuple[list[str], list[str]]:
        array_lines, scalar_lines = [], []
        for i, stmt in enumerate(statements):
            if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                a, s = self.expr(stmt.value)
                name = stmt.targets[0].id
                self.locals.add(name)
                array_lines.append(f"{name} = {a}")
                scalar_lines.append(f"{name} = {s}")
            elif isinstance(stmt, ast.Return) and stmt.value is not None:
                if i != len(statements) - 1:
                    raise self.fail(stmt, "statements after return")
                a, s = self.expr(stmt.value)
                array_lines.append(f"return {a}")
                scalar_lines.append(f"return {s}")
            else:
                raise self.fail(stmt, _describe(stmt))
        if not array_lines or not array_lines[-1].startswith("return"):
            raise UnsupportedFunction("an elementwise function must end with a return")
        return array_lines, scalar_lines


def _fold(func: str, parts: list[str]) -> str:
    out = parts[0]
    for p in parts[1:]:
        out = f"{func}({out}, {p})"
    return out


def _describe(node: ast.AST) -> str:
    names = {"If": "if statements (use 'a if cond else b')", "For": "for loops",
             "While": "while loops", "Subscript": "indexing", "ListComp": "comprehensions",
             "AugAssign": "augmented assignment", "Lambda": "nested lambdas",
             "Tuple": "tuples", "List": "lists", "Dict": "dicts", "Starred": "*args"}  # fmt: skip
    kind = type(node).__name__
    return names.get(kind, f"{kind} ({ast.unparse(node)!r})" if isinstance(node, ast.expr)
                     else kind)  # fmt: skip


def translate(fn: Any) -> Translation:
    """Check ``fn`` and write its array and scalar forms; raise UnsupportedFunction if it
    uses anything else than numbers, arithmetic, comparisons, conditional expressions and
    fmath functions."""
    code = fn.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        raise UnsupportedFunction("elementwise functions take positional arguments only")
    args = tuple(code.co_varnames[: code.co_argcount])
    if not args:
        raise UnsupportedFunction("an elementwise function needs at least one argument")
    tree = _source_tree(fn)
    reader = _Reader(fn, args)
    if isinstance(tree, ast.Lambda):
        a, s = reader.expr(tree.body)
        array_lines, scalar_lines = [f"return {a}"], [f"return {s}"]
    else:
        array_lines, scalar_lines = reader.body(tree.body)
    sig = ", ".join(args)
    name = fn.__name__ if fn.__name__.isidentifier() else "fn"

    def render(lines: list[str], extra: str = "") -> str:
        return f"def {name}({sig}{extra}):\n" + "".join(f"    {line}\n" for line in lines)

    # The array form also takes the inputs' dtype, for branches that are only numbers.
    return Translation(name, args, render(array_lines, ", _dtype=None"), render(scalar_lines))
