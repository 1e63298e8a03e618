"""Per-call cost of small calls: each public op against the plain-library way of computing the
same thing, on the same arrays, in the same run.

Small arrays make the host time visible: what a call costs above its arithmetic is what a
library that calls xpkern thousands of times pays. Each row times the two calls in alternating
batches and keeps the fastest batch of each (the least-disturbed measure of a fixed cost), as
single-call latency: on a GPU every call is followed by a synchronisation. GPU rows also give
pipelined throughput (many calls, one synchronisation) and, for the row ops on 8192 x 8192
float32, the single-call latency against the device copy of the same array; CPU rows also
give one call after 50 ms of idling (a kernel on every core wakes its threads first). The
import of ``xpkern`` is timed in fresh interpreters (``-X importtime``, median of 7) on top
of NumPy.

``python -m benchmarks --only overhead [--gpu] [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import fastest_batches, sync_for

# Targets of the per-call cost (ratio to the plain way), by where the arrays live.
TARGETS = {"numpy": 2.0, "torch": 3.0, "cuda": 1.5}
TARGET_OVERRIDES = {("numpy", "matmul(x)"): 1.5, ("numpy", "cdist"): 1.5}


def suite(gpu: bool, quick: bool) -> list[dict[str, Any]]:
    rows = [] if gpu else [_import_row(quick)]
    for backend, xp_name, arrays in _cases(gpu):
        for name, ours, plain, peer in _pairs(xp_name, arrays):
            like = arrays[1] if name in ("matmul(x)", "cdist") else arrays[0]  # the (100, 10)
            rows.append(_compare(backend, name, ours, plain, peer, like, quick))
    rows += _large_rows(quick) if gpu else _after_idle_rows(quick)
    return rows


def _after_idle_rows(quick: bool) -> list[dict[str, Any]]:
    """One call after 50 ms of idling against the same call back to back, for kernels that
    run on every core (10^6 float64), and for NumPy's composed ops beside them: what a
    program that calls now and then sees."""
    x = np.random.default_rng(1).standard_normal((1000, 1000))
    calls = {
        "poly": (lambda: _POLY(x), lambda: x**2 + 2 * x + 1, "x**2 + 2*x + 1"),
        "logsumexp": (lambda: xpkern.logsumexp(x, axis=-1),
                      lambda: np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)),
                      "log(sum(exp(x - max)))"),
    }  # fmt: skip
    rows = []
    for name, (ours, plain, peer) in calls.items():
        for _ in range(2000):  # hot: elementwise hands its kept call over to the kernel
            ours()
        idle = [_after_idle(fn, 3 if quick else 9) for fn in (ours, plain)]
        busy = _batches([ours, plain], lambda: None, quick, each_sync=True)
        rows.append({"suite": "after idle", "backend": "numpy", "op": name, "size": x.size,
                     "xpkern us": 1e6 * idle[0], "back to back us": 1e6 * busy[0],
                     "plain": peer, "plain us": 1e6 * idle[1],
                     "plain back to back us": 1e6 * busy[1],
                     "ratio": idle[0] / idle[1]})  # fmt: skip
    return rows


def _after_idle(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of one call of ``fn`` made after 50 ms of sleep."""
    times = []
    for _ in range(repeat):
        time.sleep(0.05)
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cases(gpu: bool) -> list[tuple[str, str, tuple[Any, ...]]]:
    rng = np.random.default_rng(0)
    a, m = rng.random(10), rng.random((100, 10))
    found = []
    if gpu:
        n = 1000
        a, m = rng.random(n, dtype=np.float32), rng.random((100, 10), dtype=np.float32)
        try:
            import torch

            found.append(("torch-cuda", "torch", (torch.from_numpy(a).cuda(),
                                                  torch.from_numpy(m).cuda())))  # fmt: skip
        except (ImportError, AssertionError, RuntimeError):
            pass
        try:
            import cupy

            found.append(("cupy", "cupy", (cupy.asarray(a), cupy.asarray(m))))
        except ImportError:
            pass
        return found
    found.append(("numpy", "numpy", (a, m)))
    try:
        import torch

        found.append(("torch", "torch", (torch.from_numpy(a), torch.from_numpy(m))))
    except ImportError:
        pass
    return found


_POLY = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)


