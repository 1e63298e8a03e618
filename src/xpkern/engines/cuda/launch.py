"""Compiling kernels once per signature and launching them on the caller's stream.

Kernels are compiled by the engine's compiler. Where CuPy is present they are compiled to PTX
once per signature, loaded as a CuPy module and launched with a packed argument tuple, which
skips numba-cuda's own call path (35-109 us per launch on an H100, against 15.6 us this way).
Without CuPy, or in the CUDA simulator, the compiler launches them itself.
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ...backends import BACKENDS, Context
from ..source import load_module
from .device import grid_rule, multiprocessors
from .state import simulated
from .streams import caller_stream, device_of, numba_stream

__all__ = [
    "THREADS",
    "Kernel",
    "Launcher",
    "cached_kernel",
    "empty",
    "first_array",
    "flat_blocks",
    "is_array",
    "max_flat_blocks",
    "pack_array",
    "pointer",
    "scalar_arg",
    "with_launch_bounds",
]

THREADS = 256  # threads per block of the grid-stride kernels over flat arrays


def is_array(a: Any) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, np.generic)


def first_array(args: Any) -> Any:
    return next(a for a in args if is_array(a))


def scalar_arg(a: Any) -> Any:
    """A kernel's scalar argument as the NumPy scalar its type was compiled for."""
    if isinstance(a, np.generic):
        return a
    return np.int64(a) if isinstance(a, bool | int) else np.float64(a)


def pointer(a: Any) -> int:
    return int(a.data_ptr()) if hasattr(a, "data_ptr") else int(a.data.ptr)


def empty(ctx: Context, shape: Any, dtype: Any, like: Any) -> Any:
    """An uninitialised array of ``like``'s library on its device."""
    return ctx.backend.empty(shape, dtype, like)


def max_flat_blocks(blocks_per_sm: int | None = None) -> int:
    """The most blocks a grid-stride kernel over flat arrays takes: a few per SM (each thread
    strides through the array), by :func:`grid_rule` unless given."""
    return multiprocessors() * (blocks_per_sm or grid_rule()[1])


