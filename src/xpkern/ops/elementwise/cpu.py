"""``@elementwise`` on the CPU: the function compiled by Numba as one loop over the elements.

benchmarks/elementwise.py on 2 cores, x**2 + 2*x + 1, 10^7 float64 into a fresh output: one
serial Numba loop takes about 10 ms against 30 ms for NumPy's composed ops (three temporaries),
half of it the kernel zeroing the output's new pages. Below about 2*10^4 elements the full
path's cost (checks, plan, views: tens of microseconds) outweighs the gain and the generic
path runs. Calls repeated with the same argument signature keep a prepared kernel call
(:func:`_bind`; NumPy arrays go in as they are: 1.3 us for 10 float64 against the kept
generic call's 4.1 and NumPy's own expression's 1.4), which takes over at every size once
the signature is hot (``warming.HOT_CALLS``; figures in benchmarks/results/,
``python -m benchmarks --only overhead auto``).
"""

from __future__ import annotations

import math
from typing import Any

from ..._checks import dtype_name, not_on_host
from ..._dispatch import Op, declare
from ...backends import Context
from ...engines import numba_cpu
from ...engines.source import load_module
from .core import ENGINES, Elementwise, generic
from .plan import plan_key
from .signature import KERNEL_DTYPES, array_slots, no_kernel_for
from .warming import HOT_CALLS

__all__ = ["CPU_MIN_SIZE", "PARALLEL_MIN_SIZE", "kernel_source"]

CPU_MIN_SIZE = 20_000
# A parallel (prange) loop over all cores, from 2^16 elements: on the same 2 cores, fresh output,
# serial / parallel = 0.50 (10^4 float64), 0.88 (3*10^4), 1.55 (10^5), 2.13 (10^6), 1.73
# (10^7: 5.6 ms against 9.7, NumPy 27.9); float32 1.47 at 10^5. Not inside a Dask task (Dask
# already runs one chunk per core) nor in a forked child (GNU OpenMP does not survive fork).
PARALLEL_MIN_SIZE = 2**16


