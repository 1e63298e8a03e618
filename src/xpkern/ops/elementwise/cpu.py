"""``@elementwise`` on the CPU: the function compiled by Numba as one loop over the elements.

benchmarks/elementwise.py on 2 cores, x**2 + 2*x + 1, 10^7 float64 into a fresh output: one
serial Numba loop takes about 10 ms against 30 ms for NumPy's composed ops (three temporaries),
half of it the kernel zeroing the output's new pages. Below about 2*10^4 elements the call
overhead (tens of microseconds) outweighs the gain and the generic path runs.
"""

from __future__ import annotations

import math
from typing import Any

from ..._checks import dtype_name, not_on_host
from ..._dispatch import Op
from ...backends import Context
from ...engines import numba_cpu
from ...engines.notice import warn_once
from ...engines.source import load_module
from .core import ENGINES, Elementwise, generic
from .signature import KERNEL_DTYPES, array_slots, literal_types, no_kernel_for

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
    blocked = no_kernel_for(args)
    if blocked is None and dtype_name(ew.result_dtype(ctx, args)) not in KERNEL_DTYPES:
        blocked = "no kernel for the result dtype"
    return blocked or numba_cpu.missing()


def _wins(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> str | None:
    size = math.prod(shape)
    if size < CPU_MIN_SIZE:
        return f"{size} elements: below {CPU_MIN_SIZE}, NumPy's composed ops are as fast"
    return None


def _run(ctx: Context, ew: Elementwise, args: tuple[Any, ...], shape: Any, out: Any) -> Any:
    import numpy as np

    dtype = ew.result_dtype(ctx, args)
    host_args = [ctx.host_view(a) for a in args]
    target = np.empty(shape, dtype=dtype_name(dtype))
    result = ctx.from_host(target)
    slots = array_slots(host_args)
    # Same-shape contiguous inputs run as one flat loop; others as broadcast views.
    flat = not shape or all(
        np.shape(host_args[i]) == shape and host_args[i].flags.c_contiguous for i in slots
    )
    view_out = target.reshape(-1) if flat else target
    views = [
        (np.reshape(a, -1) if flat else np.broadcast_to(a, shape)) if i in slots else a
        for i, a in enumerate(host_args)
    ]
    numbers = literal_types(ctx, args)
    parallel = numba_cpu.parallel(math.prod(shape), PARALLEL_MIN_SIZE)
    kernel = ew.kernel(
        ("cpu", view_out.ndim, slots, numbers, parallel),
        lambda: _build(ew, view_out.ndim, slots, numbers, parallel),
    )
    try:
        numba_cpu.run(kernel, [view_out, *views], parallel)
    except Exception as exc:  # Numba's typing errors have no common public base
        if ew.translation is not None or type(exc).__module__.partition(".")[0] != "numba":
            raise
        ew.no_kernel = f"Numba cannot compile this function ({type(exc).__name__})"
        warn_once(ew.no_kernel, engine="fused CPU kernels")
        return generic(ctx, ew, args, shape, out)
    if out is None:
        return result
    out[...] = result
    return out


def kernel_source(ew: Elementwise, ndim: int, slots: tuple[int, ...], numbers: tuple[str, str],
                  parallel: bool = False) -> str:  # fmt: skip
    """The Numba module for ``ew`` over ``ndim``-dimensional views: ``kernel(out, *args)``."""
    nargs = ew.nargs or 0
    scalar, name = ew.scalar_def('@njit(cache=True, error_model="numpy")', numbers)
    params = ", ".join(f"a{i}" for i in range(nargs))
    idx = ", ".join(f"i{d}" for d in range(ndim))
    call = ", ".join(f"a{i}[{idx}]" if i in slots else f"a{i}" for i in range(nargs))
    loops = []
    for d in range(ndim):
        outer = "prange" if parallel and d == 0 else "range"
        loops.append("    " * (d + 1) + f"for i{d} in {outer}(out.shape[{d}]):")
    body = "    " * (ndim + 1) + f"out[{idx}] = {name}({call})"
    options = 'cache=True, error_model="numpy"' + (", parallel=True" if parallel else "")
    source = (
        "import numpy as _np\n"
        "from numba import njit, prange\n"
        "from xpkern.engines.numba_cpu_scalars import *  # noqa: F403\n\n"
        f"{scalar}"
        f"@njit({options})\n"
        f"def kernel(out, {params}):\n" + "\n".join(loops) + "\n" + body + "\n"
    )
    # A kernel calling a function that has no source file cannot be cached on disk.
    return source if ew.translation else source.replace("cache=True", "cache=False")


def _build(ew: Elementwise, ndim: int, slots: tuple[int, ...], numbers: tuple[str, str],
           parallel: bool) -> Any:  # fmt: skip
    import numba

    tag = "cpu" if ew.translation else f"cpu_direct_{id(ew):x}"
    module, _ = load_module(kernel_source(ew, ndim, slots, numbers, parallel), tag)
    ew.finish_module(module, numba.njit(error_model="numpy"))
    return module.kernel


def register(op: Op) -> None:
    op.register(
        "numba-cpu",
        reason="one compiled Numba loop: one read of each input, one write, no temporaries",
        supports=_supports,
        wins=_wins,
    )(_run)


ENGINES.append(register)
