"""The seed's training loop: torch ``Linear`` + ``MSELoss`` + ``SGD`` vs ``xpkern.fit_linear``.

Run: ``python -m benchmarks.fit_linear [--gpu] [--quick] [--out DIR]``. Times are end to end
from Python (a whole fit of ``steps`` steps), so launch and interpreter costs count, as they
do for a user. The size limits in ``xpkern/ops/linear_model/sizes.py`` come from this table.
"""

from __future__ import annotations

from typing import Any

import xpkern
from benchmarks._harness import arguments, measure, save

SHAPES = [(64, 10, 1), (256, 32, 1), (1024, 16, 4), (1024, 64, 1), (4096, 64, 1), (8192, 128, 2)]


def _torch_loop(X: Any, y: Any, steps: int) -> Any:
    import torch

    model = torch.nn.Linear(X.shape[1], y.shape[1]).to(X.device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.MSELoss()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
    return model.weight


def _forced(impl: str, X: Any, y: Any, steps: int) -> Any:
    with xpkern.config(impl=impl):
        return xpkern.fit_linear(X, y, steps=steps)


def _row(device: str, shape: tuple[int, int, int], steps: int, repeat: int) -> dict:
    import torch

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    n, d, m = shape
    X = torch.randn(n, d, device=device)
    y = torch.randn(n, m, device=device)
    found = xpkern.explain(xpkern.fit_linear, X, y)
    row: dict[str, Any] = {"device": device, "n": n, "d": d, "m": m, "steps": steps,
                           "auto": found.impl}  # fmt: skip
    row["torch loop ms"] = 1e3 * measure(
        lambda: _torch_loop(X, y, steps), sync, repeat=repeat, min_time=0
    )
    for impl in found.supported():
        row[f"{impl} ms"] = 1e3 * measure(
            lambda i=impl: _forced(i, X, y, steps), sync, repeat=repeat, min_time=0
        )
    row["torch / auto"] = row["torch loop ms"] / row[f"{found.impl} ms"]
    return row


def run(device: str, shapes: list[tuple[int, int, int]], steps: int, repeat: int) -> list[dict]:
    rows = []
    for shape in shapes:
        rows.append(_row(device, shape, steps, repeat))
        print(rows[-1], flush=True)
    return rows


def suite(gpu: bool, quick: bool) -> list[dict]:
    """The rows of this benchmark (the harness in ``benchmarks/__main__.py`` calls it)."""
    shapes = SHAPES[:2] if quick else SHAPES
    return run("cuda" if gpu else "cpu", shapes, 1000, 3 if quick else 5)


def main() -> None:
    args = arguments()
    rows = suite(args.gpu, args.quick)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    save("fit_linear-gpu" if args.gpu else "fit_linear-cpu", rows, columns, args.out)


if __name__ == "__main__":
    main()
