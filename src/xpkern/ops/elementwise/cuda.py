"""``@elementwise`` on the GPU: the function compiled into one grid-stride CUDA kernel.

On an H100 (benchmarks/results/elementwise-*.json) one fused launch beats torch's or CuPy's
composed ops at every size for functions of two or more operations, since each composed op is a
launch of its own and a pass over memory; so the kernel takes every size it supports.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ... import fmath
from ..._checks import dtype_name, not_on_cuda
from ..._dispatch import Op, declare
from ...backends import Context, resolve
from ...engines import cuda as engine
from ...engines.cuda.device import grid_rule
from ...engines.source import load_module
from .core import ENGINES, Elementwise, elementwise, generic
from .plan import plan_key
from .signature import array_slots, broadcast_shape, no_kernel_for

__all__ = ["kernel_source", "ptx_cases", "run", "run_on_simulator"]


def _supports(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> str | None:
    if ew.no_kernel:
        return str(ew.no_kernel)
    blocked = not_on_cuda(ctx) or no_kernel_for(args) or ew.kernel_declined(ctx, args, False)
    if blocked:
        return blocked
    for a in args:
        if engine.is_array(a) and (tuple(a.shape) != tuple(shape)
                                   or not ctx.backend.contiguous(a)):  # fmt: skip
            return "broadcast or strided inputs take the generic path on the GPU"
    if out is not None and (not ctx.backend.contiguous(out)
                            or getattr(out, "requires_grad", False)):  # fmt: skip
        return "out must be contiguous and need no grad"
    return engine.problem()


def kernel_source(ew: Elementwise, ctx: Context, args: tuple[Any, ...],
                  unroll: int | None = None) -> str:  # fmt: skip
    """The module of ``kernel(out, *args, n)`` for arguments like ``args``: each thread keeps
    ``unroll`` elements' loads in flight before computing any (one at a time leaves it waiting
    a memory latency per element); by the device's :func:`grid_rule` unless given."""
    unroll = unroll or grid_rule()[0]
    slots = array_slots(args)
    nargs = ew.nargs
    params = ", ".join(f"a{i}" for i in range(nargs))
    call = ", ".join(f"a{i}[i]" if i in slots else f"a{i}" for i in range(nargs))
    scalar, name = ew.scalar_def(ctx, args, "@cuda.jit(device=True)")
    loads = "".join(
        f"        v{i}_{u} = a{i}[i + {u} * stride]\n" for u in range(unroll) for i in slots
    )
    stores = "".join(
        f"        out[i + {u} * stride] = {name}("
        + ", ".join(f"v{i}_{u}" if i in slots else f"a{i}" for i in range(nargs))
        + ")\n"
        for u in range(unroll)
    )
    return (
        "import numpy as _np\n"
        "from xpkern.engines.cuda.compiler import cuda\n"
        "from xpkern.engines.cuda.scalars import *  # noqa: F403\n\n"
        f"{scalar}\n\n"
        f"def kernel(out, {params}, n):\n"
        "    i = cuda.grid(1)\n"
        "    stride = cuda.gridsize(1)\n"
        f"    while i + {unroll - 1} * stride < n:\n"
        f"{loads}{stores}"
        f"        i += {unroll} * stride\n"
        "    while i < n:\n"
        f"        out[i] = {name}({call})\n"
        "        i += stride\n"
    )


def _module(ew: Elementwise, ctx: Context, args: tuple[Any, ...],
            unroll: int | None = None) -> Any:  # fmt: skip
    module, _ = load_module(kernel_source(ew, ctx, args, unroll), "cuda")
    return module


def _flat(a: Any) -> Any:
    return a.reshape(-1) if engine.is_array(a) else a


def run(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any, *,
        unroll: int | None = None, blocks_per_sm: int | None = None) -> Any:  # fmt: skip
    """The kernel on the caller's stream; ``unroll`` and ``blocks_per_sm`` override the
    device's grid rule (for experiments; a call with them keeps no lean call)."""
    from ...engines.cuda.compiler import numba_type
    from ...engines.cuda.streams import device_of

    like = engine.first_array(args)
    plan, dtype = ew.kernel_plan(ctx, args)  # checks the values of Python ints, each call
    if plan is None:
        return generic(ctx, ew, args, shape, out)
    result = out if out is not None and out.dtype == dtype else engine.empty(ctx, shape, dtype,
                                                                            like)  # fmt: skip
    flat = [_flat(result)] + [_flat(a) for a in args]
    n = int(flat[0].shape[0])
    flat.append(n)
    if n:
        types_ = [numba_type(a) for a in flat]
        key = ("cuda", *(str(t) for t in types_), unroll, str(ctx.device),
               *plan_key(ctx, args))  # fmt: skip

        def build() -> engine.Launcher:
            # Bare pointers, except for bools: numba cannot store its 1-bit bool through one.
            raw = not any(engine.is_array(a) and dtype_name(a.dtype) == "bool" for a in flat)
            return engine.Launcher(_module(ew, ctx, args, unroll).kernel, types_, raw=raw)

        with device_of(ctx, like):  # the module loads into the context of x's device
            launcher = ew.kernel(key, build)
            launcher.flat(ctx, n, flat, blocks_per_sm)
        tuned = unroll is not None or blocks_per_sm is not None
        # Python int arguments have their values checked on each call: no lean call for them.
        lean = not (tuned or plan.checked)
        if out is None and launcher.cupy_fn is not None and launcher.raw and lean:
            ew.remember_fast(args, lambda: engine.FlatCall(ctx, launcher, dtype, args))
    if out is not None and result is not out:
        out[...] = result
        return out
    return result


