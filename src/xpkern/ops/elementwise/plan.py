"""The plan of an elementwise function for one argument signature: the dtype of every step,
the result dtype, and the kernel's scalar source (or why no kernel can compute it as NumPy).

The steps' dtypes are learned by running the array form once on one-element arrays of the
arguments' dtypes (with the Python numbers as they are), in the arguments' own library: a
kernel then follows that library's promotion rules exactly. Where Python ints are arguments,
NumPy checks their values on every call (``int8_array + 300`` raises OverflowError; an
integer power with a negative exponent, ValueError); :func:`check_values` repeats that check
on one-element NumPy arrays before each kernel call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ... import _checks
from ..._checks import dtype_name
from ...backends import Context, backend_of
from .scalar_form import KernelDeclined, kind_of_value, scalar_source
from .translate import Translation, array_scope, array_source

__all__ = ["Plan", "arg_kinds", "check_values", "make_plan", "plain_steps", "plan_key"]

_INT64 = (-(2**63), 2**63 - 1)


@dataclass
class Plan:
    """What a kernel needs for one signature; ``declined`` says why there is no kernel."""

    kinds: tuple[str, ...]  # of the arguments
    dtype: Any  # of the result, a dtype of the arguments' library
    steps: dict[int, str] = field(default_factory=dict)
    declined: str | None = None
    # Python int arguments meeting integer arrays, or computed on: NumPy checks their values,
    # so each call repeats the generic path's steps on one-element arrays (check_values).
    checked: bool = False
    int_args: tuple[int, ...] = ()  # positions of Python int arguments (kernels take int64)
    plain: Any = None  # the array form with plain operators where they are NumPy's (cached)
    library: str = "numpy"
    # comparison node id -> the dtype the library compares its operands in, where it is
    # not NumPy's (torch compares int64 with a Python float in float32)
    compared: dict[int, str] = field(default_factory=dict)

    def source(self, tr: Translation, decorator: str) -> str:
        return scalar_source(tr, self.steps, decorator, self.compared)


_NUMBERS = (bool, int, float)


def plan_key(ctx: Context, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What two calls must share to share a plan (and a kernel): the library and each
    argument's dtype, or its Python number type. Cheap: it is computed on every call."""
    return (ctx.backend.name, *(type(a) if type(a) in _NUMBERS else a.dtype for a in args))


def arg_kinds(args: tuple[Any, ...]) -> tuple[str, ...]:
    """The kind of each argument: its dtype name, or py:int/py:float/py:bool."""
    return tuple(dtype_name(a.dtype) if backend_of(a) is not None else kind_of_value(a)
                 for a in args)  # fmt: skip


@functools.lru_cache(maxsize=256)
def _probe_fn(tr: Translation) -> Any:
    scope = array_scope()
    exec(compile(array_source(tr, probe=True), f"<elementwise probe {tr.name}>", "exec"), scope)
    return scope[tr.name]


def _run_probe(tr: Translation, xp: Any, args: tuple[Any, ...]) -> tuple[Any, dict[int, Any]]:
    seen: dict[int, Any] = {}

    def record(node_id: int, value: Any) -> Any:
        seen[node_id] = value
        return value

    arrays = [a for a in args if backend_of(a) is not None]
    dtype = xp.result_type(*arrays) if arrays else None
    return _probe_fn(tr)(*args, _dtype=dtype, _t=record), seen


def _kind(value: Any) -> str:
    return dtype_name(value.dtype) if backend_of(value) is not None else kind_of_value(value)


