"""Reading an ``@elementwise`` function: check what it uses and write it as a small tree.

The tree (:class:`Node`) is what both paths are generated from: the *array form* that runs on
whole arrays of any namespace (:func:`array_source`), and the typed *scalar form* the fused
kernels compile (``scalar_form.py``). Values the function reads from outside (globals, closure
variables, bound arguments) are read once, here, at decoration: both paths see those values.
Subexpressions of numbers only are computed here too.
"""

from __future__ import annotations

import ast
import builtins
import math
from dataclasses import dataclass
from typing import Any

from ... import _operators, _scalar, fmath
from .target import (
    ARITY,
    SourceUnavailable,
    Target,
    UnsupportedFunction,
    fmath_name,
    is_number,
    source_tree,
)

__all__ = ["Node", "SourceUnavailable", "Translation", "UnsupportedFunction", "array_scope",
           "array_source", "translate"]  # fmt: skip

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}  # fmt: skip
_BITWISE = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
            ast.RShift: ">>", ast.MatMult: "@"}  # fmt: skip
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!="}  # fmt: skip


@dataclass(eq=False)
class Node:
    """One expression: ``kind`` is arg, local, const, bin, cmp, neg, pos, not, and, or, if
    or call; ``op`` the operator, function or variable name; ``id`` its index in the tree."""

    kind: str
    op: str = ""
    items: tuple[Node, ...] = ()
    value: Any = None
    id: int = -1


@dataclass(frozen=True)
class Translation:
    """A checked function: its statements as (local name or None for the return, Node)."""

    name: str
    args: tuple[str, ...]
    statements: tuple[tuple[str | None, Node], ...]
    nodes: tuple[Node, ...]


