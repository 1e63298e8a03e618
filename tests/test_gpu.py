"""GPU-only behaviour: the caller's stream, cuBLAS syrk at size. Runs where CUDA is present."""

import math

import numpy as np
import pytest

import xpkern

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _cupy():
    return pytest.importorskip("cupy")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_cublas_gram_is_chosen_and_correct_at_size(dtype):
    _cupy()
    x = torch.randn(2048, 1024, device="cuda", dtype=dtype)
    assert xpkern.explain(xpkern.matmul, x).impl == "cublas-syrk"
    g = xpkern.matmul(x)
    assert g.device == x.device and g.dtype == dtype
    ref = x.double() @ x.double().T
    rel = ((g.double() - ref).abs().max() / ref.abs().max()).item()
    assert rel < (1e-5 if dtype == torch.float32 else 1e-12)
    assert torch.equal(g, g.T)


def test_cublas_gram_runs_on_the_callers_stream():
    _cupy()
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        x = torch.randn(4096, 2048, device="cuda")
        x.mul_(2.0)  # queued on the side stream; the Gram must wait for it without a sync
        g = xpkern.matmul(x)
        ref = x @ x.T
    side.synchronize()
    torch.testing.assert_close(g, ref, rtol=1e-4, atol=1e-3 * ref.abs().max().item())


