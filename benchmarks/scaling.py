"""Scaling over the workers of one host: one worker per GPU (``dask_cuda.LocalCUDACluster``,
CuPy chunks) or one single-threaded worker per CPU core (``distributed.LocalCluster``, NumPy
chunks), on loopback.

Run: ``python -m benchmarks.scaling [--gpu] [--quick] [--out DIR]`` (``--gpu`` needs the
``dask-cuda`` extra). For 1, 2, 4, 8 workers (as many as the host has GPUs, or cores) it times,
each on a warm cluster:

- the Gram ``xpkern.matmul(x.T)`` of a tall-skinny float32 ``x`` (10^8 x 256 on GPUs), whose
  chunks are generated on the workers as it goes and never gathered, next to the pass that
  only generates and sums them;
- the Gram and a fused elementwise op (summed) on an ``x`` the workers hold in memory
  (2^25 x 256 on GPUs);
- ``rbf_kernel`` of a row-chunked x against one y, summed (n x m never gathered).

Each row gives the throughput and the scaling efficiency against one worker (throughput /
(workers x one worker's throughput)), and the largest relative difference from the one-worker
result. NCCL's NVLink multicast stays off (``NCCL_NVLS_ENABLE=0``).
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from typing import Any

import xpkern
from benchmarks._harness import arguments, save

COLUMNS = ["op", "workers", "seconds", "throughput", "unit", "efficiency",
           "max_rel_diff_vs_1_worker", "device"]  # fmt: skip


def _poly(v: Any) -> Any:
    return v * v + 2 * v + 1


POLY = xpkern.elementwise(_poly)


def _module(gpu: bool) -> Any:
    if gpu:
        import cupy

        return cupy
    import numpy

    return numpy


def _make_block(block_info: Any = None, *, cols: int, gpu: bool) -> Any:
    """One chunk of float32 standard normal numbers, seeded by its position: the same matrix
    for any number of workers, generated where the chunk is needed."""
    info = block_info[None]
    (r0, r1), _ = info["array-location"]
    rng = _module(gpu).random.default_rng(info["chunk-location"][0])
    return rng.standard_normal((r1 - r0, cols), dtype="float32")


def _matrix(rows: int, cols: int, chunk: int, gpu: bool) -> Any:
    import dask.array as da

    sizes = (chunk,) * (rows // chunk) + ((rows % chunk,) if rows % chunk else ())
    meta = _module(gpu).empty((0, 0), dtype="float32")
    return da.map_blocks(_make_block, chunks=(sizes, (cols,)), dtype="float32", meta=meta,
                         cols=cols, gpu=gpu)  # fmt: skip


# rows of the streamed x, rows of the x held in memory and its chunk, rows of a, its chunk, and
# rows of b (a and b have 64 columns; both x have 256)
_SIZES = {
    "quick": (2**18, 2**17, 2**15, 2**13, 2**11, 1024),
    "gpu": (10**8, 2**25, 2**20, 2**21, 2**16, 16384),
    "cpu": (2**23, 2**21, 2**17, 2**16, 2**12, 4096),
}


def _cases(gpu: bool, quick: bool, client: Any) -> list[tuple[str, Callable[[], Any], float, str]]:
    """(op, the lazy result, the work it does, the unit of work per second).

    The streamed x is generated chunk by chunk on the workers as the Gram consumes it (the
    out-of-core case; the input-only pass is its floor); the other ops read arrays the
    workers already hold (``persist``), so their times are the ops' own.
    """
    import distributed

    streamed, rows, chunk, pair_rows, pair_chunk, m = _SIZES[
        "quick" if quick else "gpu" if gpu else "cpu"
    ]
    cols, d = 256, 64
    big = _matrix(streamed, cols, chunk, gpu)
    held = [_matrix(rows, cols, chunk, gpu), _matrix(pair_rows, d, pair_chunk, gpu),
            _matrix(m, d, m, gpu)]  # fmt: skip
    x, a, b = client.persist(held)
    distributed.wait([x, a, b])
    gb_big, gb = streamed * cols * 4 / 1e9, rows * cols * 4 / 1e9
    return [
        ("input only, streamed (generate + sum)", lambda: big.sum(axis=0), gb_big, "GB/s of x"),
        ("Gram x.T @ x, streamed", lambda: xpkern.matmul(big.T), gb_big, "GB/s of x"),
        ("Gram x.T @ x, in memory", lambda: xpkern.matmul(x.T), gb, "GB/s of x"),
        ("elementwise x*x+2x+1, summed", lambda: POLY(x).sum(axis=0), gb, "GB/s of x"),
        ("rbf_kernel, summed", lambda: xpkern.rbf_kernel(a, b).sum(axis=0),
         pair_rows * m / 1e9, "G pairs/s"),
    ]  # fmt: skip


def _cluster(gpu: bool, workers: int) -> Any:
    if gpu:
        from dask_cuda import LocalCUDACluster

        return LocalCUDACluster(CUDA_VISIBLE_DEVICES=list(range(workers)), host="127.0.0.1",
                                dashboard_address=None)  # fmt: skip
    import distributed

    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address=None)  # fmt: skip


def _counts(gpu: bool) -> list[int]:
    if gpu:
        import cupy

        have = int(cupy.cuda.runtime.getDeviceCount())
    else:
        have = os.cpu_count() or 1
    return [w for w in (1, 2, 4, 8) if w <= have]


def _device(gpu: bool) -> str:
    if gpu:
        import cupy

        return str(cupy.cuda.runtime.getDeviceProperties(0)["name"].decode())
    return f"CPU core ({os.cpu_count()} in the host)"


def _to_host(x: Any) -> Any:
    return x.get() if hasattr(x, "get") else x


def suite(gpu: bool, quick: bool) -> list[dict]:
    """The rows of this benchmark (the harness in ``benchmarks/__main__.py`` calls it)."""
    os.environ["NCCL_NVLS_ENABLE"] = "0"
    for module, extra in (("distributed", "dask"), ("dask_cuda", "dask-cuda")):
        if (gpu or module == "distributed") and importlib.util.find_spec(module) is None:
            print(f"scaling: {module} is not installed (the {extra} extra); nothing measured")
            return [{"op": f"not run: {module} is not installed", "device": _device(gpu)}]
    import distributed
    import numpy as np

    rows: list[dict] = []
    first: dict[str, tuple[float, Any]] = {}
    for workers in _counts(gpu):
        with _cluster(gpu, workers) as cluster, distributed.Client(cluster) as client:
            client.wait_for_workers(workers)
            for op, lazy, work, unit in _cases(gpu, quick, client):
                client.compute(lazy()).result()  # compiles the kernels on every worker
                start = time.perf_counter()
                result = np.asarray(_to_host(client.compute(lazy()).result()), dtype="float64")
                seconds = time.perf_counter() - start
                rate = work / seconds
                one_rate, one_result = first.setdefault(op, (rate, result))
                scale = max(float(np.max(np.abs(one_result))), 1e-30)
                diff = np.max(np.abs(result - one_result)) / scale
                rows.append({"op": op, "workers": workers, "seconds": seconds,
                             "throughput": rate, "unit": unit,
                             "efficiency": rate / (workers * one_rate),
                             "max_rel_diff_vs_1_worker": float(diff),
                             "device": _device(gpu)})  # fmt: skip
    return rows


def main() -> None:
    args = arguments()
    save("scaling-gpu" if args.gpu else "scaling-cpu", suite(args.gpu, args.quick), COLUMNS,
         args.out)  # fmt: skip


if __name__ == "__main__":
    main()
