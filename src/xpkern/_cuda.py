"""The one place that talks to CUDA: streams, cuBLAS calls and kernel launches.

Work runs on the caller's current stream (torch's for tensors, CuPy's for CuPy arrays), and
never with a device-wide synchronisation.
"""

from __future__ import annotations

import contextlib
import functools
import math
import struct
import threading
from collections.abc import Callable, Iterator
from functools import cache, lru_cache
from typing import Any

import numpy as np

from ._backends import Context
from ._checks import dtype_name

__all__ = ["gram_syrk", "on_caller_stream"]


@contextlib.contextmanager
def on_caller_stream(ctx: Context, x: Any) -> Iterator[Any]:
    """CuPy, with its current device and stream set to those the caller's library is using."""
    import cupy

    with _device_of(ctx, x), _caller_stream(ctx, x):
        yield cupy


def _caller_stream(ctx: Context, x: Any) -> Any:
    """The caller's current stream as a CuPy stream."""
    if ctx.backend.name == "torch":
        return _torch_caller_stream(x)
    import cupy

    return cupy.cuda.get_current_stream()


_STREAMS: dict[tuple[int, int], Any] = {}


def _torch_caller_stream(x: Any) -> Any:
    """torch's current stream on ``x``'s device as a CuPy stream, cached per raw handle:
    building one costs microseconds that a small launch cannot spare."""
    import cupy
    import torch

    index = x.device.index or 0
    key = (index, _torch_raw_stream(torch, index))
    stream = _STREAMS.get(key)
    if stream is None:
        stream = _STREAMS[key] = cupy.cuda.Stream.from_external(_TorchStream(key[1]))
    return stream


def _device_of(ctx: Context, x: Any) -> Any:
    """CuPy's current device set to ``x``'s, where it is not already."""
    import cupy

    index = _device_index(ctx, x)
    if cupy.cuda.runtime.getDevice() == index:
        return contextlib.nullcontext()
    return cupy.cuda.Device(index)


class _TorchStream:
    """A torch stream seen through the CUDA stream protocol, which CuPy understands."""

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return (0, self.handle)


@cache
def _mirror_kernel() -> Any:
    import cupy

    # Reads only the lower triangle and writes only the upper one, so it runs in place.
    return cupy.ElementwiseKernel(
        "int64 n",
        "raw T c",
        """
        long long row = i / n, col = i % n;
        if (col > row) c[i] = c[col * n + row];
        """,
        "xpkern_mirror_lower",
    )


def gram_syrk(ctx: Context, x: Any) -> Any:
    """``x @ x.T`` of a 2-D CUDA array through cuBLAS syrk, mirrored to a full matrix."""
    import cupy.cublas

    with on_caller_stream(ctx, x) as cupy:
        a = x if ctx.backend.name == "cupy" else cupy.from_dlpack(x.detach())
        n = a.shape[0]
        if ctx.backend.name == "torch":
            import torch

            result = torch.empty((n, n), dtype=x.dtype, device=x.device)
            out = cupy.from_dlpack(result)
        else:
            result = out = cupy.empty((n, n), dtype=a.dtype)
        if n == 0:
            return result
        if a.shape[1] == 0:
            out.fill(0)
            return result
        cupy.cublas.syrk("N", cupy.ascontiguousarray(a), out=out, lower=True)
        _mirror_kernel()(n, out, size=n * n)
        return result


@lru_cache(maxsize=1)
def numba_cuda_status() -> tuple[bool, str]:
    """Whether numba-cuda can compile and run kernels here, and why not if it cannot."""
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        return False, 'numba-cuda is not installed (pip install "xpkern[cuda13]")'
    try:
        from numba import cuda

        if not cuda.is_available():
            return False, "numba-cuda sees no CUDA device"
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the probe's one-thread grid draws a warning
            kernel = cuda.jit("void(float32[:])")(_probe_kernel)
            out = cuda.device_array(1, dtype="float32")
            kernel[1, 1](out)
        if float(out.copy_to_host()[0]) != 1.0:
            return False, "numba-cuda's probe kernel returned a wrong value"
    except Exception as exc:  # any failure means: do not use this engine
        return False, f"numba-cuda cannot compile here: {type(exc).__name__}: {exc}"
    import numba_cuda  # type: ignore[import-not-found,import-untyped,unused-ignore]

    return True, f"numba-cuda {getattr(numba_cuda, '__version__', '?')}"


def _probe_kernel(out: Any) -> None:
    out[0] = 1.0


# --- elementwise kernels -----------------------------------------------------------------
#
# Kernels are compiled by numba-cuda. Where CuPy is present they are compiled to PTX once
# per signature, loaded as a CuPy module and launched with a pre-packed argument tuple, which
# skips numba-cuda's own call path (35-109 us per launch on an H100, against 15.6 us this
# way). Without CuPy, or in the CUDA simulator, numba-cuda launches them itself. numba-cuda
# stays behind the few functions below, so another compiler can replace it.

