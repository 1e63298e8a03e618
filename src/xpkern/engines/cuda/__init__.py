"""The CUDA engine: kernels compiled once per signature and launched on the caller's stream.

* :mod:`.compiler`: the one file that names the compiler (numba-cuda), and :mod:`.compat`,
  its NumPy compatibility measure;
* :mod:`.state`: whether the engine runs here, and why not;
* :mod:`.device`, :mod:`.streams`: the current device and the caller's stream;
* :mod:`.launch`: compiling and launching kernels given as source text, launch bounds, grids;
* :mod:`.prepared`: launches prepared once per argument signature, through the driver;
* :mod:`.lean`: the call generated per argument signature for grid-stride kernels;
* :mod:`.blas`: cuBLAS syrk and gemmEx.

Importing this package imports neither the compiler nor CuPy.
"""

from .blas import gemm_nt, gram_syrk, matmul_into, tf32_split, tf32_unavailable
from .device import multiprocessors
from .launch import (
    THREADS,
    Kernel,
    Launcher,
    cached_kernel,
    empty,
    first_array,
    is_array,
    with_launch_bounds,
)
from .lean import FlatCall, signature
from .prepared import PreparedLaunch, kept_launches
from .state import kernel_supports, problem, simulated, status, warn_once

SHARED_BYTES = 48 * 1024  # the shared memory a block may take without opting in

__all__ = [
    "SHARED_BYTES",
    "THREADS",
    "FlatCall",
    "Kernel",
    "Launcher",
    "PreparedLaunch",
    "cached_kernel",
    "empty",
    "first_array",
    "gemm_nt",
    "gram_syrk",
    "is_array",
    "kept_launches",
    "kernel_supports",
    "matmul_into",
    "multiprocessors",
    "problem",
    "signature",
    "simulated",
    "status",
    "tf32_split",
    "tf32_unavailable",
    "warn_once",
    "with_launch_bounds",
]
