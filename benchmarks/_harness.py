"""Shared timing, machine description and result writing for the benchmark scripts."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def sync_for(x: Any) -> Callable[[], None]:
    """A function that waits for the device work queued on ``x``'s device."""
    mod = type(x).__module__.partition(".")[0]
    if mod == "torch" and x.device.type == "cuda":
        import torch

        return torch.cuda.synchronize
    if mod == "cupy":
        import cupy

        return cupy.cuda.Device().synchronize
    return lambda: None


def measure(
    fn: Callable[[], Any], sync: Callable[[], None], *, repeat: int = 7, min_time: float = 0.05
) -> float:
    """Median seconds of one call: warm up, then batches of calls lasting ``min_time``."""
    fn()
    sync()
    start = time.perf_counter()
    fn()
    sync()
    once = time.perf_counter() - start
    inner = max(1, int(min_time / max(once, 1e-7)))
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


def fastest_batches(
    fns: dict[str, Callable[[], Any]],
    sync: Callable[[], None],
    *,
    rounds: int,
    inner: dict[str, int],
    each_sync: bool,
) -> dict[str, float]:
    """Seconds per call of each of ``fns``: the fastest of ``rounds`` batches of ``inner[name]``
    calls, the batches alternating between the functions so that a disturbance of the
    machine falls on all of them, each after one untimed call; with ``each_sync`` every call
    is synchronised (latency)."""
    for fn in fns.values():
        fn()
    sync()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            # One untimed call first: the first call after another function's can pay for
            # what that one disturbed (a parallel kernel's sleeping threads, evicted caches).
            fn()
            sync()
            start = time.perf_counter()
            for _ in range(inner[name]):
                fn()
                if each_sync:
                    sync()
            sync()
            best[name] = min(best[name], (time.perf_counter() - start) / inner[name])
    return best


def _simd() -> list[str]:
    """The wide vector extensions NumPy dispatches to on this CPU: whether NumPy's float64
    ``exp`` is vectorised (AVX512F) decides some CPU rules, so results record it."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as found
        except ImportError:
            return []
    wide = ("AVX2", "AVX512F", "AVX512_SKX", "ASIMD", "SVE")
    return [name for name in wide if found.get(name)]


def machine() -> dict[str, Any]:
    """Where the numbers were taken: host, CPU count and vector extensions, and the GPU's name
    if there is one."""
    info: dict[str, Any] = {
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "gpu": None,
        "simd": _simd(),
    }
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def machine_tag(info: dict[str, Any]) -> str:
    name = info["gpu"] or f"cpu{info['cpu_count']}"
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of ``rows`` (floats shown with 4 significant digits)."""

    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def save(
    name: str, rows: list[dict[str, Any]], columns: Sequence[str], out_dir: Path | None = None
) -> Path:
    """Print the table and write ``<name>-<machine>.json`` (and ``.md``) with the machine info."""
    info = machine()
    out_dir = out_dir or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{name}-{machine_tag(info)}"
    text = table(rows, columns)
    print(text)
    payload = {"benchmark": name, "machine": info, "date": time.strftime("%Y-%m-%d"), "rows": rows}
    stem.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    stem.with_suffix(".md").write_text(f"# {name} on {machine_tag(info)}\n\n{text}\n")
    return stem.with_suffix(".json")


def arguments() -> argparse.Namespace:
    """The options every benchmark script takes: --gpu, --quick, --out DIR."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpu", action="store_true", help="CUDA arrays instead of CPU ones")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--out", type=Path, default=None, help="where results go")
    return parser.parse_args()
