"""Does ``auto`` pick the fastest way? Every implementation of each op, the library's own way
of computing the same thing, and ``auto``, over a sweep of sizes, timed in one run.

For each (backend, op, size) the row names the fastest candidate and gives ``auto``'s time as
a ratio to it; the target is 1.1. Times are the fastest of alternating batches of calls, each
call synchronised on a GPU (single-call latency); GPU rows also give pipelined throughput.
An implementation is timed forced by ``xpkern.config``, whose own cost (timed alone) is
subtracted; ``auto`` and the library's own way are plain calls.
The row ops reduce the last axis of ``(n // 1000, 1000)`` arrays (1-D below 1000 elements).

``python -m benchmarks --only auto [--gpu] [--quick]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import fastest_batches, sync_for

TARGET = 1.1
_POLY = xpkern.elementwise(lambda x: x**2 + 2 * x + 1)


def suite(gpu: bool, quick: bool) -> list[dict[str, Any]]:
    sizes = [10, 1000, 10**5] if quick else [10, 1000, 10**4, 10**5, 10**6]
    if gpu:
        sizes = [10**3, 10**5, 2**20, 2**24] if not quick else [10**3, 2**20]
    rows = []
    for backend, convert in _backends(gpu):
        for n in sizes:
            rng = np.random.default_rng(n)
            shape = (n,) if n < 1000 else (n // 1000, 1000)
            dtype = np.float32 if gpu else np.float64
            x = convert(rng.standard_normal(shape).astype(dtype))
            m = convert(rng.random((max(2, int(n**0.5) // 4), 16)).astype(dtype))
            for op, call, native in _ops(backend, x, m):
                rows.append(_row(backend, op, n, call, native, x, quick, gpu))
    return rows


def _backends(gpu: bool) -> list[tuple[str, Callable[[Any], Any]]]:
    found: list[tuple[str, Callable[[Any], Any]]] = []
    try:
        import torch
    except ImportError:
        torch = None
    if gpu:
        if torch is not None and torch.cuda.is_available():
            found.append(("torch-cuda", lambda a: torch.from_numpy(a).cuda()))
        try:
            import cupy

            found.append(("cupy", cupy.asarray))
        except ImportError:
            pass
        return found
    found.append(("numpy", lambda a: a))
    if torch is not None:
        found.append(("torch", torch.from_numpy))
    return found


def _ops(backend: str, x: Any, m: Any) -> list[tuple[str, Callable[..., Any], Any]]:
    """(op, xpkern's call, (the library's own way, its name)) for one backend."""
    if backend.startswith("torch"):
        import torch

        native = {
            "softmax": (lambda: torch.softmax(x, -1), "torch.softmax"),
            "log_softmax": (lambda: torch.log_softmax(x, -1), "torch.log_softmax"),
            "logsumexp": (lambda: torch.logsumexp(x, -1), "torch.logsumexp"),
            "mean_var": (lambda: torch.var_mean(x, -1, correction=0), "torch.var_mean"),
            "cdist": (lambda: torch.cdist(m, m), "torch.cdist"),
        }
    elif backend == "numpy":
        from scipy import special
        from scipy.spatial import distance

        native = {
            "softmax": (lambda: special.softmax(x, axis=-1), "scipy.special.softmax"),
            "log_softmax": (lambda: special.log_softmax(x, axis=-1), "scipy.special.log_softmax"),
            "logsumexp": (lambda: special.logsumexp(x, axis=-1), "scipy.special.logsumexp"),
            "mean_var": (lambda: (x.mean(-1), x.var(-1)), "x.mean, x.var"),
            "cdist": (lambda: distance.cdist(m, m), "scipy.spatial.distance.cdist"),
        }
    else:  # CuPy
        native = {"mean_var": (lambda: (x.mean(-1), x.var(-1)), "x.mean, x.var")}
    native["poly"] = (lambda: x**2 + 2 * x + 1, "x**2 + 2*x + 1")
    native["matmul(x)"] = (lambda: m @ m.T, "m @ m.T")
    calls = {
        "softmax": (xpkern.softmax, (x,), {"axis": -1}),
        "log_softmax": (xpkern.log_softmax, (x,), {"axis": -1}),
        "logsumexp": (xpkern.logsumexp, (x,), {"axis": -1}),
        "mean_var": (xpkern.mean_var, (x,), {"axis": -1}),
        "poly": (_POLY, (x,), {}),
        "matmul(x)": (xpkern.matmul, (m,), {}),
        "cdist": (xpkern.cdist, (m, m), {}),
    }
    return [(op, calls[op], native.get(op)) for op in calls]


def _times(fns: dict[str, Callable[[], Any]], sync: Callable[[], None], quick: bool,
           each_sync: bool) -> dict[str, float]:  # fmt: skip
    for fn in fns.values():
        fn()
    sync()
    once = {}
    for name, fn in fns.items():
        # Timed right after a call of its own: the first call after another candidate's can
        # be slower (a parallel kernel's threads wake up), which would size its batches small.
        fn()
        sync()
        start = time.perf_counter()
        fn()
        sync()
        once[name] = time.perf_counter() - start
    budget = 0.01 if quick else 0.03
    inner = {name: max(1, int(budget / max(t, 1e-7))) for name, t in once.items()}
    return fastest_batches(fns, sync, rounds=3 if quick else 7, inner=inner,
                           each_sync=each_sync)  # fmt: skip


def _row(backend: str, op: str, n: int, call: Any, native: Any, x: Any, quick: bool,
         gpu: bool) -> dict[str, Any]:  # fmt: skip
    fn, args, kwargs = call
    found = xpkern.explain(fn, *args, **kwargs)
    fns: dict[str, Callable[[], Any]] = {}
    for impl in found.supported():
        fns[impl] = _forced(fn, args, kwargs, impl)
    if native is not None:
        fns[native[1]] = native[0]
    fns["auto"] = lambda: fn(*args, **kwargs)
    fns["config"] = _forced(lambda: None, (), {}, "auto")  # what forcing adds to a call
    sync = sync_for(x)
    row: dict[str, Any] = {"backend": backend, "op": op, "size": n, "auto picks": found.impl}
    for label, each in (("", True), ("pipelined ", False)):
        if label and not gpu:
            continue
        times = _times(fns, sync, quick, each)
        forcing = times.pop("config")
        for impl in found.supported():
            times[impl] = max(times[impl] - forcing, 1e-9)
        best = min((t, name) for name, t in times.items() if name != "auto")
        row[f"{label}times us"] = {name: 1e6 * t for name, t in times.items()}  # JSON only
        row.update({f"{label}fastest": best[1], f"{label}fastest us": 1e6 * best[0],
                    f"{label}auto us": 1e6 * times["auto"],
                    f"{label}auto / fastest": times["auto"] / best[0]})  # fmt: skip
    row["meets"] = "yes" if all(v <= TARGET for k, v in row.items()
                                if k.endswith("auto / fastest")) else "NO"  # fmt: skip
    return row


def _forced(fn: Any, args: Any, kwargs: Any, impl: str) -> Callable[[], Any]:
    def call() -> Any:
        with xpkern.config(impl=impl):
            return fn(*args, **kwargs)

    return call