_THREADS = 256
_warned: set[str] = set()

# A grid of 16 blocks per SM, each thread striding through the array, beats one thread per
# element: 2^27 float32 x**2+2x+1 on an H100 took 462 us against 596 us (copy: 368 us),
# benchmarks/kernel_variants.py. None: chosen by _grid_rule.
_BLOCKS_PER_SM: int | None = None


@cache
def _sm_count() -> int:
    try:
        import cupy

        return int(cupy.cuda.Device().attributes["MultiProcessorCount"])
    except Exception:  # no CuPy or no device: the simulator or numba's own launch
        return 132


@cache
def _memory_bandwidth() -> float:
    """The current device's peak memory bandwidth in bytes/s (0 where unknown)."""
    try:
        import cupy

        attributes = cupy.cuda.Device().attributes
        # kHz x bits, two transfers a clock
        return 2e3 * attributes["MemoryClockRate"] * attributes["GlobalMemoryBusWidth"] / 8
    except Exception:  # no CuPy or no device
        return 0.0


# Loads in flight must cover bandwidth x latency (Little's law), so faster memory wants more of
# them. 2^27 float32 x**2+2x+1 in units of the copy time (benchmarks/unroll_variants.py, one run
# each): H100 (3.35 TB/s) unrolled 1 / 2 / 4 / 8 with 16 blocks per SM: 1.235 / 1.085 / 1.107 /
# 1.136; H200 (4.8 TB/s) 1.40 / 1.16 / 1.14 / 1.18, and by 4 with 32 blocks per SM 1.10.
_FAST_MEMORY = 4e12


@cache
def _grid_rule() -> tuple[int, int]:
    """(loads in flight per thread, blocks per SM) for the elementwise kernels."""
    return (4, 32) if _memory_bandwidth() >= _FAST_MEMORY else (2, 16)


@cache
def _max_blocks() -> int:
    return _sm_count() * (_BLOCKS_PER_SM or _grid_rule()[1])


def multiprocessors() -> int:
    """Streaming multiprocessors of the current device (132 on an H100 SXM)."""
    return _sm_count()


