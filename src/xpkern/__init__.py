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
from .cluster import kmeans
from .distance import cdist, rbf_kernel
from .elementwise import Elementwise, elementwise, polyval
from .linalg import matmul
from .linear_model import fit_linear, predict_linear
from .special import log_softmax, logsumexp, softmax
from .stats import mean_var

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
