"""logsumexp, softmax, mean_var, cdist, rbf_kernel and one k-means assignment: xpkern's
implementations against SciPy, scikit-learn and torch (those installed).

Run: ``python -m benchmarks.algorithms [--gpu] [--quick] [--out DIR]``. The CPU thresholds in
``xpkern/ops/distance/cpu.py`` and ``xpkern/ops/cluster/cpu.py`` come from this table.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, measure, save, sync_for
from xpkern.backends import resolve
from xpkern.ops.cluster.core import assign


def _inputs(device: str, shape: tuple[int, ...]) -> Any:
    host = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    if device == "cpu":
        return host
    import torch

    return torch.from_numpy(host).cuda()


def _peers(name: str, x: Any, y: Any) -> dict[str, Any]:
    peers: dict[str, Any] = {}
    if isinstance(x, np.ndarray):
        from scipy import special
        from scipy.spatial import distance

        peers = {
            "logsumexp": {"scipy": lambda: special.logsumexp(x, axis=-1)},
            "softmax": {"scipy": lambda: special.softmax(x, axis=-1)},
            "cdist": {"scipy": lambda: distance.cdist(x, y)},
        }.get(name, {})
        peers.update(_sklearn_peers(name, x, y))
    try:
        import torch
    except ImportError:
        return peers
    tx = x if not isinstance(x, np.ndarray) else torch.from_numpy(x)
    ty = y if not isinstance(y, np.ndarray) else torch.from_numpy(y)
    more = {
        "logsumexp": {"torch": lambda: torch.logsumexp(tx, dim=-1)},
        "softmax": {"torch": lambda: torch.softmax(tx, dim=-1)},
        "cdist": {"torch": lambda: torch.cdist(tx, ty)},
        "rbf_kernel": {"torch": lambda: torch.exp(-(torch.cdist(tx, ty) ** 2) / tx.shape[1])},
    }.get(name, {})
    return {**peers, **more}


def _sklearn_peers(name: str, x: Any, y: Any) -> dict[str, Any]:
    try:
        from sklearn.metrics import pairwise
    except ImportError:
        return {}
    peers = {
        "cdist": lambda: pairwise.euclidean_distances(x, y),
        "rbf_kernel": lambda: pairwise.rbf_kernel(x, y),
        "kmeans assign": lambda: pairwise.pairwise_distances_argmin_min(x, x[:64]),
    }
    return {"sklearn": peers[name]} if name in peers else {}


def _ops(x: Any, y: Any, centers: Any) -> dict[str, tuple[Any, tuple[Any, ...], dict]]:
    return {
        "logsumexp": (xpkern.logsumexp, (x,), {"axis": -1}),
        "softmax": (xpkern.softmax, (x,), {"axis": -1}),
        "mean_var": (xpkern.mean_var, (x,), {"axis": 0}),
        "cdist": (xpkern.cdist, (x, y), {}),
        "rbf_kernel": (xpkern.rbf_kernel, (x, y), {}),
        "kmeans assign": (_assign_call, (x, centers), {}),
    }


def _assign_call(x: Any, centers: Any) -> Any:
    return assign(resolve(x), x, centers)


def run(device: str, sizes: list[tuple[int, int]], repeat: int) -> list[dict]:
    rows = []
    for n, d in sizes:
        x, y = _inputs(device, (n, d)), _inputs(device, (n // 2, d))
        centers = x[:64]
        sync = sync_for(x)
        for name, (fn, args, kwargs) in _ops(x, y, centers).items():
            row: dict[str, Any] = {"device": device, "op": name, "n": n, "d": d}
            target = fn if name != "kmeans assign" else xpkern.kmeans
            explain_args = args if name != "kmeans assign" else (x, 64)
            found = xpkern.explain(target, *explain_args, **kwargs)
            row["auto"] = found.impl
            for impl in found.supported():
                with xpkern.config(impl=impl):
                    call = functools.partial(fn, *args, **kwargs)
                    row[f"{impl} ms"] = 1e3 * measure(call, sync, repeat=repeat)
            for peer, call in _peers(name, x, y).items():
                row[f"{peer} ms"] = 1e3 * measure(call, sync, repeat=repeat)
            rows.append(row)
            print(row, flush=True)
    return rows


def suite(gpu: bool, quick: bool) -> list[dict]:
    """The rows of this benchmark (the harness in ``benchmarks/__main__.py`` calls it)."""
    sizes = [(512, 16), (2048, 64)] if quick else [(512, 16), (2048, 64), (4096, 64)]
    return run("cuda" if gpu else "cpu", sizes, 3 if quick else 5)


def main() -> None:
    args = arguments()
    rows = suite(args.gpu, args.quick)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    save("algorithms-gpu" if args.gpu else "algorithms-cpu", rows, columns, args.out)


if __name__ == "__main__":
    main()