def make_plan(tr: Translation, ctx: Context, args: tuple[Any, ...],
              result_dtype: Callable[[Any, tuple[Any, ...]], Any]) -> Plan:  # fmt: skip
    """The plan for arguments like ``args``; ``result_dtype(value, probes)`` is the dtype of
    the array the generic path makes of the function's value. Errors the generic path raises
    for these values propagate."""
    probes = tuple(ctx.xp.ones((1,), dtype=a.dtype, device=ctx.device)
                   if backend_of(a) is not None else a for a in args)  # fmt: skip
    with _checks.quiet(ctx):
        value, seen = _run_probe(tr, ctx.xp, probes)
        dtype = result_dtype(value, probes)
    kinds = arg_kinds(args)
    steps = {node_id: _kind(v) for node_id, v in seen.items()}
    int_args = tuple(i for i, k in enumerate(kinds) if k == "py:int")
    arg_ids = {n.id for n in tr.nodes if n.kind == "arg"}
    integers = any(k == "bool" or ("int" in k and not k.startswith("py:"))
                   for k in steps.values())  # fmt: skip
    computed = any(k == "py:int" and i not in arg_ids for i, k in steps.items())
    plan = Plan(
        kinds,
        dtype,
        steps,
        checked=bool(int_args) and (integers or computed),
        int_args=int_args,
        library=ctx.backend.name,
        compared=_compared(tr, ctx, seen),
    )
    try:
        plan.source(tr, "")
    except KernelDeclined as exc:
        plan.declined = str(exc)
    return plan


def _compared(tr: Translation, ctx: Context, seen: dict[int, Any]) -> dict[int, str]:
    """The dtype each comparison of a float with an integer (or of two dtypes) is computed
    in, by the library's promotion: NumPy's is what the scalar form assumes."""
    if ctx.backend.name == "numpy":
        return {}
    found = {}
    for node in tr.nodes:
        if node.kind != "cmp":
            continue
        values = [item.value if item.kind == "const" else seen.get(item.id) for item in node.items]
        if not any(backend_of(v) is not None for v in values):
            continue
        try:
            common = ctx.xp.result_type(*values)
        except (TypeError, ValueError):
            continue
        found[node.id] = dtype_name(common)
    return found


def check_values(tr: Translation, plan: Plan, args: tuple[Any, ...]) -> str | None:
    """Raise what NumPy raises for these Python int arguments (out of the dtype's range, a
    negative integer exponent); return why the kernel cannot take them (a Python int step
    beyond int64), or None."""
    for i in plan.int_args:
        if not _INT64[0] <= args[i] <= _INT64[1]:
            return f"the Python int {args[i]} is beyond int64, which kernels take Python ints as"
    if not plan.checked:
        return None
    probes = tuple(np.ones((1,), dtype=k) if not k.startswith("py:") else a
                   for a, k in zip(args, plan.kinds, strict=True))  # fmt: skip
    with np.errstate(all="ignore"):
        _, seen = _run_probe(tr, np, probes)
    for value in seen.values():
        if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            return f"the Python int {value} is beyond int64, which kernels compute Python ints in"
    return None


_FLOATS = ("float16", "float32", "float64")
_PLAIN_OPS = ("+", "-", "*", "/", "**")


def plain_steps(tr: Translation, plan: Plan) -> frozenset[int]:
    """The binary operations of ``tr`` that the library's own operator computes as NumPy
    does for this plan: +, -, *, / and ** giving a float array from float arrays and Python
    numbers (integer arrays, // and % need the rules of ``_operators.binop``)."""

    def floating_or_number(node: Any) -> bool:
        kind = plan.steps.get(node.id, "py:const")
        return node.kind == "const" or kind in _FLOATS or kind.startswith("py:")

    def weak_operand(node: Any) -> bool:
        # Other libraries' pow keeps a Python number's double value, and torch divides by
        # one through its reciprocal: _operators.binop rounds as NumPy does.
        return (
            node.op in ("**", "/")
            and plan.library != "numpy"
            and any(
                item.kind == "const" or plan.steps.get(item.id, "").startswith("py:")
                for item in node.items
            )
        )

    return frozenset(
        node.id for node in tr.nodes
        if node.kind == "bin" and node.op in _PLAIN_OPS
        and plan.steps.get(node.id) in _FLOATS and all(map(floating_or_number, node.items))
        and not weak_operand(node)
    )  # fmt: skip
