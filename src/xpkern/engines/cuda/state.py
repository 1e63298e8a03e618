"""Whether the CUDA engine can run here, said once and in words."""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from typing import Any

from ..._checks import needs_grad, not_float, not_on_cuda
from ...backends import Context
from ..notice import warn_once

__all__ = ["kernel_supports", "problem", "simulated", "status", "warn_once"]


def simulated() -> bool:
    """Whether numba-cuda's CUDA simulator runs kernels on the CPU (``NUMBA_ENABLE_CUDASIM``)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


@lru_cache(maxsize=1)
def status() -> tuple[bool, str]:
    """Whether the engine can compile and run kernels here, and which one it is or why not."""
    import importlib.util

    if importlib.util.find_spec("numba_cuda") is None:
        return False, 'numba-cuda is not installed (pip install "xpkern[cuda13]")'
    try:
        from . import compiler

        if not compiler.is_available():
            return False, "numba-cuda sees no CUDA device"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the probe's one-thread grid draws a warning
            kernel = compiler.cuda.jit("void(float32[:])")(_probe_kernel)
            out = compiler.cuda.device_array(1, dtype="float32")
            kernel[1, 1](out)
        if float(out.copy_to_host()[0]) != 1.0:
            return False, "numba-cuda's probe kernel returned a wrong value"
    except Exception as exc:  # any failure means: do not use this engine
        return False, f"numba-cuda cannot compile here: {type(exc).__name__}: {exc}"
    from .compat import applied

    measure = applied()
    return True, f"{compiler.NAME} {compiler.version()}" + (f" ({measure})" if measure else "")


def _probe_kernel(out: Any) -> None:
    out[0] = 1.0


def problem() -> str | None:
    """Why the engine cannot run here (warned once), or None."""
    ok, why = status()
    if not ok:
        warn_once(why)
        return why
    return None


def kernel_supports(ctx: Context, *arrays: Any) -> str | None:
    """Why a CUDA kernel cannot take these arrays, or None: CUDA arrays of float32/float64
    that need no grad, and a working engine."""
    return not_on_cuda(ctx) or needs_grad(*arrays) or not_float(*arrays) or problem()
