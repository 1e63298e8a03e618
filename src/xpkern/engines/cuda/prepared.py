"""Kernel launches prepared once and made through the CUDA driver.

A launch through CuPy's ``Function`` converts every argument anew: a numba-cuda array is seven
or more launch arguments (its data model), each a NumPy scalar built for the call. Where the
arguments' shapes, strides and dtypes stay the same from call to call (a kept call, whose
signature fixes them), only the arrays' data pointers and the caller's stream change: the
arguments are laid out once in C memory (:class:`ArgBlock`) and a call writes the pointers in
place before launching (:class:`PreparedLaunch`).
"""

from __future__ import annotations

import ctypes
import functools
import struct
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ...backends import Context
from .launch import Launcher, is_array, pack_array, pointer, scalar_arg

__all__ = ["ArgBlock", "PreparedLaunch", "argument_layout", "driver_launch", "kept_launches",
           "launch_for", "struct_code"]  # fmt: skip

_STRUCT_CODES = {"f": {2: "e", 4: "f", 8: "d"}, "i": {1: "b", 2: "h", 4: "i", 8: "q"},
                 "u": {1: "B", 2: "H", 4: "I", 8: "Q"}, "b": {1: "?"}}  # fmt: skip


@functools.cache
def driver_launch() -> Callable[..., Any] | None:
    """CuPy's binding of the driver's ``cuLaunchKernel``, or None without it."""
    try:
        from cupy.cuda import driver
    except ImportError:
        return None
    return getattr(driver, "launchKernel", None)


def launch_for(fn: Any) -> Callable[..., Any] | None:
    """The driver launch for kernel ``fn``, or None where this CuPy has none or ``fn`` is not
    a function CuPy loaded (the compiler launches its kernels itself)."""
    launch = driver_launch()
    return launch if launch is not None and hasattr(fn, "ptr") else None


def struct_code(a: Any) -> str | None:
    """The ``struct`` code of a kernel's scalar argument, or None where it has no C layout."""
    scalar = scalar_arg(a)
    return _STRUCT_CODES.get(scalar.dtype.kind, {}).get(scalar.dtype.itemsize)


class ArgBlock:
    """A kernel's launch arguments laid out once in C memory, for launching through the CUDA
    driver: a call packs the new values in place (one ``struct.pack_into``) instead of
    building them anew. Each argument has an 8-byte slot; the driver reads each through its
    own pointer. The driver copies the arguments at launch, so the block is free again on
    return; the lock keeps two threads from filling it at once."""

    def __init__(self, fn: Any, codes: list[str], launch: Callable[..., Any]) -> None:
        self.fn = int(fn.ptr)
        self.format = struct.Struct("=" + "".join(c + "x" * (8 - struct.calcsize("=" + c))
                                                  for c in codes))  # fmt: skip
        self.buffer = ctypes.create_string_buffer(8 * len(codes))
        base = ctypes.addressof(self.buffer)
        pointers = (ctypes.c_void_p * len(codes))(*(base + 8 * i for i in range(len(codes))))
        self.pointers = pointers  # kept alive: the driver reads the arguments through it
        self.address = ctypes.addressof(pointers)
        # The slots as unsigned 64-bit words, for writing one pointer without a format.
        self.words = (ctypes.c_uint64 * len(codes)).from_buffer(self.buffer)
        self.driver_launch = launch
        self.lock = threading.Lock()


def argument_layout(args: list[Any], raw: bool) -> tuple[list[str], list[Any], list[int]] | None:
    """(struct codes, initial values, the slots of the arrays' data pointers) of a kernel's
    arguments ``args``, each in an 8-byte slot: an array as numba's data model lays it out (or
    as one pointer where ``raw``), a scalar as the NumPy scalar its type was compiled for.
    None where a scalar has no C layout."""
    codes: list[str] = []
    values: list[Any] = []
    slots: list[int] = []
    for a in args:
        if not is_array(a):
            code = struct_code(a)
            if code is None:
                return None
            codes.append(code)
            values.append(scalar_arg(a))
            continue
        packed = [np.uint64(pointer(a))] if raw else pack_array(a)
        slots.append(len(values) + (0 if raw else 4))  # see pack_array: data is the fifth
        codes += ["Q"] if raw else ["Q", "Q", "q", "q", "Q"] + ["q"] * (len(packed) - 5)
        values += packed
    return codes, values, slots