def _blocks(n: int) -> int:
    return max(1, min(-(-n // _THREADS), _max_blocks()))


def _warn_once(reason: str, engine: str = "fused CUDA kernels") -> None:
    import warnings

    if reason not in _warned:
        _warned.add(reason)
        warnings.warn(
            f"xpkern: {engine} are off ({reason}); using the generic path",
            RuntimeWarning,
            stacklevel=4,
        )


def simulated() -> bool:
    import os

    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _engine_problem() -> str | None:
    ok, why = numba_cuda_status()
    if not ok:
        _warn_once(why)
        return why
    return None


def _on_cuda(ctx: Context) -> str | None:
    if ctx.backend.name not in ("cupy", "torch") or ctx.device_type != "cuda":
        return f"needs CuPy arrays or CUDA tensors, got {ctx.backend.name} on {ctx.device_type}"
    return None


def elementwise_supports(ctx: Context, ew: Any, args: Any, shape: Any, out: Any) -> str | None:
    from .elementwise import _kernel_dtypes_ok

    if ew.no_kernel:
        return str(ew.no_kernel)
    blocked = _on_cuda(ctx) or _kernel_dtypes_ok(ctx, args)
    if blocked:
        return blocked
    for a in args:
        if _is_array(a) and (tuple(a.shape) != tuple(shape) or not _contiguous(a)):
            return "broadcast or strided inputs take the generic path on the GPU"
    if out is not None and (not _contiguous(out) or getattr(out, "requires_grad", False)):
        return "out must be contiguous and need no grad"
    return _engine_problem()


# On an H100 (benchmarks/results/elementwise-*.json) one fused launch beats torch's or
# CuPy's composed ops at every size for functions of two or more operations, since each
# composed op is a launch of its own and a pass over memory.
CUDA_MIN_SIZE = 1


def elementwise_wins(ctx: Context, ew: Any, args: Any, shape: Any, out: Any) -> str | None:
    return None


def _is_array(a: Any) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, np.generic)


def _contiguous(a: Any) -> bool:
    if hasattr(a, "is_contiguous"):
        return bool(a.is_contiguous())
    return bool(a.flags.c_contiguous)


def _numba_type(a: Any) -> Any:
    import numba

    types: Any = numba.types
    if _is_array(a):
        dtype = np.dtype(dtype_name(a.dtype))
        return types.Array(numba.from_dtype(dtype), max(1, len(a.shape)), "C")
    if isinstance(a, np.generic):
        scalar_dtype: Any = a.dtype
        return numba.from_dtype(scalar_dtype)
    if isinstance(a, bool | int):
        return types.int64
    return types.float64


def _scalar_arg(a: Any) -> Any:
    if isinstance(a, np.generic):
        return a
    return np.int64(a) if isinstance(a, bool | int) else np.float64(a)


def _pointer(a: Any) -> int:
    return int(a.data_ptr()) if hasattr(a, "data_ptr") else int(a.data.ptr)


class _Launcher:
    """A compiled kernel and the way to launch it: CuPy (PTX) or numba-cuda itself."""

    def __init__(self, pyfunc: Any, types_: list[Any], raw: bool = False,
                 bounds: tuple[int, int] | None = None) -> None:  # fmt: skip
        # raw: arrays travel as bare pointers (the kernel indexes them and takes the length as
        # an argument), one launch argument each instead of numba's seven. bounds: see
        # with_launch_bounds (numba-cuda's own launch path ignores them).
        self.raw = raw
        self.cupy_fn: Any = None
        self.numba_fn: Any = None
        if simulated() or not _backends_cupy():
            from numba import cuda

            self.numba_fn = cuda.jit(pyfunc)
            return
        import re
        import warnings

        import cupy
        from numba import cuda

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _numba_performance_warning())
            sig = tuple(_pointer_type(t) for t in types_) if raw else tuple(types_)
            ptx, _ = cuda.compile_ptx_for_current_device(pyfunc, sig, device=False)
        entry = re.search(r"\.entry\s+([\w$]+)\s*\(", ptx)
        assert entry is not None, "no kernel entry in the PTX numba-cuda produced"
        if bounds is not None:
            ptx = with_launch_bounds(ptx, *bounds)
        module = cupy.cuda.function.Module()
        module.load(ptx.encode())
        self.module = module  # the function lives as long as its module
        self.cupy_fn = module.get_function(entry.group(1))

    def __call__(self, ctx: Context, n: int, args: list[Any]) -> None:
        self.launch(ctx, (_blocks(n),), (_THREADS,), args)

    def launch(self, ctx: Context, grid: tuple[int, ...], block: tuple[int, ...],
               args: list[Any], shared: int = 0) -> None:  # fmt: skip
        """Launch on the caller's stream with ``shared`` bytes of dynamic shared memory."""
        if self.cupy_fn is not None:
            packed: list[Any] = []
            for a in args:
                if not _is_array(a):
                    packed.append(_scalar_arg(a))
                elif self.raw:
                    packed.append(np.uint64(_pointer(a)))
                else:
                    packed.extend(_pack_array(a))
            first = _first_array(args)
            with _device_of(ctx, first):
                self.cupy_fn(grid, block, tuple(packed), stream=_caller_stream(ctx, first),
                             shared_mem=shared)  # fmt: skip
            return
        import warnings

        from numba import cuda

        stream = cuda.default_stream() if simulated() else _numba_stream(ctx, _first_array(args))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Grid size.*")
            self.numba_fn[grid, block, stream, shared](*args)


def with_launch_bounds(ptx: str, threads: int, blocks: int) -> str:
    """``ptx`` with launch bounds on its kernel: at most ``threads`` a block, and registers
    capped so that ``blocks`` such blocks fit on one multiprocessor at once."""
    import re

    bounds = f"\n.maxntid {threads}, 1, 1\n.minnctapersm {blocks}\n"
    return re.sub(r"(\.entry\s+[\w$]+\s*\([^)]*\))", lambda m: m.group(1) + bounds, ptx,
                  count=1)  # fmt: skip


def _pointer_type(t: Any) -> Any:
    import numba

    types: Any = numba.types
    return types.CPointer(t.dtype) if isinstance(t, types.Array) else t


def _numba_performance_warning() -> type[Warning]:
    from numba.core.errors import NumbaPerformanceWarning

    return NumbaPerformanceWarning


def _backends_cupy() -> bool:
    from ._backends import CUPY

    return CUPY.installed()


def _pack_array(a: Any) -> list[Any]:
    # numba's data model for a C array kernel argument:
    # meminfo, parent, nitems, itemsize, data, shape[0..ndim), strides[0..ndim) (bytes)
    itemsize = _itemsize(a)
    shape = tuple(int(s) for s in a.shape) or (1,)
    if hasattr(a, "stride"):
        strides = tuple(int(s) * itemsize for s in a.stride()) or (itemsize,)
    else:
        strides = tuple(int(s) for s in a.strides) or (itemsize,)
    null = np.uint64(0)
    return [null, null, np.int64(math.prod(shape)), np.int64(itemsize), np.uint64(_pointer(a)),
            *(np.int64(s) for s in shape), *(np.int64(s) for s in strides)]  # fmt: skip


def _numba_stream(ctx: Context, x: Any) -> Any:
    from numba import cuda

    if ctx.backend.name == "torch":
        import torch

        return cuda.external_stream(torch.cuda.current_stream(x.device).cuda_stream)
    import cupy

    return cuda.external_stream(cupy.cuda.get_current_stream().ptr)


# Each thread keeps UNROLL elements' loads in flight before computing any of them; one load at a
# time leaves a thread waiting a full memory latency per element. None: chosen by _grid_rule.
UNROLL: int | None = None


def _kernel_source(ew: Any, slots: tuple[int, ...], numbers: tuple[str, str],
                   unroll: int | None = None) -> str:  # fmt: skip
    unroll = unroll or UNROLL or _grid_rule()[0]
    nargs = ew.nargs
    params = ", ".join(f"a{i}" for i in range(nargs))
    call = ", ".join(f"a{i}[i]" if i in slots else f"a{i}" for i in range(nargs))
    scalar, name = ew.scalar_def("@cuda.jit(device=True)", numbers)
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
        "from numba import cuda\n"
        "from xpkern._numba_cuda import *  # noqa: F403\n\n"
        f"{scalar}"
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


def _flat(a: Any) -> Any:
    return a.reshape(-1) if _is_array(a) else a


def empty(ctx: Context, shape: Any, dtype: Any, like: Any) -> Any:
    """An uninitialised array of ``like``'s library on its device."""
    if ctx.backend.name == "torch":
        import torch

        return torch.empty(shape, dtype=dtype, device=like.device)
    if ctx.backend.name != "cupy":  # NumPy arrays in the CUDA simulator
        return ctx.xp.empty(shape, dtype=dtype)
    import cupy

    with cupy.cuda.Device(like.device.id):
        return cupy.empty(shape, dtype=dtype)


def _first_array(args: Any) -> Any:
    return next(a for a in args if _is_array(a))


def elementwise_run(ctx: Context, ew: Any, args: Any, shape: Any, out: Any) -> Any:
    from .elementwise import literal_types, load_module

    like = _first_array(args)
    dtype = ew.result_dtype(ctx, args)
    result = out if out is not None and out.dtype == dtype else empty(ctx, shape, dtype, like)
    flat = [_flat(result)] + [_flat(a) for a in args]
    n = int(flat[0].shape[0])
    flat.append(n)
    if n:
        slots = tuple(i for i, a in enumerate(args) if _is_array(a))
        types_ = [_numba_type(a) for a in flat]
        numbers = literal_types(ctx, args)
        key = ("cuda", *(str(t) for t in types_), numbers)

        def build() -> _Launcher:
            from numba import cuda

            tag = "cuda" if ew.translation else f"cuda_direct_{id(ew):x}"
            module, _ = load_module(_kernel_source(ew, slots, numbers), tag)
            ew.finish_module(module, cuda.jit(device=True))
            # Bare pointers, except for bools: numba cannot store its 1-bit bool through one.
            raw = not any(_is_array(a) and dtype_name(a.dtype) == "bool" for a in flat)
            return _Launcher(module.kernel, types_, raw=raw)

        with _device_of(ctx, like):  # the module loads into the context of x's device
            launcher = ew.kernel((*key, str(ctx.device)), build)
            launcher(ctx, n, flat)
        if out is None and launcher.cupy_fn is not None and launcher.raw:
            ew.remember_fast(args, lambda: FastCall(ctx, launcher, dtype, args))
    if out is not None and result is not out:
        out[...] = result
        return out
    return result


class FastCall:
    """The lean path for repeated calls with the same argument types, devices and dtypes.

    It skips namespace resolution and dispatch (done once, by the call that created it) and
    checks only what can change between such calls: the arguments' exact types, dtypes and
    devices, shapes, contiguity, grad and the current device. Returns None when a check
    fails, and the full path runs.

    The call is a function generated for this signature (see :func:`_lean_source`), with the
    loops over arguments unrolled and every library function bound once: on a 1K-element
    input the driver launch alone takes 3.8-6 us and one torch op 6.6-11 us (depending on the
    host), so each attribute lookup, loop or helper call around the launch counts. On an H200
    host where one torch op took 6.6 us, the lean call took 7.0 us on torch tensors and 7.7 us
    on CuPy arrays (benchmarks/results/launch-nvidia-h200.md).
    """

    def __init__(self, ctx: Context, launcher: _Launcher, dtype: Any, args: Any) -> None:
        self.block = _ArgBlock.for_kernel(launcher.cupy_fn, len(args),
                                          {i: _scalar_arg(a) for i, a in enumerate(args)
                                           if not _is_array(a)})  # fmt: skip
        self.call: Callable[[Any], Any] | None = None
        if self.block is not None:
            self.call = _lean_call(ctx, self.block, dtype, args)

    def __call__(self, args: Any) -> Any:
        return self.call(args) if self.call is not None else None


def _lean_source(ctx: Context, first: Any, dtype: Any, args: Any) -> str:
    """The source of ``call(args)`` for :class:`FastCall`, unrolled over ``args``."""
    torch = ctx.backend.name == "torch"
    names = [f"a{i}" for i in range(len(args))]
    arrays = [i for i, a in enumerate(args) if _is_array(a)]
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


def _lean_call(ctx: Context, block: _ArgBlock, dtype: Any, args: Any) -> Callable[[Any], Any]:
    import cupy

    arrays = [i for i, a in enumerate(args) if _is_array(a)]
    first = args[arrays[0]]
    device = _device_index(ctx, first)
    scope: dict[str, Any] = {
        **{f"t{i}": type(a) for i, a in enumerate(args)},
        **{f"d{i}": args[i].dtype for i in arrays},
        "device": device, "dtype": dtype, "get_device": cupy.cuda.runtime.getDevice,
        "lock": block.lock, "pack": block.format.pack_into, "buffer": block.buffer,
        "launch": block.driver_launch, "fn": block.fn, "params": block.address,
        "threads": _THREADS, "blocks": _max_blocks(), "struct_error": struct.error,
    }  # fmt: skip
    if ctx.backend.name == "torch":
        import torch

        scope.update(empty=torch.empty, empty_like=torch.empty_like)
        scope["stream"] = _torch_stream_getter(torch, device)
    else:
        scope["empty"] = cupy.empty
        scope["stream"] = cupy_stream_pointer()
    exec(compile(_lean_source(ctx, first, dtype, args), "<xpkern lean call>", "exec"), scope)
    call: Callable[[Any], Any] = scope["call"]
    return call


_STRUCT_CODES = {"f": {2: "e", 4: "f", 8: "d"}, "i": {1: "b", 2: "h", 4: "i", 8: "q"},
                 "u": {1: "B", 2: "H", 4: "I", 8: "Q"}, "b": {1: "?"}}  # fmt: skip


class _ArgBlock:
    """A kernel's launch arguments laid out once in C memory, for launching through the CUDA
    driver: a call packs the new values in place (one ``struct.pack_into``) instead of
    building them anew. Each argument has an 8-byte slot; the driver reads each through its
    own pointer.

    CuPy's launch converts every argument on every call. A 1K-element elementwise call on an
    H100 took 19 us against 22 us through CuPy with CuPy arrays, 24 against 30 with torch
    tensors (benchmarks/launch_profile.py), before the lean call was trimmed further.
    """

    def __init__(self, fn: Any, codes: list[str], launch: Callable[..., Any]) -> None:
        import ctypes
        import struct

        self.fn = int(fn.ptr)
        self.format = struct.Struct("=" + "".join(c + "x" * (8 - struct.calcsize("=" + c))
                                                  for c in codes))  # fmt: skip
        self.buffer = ctypes.create_string_buffer(8 * len(codes))
        base = ctypes.addressof(self.buffer)
        pointers = (ctypes.c_void_p * len(codes))(*(base + 8 * i for i in range(len(codes))))
        self.pointers = pointers  # kept alive: the driver reads the arguments through it
        self.address = ctypes.addressof(pointers)
        self.driver_launch = launch
        self.lock = threading.Lock()

    @classmethod
    def for_kernel(cls, fn: Any, nargs: int, scalars: dict[int, Any]) -> _ArgBlock | None:
        """The block for an elementwise kernel (out, the arguments, n), or None where this
        CuPy has no driver launch or an argument type has no C layout."""
        launch = _driver_launch()
        if launch is None or not hasattr(fn, "ptr"):
            return None
        codes = ["Q"]
        for i in range(nargs):
            scalar = scalars.get(i)
            code = (
                "Q"
                if scalar is None
                else _STRUCT_CODES.get(scalar.dtype.kind, {}).get(scalar.dtype.itemsize)
            )
            if code is None:
                return None
            codes.append(code)
        return cls(fn, [*codes, "q"], launch)

    def launch(self, grid: int, block: int, stream: int, values: list[Any]) -> None:
        """Raises ``struct.error`` (launching nothing) where a value does not fit its slot."""
        # The driver copies the arguments at launch, so the block is free again on return;
        # the lock keeps two threads from filling it at once.
        with self.lock:
            self.format.pack_into(self.buffer, 0, *values)
            self.driver_launch(self.fn, grid, 1, 1, block, 1, 1, 0, stream, self.address, 0)


@cache
def _driver_launch() -> Callable[..., Any] | None:
    try:
        from cupy.cuda import driver
    except ImportError:
        return None
    return getattr(driver, "launchKernel", None)


def _device_index(ctx: Context, x: Any) -> int:
    return int(x.device.index or 0) if ctx.backend.name == "torch" else int(x.device.id)


def _torch_raw_stream(torch: Any, device: int) -> int:
    return int(_torch_stream_getter(torch, device)())


def _torch_stream_getter(torch: Any, device: int) -> Callable[[], int]:
    """A function returning torch's current stream on ``device`` as a raw handle."""
    # torch.cuda.current_stream builds a Stream object (about 10 us); the raw handle is the
    # same number for a fraction of that.
    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if raw is not None:
        return functools.partial(raw, device)
    return lambda: int(torch.cuda.current_stream(device).cuda_stream)


def cupy_stream_pointer() -> Callable[[], int]:
    """A function returning CuPy's current stream as a raw handle (CuPy keeps the Stream
    object per thread, so this costs a fraction of a microsecond)."""
    import cupy

    return lambda: int(cupy.cuda.get_current_stream().ptr)


def _itemsize(a: Any) -> int:
    return int(a.element_size()) if hasattr(a, "element_size") else int(a.itemsize)


def fast_signature(args: Any) -> tuple[Any, ...]:
    """What must be equal between two calls for one FastCall to serve both."""
    return tuple((type(a), a.dtype, str(a.device)) if _is_array(a) else type(a) for a in args)


class Kernel:
    """A kernel given as numba-cuda source text (defining ``kernel``), compiled once per
    argument signature and device, launched on the caller's stream."""

    def __init__(self, source: str, tag: str, bounds: tuple[int, int] | None = None) -> None:
        self.source, self.tag, self.bounds = source, tag, bounds
        self.launchers: dict[Any, _Launcher] = {}
        self.lock = threading.Lock()

    def __call__(self, ctx: Context, grid: tuple[int, ...], block: tuple[int, ...],
                 args: list[Any], shared: int = 0) -> None:  # fmt: skip
        # A cheap key (no numba types built) keeps a warm launch to dictionary lookups.
        key = (str(ctx.device), *(_arg_key(a) for a in args))
        launcher = self.launchers.get(key)
        if launcher is None:
            with self.lock:
                launcher = self.launchers.get(key)
                if launcher is None:
                    from .elementwise import load_module

                    module, _ = load_module(self.source, self.tag)
                    types_ = [_numba_type(a) for a in args]
                    launcher = _Launcher(module.kernel, types_, bounds=self.bounds)
                    self.launchers[key] = launcher
        launcher.launch(ctx, grid, block, args, shared)


_KERNELS: dict[tuple[Any, ...], Kernel] = {}


def cached_kernel(key: tuple[Any, ...], tag: str, source: Callable[[], str],
                  bounds: tuple[int, int] | None = None) -> Kernel:  # fmt: skip
    """The :class:`Kernel` for ``key``, its source built by ``source()`` on first use only;
    ``bounds`` = (threads, blocks), see :func:`with_launch_bounds`."""
    kernel = _KERNELS.get(key)
    if kernel is None:
        kernel = _KERNELS[key] = Kernel(source(), tag, bounds)
    return kernel


def _arg_key(a: Any) -> Any:
    if _is_array(a):
        return (a.dtype, len(a.shape))
    return type(a) if not hasattr(a, "dtype") else a.dtype


def matmul_into(ctx: Context, a: Any, b: Any, out: Any) -> None:
    """``out[...] = a @ b`` by the library's own GEMM (cuBLAS), on the caller's stream."""
    if ctx.backend.name == "torch":
        import torch

        torch.matmul(a, b, out=out)
    elif ctx.backend.name == "cupy":
        import cupy

        cupy.matmul(a, b, out=out)
    else:  # NumPy arrays in the CUDA simulator
        ctx.xp.matmul(a, b, out=out)


def tf32_split(ctx: Context, a: Any) -> tuple[Any, Any]:
    """``a = hi + lo`` for float32 ``a``: ``hi`` keeps the 10 mantissa bits that TF32 holds
    (so a tensor core reads it exactly) and ``lo`` is the rest, exact in float32."""
    if ctx.backend.name == "torch":
        import torch

        bits = a.view(torch.int32)
    else:
        bits = a.view(np.int32)
    hi = (bits & -8192).view(a.dtype)  # -8192: the 13 low mantissa bits cleared
    return hi, a - hi


def tf32_gemm(ctx: Context, x: Any) -> str | None:
    """Why :func:`gemm_nt` cannot use tensor cores (TF32) for ``x``'s device, or None."""
    if dtype_name(x.dtype) != "float32":
        return "TF32 products are for float32"
    if ctx.backend.name not in ("torch", "cupy"):
        return None if simulated() else "needs CuPy arrays or CUDA tensors"
    from ._backends import CUPY

    if not CUPY.installed():
        return "cuBLAS gemmEx is called through CuPy, which is not installed"
    if _compute_capability(_device_index(ctx, x)) < 80:
        return "TF32 tensor cores need compute capability 8.0 or newer"
    return None


@cache
def _compute_capability(device: int) -> int:
    import cupy

    return int(cupy.cuda.Device(device).compute_capability)


# cuBLAS enum values (cublas_api.h, library_types.h), in case this CuPy does not name them.
_CUBLAS_OP_N, _CUBLAS_OP_T, _CUDA_R_32F, _CUBLAS_GEMM_DEFAULT = 0, 1, 0, -1
_COMPUTE_32F, _COMPUTE_32F_FAST_TF32, _POINTER_MODE_HOST = 68, 77, 0


def gemm_nt(ctx: Context, a: Any, b: Any, out: Any, *, tf32: bool) -> None:
    """``out[...] = a @ b.T`` for C-contiguous float32 ``a`` (n, k), ``b`` (m, k) and ``out``
    (n, m), by cuBLAS gemmEx on the caller's stream; on tensor cores (TF32) if ``tf32``,
    else in plain float32 whatever the libraries' global TF32 switches say."""
    if ctx.backend.name not in ("torch", "cupy"):  # NumPy in the simulator: TF32 emulated
        a, b = (tf32_split(ctx, v)[0] for v in (a, b)) if tf32 else (a, b)
        np.matmul(a, b.T, out=out)
        return
    from cupy_backends.cuda.libs import cublas

    n, k = (int(s) for s in a.shape)
    m = int(b.shape[0])
    one, zero = np.ones(1, np.float32), np.zeros(1, np.float32)
    compute = _COMPUTE_32F_FAST_TF32 if tf32 else _COMPUTE_32F
    with on_caller_stream(ctx, a) as cupy:
        handle = cupy.cuda.device.get_cublas_handle()
        mode = cublas.getPointerMode(handle)
        cublas.setPointerMode(handle, _POINTER_MODE_HOST)
        try:
            # Row-major out (n, m) is column-major out.T (m, n) = b (m, k) @ a.T (k, n).
            f32 = _CUDA_R_32F
            cublas.gemmEx(handle, _CUBLAS_OP_T, _CUBLAS_OP_N, m, n, k, one.ctypes.data,
                          _pointer(b), f32, k, _pointer(a), f32, k, zero.ctypes.data,
                          _pointer(out), f32, m, compute, _CUBLAS_GEMM_DEFAULT)  # fmt: skip
        finally:
            cublas.setPointerMode(handle, mode)


def kernel_supports(ctx: Context, *arrays: Any) -> str | None:
    """Why a CUDA kernel cannot take these arrays, or None: CUDA arrays of float32/float64
    that need no grad, and a working numba-cuda."""
    blocked = _on_cuda(ctx)
    if blocked:
        return blocked
    for a in arrays:
        if getattr(a, "requires_grad", False):
            return "an input requires grad: the generic path keeps autograd working"
        if dtype_name(a.dtype) not in ("float32", "float64"):
            return "the kernel takes float32/float64 inputs"
    return _engine_problem()


# --- polyval ------------------------------------------------------------------------------

_POLYVAL_SOURCE = """
from numba import cuda


def kernel(out, c, x):
    i = cuda.grid(1)
    stride = cuda.gridsize(1)
    while i < out.shape[0]:
        acc = 0.0
        xi = x[i]
        for j in range(c.shape[0]):
            acc = acc * xi + c[j]
        out[i] = acc
        i += stride
"""
_polyval_launchers: dict[Any, _Launcher] = {}


def polyval_supports(ctx: Context, coeffs: Any, x: Any) -> str | None:
    blocked = _on_cuda(ctx)
    if blocked:
        return blocked
    if getattr(x, "requires_grad", False) or getattr(coeffs, "requires_grad", False):
        return "an input requires grad: the generic path keeps autograd working"
    if {dtype_name(coeffs.dtype), dtype_name(x.dtype)} - {
        "float32",
        "float64",
    } or coeffs.dtype != x.dtype:
        return "the kernel takes float32/float64 inputs of one dtype"
    if not (_contiguous(x) and _contiguous(coeffs)):
        return "strided inputs take the generic path on the GPU"
    return _engine_problem()


def polyval_run(ctx: Context, coeffs: Any, x: Any) -> Any:
    from .elementwise import load_module

    out = empty(ctx, tuple(x.shape), x.dtype, x)
    flat = [out.reshape(-1), coeffs, x.reshape(-1)]
    n = int(flat[0].shape[0])
    if n:
        types_ = [_numba_type(a) for a in flat]
        key = tuple(str(t) for t in types_)
        if key not in _polyval_launchers:
            module, _ = load_module(_POLYVAL_SOURCE, "cuda_polyval")
            _polyval_launchers[key] = _Launcher(module.kernel, types_)
        _polyval_launchers[key](ctx, n, flat)
    return out


def run_on_simulator(ew: Any, *args: Any) -> Any:
    """Run the CUDA kernel of ``ew`` on NumPy arrays in numba's CUDA simulator.

    The simulator (``NUMBA_ENABLE_CUDASIM=1``) executes the kernel's logic on the CPU; this
    lets machines without a GPU test what the GPU would run.
    """
    from ._backends import resolve
    from .elementwise import _broadcast_shape, literal_types, load_module

    if not simulated():
        raise RuntimeError("run_on_simulator needs NUMBA_ENABLE_CUDASIM=1")
    shape = _broadcast_shape([np.shape(a) for a in args if _is_array(a)])
    host = [np.array(np.broadcast_to(a, shape)).reshape(-1) if _is_array(a) else a
            for a in args]  # fmt: skip
    ctx = resolve(*host)
    out = np.empty(int(np.prod(shape)), dtype=ew.result_dtype(ctx, tuple(host)))
    flat = [out, *host]
    slots = tuple(i for i, a in enumerate(args) if _is_array(a))
    from numba import cuda

    module, _ = load_module(_kernel_source(ew, slots, literal_types(ctx, tuple(host))), "cuda")
    ew.finish_module(module, cuda.jit(device=True))
    if out.size:
        with np.errstate(all="ignore"):  # the simulator computes with NumPy scalars
            flat.append(out.size)
            _Launcher(module.kernel, [_numba_type(a) for a in flat])(ctx, out.size, flat)
    return out.reshape(shape)


# --- fit_linear: the whole loop in one block ----------------------------------------------
#
# Everything lives in shared memory (X, y, the weights, the residuals), so a step costs two
# barriers and a few thousand cycles; one thread sums the loss while others form gradients.

_FIT_SOURCE = """
import numba
from numba import cuda


def kernel(X, Y, W, B, lr, steps, losses):
    tid = cuda.threadIdx.x
    nthreads = cuda.blockDim.x
    n = X.shape[0]
    d = X.shape[1]
    m = Y.shape[1]
    shared = cuda.shared.array(0, dtype=numba.{dtype})
    xs = shared[0 : n * d]
    ys = shared[n * d : n * d + n * m]
    rs = shared[n * d + n * m : n * d + 2 * n * m]
    ws = shared[n * d + 2 * n * m : n * d + 2 * n * m + m * d]
    bs = shared[n * d + 2 * n * m + m * d : n * d + 2 * n * m + m * d + m]
    for idx in range(tid, n * d, nthreads):
        xs[idx] = X[idx // d, idx % d]
    for idx in range(tid, n * m, nthreads):
        ys[idx] = Y[idx // m, idx % m]
    for idx in range(tid, m * d, nthreads):
        ws[idx] = W[idx // d, idx % d]
    for idx in range(tid, m, nthreads):
        bs[idx] = B[idx]
    cuda.syncthreads()
    scale = lr * 2.0 / (n * m)
    zero = lr * 0.0
    for t in range(steps):
        for idx in range(tid, n * m, nthreads):
            i = idx // m
            k = idx - i * m
            acc = bs[k]
            for j in range(d):
                acc += xs[i * d + j] * ws[k * d + j]
            rs[idx] = acc - ys[idx]
        cuda.syncthreads()
        if tid == nthreads - 1:
            total = zero
            for idx in range(n * m):
                total += rs[idx] * rs[idx]
            losses[t] = total / (n * m)
        for idx in range(tid, m * (d + 1), nthreads):
            k = idx // (d + 1)
            j = idx - k * (d + 1)
            acc = zero
            if j < d:
                for i in range(n):
                    acc += rs[i * m + k] * xs[i * d + j]
                ws[k * d + j] -= scale * acc
            else:
                for i in range(n):
                    acc += rs[i * m + k]
                bs[k] -= scale * acc
        cuda.syncthreads()
    for idx in range(tid, m * d, nthreads):
        W[idx // d, idx % d] = ws[idx]
    for idx in range(tid, m, nthreads):
        B[idx] = bs[idx]
"""
_fit_kernels: dict[Any, Any] = {}
SHARED_BYTES = 48 * 1024


def fit_shared_bytes(n: int, d: int, m: int, itemsize: int) -> int:
    """Shared memory the one-block fit needs for an (n, d) X and m outputs."""
    return (n * d + 2 * n * m + m * d + m) * itemsize


def fit_linear_run(ctx: Context, X: Any, Y: Any, W: Any, B: Any, lr: float, steps: int) -> Any:
    """Run ``steps`` gradient steps in one CUDA block on the caller's stream."""
    import warnings

    from numba import cuda

    from .elementwise import load_module

    xp = ctx.xp
    n, d = X.shape
    m = Y.shape[1]
    losses = xp.empty((steps,), dtype=X.dtype, device=ctx.device)
    if steps == 0:
        return W, B, losses
    dtype = "float32" if "float32" in str(X.dtype) else "float64"
    if dtype not in _fit_kernels:
        module, _ = load_module(_FIT_SOURCE.replace("{dtype}", dtype), "cuda_fit")
        _fit_kernels[dtype] = cuda.jit(module.kernel)
    threads = int(min(1024, 32 * -(-max(n * m, m * (d + 1) + 1, 32) // 32)))
    stream = cuda.default_stream() if simulated() else _numba_stream(ctx, X)
    scalar = np.float32(lr) if dtype == "float32" else np.float64(lr)
    nbytes = fit_shared_bytes(n, d, m, 4 if dtype == "float32" else 8)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Grid size.*")  # one block, by design
        _fit_kernels[dtype][1, threads, stream, nbytes](X, Y, W, B, scalar, steps, losses)
    return W, B, losses
