"""Command line: ``python -m xpkern`` (the tour) and ``python -m xpkern info``."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xpkern", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["tour", "info"], default="tour")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.command == "info":
        from ._info import format_info, info

        data = info()
        print(json.dumps(data, indent=2) if args.json else format_info(data))
        return 0
    from ._tour import format_rows, rows_as_dicts, run_tour

    def progress(msg: str) -> None:
        if not args.json:
            print(msg, file=sys.stderr, flush=True)

    rows = run_tour(quick=args.quick, progress=progress)
    print(
        json.dumps(rows_as_dicts(rows), indent=2) if args.json else format_rows(rows, args.quick)
    )
    return 0 if all(r.ok is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
