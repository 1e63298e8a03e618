"""Agreement testing for code built on xpkern: the machinery xpkern's own tests use.

* :func:`assert_backends_agree` runs a function on every installed backend and every
  implementation the dispatcher has for it, against a float64 NumPy reference.
* :func:`arrays` is a Hypothesis strategy for arrays of any backend; :func:`edge_values` and
  :func:`edge_elements` give the values where each dtype's arithmetic goes wrong first, and
  :func:`assert_matches_numpy` compares a result with NumPy's bit for bit (or within ulps).
* ``pytest_plugins = ["xpkern.testing.plugin"]`` gives the ``backend`` and ``xp`` fixtures.

Hypothesis and pytest are needed only by the parts that use them
(``pip install "xpkern[test]"``).
"""

from ._agree import Checked, assert_backends_agree, default_rtol
from ._cases import BackendCase, available_cases
from ._edges import EDGE_DTYPES, assert_matches_numpy, edge_elements, edge_values, ulp_distance
from ._strategies import arrays, float_elements

__all__ = [
    "EDGE_DTYPES",
    "BackendCase",
    "Checked",
    "arrays",
    "assert_backends_agree",
    "assert_matches_numpy",
    "available_cases",
    "default_rtol",
    "edge_elements",
    "edge_values",
    "float_elements",
    "ulp_distance",
]
