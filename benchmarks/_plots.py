"""PNG plots of a harness run: time against size for each implementation, one plot per suite
that has a size column, so the size where the fused path takes over can be read off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# suite -> (size column, rows kept, time columns' suffix, title)
PLOTS: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "elementwise": ("n", {"dtype": "float64"}, " ms", "x**2 + 2x + 1 (CPU, float64)"),
    "elementwise-gpu": ("n", {"dtype": "float32"}, " us", "x**2 + 2x + 1 (GPU, float32)"),
    "gram": ("n", {"dtype": "float32", "library": None}, "_ms", "Gram x @ x.T (float32)"),
    "algorithms": ("n", {"op": None}, " ms", "algorithms"),
}


def render(payload: dict[str, Any], out: Path, stem: str) -> list[Path]:
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plots")
        return []
    matplotlib.use("Agg")
    written = []
    for name, suite in payload["suites"].items():
        key = f"{name}-gpu" if payload["gpu"] and f"{name}-gpu" in PLOTS else name
        if key in PLOTS:
            written += _suite_plots(key, suite["rows"], out, stem)
    return written


def _suite_plots(key: str, rows: list[dict], out: Path, stem: str) -> list[Path]:
    size, keep, suffix, title = PLOTS[key]
    fixed = {k: v for k, v in keep.items() if v is not None}
    split = [k for k, v in keep.items() if v is None]
    rows = [r for r in rows if all(r.get(k) == v for k, v in fixed.items())]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(k) for k in split), []).append(r)
    paths = []
    for group, members in groups.items():
        label = " ".join(str(g) for g in group if g is not None)
        path = out / f"{stem}-{key}{'-' + _slug(label) if label else ''}.png"
        _plot(members, size, suffix, f"{title} {label}".strip(), path)
        paths.append(path)
    return paths


def _family(row: dict) -> str:
    """The shape family of a row: points of one family lie on one line (a Gram of n x n and
    one of n x 64 are not neighbours on a size axis)."""
    if "k" not in row:
        return ""
    return "k = n" if row["k"] == row["n"] else f"k = {row['k']}"


def _plot(rows: list[dict], size: str, suffix: str, title: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    columns = [c for c in dict.fromkeys(k for r in rows for k in r) if c.endswith(suffix)]
    families = list(dict.fromkeys(_family(r) for r in rows))
    styles = ["-", "--", ":", "-."]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, column in enumerate(columns):
        color = f"C{i % 10}"
        for j, family in enumerate(families):
            points = sorted((r[size], r[column]) for r in rows
                            if column in r and _family(r) == family)  # fmt: skip
            if not points:
                continue
            name = column.removesuffix(suffix) + (f" ({family})" if family else "")
            ax.plot(*zip(*points, strict=True), marker="o", color=color,
                    linestyle=styles[j % len(styles)] if len(points) > 1 else "none",
                    label=name)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(size)
    ax.set_ylabel(suffix.strip(" _"))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()
