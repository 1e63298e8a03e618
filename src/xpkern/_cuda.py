"""The one place that talks to CUDA: streams, cuBLAS calls and kernel launches.

Work runs on the caller's current stream (torch's for tensors, CuPy's for CuPy arrays), never
on a stream of our own, and never with a device-wide synchronisation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

from ._backends import Context

__all__ = ["gram_syrk", "on_caller_stream"]


@contextlib.contextmanager
def on_caller_stream(ctx: Context, x: Any) -> Iterator[Any]:
    """CuPy, with its current stream set to the stream the caller's library is using."""
    import cupy

    if ctx.backend.name != "torch":
        with cupy.cuda.Device(x.device.id):
            yield cupy
        return
    import torch

    stream = _TorchStream(torch.cuda.current_stream(x.device).cuda_stream)
    with cupy.cuda.Device(x.device.index), cupy.cuda.Stream.from_external(stream):
        yield cupy


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
        kernel = cuda.jit("void(float32[:])")(_probe_kernel)
        out = cuda.device_array(1, dtype="float32")
        kernel[1, 1](out)
        if float(out.copy_to_host()[0]) != 1.0:
            return False, "numba-cuda's probe kernel returned a wrong value"
    except Exception as exc:  # any failure means: do not use this engine
        return False, f"numba-cuda cannot compile here: {type(exc).__name__}: {exc}"
    import numba_cuda  # type: ignore[import-not-found]

    return True, f"numba-cuda {getattr(numba_cuda, '__version__', '?')}"


def _probe_kernel(out: Any) -> None:
    out[0] = 1.0
