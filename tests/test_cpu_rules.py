"""Rules that turn on the machine: the CPU's cores, whether NumPy's exp runs on vectors, and
how a GPU kernel splits a few long rows over the multiprocessors."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import xpkern
from xpkern.backends import BACKENDS
from xpkern.engines import numba_cpu

pytest.importorskip("numba")


@pytest.fixture
def host(monkeypatch):
    """Set the host's threads and whether NumPy's exp is vectorised."""

    def set_host(threads: int, vector_exp: bool | None) -> None:
        monkeypatch.setattr(numba_cpu, "threads", lambda: threads)
        monkeypatch.setattr(type(BACKENDS["numpy"]), "vector_exp", lambda self, d: vector_exp)

    return set_host


@pytest.mark.parametrize(
    ("dtype", "threads", "vector_exp", "want"),
    [
        ("float64", 2, False, "numba-cpu"),  # scalar exp: the loop over both cores wins
        ("float64", 2, True, "numba-cpu"),  # a vectorised exp: the loop still, on 2 cores
        ("float64", 1, True, "numba-cpu"),  # rows of up to 4096 float64: on one core too
        ("float64", 1, None, "numba-cpu"),  # unknown: as if vectorised, the same
        ("float32", 2, True, "numba-cpu"),
        ("float32", 1, True, "generic"),
        ("float32", 1, False, "numba-cpu"),  # scalar exp: the loop, even on one core
    ],
)
def test_softmax_rows_take_the_loop_where_it_wins(host, dtype, threads, vector_exp, want):
    host(threads, vector_exp)
    x = np.linspace(-3.0, 3.0, 100 * 1000).reshape(100, 1000).astype(dtype)
    assert xpkern.explain(xpkern.softmax, x, axis=-1).impl == want
    with xpkern.config(impl=want):
        got = xpkern.softmax(x, axis=-1)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(got, e / e.sum(axis=-1, keepdims=True), rtol=1e-6)


@pytest.mark.parametrize(("shape", "dtype", "want"), [
    ((10, 1000), "float64", "numba-cpu"),  # several float64 rows on one core: the loop
    ((15, 4096), "float64", "numba-cpu"),
    ((10, 1000), "float32", "generic"),  # NumPy's float32 exp has twice the lanes
    ((3, 10**4), "float64", "generic"),  # rows longer than one that takes the loop
    ((100, 10**4), "float64", "generic"),  # on one thread, as long
])  # fmt: skip
def test_softmax_rows_on_one_core(host, shape, dtype, want):
    host(1, True)
    x = np.linspace(-3.0, 3.0, math.prod(shape)).reshape(shape).astype(dtype)
    assert xpkern.explain(xpkern.softmax, x, axis=-1).impl == want


@pytest.mark.parametrize("vector_exp", [True, False])
def test_one_long_softmax_row_stays_composed(host, vector_exp):
    # One row runs on one core: past 4096 elements the composed form's 5 steps win.
    host(16, vector_exp)
    assert xpkern.explain(xpkern.softmax, np.ones(4097)).impl == "generic"
    assert xpkern.explain(xpkern.softmax, np.ones(4096)).impl == "numba-cpu"


@pytest.mark.parametrize("op", [xpkern.logsumexp, xpkern.log_softmax])
def test_log_rows_keep_the_loop_on_every_core_and_on_one(host, op):
    host(2, True)
    assert xpkern.explain(op, np.ones((100, 1000)), axis=-1).impl == "numba-cpu"
    for dtype in ("float32", "float64"):
        assert xpkern.explain(op, np.ones(10**6, dtype=dtype)).impl == "numba-cpu"


@pytest.mark.parametrize("op", [xpkern.logsumexp, xpkern.log_softmax])
def test_one_long_float32_torch_row_takes_torch_steps(host, op):
    # torch's fused steps run a vectorised float32 exp: one long row is faster composed.
    torch = pytest.importorskip("torch")
    host(2, True)
    long_row = torch.ones(2**16 + 1, dtype=torch.float32)
    assert xpkern.explain(op, long_row).impl == "generic"
    assert xpkern.explain(op, long_row[: 2**16]).impl == "numba-cpu"
    assert xpkern.explain(op, long_row.double()).impl == "numba-cpu"


def test_numpy_says_whether_its_exp_is_vectorised():
    numpy = BACKENDS["numpy"]
    for name in ("float32", "float64"):
        assert numpy.vector_exp(np.dtype(name)) in (True, False, None)
    assert numpy.vector_exp(np.dtype("int8")) is None
    # float32's exp is vectorised wherever float64's is
    if numpy.vector_exp(np.dtype("float64")):
        assert numpy.vector_exp(np.dtype("float32"))


def test_threads_follow_numba_or_its_setting(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # as if Numba were not imported yet
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    assert numba_cpu.threads() == 3
    monkeypatch.setenv("NUMBA_NUM_THREADS", "")
    assert numba_cpu.threads() >= 1


def test_mean_var_splits_only_few_long_rows():
    from types import SimpleNamespace

    from xpkern.ops.stats import cuda

    assert cuda.parts_for(2**24, 1, 132) == 4 * 132  # 4 blocks a multiprocessor
    assert cuda.parts_for(2**20, 1, 132) == 2**20 // cuda.PART  # parts of at least PART
    assert cuda.parts_for(2**20, 16, 132) == 33
    assert cuda.parts_for(2**20, 132, 132) == 1  # enough rows to fill the device
    assert cuda.parts_for(2**24, 4, 132, blocks=16) == 16 * 132 // 4
    for n, parts in [(2100, 1), (2100, 2), (2100, 3), (10**6 + 7, 33)]:
        chunk = cuda._part_length(n, parts)
        assert chunk % (cuda.THREADS * cuda.UNROLL) == 0 and (n + chunk - 1) // chunk <= parts

    def parts(shape):
        return cuda._parts(SimpleNamespace(shape=shape))

    # Split past SPLIT_ROW whatever the library (auto leaves torch's few rows past 8192 to
    # torch: the next test).
    assert parts((1, 16384)) == 1
    assert parts((1, 16385)) > 1
    assert parts((1, 2**16)) > 1
    assert parts((4, 2**20)) > 1
    assert parts((1024, 2**20)) == 1
    assert cuda.parts_for(cuda.SPLIT_ROW, 1, 132) == 1  # rows up to SPLIT_ROW are not split


def test_mean_var_cuda_takes_few_long_rows_of_every_library(monkeypatch):
    # Few long rows are split over blocks (timed faster than torch's own reductions and
    # CuPy's): the kernel declines no shape it supports, whatever the library.
    from types import SimpleNamespace

    from xpkern.ops.stats import cuda
    from xpkern.ops.stats.core import mean_var_op

    monkeypatch.setattr(cuda.engine, "multiprocessors", lambda: 132)
    kernel = next(impl for impl in mean_var_op.impls if impl.name == "numba-cuda")
    for library in ("torch", "cupy"):
        ctx = SimpleNamespace(backend=SimpleNamespace(name=library))
        for shape in [(1, 2**24), (4, 8193), (131, 2**20), (16, 2**20), (1000,)]:
            x = SimpleNamespace(shape=shape)
            assert kernel.wins(ctx, x, (len(shape) - 1,), 0.0, False) is None