def flat_blocks(n: int, blocks_per_sm: int | None = None) -> int:
    """Blocks of :data:`THREADS` for a grid-stride kernel over ``n`` elements."""
    return max(1, min(-(-n // THREADS), max_flat_blocks(blocks_per_sm)))


def with_launch_bounds(ptx: str, threads: int, blocks: int) -> str:
    """``ptx`` with launch bounds on its kernel: at most ``threads`` a block, and registers
    capped so that ``blocks`` such blocks fit on one multiprocessor at once."""
    bounds = f"\n.maxntid {threads}, 1, 1\n.minnctapersm {blocks}\n"
    return re.sub(r"(\.entry\s+[\w$]+\s*\([^)]*\))", lambda m: m.group(1) + bounds, ptx,
                  count=1)  # fmt: skip


def pack_array(a: Any) -> list[Any]:
    # numba's data model for a C array kernel argument:
    # meminfo, parent, nitems, itemsize, data, shape[0..ndim), strides[0..ndim) (bytes)
    itemsize = int(a.element_size()) if hasattr(a, "element_size") else int(a.itemsize)
    shape = tuple(int(s) for s in a.shape) or (1,)
    if hasattr(a, "stride"):
        strides = tuple(int(s) * itemsize for s in a.stride()) or (itemsize,)
    else:
        strides = tuple(int(s) for s in a.strides) or (itemsize,)
    null = np.uint64(0)
    return [null, null, np.int64(math.prod(shape)), np.int64(itemsize), np.uint64(pointer(a)),
            *(np.int64(s) for s in shape), *(np.int64(s) for s in strides)]  # fmt: skip


class Launcher:
    """A compiled kernel and the way to launch it: CuPy (PTX) or the compiler itself.

    ``raw``: arrays travel as bare pointers (the kernel indexes them and takes the length as
    an argument), one launch argument each instead of seven. ``bounds``: see
    :func:`with_launch_bounds` (the compiler's own launch path ignores them).
    """

    def __init__(self, pyfunc: Any, types_: list[Any], raw: bool = False,
                 bounds: tuple[int, int] | None = None) -> None:  # fmt: skip
        from . import compiler

        self.raw = raw
        self.cupy_fn: Any = None
        self.numba_fn: Any = None
        if simulated() or not BACKENDS["cupy"].installed():
            self.numba_fn = compiler.jit(pyfunc)
            return
        import cupy

        ptx = compiler.compile_ptx(pyfunc, types_, raw=raw)
        entry = re.search(r"\.entry\s+([\w$]+)\s*\(", ptx)
        assert entry is not None, "no kernel entry in the PTX the compiler produced"
        if bounds is not None:
            ptx = with_launch_bounds(ptx, *bounds)
        module = cupy.cuda.function.Module()
        module.load(ptx.encode())
        self.module = module  # the function lives as long as its module
        self.cupy_fn = module.get_function(entry.group(1))

    def flat(
        self, ctx: Context, n: int, args: list[Any], blocks_per_sm: int | None = None
    ) -> None:
        """Launch a grid-stride kernel over ``n`` elements."""
        self.launch(ctx, (flat_blocks(n, blocks_per_sm),), (THREADS,), args)

    def launch(self, ctx: Context, grid: tuple[int, ...], block: tuple[int, ...],
               args: list[Any], shared: int = 0) -> None:  # fmt: skip
        """Launch on the caller's stream with ``shared`` bytes of dynamic shared memory."""
        first = first_array(args)
        if self.cupy_fn is not None:
            packed: list[Any] = []
            for a in args:
                if not is_array(a):
                    packed.append(scalar_arg(a))
                elif self.raw:
                    packed.append(np.uint64(pointer(a)))
                else:
                    packed.extend(pack_array(a))
            with device_of(ctx, first):
                self.cupy_fn(grid, block, tuple(packed), stream=caller_stream(ctx, first),
                             shared_mem=shared)  # fmt: skip
            return
        from . import compiler

        stream = compiler.default_stream() if simulated() else numba_stream(ctx, first)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Grid size.*")
            self.numba_fn[grid, block, stream, shared](*args)


def _arg_key(a: Any) -> Any:
    if is_array(a):
        return (a.dtype, len(a.shape))
    return type(a) if not hasattr(a, "dtype") else a.dtype


class Kernel:
    """A kernel given as source text (defining ``kernel``), compiled once per argument
    signature and device, launched on the caller's stream."""

    def __init__(self, source: str, tag: str, bounds: tuple[int, int] | None = None) -> None:
        self.source, self.tag, self.bounds = source, tag, bounds
        self.launchers: dict[Any, Launcher] = {}
        self.lock = threading.Lock()

    def module(self) -> Any:
        """The imported kernel module (its ``kernel`` is the Python function to compile)."""
        return load_module(self.source, self.tag)[0]

    def launcher(self, ctx: Context, args: list[Any]) -> Launcher:
        """The compiled kernel for these arguments' types, compiled on first use."""
        # A cheap key (no compiler types built) keeps a warm launch to dictionary lookups.
        key = (str(ctx.device), *(_arg_key(a) for a in args))
        found = self.launchers.get(key)
        if found is None:
            with self.lock:
                found = self.launchers.get(key)
                if found is None:
                    from .compiler import numba_type

                    types_ = [numba_type(a) for a in args]
                    found = Launcher(self.module().kernel, types_, bounds=self.bounds)
                    self.launchers[key] = found
        return found

    def __call__(self, ctx: Context, grid: tuple[int, ...], block: tuple[int, ...],
                 args: list[Any], shared: int = 0) -> None:  # fmt: skip
        self.launcher(ctx, args).launch(ctx, grid, block, args, shared)


_KERNELS: dict[tuple[Any, ...], Kernel] = {}


def cached_kernel(key: tuple[Any, ...], tag: str, source: Callable[[], str],
                  bounds: tuple[int, int] | None = None) -> Kernel:  # fmt: skip
    """The :class:`Kernel` for ``key``, its source built by ``source()`` on first use only;
    ``bounds`` = (threads, blocks), see :func:`with_launch_bounds`."""
    kernel = _KERNELS.get(key)
    if kernel is None:
        kernel = _KERNELS[key] = Kernel(source(), tag, bounds)
    return kernel
