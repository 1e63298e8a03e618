"""Agreement testing for code built on xpkern: the machinery xpkern's own tests use.

* :func:`assert_backends_agree` runs a function on every installed backend and every
  implementation the dispatcher has for it, against a float64 NumPy reference.
* :func:`arrays` is a Hypothesis strategy for arrays of any backend.
* ``pytest_plugins = ["xpkern.testing.plugin"]`` gives the ``backend`` and ``xp`` fixtures.

Hypothesis and pytest are needed only by the parts that use them
(``pip install "xpkern[test]"``).
"""

from ._agree import Checked, assert_backends_agree, default_rtol
from ._cases import BackendCase, available_cases
from ._strategies import arrays, float_elements

__all__ = [
    "BackendCase",
    "Checked",
    "arrays",
    "assert_backends_agree",
    "available_cases",
    "default_rtol",
    "float_elements",
]
