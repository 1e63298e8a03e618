"""The backends matrix of the docs, written from the dispatch registry itself."""

from __future__ import annotations

from pathlib import Path

import xpkern

# Where each implementation can run, by its name; "generic" runs on every namespace.
WHERE = {
    "generic": "every Array-API namespace (NumPy, torch, CuPy, JAX, Dask, array-api-strict, ...)",
    "numba-cpu": "NumPy arrays, CPU torch tensors (zero-copy view)",
    "numba-cuda": "CuPy arrays, CUDA torch tensors (caller's stream)",
    "numpy-syrk": "NumPy arrays",
    "numpy-gemm": "NumPy arrays",
    "torch-cpu-syrk": "CPU torch tensors",
    "torch-cpu-gemm": "CPU torch tensors",
    "cublas-syrk": "CuPy arrays, CUDA torch tensors",
    "torch-cuda-integer": "CUDA torch tensors of integers",
    "dask-chunks": "Dask arrays (each chunk dispatched again)",
    "dask-blocks": "Dask arrays (each chunk dispatched again)",
    "dask-tree": "Dask arrays (each chunk dispatched again)",
}


def _ops() -> list[tuple[str, object]]:
    found = []
    for name in sorted(xpkern.__all__):
        op = getattr(getattr(xpkern, name), "__xpkern_op__", None)
        if op is not None:
            found.append((name, op))
    found.append(("elementwise", xpkern.elementwise(lambda x: x).op))
    from xpkern.ops.cluster.core import update

    found.append(("kmeans (update step)", update))
    return sorted(found, key=lambda item: item[0])


def write_matrix(path: Path) -> None:
    rows = []
    for name, op in _ops():
        for impl in [*op.impls, op.generic]:  # type: ignore[attr-defined]
            where = WHERE.get(impl.name, "see the reason")
            rows.append((f"``{name}``", f"``{impl.name}``", where, impl.reason))
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 16 24 26 34",
        "",
        "   * - function",
        "     - implementation",
        "     - runs on",
        "     - why",
    ]
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    path.parent.mkdir(exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
