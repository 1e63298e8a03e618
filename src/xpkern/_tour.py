"""``python -m xpkern``: each op on each installed backend, checked and timed."""

from __future__ import annotations

import textwrap
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
    """One line of the tour: a job on a backend, done one way."""

    job: str
    backend: str
    impl: str
    ms: float  # median over the repeats
    spread: float  # interquartile range / median
    speedup: float  # the baseline's median / this one's
    max_rel_err: float  # against a float64 NumPy reference
    ok: bool | None  # None for the baseline, which is not xpkern's answer
    auto: bool = False  # the implementation xpkern chooses by default
    noise: bool = False  # the speed-up is within the spread of the two timings
    note: str = ""


LEGEND = (
    "Times are medians of {repeat} runs (spread: interquartile range / median). Speed-up is "
    "the first row of each job (the plain-library way, on the same backend) divided by the "
    "row's time; '~' marks one within the two rows' spread. Error is the largest difference "
    "from a float64 NumPy reference, relative to the reference's largest value. '*' marks "
    "the implementation xpkern chooses by default (auto)."
)


def _sync(case: BackendCase) -> None:
    if case.name == "torch-cuda":
        import torch

        torch.cuda.synchronize()
    elif case.name == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def _time(case: BackendCase, fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median ms, interquartile range / median) of ``repeat`` synchronised calls."""
    fn()
    _sync(case)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        _sync(case)
        times.append(time.perf_counter() - start)
    q1, median, q3 = np.percentile(times, [25, 50, 75])
    return float(median) * 1e3, float((q3 - q1) / median) if median else 0.0


def _rel_err(got: Any, want: Any) -> float:
    scale = float(np.max(np.abs(want))) or 1.0
    return float(np.max(np.abs(got.astype(np.float64) - want))) / scale if want.size else 0.0


def _rows(job: str, case: BackendCase, base: tuple[str, Callable[[], Any], str],
          fn: Callable[[], Any], impls: list[str], auto: str, want: Any, tol: float,
          repeat: int) -> Iterator[Row]:  # fmt: skip
    """The baseline row (``base``: its name, call and note) then one row per implementation
    of ``fn`` (run under each ``config(impl=...)``), timed and checked against ``want``."""
    name, plain_fn, note = base
    plain, plain_spread = _time(case, plain_fn, repeat)
    err = _rel_err(case.to_numpy(plain_fn()), want)
    yield Row(job, case.name, name, plain, plain_spread, 1.0, err, None, note=note)
    for impl in impls:
        with config(impl=impl):
            got = case.to_numpy(fn())
            ms, spread = _time(case, fn, repeat)
        err = _rel_err(got, want)
        speedup = plain / ms
        noise = abs(speedup - 1.0) <= spread + plain_spread
        yield Row(job, case.name, impl, ms, spread, speedup, err, err < tol, impl == auto, noise)


def _gram_job(case: BackendCase, quick: bool, repeat: int) -> Iterator[Row]:
    # Sizes where the symmetric rank-k update pays (it halves the flops, which shows once the
    # product is compute-bound): 4096^2 float32 on a GPU, 2048^2 float64 on a CPU.
    n, k, dtype = (256, 128, "float32") if quick else (
        (4096, 4096, "float32") if case.gpu else (2048, 2048, "float64"))  # fmt: skip
    host = np.random.default_rng(0).standard_normal((n, k)).astype(dtype)
    want = host.astype(np.float64) @ host.T.astype(np.float64)
    x = case.asarray(host)
    xp = case.xp
    note = "TF32 on GPUs, JAX's default" if case.library.name == "jax" and case.gpu else ""
    base = ("x @ x.T", lambda: xp.matmul(x, xp.matrix_transpose(x)), note)
    found = explain(matmul, x)
    yield from _rows(f"Gram {n}x{k} {dtype}", case, base, lambda: matmul(x),
                     found.supported(), found.impl, want, 1e-4, repeat)  # fmt: skip


_poly = elementwise(lambda x: x**2 + 2 * x + 1)


def _poly_job(case: BackendCase, quick: bool, repeat: int) -> Iterator[Row]:
    n = 10**5 if quick else 10**7
    host = np.random.default_rng(0).random(n).astype(np.float32)
    want = host.astype(np.float64) ** 2 + 2 * host.astype(np.float64) + 1
    x = case.asarray(host)
    found = explain(_poly, x)
    yield from _rows(f"x**2+2x+1, {n:.0e} float32", case,
                     ("composed ops", lambda: x**2 + 2 * x + 1, ""), lambda: _poly(x),
                     found.supported(), found.impl, want, 1e-6, repeat)  # fmt: skip


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


def _array_sgd(xp: Any, X: Any, y: Any, steps: int) -> Any:
    """The same SGD in the library's own array operations: one matmul, its gradient and two
    updates a step, as a NumPy user would write it."""
    n = X.shape[0]
    w = xp.zeros((X.shape[1], 1), dtype=X.dtype)
    b = xp.zeros((1,), dtype=X.dtype)
    for _ in range(steps):
        err = (xp.matmul(X, w) + b - y) * (2.0 / n)
        w = w - 1e-4 * xp.matmul(xp.matrix_transpose(X), err)
        b = b - 1e-4 * xp.sum(err, axis=0)
    return xp.reshape(w, (1, -1))


def _sgd_job(case: BackendCase, quick: bool, repeat: int) -> Iterator[Row]:
    if case.name == "dask":
        return  # a lazy graph of 1000 dependent steps is not what Dask is for
    steps = 1000
    rng = np.random.default_rng(0)
    Xh, yh = rng.standard_normal((64, 10)).astype(np.float32), rng.standard_normal((64, 1))
    X, y = case.asarray(Xh), case.asarray(yh.astype(np.float32))
    with config(impl="generic"):
        want = np.asarray(fit_linear(Xh.astype(np.float64), yh, steps=steps)[0])
    if case.library.name == "torch":
        base = ("torch.nn loop", lambda: _torch_sgd(X, y, steps), "nn.Linear + SGD")
    else:
        base = ("array loop", lambda: _array_sgd(case.xp, X, y, steps), "")
    found = explain(fit_linear, X, y)
    yield from _rows("SGD 64x10, 1000 steps", case, base, lambda: fit_linear(X, y, steps=steps)[0],
                     found.supported(), found.impl, want, 1e-4,
                     3 if quick else max(3, repeat // 2))  # fmt: skip


JOBS: list[Callable[[BackendCase, bool, int], Iterator[Row]]] = [_poly_job, _gram_job, _sgd_job]


Job = Callable[[BackendCase, bool, int], Iterator[Row]]
JOB_NAMES: dict[Job, str] = {
    _poly_job: "x**2+2x+1",
    _gram_job: "Gram matrix",
    _sgd_job: "SGD loop",
}


def run_tour(quick: bool = False, progress: Callable[[str], None] | None = None) -> list[Row]:
    """Run every job on every available backend case and return the rows of the table."""
    rows: list[Row] = []
    for case in available_cases():
        for job in JOBS:
            if progress:
                progress(f"{JOB_NAMES[job]} on {case.name} ...")
            rows.extend(job(case, quick, repeat(quick)))
    return rows


def repeat(quick: bool) -> int:
    """How many timed runs each figure is the median of."""
    return 5 if quick else 9


def format_rows(rows: list[Row], quick: bool = False) -> str:
    head = (f"{'job':26s} {'backend':16s} {'implementation':15s} {'auto':>4s} {'ms':>9s} "
            f"{'spread':>6s} {'speed-up':>8s} {'rel err':>8s}  ok")  # fmt: skip
    legend = textwrap.wrap(LEGEND.format(repeat=repeat(quick)), width=len(head))
    lines = [*legend, "", head, "-" * len(head)]
    for r in rows:
        speed = "-" if r.ok is None else f"{r.speedup:.2f}x" + ("~" if r.noise else " ")
        ok = "-" if r.ok is None else ("yes" if r.ok else "NO")
        line = (f"{r.job:26s} {r.backend:16s} {r.impl:15s} {'*' if r.auto else '':>4s} "
                f"{r.ms:9.3f} {r.spread:6.0%} {speed:>9s} {r.max_rel_err:8.1e}  {ok}")  # fmt: skip
        lines.append(line + (f"  ({r.note})" if r.note else ""))
    return "\n".join(lines)


def rows_as_dicts(rows: list[Row]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
