"""``@elementwise``: one scalar Python function, a fused kernel on every backend.

This module holds the public function, the :class:`Elementwise` object and the generic
implementation; the engine files of this folder (``cpu.py``, ``cuda.py``, ``dask.py``) add
their implementations to each function's op through :data:`ENGINES`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ... import _checks
from ..._dispatch import Op, auto_dispatch, public
from ..._signature import call_key
from ...backends import Context, backend_of, resolve
from ...engines.cuda.lean import signature as lean_signature
from .plan import Plan, check_values, make_plan, plain_steps, plan_key
from .signature import broadcast_shape, check_array, check_out, kernel_kind
from .target import SourceUnavailable, UnsupportedFunction, target_of
from .translate import Translation, array_scope, array_source, translate
from .warming import Warming

__all__ = ["ENGINES", "Elementwise", "UnsupportedFunction", "elementwise", "generic"]

# Each engine file appends a function that registers its implementation on a new op; they run
# in the order the files are imported (the package's __init__ sets it).
ENGINES: list[Callable[[Op], None]] = []

# Lean calls tried in turn before the full path: enough for the argument types a program mixes.
_FAST_CALLS = 8
# Argument signatures whose dispatch an elementwise function keeps (then starts afresh).
_BOUND_CALLS = 256


class Elementwise:
    """A scalar function applied elementwise to arrays of any library; see :func:`elementwise`."""

    __name__: str

    def __init__(self, fn: Callable[..., Any], *, dtype: Any = None) -> None:
        target = target_of(fn)
        functools.update_wrapper(self, fn)
        if not hasattr(self, "__name__"):  # a partial or a callable object
            self.__name__ = target.name
        self.fn = fn
        self.dtype = dtype
        self.args = target.args
        self.defaults = target.defaults
        self.nargs = len(target.args)
        self.required = target.required
        self.translation: Translation | None = None
        self.no_kernel = ""
        try:
            self.translation = translate(target)
        except SourceUnavailable as exc:
            # The generic path calls the function itself on whole arrays, at every size.
            self.no_kernel = f"{exc}: only the generic path runs"
        self.array_fn = self._array_form()
        self.op = Op(f"elementwise[{target.name}]", generic, supports=_generic_supports)
        self._plans: dict[tuple[Any, ...], Plan] = {}
        self._dtypes: dict[tuple[Any, ...], Any] = {}
        self._kernels: dict[tuple[Any, ...], Any] = {}
        self._fast: dict[tuple[Any, ...], Any] = {}
        self._fast_calls: tuple[Any, ...] = ()  # each checks its own signature
        # argument signature -> the call that auto dispatch made for it, bound to its context
        self._bound: dict[tuple[Any, ...], Callable[[tuple[Any, ...]], Any]] = {}
        self._lock = threading.Lock()
        for register in ENGINES:
            register(self.op)
        public(self.op)(self)

    def _array_form(self, plain: frozenset[int] = frozenset()) -> Callable[..., Any]:
        if self.translation is None:
            return self.fn
        scope = array_scope()
        source = array_source(self.translation, plain=plain)
        exec(compile(source, f"<elementwise {self.__name__}>", "exec"), scope)
        found: Callable[..., Any] = scope[self.translation.name]
        return found

    def plain_form(self, ctx: Context, args: tuple[Any, ...]) -> Callable[..., Any]:
        """The array form for arguments like ``args``, with the steps whose library operator
        is NumPy's written as plain operators (cached per plan)."""
        plan = self.plan(ctx, args)
        if plan.plain is None:
            steps = plain_steps(self.translation, plan) if self.translation else frozenset()
            plan.plain = self._array_form(steps) if steps else self.array_fn
        return plan.plain

    def __repr__(self) -> str:
        return f"<xpkern.elementwise {self.__name__}>"

    def __call__(self, *args: Any, out: Any = None) -> Any:
        key = None
        if out is None and auto_dispatch():
            for fast in self._fast_calls:
                result = fast(args)
                if result is not None:
                    return result
            key = call_key(args, {})
            bound = self._bound.get(key) if key is not None else None
            if bound is not None:
                return bound(args)
        if not self.required <= len(args) <= self.nargs:
            wanted = str(self.nargs) if self.required == self.nargs else \
                f"from {self.required} to {self.nargs}"  # fmt: skip
            raise TypeError(
                f"{self.__name__}() takes {wanted} positional argument(s) but {len(args)} "
                "were given"
            )
        has_array = any(backend_of(a) is not None for a in args)
        args = self._complete(args)
        for i, a in enumerate(args):
            check_array(self.__name__, f"argument {i}", a)
        if out is not None:
            check_array(self.__name__, "out", out, output=True)
        ctx = resolve(*args, out)
        args = tuple(a if isinstance(a, bool | int | float) else ctx.asarray(a) for a in args)
        if all(backend_of(a) is None for a in args):
            args = (ctx.asarray(args[0]), *args[1:])
        for i, a in enumerate(args):
            if backend_of(a) is not None and not kernel_kind(ctx.xp, a.dtype):
                raise TypeError(f"{self.__name__}: argument {i} has unsupported dtype {a.dtype}")
        if ctx.backend.name == "dask":
            if out is not None:
                raise TypeError(f"{self.__name__}: out= is not supported for Dask arrays")
            return self.op(ctx, self, args, None, None)
        shape = broadcast_shape([tuple(a.shape) for a in args if backend_of(a) is not None])
        if out is not None:
            if ctx.backend.name == "jax":
                raise TypeError(f"{self.__name__}: out= needs a mutable array; JAX arrays are not")
            check_out(self.__name__, out, shape, self.result_dtype(ctx, args))
        elif key is not None and has_array:
            self._bind(ctx, key, args, shape)
        return self.op(ctx, self, args, shape, out)

    def _complete(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return (*args, *self.defaults[len(args) - self.required :])

    def _bind(self, ctx: Context, key: tuple[Any, ...], args: tuple[Any, ...],
              shape: tuple[int, ...]) -> None:  # fmt: skip
        """Keep, under ``key`` (the call key of the arguments as given), the implementation
        auto dispatch takes for them (all checks passed, their types, dtypes, shapes and
        devices fixed by the key), so that the next such call goes straight to it."""
        impl = self.op.choose(ctx, (self, args, shape, None), {})
        if len(self._bound) >= _BOUND_CALLS:
            self._bound.clear()
        bind = getattr(impl.fn, "bind", None)
        call = bind(ctx, self, args, shape) if bind is not None else None
        if call is not None:
            self._bound[key] = call
        elif impl.name == "generic" and self.translation is not None:
            arrays = [a for a in args if backend_of(a) is not None]
            dtype = ctx.xp.result_type(*arrays) if arrays else None
            form = self.plain_form(ctx, args)
            lean = functools.partial(_lean_generic, ctx, self, form, shape, dtype)
            later = self._kernel_for_later(ctx, args, shape)
            self._bound[key] = lean if later is None else Warming(self._bound, key, lean, later)
        else:
            self._bound[key] = functools.partial(_call_impl, impl.fn, ctx, self, shape)

    def _kernel_for_later(self, ctx: Context, args: tuple[Any, ...], shape: tuple[int, ...]
                          ) -> Callable[[Any], Any] | None:  # fmt: skip
        """The kept call (not compiled yet) of the first kernel that can take these arguments
        but lost to the generic path on their size, or None: a kept kernel call skips the
        costs that size rule weighs (see :class:`.warming.Warming`)."""
        for impl in self.op.impls:
            bind = getattr(impl.fn, "bind", None)
            if bind is not None and impl.supports(ctx, self, args, shape, None) is None:
                found: Callable[[Any], Any] | None = bind(ctx, self, args, shape)
                return found
        return None

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers of a cluster rebuild it from the function; kernels compile there.
        return (Elementwise, (self.fn,), {"dtype": self.dtype})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.dtype = state["dtype"]

    # -- what kernels need ---------------------------------------------------------------
    def result_dtype(self, ctx: Context, args: tuple[Any, ...]) -> Any:
        """The dtype the generic path gives for these argument types (cached)."""
        if self.dtype is not None:
            return as_dtype(ctx, self.dtype)
        if self.translation is not None:
            return self.plan(ctx, args).dtype
        key = (ctx.backend.name, *(getattr(a, "dtype", type(a)) for a in args))
        if key not in self._dtypes:
            probes = [ctx.xp.ones((1,), dtype=a.dtype, device=ctx.device)
                      if backend_of(a) is not None else a for a in args]  # fmt: skip
            with _checks.quiet(ctx):
                res = _as_result_array(ctx, self.call_array_form(ctx, tuple(probes)), probes)
            self._dtypes[key] = res.dtype
        return self._dtypes[key]

    def plan(self, ctx: Context, args: tuple[Any, ...]) -> Plan:
        """The typed plan for arguments like ``args`` (cached per library and kinds)."""
        assert self.translation is not None
        key = plan_key(ctx, args)
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = make_plan(
                self.translation, ctx, args, lambda res, probes: _as_result_array(
                    ctx, res, probes).dtype)  # fmt: skip
        return found

    def kernel_declined(self, ctx: Context, args: tuple[Any, ...], values: bool = True
                        ) -> str | None:  # fmt: skip
        """Why no kernel computes arguments like these as NumPy does, or None. With
        ``values``, also checks the values of Python int arguments and raises what the
        generic path would raise for them (see plan.check_values)."""
        if self.translation is None:
            return self.no_kernel
        plan = self.plan(ctx, args)
        if plan.declined or not values:
            return plan.declined
        return check_values(self.translation, plan, args)

    def kernel_plan(self, ctx: Context, args: tuple[Any, ...]) -> tuple[Plan | None, Any]:
        """(the plan, the result dtype) for a kernel call on these values, or (None, None)
        where their Python ints must go to the generic path; raises what that path would."""
        assert self.translation is not None
        plan = self.plan(ctx, args)
        if plan.int_args and check_values(self.translation, plan, args):
            return None, None
        return plan, plan.dtype if self.dtype is None else as_dtype(ctx, self.dtype)

    def call_array_form(self, ctx: Context, args: tuple[Any, ...]) -> Any:
        if self.translation is None:
            return self.array_fn(*args)
        arrays = [a for a in args if backend_of(a) is not None]
        return self.array_fn(*args, _dtype=ctx.xp.result_type(*arrays) if arrays else None)

    def scalar_def(self, ctx: Context, args: tuple[Any, ...], decorator: str) -> tuple[str, str]:
        """(source defining the typed scalar function for a kernel module, its name)."""
        assert self.translation is not None
        return self.plan(ctx, args).source(self.translation, decorator), self.translation.name

    def remember_fast(self, args: tuple[Any, ...], make: Callable[[], Any]) -> None:
        """Keep the lean launch path for later calls with arguments like ``args``; ``make``
        builds it, the first time only."""
        key = lean_signature(args)
        if self.nargs != len(args) or key in self._fast:
            return
        with self._lock:
            if key in self._fast:  # another thread built it meanwhile
                return
            fast = self._fast[key] = make()
            if fast.call is not None:
                self._fast_calls = (*self._fast_calls, fast)[-_FAST_CALLS:]

    def fast_call(self, args: tuple[Any, ...]) -> Any:
        """The lean call kept for arguments like ``args``, or None."""
        return self._fast.get(lean_signature(args))

    def kernel(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """The compiled kernel for ``key``, built once even when threads ask together."""
        found = self._kernels.get(key)
        if found is None:
            with self._lock:
                found = self._kernels.get(key)
                if found is None:
                    found = self._kernels[key] = build()
        return found


def as_dtype(ctx: Context, dtype: Any) -> Any:
    """``dtype`` (a dtype or its name) as a dtype of ``ctx``'s namespace."""
    if not isinstance(dtype, str):
        return dtype
    found = getattr(ctx.xp, dtype, None)
    # A dtype is a class (NumPy) or a dtype object (torch); a namespace's functions are neither.
    if found is None or (callable(found) and not isinstance(found, type)):
        raise TypeError(f"elementwise: unknown dtype {dtype!r}")
    return found


def _as_result_array(ctx: Context, res: Any, args: Any) -> Any:
    # A number (a constant function) takes the dtype the inputs would give it: x * 0 + c.
    if backend_of(res) is not None:
        return res
    arrays = [a for a in args if backend_of(a) is not None]
    return ctx.xp.asarray(res, dtype=ctx.xp.result_type(*arrays, res), device=ctx.device)


def _finish(
    ctx: Context, ew: Elementwise, res: Any, shape: tuple[int, ...], out: Any, args: Any
) -> Any:
    xp = ctx.xp
    res = _as_result_array(ctx, res, args)
    if ew.dtype is not None:
        res = xp.astype(res, as_dtype(ctx, ew.dtype))
    if tuple(res.shape) != shape:
        res = xp.broadcast_to(res, shape)
        res = xp.asarray(res, copy=True)
    if out is None:
        return res
    out[...] = res
    return out


def generic(ctx: Context, ew: Elementwise, args: tuple[Any, ...], shape: Any, out: Any) -> Any:
    """The function on whole arrays of the inputs' namespace: valid everywhere."""
    with _checks.quiet(ctx):
        res = ew.call_array_form(ctx, args)
    return _finish(ctx, ew, res, shape, out, args)


def _lean_generic(ctx: Context, ew: Elementwise, form: Callable[..., Any], shape: Any,
                  dtype: Any, args: tuple[Any, ...]) -> Any:  # fmt: skip
    # generic() for a known signature: the result type of the arrays is fixed by it.
    if len(args) < ew.nargs:
        args = ew._complete(args)
    with _checks.quiet(ctx):
        res = form(*args, _dtype=dtype)
    if ew.dtype is None and getattr(res, "shape", None) == shape and backend_of(res):
        return res  # already what _finish would make of it
    return _finish(ctx, ew, res, shape, None, args)


def _call_impl(fn: Callable[..., Any], ctx: Context, ew: Elementwise, shape: Any,
               args: tuple[Any, ...]) -> Any:  # fmt: skip
    return fn(ctx, ew, ew._complete(args), shape, None)


def _generic_supports(ctx: Context, ew: Elementwise, *rest: Any) -> str | None:
    # On Dask the chunk-wise path always applies; the whole-array form would skip the kernels.
    return "Dask arrays go chunk by chunk" if ctx.backend.name == "dask" else None


def elementwise(fn: Callable[..., Any] | None = None, *, dtype: Any = None) -> Any:
    """Turn a scalar Python function into an elementwise operation on arrays of any library.

    ``fn`` is written for numbers: arithmetic and comparison operators, numeric literals and
    captured numeric constants, conditional expressions (``a if cond else b``), ``and``/
    ``or``/``not``, local assignments, and the functions of :mod:`xpkern.fmath` (or their
    ``math``/``numpy`` namesakes, ``abs``, ``min``, ``max``). The result accepts arrays of any
    supported library and Python scalars, broadcasts them, promotes dtypes as the Array API
    does, and returns an array of the inputs' library on their device.

    It runs as one fused kernel where that wins: a compiled Numba loop for NumPy arrays and
    CPU tensors, a CUDA kernel on the caller's stream for CuPy arrays and CUDA tensors.
    Everywhere else (array-api-strict, JAX, inputs that require grad, small inputs) the same
    function runs on whole arrays through the inputs' namespace; a call on small NumPy arrays
    or CPU tensors repeated 1024 times with the same argument signature then takes the
    compiled loop. :func:`xpkern.explain` says which.

    Parameters
    ----------
    fn : callable
        The scalar function. Its source must be available (defined in a file or notebook) for
        the fused kernels; otherwise only the generic path runs.
    dtype : dtype or str, optional
        The result dtype; by default the one the generic path gives.

    Returns
    -------
    Elementwise
        A callable ``f(*arrays, out=None)``.

    Raises
    ------
    UnsupportedFunction
        (a TypeError) at decoration, naming the construct the function uses that no kernel
        can express.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> poly = xpkern.elementwise(lambda x: x**2 + 2*x + 1)
    >>> poly(np.array([0.0, 1.0, 2.0]))
    array([1., 4., 9.])
    >>> @xpkern.elementwise
    ... def relu(x):
    ...     return x if x > 0 else 0.0
    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    if fn is None:
        return lambda f: Elementwise(f, dtype=dtype)
    return Elementwise(fn, dtype=dtype)