def test_cupy_input_gives_cupy_output():
    cupy = _cupy()
    x = cupy.random.standard_normal((1024, 512), dtype=cupy.float32)
    g = xpkern.matmul(x)
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(g), cupy.asnumpy(x @ x.T), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize(("n", "k"), [(1, 16), (7, 16), (79, 16), (1024, 16), (100, 128)])
def test_small_grams_take_one_launch(n, k):
    cupy = _cupy()
    x = cupy.random.standard_normal((n, k), dtype=cupy.float32)
    wide = cupy.asnumpy(x).astype(np.float64)
    for a in (x, torch.as_tensor(x, device="cuda")):
        assert xpkern.explain(xpkern.matmul, a).impl == "numba-cuda"
        for _ in range(2):  # the full path, then the kept call
            g = xpkern.matmul(a)
            assert type(g) is type(a) and bool((g == g.T).all())
            np.testing.assert_allclose(cupy.asnumpy(cupy.asarray(g)), wide @ wide.T, rtol=1e-5,
                                       atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("shape", [(512, 256), (2048, 16)])
def test_grams_past_the_small_kernel_take_blas(shape):
    cupy = _cupy()
    x = cupy.random.standard_normal(shape, dtype=cupy.float32)
    expected = "cublas-syrk" if shape[0] <= 1024 else "generic"
    assert xpkern.explain(xpkern.matmul, x).impl == expected
    assert xpkern.explain(xpkern.matmul, torch.as_tensor(x, device="cuda")).impl == "generic"


@pytest.mark.parametrize("shape", [(1000,), (8192, 8192), (4, 1 << 16), (1, 1 << 22)])
def test_torch_mean_var_takes_the_kernel_few_long_rows_split(shape):
    x = torch.randn(shape, device="cuda")
    assert xpkern.explain(xpkern.mean_var, x, axis=-1).impl == "numba-cuda"
    mean, var = xpkern.mean_var(x, axis=-1)
    want_var, want_mean = torch.var_mean(x.double(), dim=-1, correction=0)
    torch.testing.assert_close(mean.double(), want_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(var.double(), want_var, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("shape", "expected"), [((1000,), "numba-cuda"),
                                                 ((4, 1 << 16), "numba-cuda"),
                                                 ((4, 1 << 20), "numba-cuda")])  # fmt: skip
def test_cupy_mean_var_takes_the_kernel_few_long_rows_split(shape, expected):
    cupy = _cupy()
    x = cupy.random.standard_normal(shape, dtype=cupy.float32)
    assert xpkern.explain(xpkern.mean_var, x, axis=-1).impl == expected
    mean, var = xpkern.mean_var(x, axis=-1)
    host = cupy.asnumpy(x).astype(np.float64)
    np.testing.assert_allclose(cupy.asnumpy(mean), host.mean(axis=-1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cupy.asnumpy(var), host.var(axis=-1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1 << 20), (3, 100_003)])
def test_mean_var_kernel_splits_few_long_rows(shape, dtype):
    from xpkern.backends import resolve
    from xpkern.ops.stats.cuda import kept_mean_var, parts_for, rows_mean_var

    rng = np.random.default_rng(6)
    host = (rng.standard_normal(shape) * 3 + 1e4).astype(dtype)
    if shape[0] == 3:
        host[1, 70_000] = np.inf
        host[2, [5, 99_999]] = [np.nan, -np.inf]
    parts = parts_for(shape[1], shape[0], 132)
    assert parts > 1
    with np.errstate(all="ignore"):
        wide = host.astype(np.float64)
        want_var, want_mean = wide.var(axis=-1), wide.mean(axis=-1)
    for x in (torch.as_tensor(host, device="cuda"), _cupy().asarray(host)):
        kept = kept_mean_var(resolve(x), x, 0.0, parts=parts)
        other = x * 1  # a kept call's second array: its own partial sums and output
        for found in (rows_mean_var(resolve(x), x, 0.0, parts=parts), kept(x), kept(other)):
            got_mean, got_var = (xpkern.to_backend(a, "numpy") for a in found)
            np.testing.assert_allclose(got_mean, want_mean, rtol=1e-6)
            np.testing.assert_allclose(got_var, want_var, rtol=1e-4, equal_nan=True)


def test_grad_input_on_gpu_takes_generic_path():
    x = torch.randn(512, 512, device="cuda", requires_grad=True)
    assert xpkern.explain(xpkern.matmul, x).impl == "generic"
    xpkern.matmul(x).sum().backward()
    assert x.grad is not None


def test_elementwise_on_cuda_uses_the_kernel_and_the_lean_path():
    cupy = _cupy()
    poly = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)
    for x in (torch.rand(1000, device="cuda"), cupy.random.random(1000, dtype="float32")):
        assert xpkern.explain(poly, x).impl == "numba-cuda"
        first, second = poly(x), poly(x)  # the second call takes the lean path
        assert type(second) is type(x) and second.device == x.device
        for got in (first, second):
            np.testing.assert_allclose(
                xpkern.to_backend(got, "numpy"),
                xpkern.to_backend(x, "numpy") ** 2 + 2 * xpkern.to_backend(x, "numpy") + 1,
                rtol=1e-6,
            )
    assert poly._fast


def test_lean_path_checks_what_can_change_between_calls():
    # Each call is made twice so the second takes the lean path; every answer must match the
    # full path's, whatever changed since the call that built the lean path.
    cupy = _cupy()
    scaled = xpkern.elementwise(lambda x, a, k: x * a + k)
    tx = torch.rand(1000, device="cuda")
    cx = cupy.random.random(1000, dtype="float32")
    calls = [
        (tx, 2.0, 3),
        (tx, 0.5, -7),  # new scalar values
        (tx, 2.0, 3.5),  # a float where an int was
        (tx[::2], 2.0, 3),  # strided
        (tx.double(), 2.0, 3),  # another dtype
        (torch.rand(7, 3, device="cuda"), 1.5, 2),  # another shape
        (torch.rand(0, device="cuda"), 1.0, 1),  # empty
        (tx, 1.0, 2**63),  # too wide for int64
        (torch.rand(1000, device="cuda", requires_grad=True), 2.0, 1),
        (cx, 2.0, 3),
        (cx, -1.0, 9),
        (cx[::3], 2.0, 3),
    ]
    for args in calls:
        with xpkern.config(impl="generic"):
            want = scaled(*args)
        for _ in range(2):
            try:
                got = scaled(*args)
            except (OverflowError, TypeError, ValueError) as exc:  # must match the full path
                with pytest.raises(type(exc)), xpkern.config(impl="fused"):
                    scaled(*args)
                break
            assert type(got) is type(want) and got.shape == want.shape
            assert got.dtype == want.dtype
            got_np, want_np = (xpkern.to_backend(v.detach() if hasattr(v, "detach") else v,
                                                 "numpy") for v in (got, want))  # fmt: skip
            np.testing.assert_allclose(got_np, want_np, rtol=1e-6)
    assert len(scaled._fast_calls) >= 2


def test_lean_path_on_a_cupy_stream_without_device_sync():
    cupy = _cupy()
    poly = xpkern.elementwise(lambda v: v * 3.0 + 1.0)
    x = cupy.random.random(1 << 20, dtype="float32")
    poly(x)  # builds the lean path on the null stream
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        y = x * 2.0  # queued on the side stream: a launch elsewhere would race it
        outs = [poly(y) for _ in range(3)]
    stream.synchronize()
    for out in outs:
        cupy.testing.assert_allclose(out, (x * 2.0) * 3.0 + 1.0, rtol=1e-6)


def test_elementwise_on_a_side_stream_without_device_sync():
    _cupy()
    poly = xpkern.elementwise(lambda x: x * 3.0 + 1.0)
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        x = torch.rand(1 << 22, device="cuda")
        x.mul_(2.0)
        outs = [poly(x) for _ in range(3)]
        ref = x * 3.0 + 1.0
    side.synchronize()
    for out in outs:
        torch.testing.assert_close(out, ref)


def test_polyval_on_cuda():
    _cupy()
    x = torch.linspace(-2, 2, 10_000, device="cuda", dtype=torch.float64)
    c = torch.tensor([2.0, -1.0, 0.5], device="cuda", dtype=torch.float64)
    assert xpkern.explain(xpkern.polyval, c, x).impl == "numba-cuda"
    torch.testing.assert_close(xpkern.polyval(c, x), 2 * x**2 - x + 0.5)


def test_new_kernels_on_a_side_stream_without_device_sync():
    _cupy()
    side = torch.cuda.Stream()
    with torch.cuda.stream(side), xpkern.config(impl="fused"):  # the kernels at any size
        x = torch.randn(512, 300, device="cuda")
        x.mul_(3.0)  # queued on the side stream: a kernel on another stream would race it
        got = {
            "softmax": xpkern.softmax(x, axis=-1),
            "logsumexp": xpkern.logsumexp(x, axis=-1),
            "cdist": xpkern.cdist(x, x[:100]),
            "assign": xpkern.kmeans(x, 4, init=x[:4], max_iter=1)[1],
        }
        with xpkern.config(impl="numba-cuda"):  # torch's own cdist comes first
            got["cdist kernel"] = xpkern.cdist(x, x[:100])
        want = {
            "softmax": torch.softmax(x, -1),
            "logsumexp": torch.logsumexp(x, -1),
            "cdist": torch.cdist(x, x[:100], compute_mode="donot_use_mm_for_euclid_dist"),
        }
        want["cdist kernel"] = want["cdist"]
    side.synchronize()
    for name, w in want.items():
        torch.testing.assert_close(got[name], w, rtol=1e-4, atol=1e-4, msg=name)
    assert got["assign"].shape == (512,)
    with xpkern.config(impl="fused"):
        # torch's own softmax and cdist come first
        assert xpkern.explain(xpkern.log_softmax, x, axis=-1).impl == "numba-cuda"
        assert xpkern.explain(xpkern.cdist, x, x).impl == "torch"


@pytest.mark.parametrize("metric", ["euclidean", "cityblock"])
def test_torch_cdist_takes_exact_differences_and_keeps_grad(metric):
    x = torch.randn(20, 16, device="cuda", dtype=torch.float64)
    x[1] = x[0]  # a coincident pair: distance exactly 0, and a zero gradient there
    x.requires_grad_(True)
    assert xpkern.explain(xpkern.cdist, x, x, metric=metric).impl == "torch"
    got = xpkern.cdist(x, x, metric=metric)
    with xpkern.config(impl="generic"):
        want = xpkern.cdist(x, x, metric=metric)
    torch.testing.assert_close(got, want, rtol=1e-13, atol=0)
    assert bool((got.diagonal() == 0).all()) and float(got[0, 1].detach()) == 0.0
    (g_got,) = torch.autograd.grad(got.sum(), x)
    (g_want,) = torch.autograd.grad(want.sum(), x)
    torch.testing.assert_close(g_got, g_want)
    assert bool(torch.isfinite(g_got).all())


def test_torch_cdist_leaves_chebyshev_nan_and_large_inputs_to_the_kernels():
    x = torch.randn(64, 8, device="cuda")
    x[3, 2] = float("nan")
    found = xpkern.explain(xpkern.cdist, x, x, metric="chebyshev")
    assert found.impl != "torch" and "chebyshev" in str(found)
    got = xpkern.cdist(x, x, metric="chebyshev")
    assert bool(torch.isnan(got[3]).all()) and bool(torch.isnan(got[:, 3]).all())
    big = torch.randn(4096, 4096, device="cuda")
    assert xpkern.explain(xpkern.cdist, big, big).impl == "numba-cuda"
    measured = torch.randn(79, 16, device="cuda")  # 99856 pair-features: torch's own
    assert xpkern.explain(xpkern.cdist, measured, measured).impl == "torch"
    mid = torch.randn(256, 16, device="cuda")  # 2^20: the composed path
    assert xpkern.explain(xpkern.cdist, mid, mid).impl == "generic"


@pytest.mark.parametrize("library", ["torch", "cupy"])
def test_cdist_gemm_keeps_float32_accuracy_on_the_callers_stream(library, monkeypatch):
    # x @ y.T runs on tensor cores as three TF32 products through cuBLAS gemmEx: the distances
    # must keep float32 accuracy, also with torch's global TF32 switch on, and the work must be
    # queued on the caller's (non-default) stream after the writes to the input.
    cupy = _cupy()
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", True)
    side = torch.cuda.Stream()
    from xpkern.engines.cuda.streams import ExternalStream

    with torch.cuda.stream(side), cupy.cuda.Stream.from_external(ExternalStream(side.cuda_stream)):
        x = torch.randn(3000, 64, device="cuda")
        x.mul_(3.0)
        a = x if library == "torch" else cupy.asarray(x)
        assert xpkern.explain(xpkern.cdist, a, a[:1000]).impl == "numba-cuda"
        got = xpkern.cdist(a, a[:1000])
        got = torch.as_tensor(got, device="cuda") if library == "cupy" else got
        got = got + 0.0  # queued on the caller's stream after the call
    side.synchronize()
    want = torch.cdist(x.double(), x[:1000].double(), compute_mode="donot_use_mm_for_euclid_dist")
    assert float((got.double() - want).abs().max()) < 1e-6 * float(want.max()) * 8
    assert bool((got.diagonal() == 0).all())


@pytest.mark.slow
def test_indexing_beyond_2_31_elements():
    _cupy()
    n = 2**31 + 4099
    if torch.cuda.mem_get_info()[0] < 5 * n * 4:
        pytest.skip("needs about 45 GB of free device memory")
    x = torch.arange(n, device="cuda", dtype=torch.int64).remainder_(1009).to(torch.float32)
    y = xpkern.elementwise(lambda v: v * 2.0 + 1.0)(x)
    tail = slice(n - 5000, n)
    torch.testing.assert_close(y[tail], x[tail] * 2 + 1)
    torch.testing.assert_close(y[:5000], x[:5000] * 2 + 1)
    del y
    rows = x[: (n // 8192) * 8192].view(-1, 8192)  # 262144 rows: offsets past 2^31
    s = xpkern.log_softmax(rows, axis=-1)  # the CUDA row kernel (softmax: torch.softmax)
    torch.testing.assert_close(s[-3:], torch.log_softmax(rows[-3:], -1))
    del s
    lse = xpkern.logsumexp(rows, axis=-1)
    torch.testing.assert_close(lse[-3:], torch.logsumexp(rows[-3:], -1))


def test_no_device_memory_growth_over_10k_calls():
    cupy = _cupy()
    poly = xpkern.elementwise(lambda v: v * v + 1.0)
    x = torch.rand(1000, device="cuda")
    c = cupy.random.random(1000, dtype="float32")
    rows = torch.randn(64, 100, device="cuda")
    calls = [lambda: poly(x), lambda: poly(c), lambda: xpkern.softmax(rows, axis=-1),
             lambda: xpkern.cdist(rows, rows), lambda: xpkern.matmul(rows)]  # fmt: skip
    for call in calls:
        call()
    torch.cuda.synchronize()
    pool = cupy.get_default_memory_pool()
    before = (torch.cuda.memory_allocated(), pool.used_bytes())
    for _ in range(2000):
        for call in calls:
            call()
    torch.cuda.synchronize()
    after = (torch.cuda.memory_allocated(), pool.used_bytes())
    assert after[0] <= before[0] and after[1] <= before[1], (before, after)


def test_torch_cuda_without_cupy(monkeypatch):
    # CuPy absent, torch-CUDA present: kernels are launched by numba-cuda itself, the cuBLAS
    # Gram (which goes through CuPy) steps aside with the reason, and every answer is right.
    from xpkern.backends import Backend
    from xpkern.engines.cuda import launch

    installed = Backend.installed
    monkeypatch.setattr(Backend, "installed",
                        lambda self: self.name != "cupy" and installed(self))  # fmt: skip
    monkeypatch.setattr(launch, "_KERNELS", {})  # fresh launchers, built without CuPy
    x = torch.rand(100_000, device="cuda")
    poly = xpkern.elementwise(lambda v: v * 2.0 + 1.0)
    assert xpkern.explain(poly, x).impl == "numba-cuda"
    torch.testing.assert_close(poly(x), x * 2 + 1)
    assert not poly._fast  # the lean path needs CuPy's launcher
    a = torch.randn(4096, 4096, device="cuda")
    found = xpkern.explain(xpkern.matmul, a)
    assert found.impl != "cublas-syrk" and "CuPy" in str(found)
    torch.testing.assert_close(xpkern.matmul(a), a @ a.T, rtol=1e-4, atol=1e-2)
    rows = torch.randn(256, 8192, device="cuda")
    assert xpkern.explain(xpkern.log_softmax, rows, axis=-1).impl == "numba-cuda"
    torch.testing.assert_close(xpkern.log_softmax(rows, axis=-1), torch.log_softmax(rows, -1))


ROW_CALLS = {
    "softmax": (xpkern.softmax, {"axis": -1}),
    "log_softmax": (xpkern.log_softmax, {"axis": -1}),
    "logsumexp": (xpkern.logsumexp, {"axis": -1}),
    "logsumexp keepdims": (xpkern.logsumexp, {"axis": -1, "keepdims": True}),
    "mean_var": (xpkern.mean_var, {"axis": -1, "correction": 1}),
    "mean_var keepdims": (xpkern.mean_var, {"axis": -1, "keepdims": True}),
}


def _same(got, want, library):
    if isinstance(want, tuple):
        return all(_same(g, w, library) for g, w in zip(got, want, strict=True))
    assert type(got) is type(want) and got.shape == want.shape
    if library == "cupy":
        got, want = torch.as_tensor(got, device="cuda"), torch.as_tensor(want, device="cuda")
    return bool(torch.equal(got, want))


# One row in registers; rows of one element; rows in registers of a warp, of a block; rows in
# shared memory, in global memory.
ROW_SHAPES = [(1000,), (7, 1), (64, 300), (3, 4, 5000), (16, 3000), (4, 20000)]


@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("library", ["torch", "cupy"])
def test_kept_row_calls_launch_prepared_on_the_callers_stream(library, shape, monkeypatch):
    # A repeated call keeps its kernel launch prepared (engines/cuda/prepared.py): it must give
    # the full path's answer, on the caller's (non-default) stream, after its queued writes.
    cupy = _cupy()
    from xpkern.engines.cuda import prepared
    from xpkern.engines.cuda.streams import ExternalStream
    from xpkern.ops.special import core as special
    from xpkern.ops.stats import core as stats

    for kept in (special._logsumexp_calls, special._softmax_calls, special._log_softmax_calls,
                 stats._calls):  # fmt: skip
        kept.clear()
    launches, builds = [], []
    launch = prepared.PreparedLaunch.__call__
    monkeypatch.setattr(prepared.PreparedLaunch, "__call__",
                        lambda self, *a: launches.append(1) or launch(self, *a))  # fmt: skip
    build = prepared.PreparedLaunch.build.__func__
    counted = classmethod(lambda cls, *a: builds.append(1) or build(cls, *a))
    monkeypatch.setattr(prepared.PreparedLaunch, "build", counted)
    side = torch.cuda.Stream()
    got, want = {}, {}
    with torch.cuda.stream(side), cupy.cuda.Stream.from_external(ExternalStream(side.cuda_stream)):
        x = torch.randn(shape, device="cuda")
        a = x if library == "torch" else cupy.asarray(x)
        kernels = [name for name, (f, kw) in ROW_CALLS.items()
                   if xpkern.explain(f, a, **kw).impl == "numba-cuda"]  # fmt: skip
        for name in kernels:  # torch's own softmax comes first for most tensors
            f, kw = ROW_CALLS[name]
            for step in ("first", "kept"):
                a += 0.5  # queued on the side stream: the launches must come after it
                with xpkern.config(impl="numba-cuda"):  # the full path
                    want[name, step] = f(a, **kw)
                got[name, step] = f(a, **kw)
    side.synchronize()
    # The first call prepares its launches, the second finds them kept: one launch a call, two
    # where mean_var splits a few long rows over blocks (a scan, then the merge).
    from xpkern.engines.cuda import multiprocessors
    from xpkern.ops.stats.cuda import parts_for

    split = parts_for(shape[-1], math.prod(shape[:-1]), multiprocessors()) > 1
    steps = sum(2 if split and name.startswith("mean_var") else 1 for name in kernels)
    assert kernels and len(launches) == 2 * steps and len(builds) == steps
    for key, w in want.items():
        assert _same(got[key], w, library), key
