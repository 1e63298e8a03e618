"""xpkern: numerical kernels written once for every array library.

Algorithms are written against the Array API standard and run on the inputs' own library and
device (NumPy, PyTorch, CuPy, Dask, JAX, array-api-strict, ...). Where a benchmark shows a
fused kernel or a backend primitive is faster, it replaces the composed operations;
:func:`explain` says which implementation runs and why.
"""

from . import fmath
from ._backends import namespace, to_backend
from ._dispatch import Explanation, config, explain
from ._translate import UnsupportedFunction
from .elementwise import Elementwise, elementwise, polyval
from .linalg import matmul
from .linear_model import fit_linear, predict_linear

__version__ = "0.1.0"

__all__ = [
    "Elementwise",
    "Explanation",
    "UnsupportedFunction",
    "elementwise",
    "fmath",
    "polyval",
    "predict_linear",
    "__version__",
    "config",
    "explain",
    "fit_linear",
    "matmul",
    "namespace",
    "to_backend",
]