def _supports(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> str | None:
    if ew.no_kernel:
        return ew.no_kernel
    blocked = not_on_host(ctx)
    if blocked:
        return blocked
    if out is not None and getattr(out, "requires_grad", False):
        return "out requires grad"
    blocked = no_kernel_for(args) or ew.kernel_declined(ctx, args, values=False)
    if blocked is None and dtype_name(ew.result_dtype(ctx, args)) not in KERNEL_DTYPES:
        blocked = "no kernel for the result dtype"
    return blocked or numba_cpu.missing()


def _wins(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> str | None:
    size = math.prod(shape)
    if size < CPU_MIN_SIZE:
        return (f"{size} elements: below {CPU_MIN_SIZE}, NumPy's composed ops are as fast "
                f"(until arrays like these have been seen {HOT_CALLS} times: then a prepared "
                "kernel call, faster at every size)")  # fmt: skip
    return None


def _run(ctx: Context, ew: Elementwise, args: tuple[Any, ...], shape: Any, out: Any) -> Any:
    import numpy as np

    plan, dtype = ew.kernel_plan(ctx, args)  # checks the values of Python ints, each call
    if plan is None:
        return generic(ctx, ew, args, shape, out)
    host_args = [ctx.host_view(a) for a in args]
    slots, flat = _layout(host_args, shape)
    # Python ints go in as int64 (what their kind computes in), whatever their size.
    host_args = [np.int64(a) if type(a) is int else a for a in host_args]
    target = np.empty(shape, dtype=dtype_name(dtype))
    result = ctx.from_host(target)
    view_out = target.reshape(-1) if flat else target
    parallel = numba_cpu.parallel(math.prod(shape), PARALLEL_MIN_SIZE)
    kernel = _kernel(ew, ctx, args, view_out.ndim, parallel)
    numba_cpu.run(kernel, [view_out, *_views(host_args, slots, flat, shape)], parallel)
    if out is None:
        return result
    out[...] = result
    return out


def _layout(host_args: list[Any], shape: Any) -> tuple[tuple[int, ...], bool]:
    """(the positions of the array arguments, whether they run as one flat loop): same-shape
    contiguous inputs do; others run as broadcast views."""
    import numpy as np

    slots = array_slots(host_args)
    flat = not shape or all(
        np.shape(host_args[i]) == shape and host_args[i].flags.c_contiguous for i in slots
    )
    return slots, flat


def _views(host_args: list[Any], slots: tuple[int, ...], flat: bool, shape: Any) -> list[Any]:
    """The kernel's arguments, in place in ``host_args``: the arrays flat or broadcast to
    ``shape``, numbers as they are."""
    import numpy as np

    for i in slots:
        a = host_args[i]
        host_args[i] = a.reshape(-1) if flat else np.broadcast_to(a, shape)
    return host_args


def _kernel(ew: Elementwise, ctx: Context, args: tuple[Any, ...], ndim: int,
            parallel: bool) -> Any:  # fmt: skip
    """The compiled loop for arguments of the dtypes of ``args`` over ``ndim`` dimensions."""
    return ew.kernel(("cpu", ndim, parallel, *plan_key(ctx, args)),
                     lambda: _build(kernel_source(ew, ctx, args, ndim, parallel)))  # fmt: skip


def _bind(ctx: Context, ew: Elementwise, args: tuple[Any, ...], shape: Any) -> Any:
    """The kernel's call for arguments like ``args`` (their types, dtypes, shapes and layout
    fixed), with the plan and the views' form worked out once and the kernel compiled on its
    first call; None where each call must check the values of Python int arguments (see
    plan.check_values). The call holds no reference to ``args``' data."""
    import numpy as np

    args = ew._complete(args)
    plan, dtype = ew.kernel_plan(ctx, args)
    if plan is None or plan.int_args:
        return None
    host_args = [ctx.host_view(a) for a in args]
    slots, flat = _layout(host_args, shape)
    ndim, size, name = (1 if flat else len(shape)), math.prod(shape), dtype_name(dtype)
    # What the kernel's source is made from: the arguments' dtypes, not their data.
    probes = tuple(ctx.xp.empty((1,), dtype=a.dtype, device=ctx.device) if i in slots else a
                   for i, a in enumerate(args))  # fmt: skip
    compiled: dict[bool, Any] = {}
    big = size >= PARALLEL_MIN_SIZE
    host_view, from_host, nargs = ctx.host_view, ctx.from_host, ew.nargs
    # NumPy arrays need no host view and no conversion back; where the loop runs over their
    # own shape they go in as they are (most small kept calls).
    native = ctx.backend.host_native
    as_given = native and flat and len(shape) == 1

    def call(given: tuple[Any, ...]) -> Any:
        values = given if len(given) == nargs else ew._complete(given)
        # Asked on each call: a kept call may later run inside a Dask task (serial there)
        parallel = big and numba_cpu.parallel(size, PARALLEL_MIN_SIZE)
        kernel = compiled.get(parallel)
        if kernel is None:
            kernel = compiled[parallel] = _kernel(ew, ctx, probes, ndim, parallel)
        target = np.empty(shape, dtype=name)
        if as_given and not parallel:
            kernel(target, *values)
            return target
        hosts = list(values) if native else [host_view(a) for a in values]
        views = _views(hosts, slots, flat, shape)
        into = target.reshape(-1) if flat else target
        if parallel:
            numba_cpu.run(kernel, [into, *views])
        else:  # most kept calls are small: no list, no lock
            kernel(into, *views)
        return target if native else from_host(target)

    return call


def kernel_source(ew: Elementwise, ctx: Context, args: tuple[Any, ...], ndim: int,
                  parallel: bool = False) -> str:  # fmt: skip
    """The Numba module for ``ew`` on arguments like ``args`` over ``ndim``-dimensional views:
    ``kernel(out, *args)``."""
    slots = array_slots(args)
    scalar, name = ew.scalar_def(ctx, args, '@njit(cache=True, error_model="numpy")')
    params = ", ".join(f"a{i}" for i in range(ew.nargs))
    idx = ", ".join(f"i{d}" for d in range(ndim))
    call = ", ".join(f"a{i}[{idx}]" if i in slots else f"a{i}" for i in range(ew.nargs))
    loops = []
    for d in range(ndim):
        outer = "prange" if parallel and d == 0 else "range"
        loops.append("    " * (d + 1) + f"for i{d} in {outer}(out.shape[{d}]):")
    body = "    " * (ndim + 1) + f"out[{idx}] = {name}({call})"
    options = 'cache=True, error_model="numpy"' + (", parallel=True" if parallel else "")
    return (
        "import numpy as _np\n"
        "from numba import njit, prange\n"
        "from xpkern.engines.numba_cpu_scalars import *  # noqa: F403\n\n"
        f"{scalar}\n\n"
        f"@njit({options})\n"
        f"def kernel(out, {params}):\n" + "\n".join(loops) + "\n" + body + "\n"
    )


def _build(source: str) -> Any:
    module, _ = load_module(source, "cpu")
    return module.kernel


_run.bind = _bind  # type: ignore[attr-defined]


def register(op: Op) -> None:
    op.register(
        "numba-cpu",
        reason="one compiled Numba loop: one read of each input, one write, no temporaries",
        supports=_supports,
        wins=_wins,
    )(_run)


ENGINES.append(register)
declare("numba-cpu")  # config knows the name before the first @elementwise function exists
