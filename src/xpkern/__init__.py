"""xpkern: numerical kernels written once for every array library.

Algorithms are written against the Array API standard and run on the inputs' own library and
device (NumPy, PyTorch, CuPy, Dask, JAX, array-api-strict, ...). Where a benchmark shows a
fused kernel or a backend primitive is faster, it replaces the composed operations;
:func:`explain` says which implementation runs and why.
"""

from . import fmath
from ._dispatch import Explanation, config, explain
from .backends import namespace, to_backend
from .ops.cluster import kmeans
from .ops.distance import cdist, rbf_kernel
from .ops.elementwise import Elementwise, UnsupportedFunction, elementwise
from .ops.linalg import matmul
from .ops.linear_model import fit_linear, predict_linear
from .ops.polyval import polyval
from .ops.special import log_softmax, logsumexp, softmax
from .ops.stats import mean_var

__version__ = "0.1.0"

__all__ = [
    "Elementwise",
    "Explanation",
    "UnsupportedFunction",
    "elementwise",
    "fmath",
    "log_softmax",
    "logsumexp",
    "polyval",
    "predict_linear",
    "rbf_kernel",
    "softmax",
    "__version__",
    "cdist",
    "config",
    "explain",
    "fit_linear",
    "kmeans",
    "matmul",
    "mean_var",
    "namespace",
    "to_backend",
]