class _Reader:
    """Checks a function body and turns it into :class:`Node` trees."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.fn = target.fn
        self.args = target.args
        self.locals: set[str] = set()
        self.nodes: list[Node] = []

    def node(self, kind: str, op: str = "", items: tuple[Node, ...] = (), value: Any = None,
             source: ast.AST | None = None) -> Node:  # fmt: skip
        new = Node(kind, op, items, value, len(self.nodes))
        self.nodes.append(new)
        if kind != "const" and items and all(i.kind == "const" for i in items):
            return self.fold(new, source)
        return new

    def fold(self, node: Node, source: ast.AST | None) -> Node:
        """A node of numbers only, computed now as the array form computes it."""
        text = _array_text(node, probe=False)
        try:
            value = eval(text, {**array_scope(), "_dtype": None})
        except (ArithmeticError, ValueError) as exc:
            raise UnsupportedFunction(
                f"{ast.unparse(source) if source else text} fails on numbers: {exc}"
            ) from exc
        return self.const(value, source)

    def const(self, value: Any, source: ast.AST | None) -> Node:
        if not is_number(value):
            raise self.fail(source, f"the value {value!r} (only numbers can be captured)")
        if not isinstance(value, bool | int | float):  # a NumPy scalar: its Python number
            value = (
                int(value)
                if float(value).is_integer() and "int" in type(value).__name__
                else (bool(value) if "bool" in type(value).__name__ else float(value))
            )
        new = Node("const", value=value, id=len(self.nodes))
        self.nodes.append(new)
        return new

    def fail(self, node: ast.AST | None, what: str) -> UnsupportedFunction:
        line = getattr(node, "lineno", None)
        where = f" (line {line} of the function)" if line else ""
        return UnsupportedFunction(f"elementwise functions cannot use {what}{where}")

    def lookup(self, name: str, node: ast.AST) -> Any:
        if name in self.target.bound:
            return self.target.bound[name]
        fn = self.fn
        assert fn is not None
        code = fn.__code__
        if fn.__closure__ and name in code.co_freevars:
            try:
                return fn.__closure__[code.co_freevars.index(name)].cell_contents
            except ValueError:  # an empty cell: assigned after the function was made
                raise self.fail(node, f"the name {name!r}, not yet assigned") from None
        if name in fn.__globals__:
            return fn.__globals__[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise self.fail(node, f"the undefined name {name!r}")

    def uses_inputs(self, node: ast.AST) -> bool:
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        return bool(names & (set(self.args) | self.locals))

    def resolve(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node)
        if isinstance(node, ast.Attribute):
            if self.uses_inputs(node.value):
                raise self.fail(node, f"attribute access {ast.unparse(node)!r} on an argument")
            base = self.resolve(node.value)
            if not hasattr(base, node.attr):
                raise self.fail(node, f"{ast.unparse(node)!r}: no such attribute")
            return getattr(base, node.attr)
        raise self.fail(node, f"the expression {ast.unparse(node)!r} as a function")

    def expr(self, node: ast.AST) -> Node:
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, _describe(node))
        found: Node = method(node)
        return found

    def expr_Constant(self, node: ast.Constant) -> Node:
        return self.const(node.value, node)

    def expr_Name(self, node: ast.Name) -> Node:
        if node.id in self.locals:
            return self.node("local", node.id)
        if node.id in self.args:
            return self.node("arg", node.id)
        return self.const(self.lookup(node.id, node), node)

    def expr_Attribute(self, node: ast.Attribute) -> Node:
        return self.const(self.resolve(node), node)

    def expr_BinOp(self, node: ast.BinOp) -> Node:
        op = _BINOPS.get(type(node.op))
        if op is None:
            symbol = _BITWISE.get(type(node.op), type(node.op).__name__)
            raise self.fail(node, f"the operator {symbol!r} (bitwise and matrix operators)")
        return self.node("bin", op, (self.expr(node.left), self.expr(node.right)), source=node)

    def expr_UnaryOp(self, node: ast.UnaryOp) -> Node:
        kind = {ast.USub: "neg", ast.UAdd: "pos", ast.Not: "not"}.get(type(node.op))
        if kind is None:
            raise self.fail(node, "the operator '~' (bitwise operators)")
        return self.node(kind, items=(self.expr(node.operand),), source=node)

    def expr_Compare(self, node: ast.Compare) -> Node:
        for op in node.ops:
            if type(op) not in _CMPOPS:
                raise self.fail(node, f"the comparison {type(op).__name__} ('is', 'in')")
        operands = [self.expr(node.left)] + [self.expr(c) for c in node.comparators]
        pairs = []
        for i, op in enumerate(node.ops):
            pairs.append(self.node("cmp", _CMPOPS[type(op)], (operands[i], operands[i + 1]),
                                   source=node))  # fmt: skip
        out = pairs[0]
        for p in pairs[1:]:  # a < b < c is (a < b) and (b < c)
            out = self.node("call", "logical_and", (out, p), source=node)
        return out

    def expr_BoolOp(self, node: ast.BoolOp) -> Node:
        kind = "and" if isinstance(node.op, ast.And) else "or"
        values = [self.expr(v) for v in node.values]
        out = values[0]
        for v in values[1:]:  # a or b or c is (a or b) or c, value for value
            out = self.node(kind, items=(out, v), source=node)
        return out

    def expr_IfExp(self, node: ast.IfExp) -> Node:
        items = (self.expr(node.test), self.expr(node.body), self.expr(node.orelse))
        return self.node("if", items=items, source=node)

    def expr_Call(self, node: ast.Call) -> Node:
        if node.keywords:
            raise self.fail(node, f"keyword arguments in calls ({ast.unparse(node)!r})")
        value = self.resolve(node.func)
        name = fmath_name(value)
        if name is None:
            raise self.fail(node, f"the function {ast.unparse(node.func)!r}")
        arity = ARITY.get(name, 1)
        if len(node.args) != arity:
            raise UnsupportedFunction(f"{name} takes {arity} argument(s), got {len(node.args)}")
        return self.node("call", name, tuple(self.expr(a) for a in node.args), source=node)

    def body(self, statements: list[ast.stmt]) -> list[tuple[str | None, Node]]:
        out: list[tuple[str | None, Node]] = []
        for i, stmt in enumerate(statements):
            if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                value = self.expr(stmt.value)
                self.locals.add(stmt.targets[0].id)
                out.append((stmt.targets[0].id, value))
            elif isinstance(stmt, ast.Return) and stmt.value is not None:
                if i != len(statements) - 1:
                    raise self.fail(stmt, "statements after return")
                out.append((None, self.expr(stmt.value)))
            else:
                raise self.fail(stmt, _describe(stmt))
        if not out or out[-1][0] is not None:
            raise UnsupportedFunction("an elementwise function must end with a return")
        return out


def _describe(node: ast.AST) -> str:
    names = {"If": "if statements (use 'a if cond else b')", "For": "for loops",
             "While": "while loops", "Subscript": "indexing", "ListComp": "comprehensions",
             "AugAssign": "augmented assignment", "Lambda": "nested lambdas",
             "Tuple": "tuples", "List": "lists", "Dict": "dicts", "Starred": "*args",
             "Yield": "yield", "YieldFrom": "yield", "Await": "await",
             "NamedExpr": "the walrus operator", "JoinedStr": "f-strings",
             "Try": "try statements", "With": "with statements", "Raise": "raise",
             "Global": "global statements", "Nonlocal": "nonlocal statements",
             "Import": "import", "ImportFrom": "import", "Delete": "del",
             "Assert": "assert", "Pass": "pass", "FunctionDef": "nested functions",
             "AnnAssign": "annotated assignment"}  # fmt: skip
    kind = type(node).__name__
    if isinstance(node, ast.Expr):
        inner = node.value
        what = names.get(type(inner).__name__, "an expression statement")
        return f"{what} ({ast.unparse(node)!r}: a statement whose value is dropped)"
    if isinstance(node, ast.Assign):
        return f"assignment to {ast.unparse(node.targets[0])!r} (assign one plain name)"
    if kind in names:
        return names[kind]
    return f"{kind} ({ast.unparse(node)!r})" if isinstance(node, ast.expr) else kind


def array_scope() -> dict[str, Any]:
    """The names the array form's source uses."""
    return {"_f": fmath, "_o": _operators, "_s": _scalar, "_INF": math.inf, "_NAN": math.nan}


