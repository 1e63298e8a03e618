"""Every CUDA kernel xpkern can generate compiles to PTX, with the NumPy installed here.

``compile_ptx`` needs no GPU, only the NVVM library (the ``numba-cuda[cu13]`` extra brings it),
so this runs on any machine; ``nox -s ptx`` runs it on the newest NumPy, where a compiler that
no longer works with NumPy (numba-cuda 0.30 and NumPy 2.5, say) fails CI instead of turning
every fused CUDA kernel off on users' GPU machines. It runs where ``XPKERN_REQUIRE_PTX=1``
(the nox session sets it), since it needs numba-cuda with the CUDA toolkit's NVVM and NVRTC.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

REQUIRED = os.environ.get("XPKERN_REQUIRE_PTX", "0") not in ("", "0")
SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
CC = (9, 0)

pytestmark = [
    pytest.mark.skipif(SIMULATED, reason="the CUDA simulator compiles nothing"),
    pytest.mark.skipif(not REQUIRED, reason="set XPKERN_REQUIRE_PTX=1 (nox -s ptx)"),
]

FAMILIES = ["elementwise", "polyval", "special", "stats", "distance", "cluster", "linear_model",
            "linalg"]  # fmt: skip


def _cases():
    for family in FAMILIES:
        module = importlib.import_module(f"xpkern.ops.{family}.cuda")
        yield from module.ptx_cases()


def _compile(case):
    from xpkern.engines.cuda import compiler

    label, kernel, types_, raw = case
    ptx = compiler.compile_ptx(kernel, types_, raw=raw, cc=CC)
    assert ".entry" in ptx, label
    return ptx


def test_every_family_has_kernels():
    labels = [label for label, *_ in _cases()]
    assert len(labels) == len(set(labels))
    for family in ("elementwise", "polyval", "logsumexp", "softmax", "log_softmax", "pairs",
                   "epilogue", "kmeans assign", "kmeans partial", "kmeans finish",
                   "fit_linear", "mean_var", "mean_var parts", "mean_var merge",
                   "small gram"):  # fmt: skip
        assert any(label.startswith(family) for label in labels), family
    layouts = {label.split()[2] for label in labels if label.startswith("softmax")}
    assert layouts == {"registers", "shared", "global"}


@pytest.mark.parametrize("family", FAMILIES)
def test_every_kernel_compiles_to_ptx(family):
    module = importlib.import_module(f"xpkern.ops.{family}.cuda")
    compiled = [_compile(case) for case in module.ptx_cases()]
    assert compiled


def test_numpy_is_left_as_it_was():
    from xpkern.engines.cuda import compat, compiler

    assert compiler.NAME == "numba-cuda"
    had = compat.applied() is not None
    # The measure lends numpy.row_stack only where NumPy no longer has it, and takes it back.
    assert had == (np.lib.NumpyVersion(np.__version__) >= "2.5.0")
    assert hasattr(np, "row_stack") == (not had)


def test_launch_bounds_apply_to_compiled_ptx():
    from xpkern.engines.cuda import with_launch_bounds

    label, kernel, types_, raw = next(iter(_cases()))
    bounded = with_launch_bounds(_compile((label, kernel, types_, raw)), 256, 5)
    assert ".maxntid 256, 1, 1\n.minnctapersm 5" in bounded


def _stand_in(numba_type):
    """An argument of ``numba_type``: a CUDA-array stand-in (shape, dtype, strides, data
    pointer) for an array type, a NumPy scalar for a scalar type."""
    from types import SimpleNamespace

    ndim = getattr(numba_type, "ndim", None)
    if ndim is None:
        return np.dtype(str(numba_type)).type(0)
    dtype = np.dtype(str(numba_type.dtype))
    shape = (2,) * ndim
    return SimpleNamespace(shape=shape, dtype=dtype, itemsize=dtype.itemsize,
                           strides=np.empty(shape, dtype).strides,
                           data=SimpleNamespace(ptr=0))  # fmt: skip


@pytest.mark.parametrize("family", ["special", "stats"])
def test_prepared_launches_fill_every_kernel_parameter(family):
    # A kept call launches its kernel with arguments laid out once (engines/cuda/prepared.py);
    # the kernel must take exactly as many parameters as that layout has slots.
    import re

    from xpkern.engines.cuda.prepared import argument_layout

    module = importlib.import_module(f"xpkern.ops.{family}.cuda")
    for case in list(module.ptx_cases())[:4]:
        label, _, types_, raw = case
        found = argument_layout([_stand_in(t) for t in types_], raw)
        assert found is not None, label
        entry = re.search(r"\.entry\s+[\w$]+\s*\(([^)]*)\)", _compile(case))
        assert entry is not None, label
        assert entry.group(1).count(".param") == len(found[0]), label
