"""The lean call: a function generated per argument signature that launches a grid-stride
kernel ``kernel(out, *args, n)`` through the CUDA driver, skipping resolution and dispatch.

It checks only what can change between calls with the same signature (the arguments' exact
types, dtypes, devices, shapes, contiguity, grad and the current device) and returns None when
a check fails, so the caller takes its full path. The loops over arguments are unrolled and
every library function bound once: on a 1K-element input the driver launch alone takes 3.8-6 us
and one torch op 6.6-11 us (depending on the host), so each attribute lookup, loop or helper
call around the launch counts.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ...backends import Context
from .launch import THREADS, Launcher, is_array, max_flat_blocks
from .prepared import ArgBlock, argument_layout, launch_for

__all__ = ["FlatCall", "lean_source", "signature"]


def signature(args: Any) -> tuple[Any, ...]:
    """What must be equal between two calls for one :class:`FlatCall` to serve both."""
    return tuple((type(a), a.dtype, str(a.device)) if is_array(a) else type(a) for a in args)


def _block_for(fn: Any, args: Any) -> ArgBlock | None:
    """The argument block for a kernel (out, the arguments, n), or None where this CuPy has
    no driver launch or an argument type has no C layout."""
    launch = launch_for(fn)
    found = None if launch is None else argument_layout(list(args), raw=True)
    if launch is None or found is None:
        return None
    return ArgBlock(fn, ["Q", *found[0], "q"], launch)


class FlatCall:
    """The lean path for repeated calls with the same argument types, devices and dtypes;
    ``call(args)`` returns the result, or None where the full path must run."""

    def __init__(self, ctx: Context, launcher: Launcher, dtype: Any, args: Any) -> None:
        self.call: Callable[[Any], Any] | None = None
        # Kept with the call: the driver reads the arguments through the block's pointers.
        self.block = _block_for(launcher.cupy_fn, args)
        if self.block is not None:
            self.call = _lean_call(ctx, self.block, dtype, args)

    def __call__(self, args: Any) -> Any:
        return self.call(args) if self.call is not None else None


def lean_source(ctx: Context, first: Any, dtype: Any, args: Any) -> str:
    """The source of ``call(args)`` for :class:`FlatCall`, unrolled over ``args``."""
    torch = ctx.backend.name == "torch"
    names = [f"a{i}" for i in range(len(args))]
    arrays = [i for i, a in enumerate(args) if is_array(a)]
    head = names[arrays[0]]
    checks = [f"type({v}) is not t{i}" for i, v in enumerate(names)]
    for i in arrays:
        v = names[i]
        checks.append(f"{v}.dtype != d{i}")
        if i != arrays[0]:
            checks.append(f"{v}.shape != {head}.shape")
        if torch:
            checks += [f"{v}.get_device() != device", f"{v}.requires_grad",
                       f"not {v}.is_contiguous()"]  # fmt: skip
        else:
            # CuPy keeps the flag as an attribute; ``flags`` builds an object on each access.
            flag = "_c_contiguous" if hasattr(first, "_c_contiguous") else "flags.c_contiguous"
            checks += [f"not {v}.{flag}", f"{v}.data.device_id != device"]
    ptr = "{}.data_ptr()" if torch else "{}.data.ptr"
    values = [ptr.format("out")] + [ptr.format(v) if i in arrays else v
                                    for i, v in enumerate(names)]  # fmt: skip
    if not torch:
        alloc = f"empty({head}.shape, dtype)"
    elif first.dtype == dtype:
        alloc = f"empty_like({head})"  # a contiguous input gives a contiguous output
    else:
        alloc = f"empty({head}.shape, dtype=dtype, device={head}.device)"
    size = "out.numel()" if torch else "out.size"
    return f"""
def call(args):
    if len(args) != {len(names)}:
        return None
    {", ".join(names)}, = args
    if {" or ".join(checks)}:
        return None
    if get_device() != device:
        return None
    out = {alloc}
    n = {size}
    if n == 0:
        return out
    try:
        with lock:
            pack(buffer, 0, {", ".join(values)}, n)
            launch(fn, min(-(-n // threads), blocks), 1, 1, threads, 1, 1, 0, stream(), params, 0)
    except (struct_error, OverflowError):
        return None  # an int too wide for the kernel's int64: the full path says so
    return out
"""


def _lean_call(ctx: Context, block: ArgBlock, dtype: Any, args: Any) -> Callable[[Any], Any]:
    import cupy

    arrays = [i for i, a in enumerate(args) if is_array(a)]
    first = args[arrays[0]]
    device = ctx.backend.device_index(first)
    scope: dict[str, Any] = {
        **{f"t{i}": type(a) for i, a in enumerate(args)},
        **{f"d{i}": args[i].dtype for i in arrays},
        "device": device, "dtype": dtype, "get_device": cupy.cuda.runtime.getDevice,
        "lock": block.lock, "pack": block.format.pack_into, "buffer": block.buffer,
        "launch": block.driver_launch, "fn": block.fn, "params": block.address,
        "threads": THREADS, "blocks": max_flat_blocks(),
        "struct_error": struct.error, "stream": ctx.backend.stream_getter(device),
    }  # fmt: skip
    if ctx.backend.name == "torch":
        import torch

        scope.update(empty=torch.empty, empty_like=torch.empty_like)
    else:
        scope["empty"] = cupy.empty
    exec(compile(lean_source(ctx, first, dtype, args), "<xpkern lean call>", "exec"), scope)
    call: Callable[[Any], Any] = scope["call"]
    return call
