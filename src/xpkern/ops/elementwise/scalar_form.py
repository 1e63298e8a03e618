"""The typed scalar form of an elementwise function: what the fused kernels compile.

Numba computes ``int8 + int8`` in int64 and ``float32 * 0.3`` in float64; NumPy computes them
in int8 (wrapping) and float32. So the scalar form states every step's type: each operand is
cast to the dtype NumPy computes that step in, and each result back to the step's dtype. The
dtypes come from running the array form once on one-element arrays (``plan.py``), so a kernel
takes the steps the generic path takes, with the inputs' library's own promotion rules.

Kinds are dtype names (``"int8"``, ``"float32"``) for arrays and ``"py:int"``, ``"py:float"``,
``"py:bool"`` for Python numbers, which are weak (NEP 50): they take the dtype of the array
they meet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .translate import Node, Translation

__all__ = ["KernelDeclined", "kind_of_value", "scalar_source"]

_INT64 = (-(2**63), 2**63 - 1)


class KernelDeclined(Exception):
    """A kernel cannot compute this function for these types as NumPy does."""


def kind_of_value(value: Any) -> str:
    """The kind of a Python number."""
    if isinstance(value, bool):
        return "py:bool"
    return "py:int" if isinstance(value, int) else "py:float"


def _weak(kind: str) -> bool:
    return kind.startswith("py:")


def _is_int(kind: str) -> bool:
    return kind == "py:int" or ("int" in kind and not _weak(kind))


def _is_float(kind: str) -> bool:
    return "float" in kind


def _literal(value: Any, kind: str) -> str:
    if isinstance(value, float) and value != value:
        text = "_NAN"
    elif isinstance(value, float) and value in (float("inf"), float("-inf")):
        text = "_INF" if value > 0 else "(-_INF)"
    elif _is_float(kind) and not isinstance(value, float):
        text = repr(float(value))  # an int literal beyond int64 meeting floats
    else:
        text = repr(value)
    if kind == "bool":
        return repr(bool(value))
    return text if _weak(kind) else f"_np.{kind}({text})"


def _modular(a: str, op: str, b: str) -> str:
    # Integer + - * in uint64: Numba marks signed arithmetic as never overflowing (LLVM's nsw),
    # which lets LLVM fold (x + 100) > 0 into x > -100; unsigned arithmetic wraps, and the cast
    # to the dtype keeps the low bits, which are what NumPy's wrapped result has.
    if a == "_np.uint64(0)":
        return f"({a} {op} _np.uint64({b}))"
    return f"(_np.uint64({a}) {op} _np.uint64({b}))"


def _wrap(text: str, kind: str) -> str:
    """``text`` (whatever type Numba gives it) as a value of ``kind``."""
    if kind in ("bool", "py:bool"):
        return f"bool({text})"
    if kind == "py:int":
        return f"_np.int64({text})"
    if kind == "py:float":
        return f"_np.float64({text})"
    return f"_np.{kind}({text})"


class _Writer:
    def __init__(self, tr: Translation, kinds: dict[int, str], compared: dict[int, str]) -> None:
        self.kinds = kinds
        self.compared = compared
        self.tr = tr

    def kind(self, node: Node) -> str:
        if node.kind == "const":
            return kind_of_value(node.value)
        return self.kinds[node.id]

    def cast(self, node: Node, kind: str) -> str:
        if node.kind == "const":
            return _literal(node.value, kind)
        text = self.emit(node)
        return text if self.kind(node) == kind else _wrap(text, kind)

    def emit(self, node: Node) -> str:
        if node.kind == "const":
            return _literal(node.value, self.kind(node))
        if node.kind in ("arg", "local"):
            return node.op
        method = getattr(self, "emit_" + node.kind)
        text: str = method(node, self.kind(node))
        return text

    def emit_bin(self, node: Node, kind: str) -> str:
        left, right = node.items
        op = node.op
        if _weak(kind):
            return self.weak_bin(node, kind)
        a, b = self.cast(left, kind), self.cast(right, kind)
        if op in "+-*":
            return _wrap(_modular(a, op, b) if _is_int(kind) else f"({a} {op} {b})", kind)
        if op == "/":
            return _wrap(f"_s_div({a}, {b})", kind)
        if op in ("//", "%"):
            if kind == "bool":  # NumPy divides bools as int8; torch's probe keeps them bool
                a, b = f"_np.int64({a})", f"_np.int64({b})"
            if _is_int(kind) or kind == "bool":
                return _wrap(f"_s_i{'floordiv' if op == '//' else 'mod'}({a}, {b})", kind)
            if op == "//":  # each step rounds in the dtype, as NumPy's
                return _wrap(f"_s_floordiv({a}, {b}, {_literal(1.0, kind)})", kind)
            return _wrap(f"_s_mod({a}, {b})", kind)
        return self.power(left, right, kind, a, b)

    def weak_bin(self, node: Node, kind: str) -> str:
        left, right = node.items
        if kind == "py:int" and node.op == "**":
            raise KernelDeclined("int ** int of Python numbers has a value-dependent type")
        a, b = self.cast(left, kind), self.cast(right, kind)
        if node.op in "+-*":
            return _wrap(f"({a} {node.op} {b})", kind)
        helper = {"/": "div", "//": "floordiv", "%": "mod", "**": "power"}[node.op]
        if kind == "py:int":
            return _wrap(f"_s_i{helper}({a}, {b})", kind)
        if helper == "floordiv":
            return _wrap(f"_s_floordiv({a}, {b}, 1.0)", kind)
        return _wrap(f"_s_{helper}({a}, {b})", kind)

    def power(self, base: Node, exponent: Node, kind: str, a: str, b: str) -> str:
        ekind = self.kind(exponent)
        if self.kind(base) == "bool" and _weak(ekind) and exponent.kind != "const":
            raise KernelDeclined(
                "bool array ** Python number: NumPy's result dtype depends on "
                "the exponent's value (** 2 gives int8, ** 3 int64)"
            )
        if _is_int(kind):
            if not _weak(ekind):
                raise KernelDeclined(
                    "an integer power with an array exponent: NumPy raises on a negative "
                    "exponent, which a kernel cannot"
                )
            if exponent.kind == "const" and 1 <= exponent.value <= 4:
                return _wrap("(" + " * ".join([f"_np.uint64({a})"] * exponent.value) + ")", kind)
            return _wrap(f"_s_ipower(_np.uint64({a}), {self.emit(exponent)}, _np.uint64(1))",
                         kind)  # fmt: skip
        if _weak(ekind) and not _weak(self.kind(base)):
            # NumPy's array ** number takes other ufuncs for these exponents (sqrt keeps -0.0).
            if exponent.kind == "const":
                fast = {
                    2: f"({a} * {a})",
                    1: f"(+{a})",
                    0: _literal(1, kind),
                    0.5: f"_s_sqrt({a})",
                    -1: f"_s_div({_literal(1, kind)}, {a})",
                }
                if exponent.value in fast and not isinstance(exponent.value, bool):
                    return _wrap(fast[exponent.value], kind)
            else:
                return _wrap(f"_s_power_weak({a}, {b})", kind)
        return _wrap(f"_s_power({a}, {b})", kind)

    def emit_cmp(self, node: Node, kind: str) -> str:
        left, right = node.items
        kl, kr = self.kind(left), self.kind(right)
        op = node.op
        if _weak(kl) and _weak(kr):
            return f"({self.emit(left)} {op} {self.emit(right)})"
        weak_int = [n for n, k in ((left, kl), (right, kr)) if k in ("py:int", "py:bool")]
        strong = kr if _weak(kl) else kl
        if weak_int and not _is_float(strong):
            return self.int_compare(node, weak_int[0])
        if (
            not _weak(kl)
            and not _weak(kr)
            and {kl, kr} & {"uint64"}
            and ({kl, kr} & {"int8", "int16", "int32", "int64"})
        ):
            return self.mixed_compare(left, right, op)
        common = self.compared.get(node.id) or str(np.result_type(*map(_as_dtype, (kl, kr))))
        return f"({self.cast(left, common)} {op} {self.cast(right, common)})"

    def int_compare(self, node: Node, weak: Node) -> str:
        """An integer or bool array against a Python int: compared exactly, as NumPy 2."""
        left, right = node.items
        other = right if weak is left else left
        okind = self.kind(other)
        op = node.op if weak is right else _MIRROR[node.op]  # as "array op number"
        if weak.kind == "const":
            lo, hi = (0, 1) if okind.endswith("bool") else _limits(okind)
            if weak.value > hi or weak.value < lo:  # beyond every value of the dtype
                above = weak.value > hi
                return repr({"<": above, "<=": above, ">": not above, ">=": not above,
                             "==": False, "!=": True}[op])  # fmt: skip
            if not okind.endswith("bool"):
                return f"({self.cast(left, okind)} {node.op} {self.cast(right, okind)})"
        if okind == "uint64":
            return self.mixed_compare(left, right, node.op)
        return f"({self.cast(left, 'int64')} {node.op} {self.cast(right, 'int64')})"

    def mixed_compare(self, left: Node, right: Node, op: str) -> str:
        """int64 (or a Python int) against uint64, exactly (NumPy does not go through
        float64 there)."""
        if self.kind(left) == "uint64":
            order = f"(-_s_compare_iu({self.cast(right, 'int64')}, {self.emit(left)}))"
        else:
            order = f"_s_compare_iu({self.cast(left, 'int64')}, {self.emit(right)})"
        return f"({order} {op} 0)"

    def emit_neg(self, node: Node, kind: str) -> str:
        a = self.cast(node.items[0], kind)
        return _wrap(_modular("_np.uint64(0)", "-", a) if _is_int(kind) and not _weak(kind)
                     else f"(-{a})", kind)  # fmt: skip

    def emit_pos(self, node: Node, kind: str) -> str:
        return _wrap(f"(+{self.cast(node.items[0], kind)})", kind)

    def emit_not(self, node: Node, kind: str) -> str:
        return f"(not {self.emit(node.items[0])})"

    def emit_and(self, node: Node, kind: str) -> str:
        a, b = node.items  # Python's value: a if a is false, else b
        return f"_s_where({self.emit(a)}, {self.cast(b, kind)}, {self.cast(a, kind)})"

    def emit_or(self, node: Node, kind: str) -> str:
        a, b = node.items  # a if a is true, else b
        return f"_s_where({self.emit(a)}, {self.cast(a, kind)}, {self.cast(b, kind)})"

    def emit_if(self, node: Node, kind: str) -> str:
        test, body, orelse = node.items
        return f"_s_where({self.emit(test)}, {self.cast(body, kind)}, {self.cast(orelse, kind)})"

    def emit_call(self, node: Node, kind: str) -> str:
        name, items = node.op, node.items
        if name == "where":
            return self.emit_if(node, kind)
        if name.startswith("logical_"):
            truths = [f"bool({self.emit(i)})" for i in items]
            if name == "logical_not":
                return f"(not {truths[0]})"
            return f"({f' {name[8:]} '.join(truths)})"
        if name in ("isnan", "isinf", "isfinite") and not _is_float(self.kind(items[0])):
            return repr(name == "isfinite")  # integers are finite numbers
        if name in ("floor", "ceil", "trunc") and not _is_float(kind):
            return self.cast(items[0], kind)  # NumPy keeps integers as they are
        if name in ("abs", "square") and _is_int(kind) and not _weak(kind):
            a = self.cast(items[0], kind)
            return _wrap(_modular(a, "*", a) if name == "square" else f"_s_iabs({a})", kind)
        helper = "fabs" if name == "abs" else name
        args = ", ".join(self.cast(i, kind if not kind.endswith("bool") else self.kind(i))
                         for i in items)  # fmt: skip
        return _wrap(f"_s_{helper}({args})", kind)


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _limits(kind: str) -> tuple[int, int]:
    if kind.startswith("py:"):
        return _INT64
    info = np.iinfo(kind)
    return int(info.min), int(info.max)


def _as_dtype(kind: str) -> Any:
    weak = {"py:int": 0, "py:float": 0.0, "py:bool": False}
    return weak[kind] if kind in weak else np.dtype(kind)


def scalar_source(tr: Translation, kinds: dict[int, str], decorator: str,
                  compared: dict[int, str] | None = None) -> str:  # fmt: skip
    """The scalar function ``tr.name(args)`` for argument and step kinds ``kinds`` (node id ->
    kind), decorated; a KernelDeclined where NumPy's answer cannot be computed in a kernel.
    ``compared`` gives the dtype of a comparison's operands where the library's promotion
    is not NumPy's."""
    writer = _Writer(tr, kinds, compared or {})
    lines = []
    for name, node in tr.statements:
        lines.append((f"{name} = " if name else "return ") + writer.emit(node))
    return f"{decorator}\ndef {tr.name}({', '.join(tr.args)}):\n" + "".join(
        f"    {line}\n" for line in lines
    )
