"""``@elementwise``: one scalar Python function, a fused kernel on every backend; ``polyval``."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from . import _backends, _checks, _cpu_threads, _cuda, _dispatch, _scalar, fmath
from ._backends import Context, backend_of, resolve
from ._dask import per_chunk
from ._dispatch import Op, auto_dispatch, public
from ._translate import SourceUnavailable, Translation, UnsupportedFunction, translate

__all__ = ["Elementwise", "UnsupportedFunction", "elementwise", "polyval"]

_KERNEL_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float32", "float64"}  # fmt: skip


@functools.lru_cache(maxsize=256)
def _kernel_kind(xp: Any, dtype: Any) -> bool:
    return bool(xp.isdtype(dtype, ("bool", "integral", "real floating")))


def _broadcast_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            raise ValueError(f"input shapes {shapes} do not broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


# Lean calls tried in turn before the full path: enough for the argument types a program mixes.
_FAST_CALLS = 8


class Elementwise:
    """A scalar function applied elementwise to arrays of any library; see :func:`elementwise`."""

    __name__: str

    def __init__(self, fn: Callable[..., Any], *, dtype: Any = None) -> None:
        if not callable(fn):
            raise TypeError(f"elementwise needs a function, got {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.dtype = dtype
        self.nargs = fn.__code__.co_argcount if hasattr(fn, "__code__") else None
        self.translation: Translation | None = None
        self.no_kernel = ""
        # Without source (an interactive session), Numba still compiles the function from its
        # bytecode; only the checks and the on-disk cache are lost.
        with contextlib.suppress(SourceUnavailable):
            self.translation = translate(fn)
        self.array_fn = self._array_form()
        self.op = Op(f"elementwise[{fn.__name__}]", _generic, supports=_generic_supports)
        self._dtypes: dict[tuple[Any, ...], Any] = {}
        self._kernels: dict[tuple[Any, ...], Any] = {}
        self._fast: dict[tuple[Any, ...], Any] = {}
        self._fast_calls: tuple[Any, ...] = ()  # each checks its own signature
        self._lock = threading.Lock()
        _register_kernels(self.op)
        public(self.op)(self)

    def _array_form(self) -> Callable[..., Any]:
        if self.translation is None:
            return self.fn
        scope: dict[str, Any] = {"_f": fmath, "_s": _scalar, "_INF": math.inf, "_NAN": math.nan}
        exec(compile(self.translation.array_source, f"<elementwise {self.__name__}>", "exec"),
             scope)  # fmt: skip
        found: Callable[..., Any] = scope[self.translation.name]
        return found

    def __repr__(self) -> str:
        return f"<xpkern.elementwise {self.__name__}>"

    def __call__(self, *args: Any, out: Any = None) -> Any:
        if self._fast_calls and out is None and auto_dispatch():
            for fast in self._fast_calls:
                result = fast(args)
                if result is not None:
                    return result
        if self.nargs is not None and len(args) != self.nargs:
            raise TypeError(
                f"{self.__name__}() takes {self.nargs} positional argument(s) but {len(args)} "
                "were given"
            )
        ctx = resolve(*args, out)
        args = tuple(a if isinstance(a, bool | int | float) else ctx.asarray(a) for a in args)
        if all(backend_of(a) is None for a in args):
            args = (ctx.asarray(args[0]), *args[1:])
        for i, a in enumerate(args):
            if backend_of(a) is not None and not _kernel_kind(ctx.xp, a.dtype):
                raise TypeError(f"{self.__name__}: argument {i} has unsupported dtype {a.dtype}")
        if ctx.backend.name == "dask":
            if out is not None:
                raise TypeError(f"{self.__name__}: out= is not supported for Dask arrays")
            return self.op(ctx, self, args, None, None)
        shape = _broadcast_shape([tuple(a.shape) for a in args if backend_of(a) is not None])
        if out is not None and ctx.backend.name == "jax":
            raise TypeError(f"{self.__name__}: out= needs a mutable array; JAX arrays are not")
        if out is not None and tuple(out.shape) != shape:
            raise ValueError(f"out has shape {tuple(out.shape)}, the result has shape {shape}")
        return self.op(ctx, self, args, shape, out)

    def per_chunk(self, args: tuple[Any, ...]) -> Any:
        """A lazy Dask array: each chunk goes through the dispatch of its own library (NumPy
        chunks to the Numba kernel, CuPy chunks to the CUDA kernel)."""
        import dask.array as da

        slots = [i for i, a in enumerate(args) if backend_of(a) is not None]
        try:
            arrays = da.broadcast_arrays(*(args[i] for i in slots))
        except ValueError as exc:
            raise ValueError(f"{self.__name__}: input shapes do not broadcast: {exc}") from exc
        if any(math.isnan(s) for a in arrays for s in a.shape):
            raise ValueError(f"{self.__name__}: Dask arrays with unknown chunk sizes are not "
                             "supported; call compute_chunk_sizes() first")  # fmt: skip
        meta_args = tuple(a._meta if backend_of(a) is not None else a for a in args)
        meta_ctx = resolve(*meta_args)
        probes = tuple(meta_ctx.xp.ones((1,), dtype=a.dtype) if backend_of(a) is not None else a
                       for a in meta_args)  # fmt: skip
        dtype = self.result_dtype(meta_ctx, probes)

        template = tuple(None if i in slots else a for i, a in enumerate(args))
        call = per_chunk(_ChunkCall(self, tuple(slots), template))
        return da.map_blocks(call, *arrays, dtype=dtype)

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers of a cluster rebuild it from the function; kernels compile there.
        return (Elementwise, (self.fn,), {"dtype": self.dtype})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.dtype = state["dtype"]

    # -- what kernels need ---------------------------------------------------------------
    def result_dtype(self, ctx: Context, args: tuple[Any, ...]) -> Any:
        """The dtype the generic path gives for these argument types (cached)."""
        if self.dtype is not None:
            return _as_dtype(ctx, self.dtype)
        key = (ctx.backend.name, *(getattr(a, "dtype", type(a)) for a in args))
        if key not in self._dtypes:
            probes = [ctx.xp.ones((1,), dtype=a.dtype, device=ctx.device)
                      if backend_of(a) is not None else a for a in args]  # fmt: skip
            with _checks.quiet(ctx):
                res = _as_result_array(ctx, self.call_array_form(ctx, tuple(probes)), probes)
            self._dtypes[key] = res.dtype
        return self._dtypes[key]

    def call_array_form(self, ctx: Context, args: tuple[Any, ...]) -> Any:
        if self.translation is None:
            return self.array_fn(*args)
        arrays = [a for a in args if backend_of(a) is not None]
        return self.array_fn(*args, _dtype=ctx.xp.result_type(*arrays) if arrays else None)

    def scalar_def(self, decorator: str, numbers: tuple[str, str]) -> tuple[str, str]:
        """(source defining the scalar function for a kernel module, its name).

        ``numbers`` names the NumPy types that integer and float literals take.
        """
        if self.translation is None:
            return "", "_user_fn"
        types = f"_KI = _np.{numbers[0]}\n_KF = _np.{numbers[1]}\n\n"
        return f"{types}{decorator}\n{self.translation.scalar_source}\n", self.translation.name

    def finish_module(self, module: ModuleType, jit: Callable[[Any], Any]) -> None:
        """Give a kernel module built without source the user's function, compiled."""
        if self.translation is None:
            module._user_fn = jit(self.fn)  # type: ignore[attr-defined]

    def remember_fast(self, args: tuple[Any, ...], make: Callable[[], Any]) -> None:
        """Keep the lean launch path for later calls with arguments like ``args``; ``make``
        builds it, the first time only."""
        key = _cuda.fast_signature(args)
        if self.nargs != len(args) or key in self._fast:
            return
        with self._lock:
            if key in self._fast:  # another thread built it meanwhile
                return
            fast = self._fast[key] = make()
            if fast.call is not None:
                self._fast_calls = (*self._fast_calls, fast)[-_FAST_CALLS:]

    def kernel(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """The compiled kernel for ``key``, built once even when threads ask together."""
        found = self._kernels.get(key)
        if found is None:
            with self._lock:
                found = self._kernels.get(key)
                if found is None:
                    found = self._kernels[key] = build()
        return found


class _ChunkCall:
    """One chunk's call: the chunks of the array arguments put back among the numbers."""

    def __init__(self, ew: Elementwise, slots: tuple[int, ...], template: tuple[Any, ...]):
        self.ew, self.slots, self.template = ew, slots, template

    def __call__(self, *blocks: Any) -> Any:
        full = list(self.template)
        for i, block in zip(self.slots, blocks, strict=True):
            full[i] = block
        return self.ew(*full)


def _as_dtype(ctx: Context, dtype: Any) -> Any:
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
        res = xp.astype(res, _as_dtype(ctx, ew.dtype))
    if tuple(res.shape) != shape:
        res = xp.broadcast_to(res, shape)
        res = xp.asarray(res, copy=True)
    if out is None:
        return res
    out[...] = res
    return out


def _generic(ctx: Context, ew: Elementwise, args: tuple[Any, ...], shape: Any, out: Any) -> Any:
    with _checks.quiet(ctx):
        res = ew.call_array_form(ctx, args)
    return _finish(ctx, ew, res, shape, out, args)


# --- fused CPU kernels -------------------------------------------------------------------
#
# benchmarks/elementwise.py on 2 cores, x**2 + 2*x + 1, 10^7 float64 into a fresh output:
# one serial Numba loop takes about 10 ms against 30 ms for NumPy's composed ops (three
# temporaries), half of it the kernel zeroing the output's new pages. Below about 2*10^4
# elements the call overhead (tens of microseconds) outweighs the gain and the generic path
# runs.
CPU_MIN_SIZE = 20_000
# A parallel (prange) loop over all cores, from 2^16 elements: on the same 2 cores, fresh output,
# serial / parallel = 0.50 (10^4 float64), 0.88 (3*10^4), 1.55 (10^5), 2.13 (10^6), 1.73
# (10^7: 5.6 ms against 9.7, NumPy 27.9); float32 1.47 at 10^5. Not inside a Dask task (Dask
# already runs one chunk per core) nor in a forked child (GNU OpenMP does not survive fork).
PARALLEL_MIN_SIZE = 2**16


def _parallel(size: int) -> bool:
    """Whether a kernel over ``size`` elements runs on every core."""
    return size >= PARALLEL_MIN_SIZE and _cpu_threads.allowed()


def literal_types(ctx: Context, args: tuple[Any, ...]) -> tuple[str, str]:
    """The NumPy types of integer and float literals in a kernel for these arguments."""
    arrays = [a for a in args if backend_of(a) is not None]
    working = _checks.dtype_name(ctx.xp.result_type(*arrays)) if arrays else "float64"
    if working.startswith("float"):
        return ("float32", "float32") if working == "float32" else ("int64", "float64")
    return (working if working != "bool" else "int64"), "float64"


def _kernel_dtypes_ok(ctx: Context, args: tuple[Any, ...]) -> str | None:
    for a in args:
        if backend_of(a) is not None and _checks.dtype_name(a.dtype) not in _KERNEL_DTYPES:
            return f"no kernel for dtype {a.dtype}"
        if getattr(a, "requires_grad", False):
            return "an input requires grad: the generic path keeps autograd working"
    return None


def _cpu_supports(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> str | None:
    if ew.no_kernel:
        return ew.no_kernel
    if ctx.backend.name not in ("numpy", "torch") or ctx.device_type != "cpu":
        return f"needs NumPy arrays or CPU tensors, got {ctx.backend.name} on {ctx.device_type}"
    if out is not None and getattr(out, "requires_grad", False):
        return "out requires grad"
    blocked = _kernel_dtypes_ok(ctx, args)
    if blocked is None and _checks.dtype_name(ew.result_dtype(ctx, args)) not in _KERNEL_DTYPES:
        blocked = "no kernel for the result dtype"
    return blocked or _numba_missing()


def _cpu_wins(ctx: Context, ew: Elementwise, args: Any, shape: Any, out: Any) -> str | None:
    size = math.prod(shape)
    if size < CPU_MIN_SIZE:
        return f"{size} elements: below {CPU_MIN_SIZE}, NumPy's composed ops are as fast"
    return None


@functools.cache
def _numba_missing() -> str | None:
    if importlib.util.find_spec("numba") is None:
        return "numba is not installed"
    return None


def _cpu_run(ctx: Context, ew: Elementwise, args: tuple[Any, ...], shape: Any, out: Any) -> Any:
    import numpy as np

    dtype = ew.result_dtype(ctx, args)
    host_args = [_backends.host_view(ctx, a) for a in args]
    target = np.empty(shape, dtype=_checks.dtype_name(dtype))
    result = _backends.from_host(ctx, target)
    slots = _array_slots(host_args)
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
    parallel = _parallel(math.prod(shape))
    kernel = ew.kernel(
        ("cpu", view_out.ndim, slots, numbers, parallel),
        lambda: _build_cpu(ew, view_out.ndim, slots, numbers, parallel),
    )
    try:
        _cpu_threads.run(kernel, [view_out, *views], parallel)
    except Exception as exc:  # Numba's typing errors have no common public base
        if ew.translation is not None or type(exc).__module__.partition(".")[0] != "numba":
            raise
        ew.no_kernel = f"Numba cannot compile this function ({type(exc).__name__})"
        _cuda._warn_once(ew.no_kernel, engine="fused CPU kernels")
        return _generic(ctx, ew, args, shape, out)
    if out is None:
        return result
    out[...] = result
    return out


def _array_slots(args: list[Any]) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if backend_of(a) is not None)


def _dask_supports(ctx: Context, ew: Elementwise, *rest: Any) -> str | None:
    return None if ctx.backend.name == "dask" else "only for Dask arrays"


def _generic_supports(ctx: Context, ew: Elementwise, *rest: Any) -> str | None:
    # On Dask the chunk-wise path always applies; the whole-array form would skip the kernels.
    return "Dask arrays go chunk by chunk" if ctx.backend.name == "dask" else None


# Each elementwise function registers these on its own op; config must know them before the
# first such function exists.
_dispatch._NAMES.update({"dask-chunks", "numba-cpu", "numba-cuda"})


def _register_kernels(op: Op) -> None:
    op.register(
        "dask-chunks",
        reason="lazy map_blocks: each chunk dispatched on its own (Numba or CUDA kernel)",
        supports=_dask_supports,
    )(lambda ctx, ew, args, shape, out: ew.per_chunk(args))
    op.register(
        "numba-cpu",
        reason="one compiled Numba loop: one read of each input, one write, no temporaries",
        supports=_cpu_supports,
        wins=_cpu_wins,
    )(_cpu_run)
    op.register(
        "numba-cuda",
        reason="one CUDA kernel on the caller's stream: no temporaries, no host sync",
        supports=_cuda.elementwise_supports,
        wins=_cuda.elementwise_wins,
    )(_cuda.elementwise_run)


# --- kernel source and its on-disk cache -------------------------------------------------


def cache_dir() -> Path | None:
    """Where generated kernel modules are written, so that Numba can cache them on disk."""
    root = os.environ.get("XPKERN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xpkern"
    )
    path = Path(root) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError:
        return None
    return path


def scalar_source(ew: Elementwise) -> str:
    assert ew.translation is not None
    return ew.translation.scalar_source


def load_module(source: str, tag: str) -> tuple[ModuleType, bool]:
    """Import generated ``source`` from a file (so Numba can cache it); (module, cached)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"xpkern_kernel_{tag}_{digest}"
    if name in sys.modules:
        return sys.modules[name], True
    where = cache_dir()
    cached = where is not None
    if where is None:
        where = Path(tempfile.mkdtemp(prefix="xpkern-"))
        source = source.replace("cache=True", "cache=False")
    path = where / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module, cached


def _cpu_kernel_source(
    ew: Elementwise,
    ndim: int,
    slots: tuple[int, ...],
    numbers: tuple[str, str],
    parallel: bool = False,
) -> str:
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
        "from xpkern._numba_cpu import *  # noqa: F403\n\n"
        f"{scalar}"
        f"@njit({options})\n"
        f"def kernel(out, {params}):\n" + "\n".join(loops) + "\n" + body + "\n"
    )
    # A kernel calling a function that has no source file cannot be cached on disk.
    return source if ew.translation else source.replace("cache=True", "cache=False")


def _build_cpu(
    ew: Elementwise, ndim: int, slots: tuple[int, ...], numbers: tuple[str, str], parallel: bool
) -> Any:
    import numba

    tag = "cpu" if ew.translation else f"cpu_direct_{id(ew):x}"
    module, _ = load_module(_cpu_kernel_source(ew, ndim, slots, numbers, parallel), tag)
    ew.finish_module(module, numba.njit(error_model="numpy"))
    return module.kernel


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
    function runs on whole arrays through the inputs' namespace. :func:`xpkern.explain` says
    which.

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


# --- polyval -----------------------------------------------------------------------------


def _polyval_generic(ctx: Context, coeffs: Any, x: Any) -> Any:
    xp = ctx.xp
    dtype = xp.result_type(coeffs, x)
    if xp.isdtype(dtype, "integral") or xp.isdtype(dtype, "bool"):
        dtype = xp.result_type(dtype, xp.float64 if ctx.backend.name != "torch" else xp.float32)
    acc = xp.zeros(x.shape, dtype=dtype, device=ctx.device)
    x = xp.astype(x, dtype)
    for i in range(coeffs.shape[0]):
        acc = acc * x + xp.astype(coeffs[i], dtype)
    return acc


_polyval = Op("polyval", _polyval_generic)


@public(_polyval)
def polyval(coeffs: Any, x: Any, /) -> Any:
    """Evaluate a polynomial at ``x`` by Horner's rule, highest degree first (as numpy.polyval).

    Parameters
    ----------
    coeffs : array_like, shape (deg + 1,)
        Coefficients, highest degree first.
    x : array_like
        Points, of any shape.

    Returns
    -------
    array
        ``coeffs[0] * x**deg + ... + coeffs[deg]``, same shape as ``x``, in the inputs'
        library and device; integer inputs give floating results.

    Examples
    --------
    >>> import numpy as np
    >>> import xpkern
    >>> xpkern.polyval(np.array([1.0, 2.0, 1.0]), np.array([0.0, 1.0, 2.0]))
    array([1., 4., 9.])
    """
    ctx = resolve(coeffs, x)
    coeffs, x = ctx.asarray(coeffs), ctx.asarray(x)
    if coeffs.ndim != 1:
        raise ValueError(f"polyval: coeffs must be 1-D, got shape {tuple(coeffs.shape)}")
    for name, a in (("coeffs", coeffs), ("x", x)):
        if not ctx.xp.isdtype(a.dtype, ("bool", "integral", "real floating")):
            raise TypeError(f"polyval: {name} has unsupported dtype {a.dtype}")
    return _polyval(ctx, coeffs, x)


def _polyval_cpu_supports(ctx: Context, coeffs: Any, x: Any) -> str | None:
    return _checks.host_float_kernel(ctx, coeffs, x) or _numba_missing()


def _polyval_cpu_wins(ctx: Context, coeffs: Any, x: Any) -> str | None:
    size = math.prod(x.shape)
    if size < CPU_MIN_SIZE:
        return f"{size} points: below {CPU_MIN_SIZE}, the composed Horner loop is as fast"
    return None


@_polyval.register(
    "numba-cpu",
    reason="one compiled Numba loop doing all of Horner's steps per point",
    supports=_polyval_cpu_supports,
    wins=_polyval_cpu_wins,
)
def _polyval_cpu(ctx: Context, coeffs: Any, x: Any) -> Any:
    import numpy as np

    dtype = np.result_type(
        _backends.host_view(ctx, coeffs).dtype, _backends.host_view(ctx, x).dtype
    )
    c = np.ascontiguousarray(_backends.host_view(ctx, coeffs), dtype=dtype)
    xs = np.ascontiguousarray(_backends.host_view(ctx, x), dtype=dtype).reshape(-1)
    out = np.empty(xs.shape, dtype=dtype)
    parallel = _parallel(xs.shape[0])
    _cpu_threads.run(_polyval_kernel(parallel), [out, c, xs], parallel)
    return _backends.from_host(ctx, out.reshape(x.shape))


@functools.cache
def _polyval_kernel(parallel: bool) -> Any:
    import numba

    def horner(out: Any, c: Any, x: Any) -> None:
        for i in numba.prange(x.shape[0]):
            acc = 0.0
            xi = x[i]
            for j in range(c.shape[0]):
                acc = acc * xi + c[j]
            out[i] = acc

    return _cpu_threads.jit(horner, parallel)


_polyval.register(
    "numba-cuda",
    reason="one CUDA kernel doing all of Horner's steps per point, on the caller's stream",
    supports=_cuda.polyval_supports,
)(_cuda.polyval_run)
