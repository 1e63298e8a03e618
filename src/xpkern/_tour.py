"""``python -m xpkern``: each op on each installed backend, checked and timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._dispatch import config, explain
from .linalg import matmul
from .testing._cases import BackendCase, available_cases

__all__ = ["Row", "format_rows", "run_tour"]


@dataclass
class Row:
    job: str
    backend: str
    impl: str
    ms: float
    speedup: float
    max_rel_err: float
    ok: bool


def _sync(case: BackendCase) -> None:
    if case.name == "torch-cuda":
        import torch

        torch.cuda.synchronize()
    elif case.name == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def _time(case: BackendCase, fn: Callable[[], Any], repeat: int) -> float:
    fn()
    _sync(case)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        _sync(case)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def _rel_err(got: Any, want: Any) -> float:
    scale = float(np.max(np.abs(want))) or 1.0
    return float(np.max(np.abs(got.astype(np.float64) - want))) / scale if want.size else 0.0


def _gram_job(case: BackendCase, quick: bool, repeat: int) -> Iterator[Row]:
    n, k = (256, 128) if quick else (1024, 1024)
    host = np.random.default_rng(0).standard_normal((n, k)).astype(np.float32)
    want = host.astype(np.float64) @ host.T.astype(np.float64)
    x = case.asarray(host)
    xp = case.xp
    plain_fn = lambda: xp.matmul(x, xp.matrix_transpose(x))  # noqa: E731
    plain = _time(case, plain_fn, repeat)
    err = _rel_err(case.to_numpy(plain_fn()), want)
    yield Row(f"gram {n}x{k} f32", case.name, "x @ x.T", plain, 1.0, err, err < 1e-4)
    for impl in explain(matmul, x).supported():
        with config(impl=impl):
            got = case.to_numpy(matmul(x))
            ms = _time(case, lambda: matmul(x), repeat)
        err = _rel_err(got, want)
        yield Row(f"gram {n}x{k} f32", case.name, impl, ms, plain / ms, err, err < 1e-4)


JOBS: list[Callable[[BackendCase, bool, int], Iterator[Row]]] = [_gram_job]


def run_tour(quick: bool = False, progress: Callable[[str], None] | None = None) -> list[Row]:
    """Run every job on every available backend case and return the rows of the table."""
    rows: list[Row] = []
    repeat = 3 if quick else 7
    for case in available_cases():
        for job in JOBS:
            if progress:
                progress(f"{job.__name__.strip('_')} on {case.name} ...")
            rows.extend(job(case, quick, repeat))
    return rows


def format_rows(rows: list[Row]) -> str:
    head = f"{'job':18s} {'backend':17s} {'implementation':16s} {'ms':>9s} {'vs plain':>8s} "
    head += f"{'rel err':>9s}  ok"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.job:18s} {r.backend:17s} {r.impl:16s} {r.ms:9.3f} {r.speedup:7.2f}x "
            f"{r.max_rel_err:9.1e}  {'yes' if r.ok else 'NO'}"
        )
    return "\n".join(lines)


def rows_as_dicts(rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