def current_device() -> Callable[[], int]:
    """CuPy's getter of the current device's index (the one a driver launch runs on)."""
    import cupy

    getter: Callable[[], int] = cupy.cuda.runtime.getDevice
    return getter


def _three(dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(dims) + (1,) * (3 - len(dims))


class PreparedLaunch:
    """One kernel launch prepared for arrays of fixed shapes, strides and dtypes.

    ``launch(*arrays)`` launches the kernel on the caller's current stream with the arguments
    it was prepared with, the arrays replaced by ``arrays`` (in the same order, each with the
    shape, strides and dtype of the one it replaces: the caller vouches for that). It returns
    False, launching nothing, where the current device is not the one it was prepared on.
    """

    def __init__(self, ctx: Context, block: ArgBlock, device: int, grid: tuple[int, ...],
                 threads: tuple[int, ...], shared: int, slots: list[int]) -> None:  # fmt: skip
        self.block = block
        self.dims = (*_three(grid), *_three(threads))
        self.shared = shared
        self.slots = slots
        self.device = device
        self.get_device = current_device()
        self.stream = ctx.backend.stream_getter(device)
        self.pointer = ctx.backend.pointer

    @classmethod
    def build(cls, ctx: Context, launcher: Launcher, grid: tuple[int, ...],
              threads: tuple[int, ...], args: list[Any], shared: int = 0
              ) -> PreparedLaunch | None:  # fmt: skip
        """The launch of ``launcher`` with ``args``, or None where it cannot be prepared
        (the compiler launches the kernel itself, CuPy has no driver launch, or a scalar has
        no C layout); ``args`` as for :meth:`Launcher.launch`."""
        launch = launch_for(launcher.cupy_fn)
        found = None if launch is None else argument_layout(args, launcher.raw)
        if launch is None or found is None:
            return None
        codes, values, slots = found
        block = ArgBlock(launcher.cupy_fn, codes, launch)
        block.format.pack_into(block.buffer, 0, *values)
        first = next(a for a in args if is_array(a))
        return cls(ctx, block, ctx.backend.device_index(first), grid, threads, shared, slots)

    def __call__(self, *arrays: Any) -> bool:
        if self.get_device() != self.device:
            return False
        block, words, pointer = self.block, self.block.words, self.pointer
        with block.lock:
            for slot, a in zip(self.slots, arrays, strict=True):
                words[slot] = pointer(a)
            block.driver_launch(block.fn, *self.dims, self.shared, self.stream(),
                                block.address, 0)  # fmt: skip
        return True


def kept_launches(ctx: Context, x: Any, steps: list[tuple[Any, list[Any], tuple[int, ...],
                  tuple[int, ...], int]], fallback: Callable[[Any], Any],
                  out_shape: tuple[int, ...] | None = None,
                  finish: Callable[[Any], Any] | None = None) -> Callable[[Any], Any]:  # fmt: skip
    """A kept call of kernels on arrays like ``x`` (same shape, dtype, layout and device),
    each launch prepared once: ``steps`` as built for ``x``, each (kernel, arguments, grid,
    block, shared bytes), where a step's last argument is its output and the next step's
    first argument (the first step's is ``x``). A call allocates each output anew (the last
    in ``out_shape`` where given: same memory, another shape), launches the steps in turn and
    returns the last output, or ``finish`` of it where given; ``fallback(a)`` where a launch
    cannot be prepared, or where the current device is not ``x``'s."""
    built = [PreparedLaunch.build(ctx, kernel.launcher(ctx, args), grid, block, args, shared)
             for kernel, args, grid, block, shared in steps]  # fmt: skip
    launches = [launch for launch in built if launch is not None]
    if len(launches) < len(steps):
        return fallback
    shapes = [tuple(args[-1].shape) for _, args, _, _, _ in steps]
    if out_shape is not None:
        shapes[-1] = out_shape
    news = [ctx.backend.allocator(shape, args[-1].dtype, x)
            for shape, (_, args, _, _, _) in zip(shapes, steps, strict=True)]  # fmt: skip

    def call(a: Any) -> Any:
        source = a
        for launch, new in zip(launches, news, strict=True):
            made = new()
            if not launch(source, made):
                return fallback(a)
            source = made
        return source if finish is None else finish(source)

    return call