def _literal(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "_NAN" if value != value else ("_INF" if value > 0 else "(-_INF)")
    return repr(value)


def _array_text(node: Node, probe: bool, plain: frozenset[int] = frozenset()) -> str:
    """The array-form expression of ``node``; with ``probe``, each node reports its value
    through ``_t(id, value)`` (how the kernels learn the type of every step). The binary
    operations in ``plain`` are written as Python operators (where the library's own operator
    is NumPy's, see plan.plain_steps)."""
    parts = [_array_text(i, probe, plain) for i in node.items]
    kind = node.kind
    if kind == "const":
        return _literal(node.value)
    if kind in ("arg", "local"):
        text = node.op
    elif kind == "bin" and node.id in plain:
        text = f"({parts[0]} {node.op} {parts[1]})"
    elif kind == "bin":
        text = f"_o.binop({node.op!r}, {parts[0]}, {parts[1]})"
    elif kind == "cmp":
        text = f"_o.compare({node.op!r}, {parts[0]}, {parts[1]})"
    elif kind in ("neg", "pos"):
        text = f"_o.sign_op({kind!r}, {parts[0]})"
    elif kind == "not":
        text = f"_f.logical_not({parts[0]})"
    elif kind in ("and", "or"):
        text = f"_o.either({kind!r}, {parts[0]}, {parts[1]})"
    elif kind == "if":
        text = f"_f.where({parts[0]}, {parts[1]}, {parts[2]}, _dtype)"
    else:
        extra = ", _dtype" if node.op == "where" else ""
        text = f"_f.{node.op}({', '.join(parts)}{extra})"
    return f"_t({node.id}, {text})" if probe else text


def array_source(tr: Translation, probe: bool = False, plain: frozenset[int] = frozenset()
                 ) -> str:  # fmt: skip
    """The array form: ``def name(args, _dtype=None[, _t])`` on whole arrays."""
    lines = [(f"{name} = " if name else "return ") + _array_text(node, probe, plain)
             for name, node in tr.statements]  # fmt: skip
    extra = ", _dtype=None" + (", _t=None" if probe else "")
    return f"def {tr.name}({', '.join(tr.args)}{extra}):\n" + "".join(
        f"    {line}\n" for line in lines
    )


def _builtin(target: Target) -> Translation:
    nodes = [Node("arg", a, id=i) for i, a in enumerate(target.args)]
    call = Node("call", target.name, tuple(nodes), id=len(nodes))
    return Translation(target.name, target.args, ((None, call),), (*nodes, call))


def translate(target: Target) -> Translation:
    """Check the target's function and read it into a :class:`Translation`; raise
    UnsupportedFunction if it uses anything else than numbers, arithmetic, comparisons,
    conditional expressions, ``and``/``or``/``not`` and fmath functions."""
    if target.builtin is not None:
        return _builtin(target)
    if not target.args:
        raise UnsupportedFunction("an elementwise function needs at least one argument")
    tree = source_tree(target)
    reader = _Reader(target)
    statements: list[tuple[str | None, Node]]
    if isinstance(tree, ast.Lambda):
        statements = [(None, reader.expr(tree.body))]
    else:
        statements = reader.body(tree.body)
    name = target.name if target.name.isidentifier() else "fn"
    return Translation(name, target.args, tuple(statements), tuple(reader.nodes))