def run_on_simulator(ew: Elementwise, *args: Any) -> Any:
    """Run the CUDA kernel of ``ew`` on NumPy arrays in numba-cuda's CUDA simulator.

    The simulator (``NUMBA_ENABLE_CUDASIM=1``) executes the kernel's logic on the CPU; this
    lets machines without a GPU test what the GPU would run.
    """
    from ...engines.cuda.compiler import numba_type

    if not engine.simulated():
        raise RuntimeError("run_on_simulator needs NUMBA_ENABLE_CUDASIM=1")
    shape = broadcast_shape([np.shape(a) for a in args if engine.is_array(a)])
    host = tuple(np.array(np.broadcast_to(a, shape)).reshape(-1) if engine.is_array(a) else a
                 for a in args)  # fmt: skip
    ctx = resolve(*host)
    declined = ew.kernel_declined(ctx, host)
    if declined:
        raise ValueError(f"no CUDA kernel for these arguments: {declined}")
    out = np.empty(int(np.prod(shape)), dtype=ew.result_dtype(ctx, host))
    # A GPU kernel receives Python ints as int64, as the launcher passes them.
    scalars = tuple(np.int64(a) if type(a) is int else a for a in host)
    module = _module(ew, ctx, host)
    if out.size:
        flat = [out, *scalars, out.size]
        # The simulator computes with NumPy scalars in threads of its own, which errstate (a
        # context variable) does not reach: inf - inf warns there as NumPy would not.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            engine.Launcher(module.kernel, [numba_type(a) for a in flat]).flat(ctx, out.size, flat)
    return out.reshape(shape)


def register(op: Op) -> None:
    op.register(
        "numba-cuda",
        reason="one CUDA kernel on the caller's stream: no temporaries, no host sync",
        supports=_supports,
    )(run)


ENGINES.append(register)
declare("numba-cuda")  # config knows the name before the first @elementwise function exists


# Functions whose kernels cover what the translation emits: every operator and its helper,
# conditionals, boolean logic, math calls and mixed scalar arguments.
def _poly(x: Any) -> Any:
    return x**2 + 2 * x + 1


def _ops(x: Any, y: Any) -> Any:
    return (x // y + x % y) if x > y else (x / y - abs(x))


def _logic(x: Any, y: Any) -> Any:
    return x if (x > 0 and not y < 0) or x == y else -y


def _math(x: Any, y: Any) -> Any:
    return fmath.where(x > 0, fmath.exp(x) + fmath.log1p(y * y), fmath.hypot(x, y))


def _xor(x: Any, y: Any) -> Any:
    return (x and not y) or (y and not x)


_NUMBERS = ("float32", "float64", "int32", "int64", "uint8")
_SAMPLES: dict[str, tuple[Callable[..., Any], int, tuple[str, ...]]] = {
    "poly": (_poly, 1, _NUMBERS),
    "ops": (_ops, 2, _NUMBERS),
    "logic": (_logic, 2, ("float32", "float64", "int8", "int64")),
    "math": (_math, 2, ("float32", "float64")),
    "xor": (_xor, 2, ("bool",)),
}


def ptx_cases() -> Iterator[tuple[str, Any, list[Any], bool]]:
    """(label, kernel function, argument types, raw) for every kind of kernel this family
    generates, for checking that the compiler takes them all (no GPU needed)."""
    from ...engines.cuda.compiler import array_type, scalar_type

    for label, (fn, nargs, dtypes) in _SAMPLES.items():
        ew = elementwise(fn)
        for dtype in dtypes:
            for mixed in (False, True):
                kinds = [array_type(dtype, 1)] * nargs
                if mixed and nargs > 1:  # the second argument a Python float
                    kinds[1] = scalar_type("float64")
                probe = np.ones(1, dtype=dtype)
                ctx = resolve(probe)
                args = (probe,) + ((2.5,) if mixed and nargs > 1 else (probe,) * (nargs - 1))
                out_dtype = dtype_name(ew.result_dtype(ctx, args))
                types_ = [array_type(out_dtype, 1), *kinds, scalar_type("int64")]
                raw = dtype != "bool" and out_dtype != "bool"
                yield (f"elementwise {label} {dtype}{' +scalar' if mixed else ''}",
                       _module(ew, ctx, args).kernel, types_, raw)  # fmt: skip
