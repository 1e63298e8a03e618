"""Out-of-core Gram on a dask.distributed LocalCluster: ``X.T @ X`` of a 10^7 x 256 float64
matrix (20.5 GB) in 10^5-row chunks, on workers with a few GiB each.

Run: ``python -m benchmarks.dask_gram [--quick] [--out DIR]``. The chunks are generated on
the workers and never gathered: each worker forms its chunks' 256 x 256 partial Grams and only
those travel. The table gives wall time, input throughput and each worker's peak resident
memory (the high-water mark of the worker process), next to the input's size.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np

import xpkern
from benchmarks._harness import arguments, save

COLUMNS = ["variant", "rows", "input_gb", "seconds", "gb_per_s", "peak_worker_gib",
           "max_abs_err_vs_float64 (first 4 chunks)"]  # fmt: skip


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def _matrix(rows: int, cols: int, chunk: int) -> Any:
    import dask.array as da

    return da.random.default_rng(0).standard_normal((rows, cols), chunks=(chunk, cols))


def _run(variant: str, rows: int, cols: int, chunk: int, workers: int, limit: str) -> dict:
    import distributed

    # A fresh cluster per variant, so each worker's high-water mark is this variant's alone.
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  memory_limit=limit) as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        x = _matrix(rows, cols, chunk)
        if variant == "input only (x.sum)":
            lazy = x.sum(axis=0)
        elif variant == "dask x.T @ x":
            lazy = x.T @ x
        else:
            lazy = xpkern.matmul(x.T)
        start = time.perf_counter()
        result = client.compute(lazy).result()
        seconds = time.perf_counter() - start
        peak = max(client.run(_peak_rss_gib).values())
    gb = rows * cols * 8 / 1e9
    row = {"variant": variant, "rows": rows, "input_gb": gb, "seconds": seconds,
           "gb_per_s": gb / seconds, "peak_worker_gib": peak}  # fmt: skip
    if variant.startswith("xpkern"):
        row["max_abs_err_vs_float64 (first 4 chunks)"] = _check_error(chunk, cols)
    assert result.shape in ((cols,), (cols, cols))
    return row


def _check_error(chunk: int, cols: int) -> float:
    # The whole result has no float64 twin that fits here; the first four chunks' Gram,
    # through the same path, is checked against NumPy's float64 product of those rows.
    x = _matrix(4 * chunk, cols, chunk)
    got = xpkern.matmul(x.T).compute(scheduler="threads")
    host = x.compute(scheduler="threads")
    return float(np.max(np.abs(got - host.T @ host)))


def main() -> None:
    args = arguments()
    rows = 10**6 if args.quick else 10**7
    cols, chunk = 256, 10**5
    rows_out = [
        _run(v, rows, cols, chunk, workers=2, limit="4GiB")
        for v in ("input only (x.sum)", "xpkern.matmul(x.T)", "dask x.T @ x")
    ]
    save("dask_gram", rows_out, COLUMNS, args.out)


if __name__ == "__main__":
    main()