def _pairs(lib: str, arrays: tuple[Any, ...]) -> list[tuple[str, Callable[[], Any],
                                                          Callable[[], Any], str]]:  # fmt: skip
    """(op, xpkern's call, the plain call, what the plain call is) for one library."""
    a, m = arrays
    if lib == "torch":
        import torch

        return [
            ("softmax", lambda: xpkern.softmax(a), lambda: torch.softmax(a, -1), "torch.softmax"),
            ("logsumexp", lambda: xpkern.logsumexp(a), lambda: torch.logsumexp(a, 0),
             "torch.logsumexp"),
            ("mean_var", lambda: xpkern.mean_var(a), lambda: torch.var_mean(a, correction=0),
             "torch.var_mean"),
            ("poly", lambda: _POLY(a), lambda: a**2 + 2 * a + 1, "a**2 + 2*a + 1"),
            ("matmul(x)", lambda: xpkern.matmul(m), lambda: m @ m.T, "m @ m.T"),
            ("cdist", lambda: xpkern.cdist(m, m), lambda: torch.cdist(m, m), "torch.cdist"),
        ]  # fmt: skip
    np_ = np if lib == "numpy" else __import__(lib)

    def softmax() -> Any:
        e = np_.exp(a - a.max())
        return e / e.sum()

    def logsumexp() -> Any:
        top = a.max()
        return np_.log(np_.exp(a - top).sum()) + top

    rows = [
        ("softmax", lambda: xpkern.softmax(a), softmax, "exp(a - max) / sum"),
        ("logsumexp", lambda: xpkern.logsumexp(a), logsumexp, "log(sum(exp(a - max))) + max"),
        ("mean_var", lambda: xpkern.mean_var(a), lambda: (a.mean(), a.var()), "a.mean(), a.var()"),
        ("poly", lambda: _POLY(a), lambda: a**2 + 2 * a + 1, "a**2 + 2*a + 1"),
        ("matmul(x)", lambda: xpkern.matmul(m), lambda: m @ m.T, "m @ m.T"),
    ]  # fmt: skip
    if lib == "numpy":
        from scipy.spatial.distance import cdist

        rows.append(("cdist", lambda: xpkern.cdist(m, m), lambda: cdist(m, m),
                     "scipy.spatial.distance.cdist"))  # fmt: skip
    return rows


def _batches(fns: list[Callable[[], Any]], sync: Callable[[], None], quick: bool,
             each_sync: bool) -> list[float]:  # fmt: skip
    """Fastest batch time per call of each of ``fns``, batches alternating between them."""
    named = {str(i): fn for i, fn in enumerate(fns)}
    inner = dict.fromkeys(named, 20 if quick else 200)
    best = fastest_batches(named, sync, rounds=5 if quick else 15, inner=inner,
                           each_sync=each_sync)  # fmt: skip
    return [best[name] for name in named]


def _compare(backend: str, name: str, ours: Callable[[], Any], plain: Callable[[], Any],
             peer: str, like: Any, quick: bool) -> dict[str, Any]:  # fmt: skip
    sync = sync_for(like)
    gpu = backend in ("torch-cuda", "cupy")
    us, them = _batches([ours, plain], sync, quick, each_sync=True)
    row = {"suite": "per call", "backend": backend, "op": name,
           "size": int(np.prod(like.shape)), "xpkern us": 1e6 * us, "plain": peer,
           "plain us": 1e6 * them, "ratio": us / them}  # fmt: skip
    if gpu:
        us, them = _batches([ours, plain], sync, quick, each_sync=False)
        row.update({"pipelined xpkern us": 1e6 * us, "pipelined plain us": 1e6 * them,
                    "pipelined ratio": us / them})  # fmt: skip
    target = TARGET_OVERRIDES.get((backend, name), TARGETS["cuda" if gpu else backend])
    row["target"] = target
    row["meets"] = "yes" if row["ratio"] <= target else "NO"
    return row


def _import_row(quick: bool) -> dict[str, Any]:
    """``import xpkern`` on top of NumPy in fresh interpreters: median of 7 (3 if quick)."""
    times = []
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for _ in range(3 if quick else 7):
        out = subprocess.run([sys.executable, "-X", "importtime", "-c",
                              "import numpy; import xpkern"], capture_output=True, text=True,
                             env=env, check=True)  # fmt: skip
        line = [s for s in out.stderr.splitlines() if s.rstrip().endswith("| xpkern")][-1]
        times.append(int(line.split("|")[1]) / 1e3)
    ms = statistics.median(times)
    return {"suite": "import", "backend": "-", "op": "import xpkern (after numpy)",
            "xpkern us": 1e3 * ms, "target": "15 ms",
            "meets": "yes" if ms <= 15 else "NO"}  # fmt: skip


def _large_rows(quick: bool) -> list[dict[str, Any]]:
    """Row ops on 8192 x 8192 float32 (CUDA torch): one synchronised call against the copy."""
    import torch

    n = 4096 if quick else 8192
    x = torch.rand(n, n, device="cuda")
    out = torch.empty_like(x)
    sync = torch.cuda.synchronize
    peers = {"mean_var": "torch.var_mean"}
    calls = {
        "softmax": (lambda: xpkern.softmax(x, axis=-1), lambda: torch.softmax(x, -1)),
        "log_softmax": (lambda: xpkern.log_softmax(x, axis=-1),
                        lambda: torch.log_softmax(x, -1)),
        "logsumexp": (lambda: xpkern.logsumexp(x, axis=-1), lambda: torch.logsumexp(x, -1)),
        "mean_var": (lambda: xpkern.mean_var(x, axis=-1),
                     lambda: torch.var_mean(x, -1, correction=0)),
    }  # fmt: skip
    rows = []
    for name, (ours, plain) in calls.items():
        us, them, copy = _batches([ours, plain, lambda: out.copy_(x)], sync, True, True)
        peer = peers.get(name, f"torch.{name}")
        rows.append({"suite": "one large call", "backend": "torch-cuda", "op": name,
                     "size": n * n, "xpkern us": 1e6 * us, "plain": peer,
                     "plain us": 1e6 * them, "ratio": us / them, "copy us": 1e6 * copy,
                     "x copy": us / copy, "target": "1.3x copy",
                     "meets": "yes" if us / copy <= 1.3 else "NO"})  # fmt: skip
    return rows
