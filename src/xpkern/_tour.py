"""``python -m xpkern``: each op on each installed backend, checked and timed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._dispatch import config, explain
from .ops.elementwise import elementwise
from .ops.linalg import matmul
from .ops.linear_model import fit_linear
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


_poly = elementwise(lambda x: x**2 + 2 * x + 1)


def _poly_job(case: BackendCase, quick: bool, repeat: int) -> Iterator[Row]:
    n = 10**5 if quick else 10**7
    host = np.random.default_rng(0).random(n).astype(np.float32)
    want = host.astype(np.float64) ** 2 + 2 * host.astype(np.float64) + 1
    x = case.asarray(host)
    label = f"x**2+2x+1 {n:.0e}"
    plain = _time(case, lambda: x**2 + 2 * x + 1, repeat)
    yield Row(label, case.name, "composed ops", plain, 1.0,
              _rel_err(case.to_numpy(x**2 + 2 * x + 1), want), True)  # fmt: skip
    for impl in explain(_poly, x).supported():
        with config(impl=impl):
            got = case.to_numpy(_poly(x))
            ms = _time(case, lambda: _poly(x), repeat)
        err = _rel_err(got, want)
        yield Row(label, case.name, impl, ms, plain / ms, err, err < 1e-6)


def _torch_sgd(X: Any, y: Any, steps: int) -> Any:
    import torch

    model = torch.nn.Linear(X.shape[1], 1).to(X.device)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.MSELoss()(model(X), y).backward()
        opt.step()
    return model.weight.detach()


def _sgd_job(case: BackendCase, quick: bool, repeat: int) -> Iterator[Row]:
    if case.name == "dask":
        return  # a lazy graph of 1000 dependent steps is not what Dask is for
    steps = 1000
    rng = np.random.default_rng(0)
    Xh, yh = rng.standard_normal((64, 10)).astype(np.float32), rng.standard_normal((64, 1))
    X, y = case.asarray(Xh), case.asarray(yh.astype(np.float32))
    with config(impl="generic"):
        want = np.asarray(fit_linear(Xh.astype(np.float64), yh, steps=steps)[0])
    label = "SGD 64x10 x1000"
    plain = float("nan")
    if case.library.name == "torch":
        plain = _time(case, lambda: _torch_sgd(X, y, steps), 1)
        got = case.to_numpy(_torch_sgd(X, y, steps))
        yield Row(label, case.name, "torch loop", plain, 1.0, _rel_err(got, want), True)
    for impl in explain(fit_linear, X, y).supported():
        with config(impl=impl):
            got = case.to_numpy(fit_linear(X, y, steps=steps)[0])
            ms = _time(case, lambda: fit_linear(X, y, steps=steps), 1 if quick else 3)
        err = _rel_err(got, want)
        yield Row(label, case.name, impl, ms, plain / ms, err, err < 1e-4)


JOBS: list[Callable[[BackendCase, bool, int], Iterator[Row]]] = [_poly_job, _gram_job, _sgd_job]


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
    head = f"{'job':18s} {'backend':17s} {'implementation':16s} {'ms':>9s} {'speedup':>8s} "
    head += f"{'rel err':>9s}  ok"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.job:18s} {r.backend:17s} {r.impl:16s} {r.ms:9.3f} "
            f"{'       -' if r.speedup != r.speedup else f'{r.speedup:7.2f}x'} "
            f"{r.max_rel_err:9.1e}  {'yes' if r.ok else 'NO'}"
        )
    return "\n".join(lines)


def rows_as_dicts(rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
