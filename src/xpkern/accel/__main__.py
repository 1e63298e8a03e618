"""``python -m xpkern.accel script.py [args]`` / ``python -m xpkern.accel -m module [args]``:
run a program with :mod:`xpkern.accel` installed before it imports anything."""

from __future__ import annotations

import runpy
import sys

USAGE = "usage: python -m xpkern.accel [--summary] (script.py | -m module) [args ...]"


def main(argv: list[str]) -> int:
    summary = False
    while argv and argv[0] == "--summary":
        summary, argv = True, argv[1:]
    if not argv or argv[0] in ("-h", "--help") or (argv[0] == "-m" and len(argv) < 2):
        print(USAGE, file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    from . import install, report

    install()
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            runpy.run_path(argv[0], run_name="__main__")
    finally:
        if summary:
            print(report(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
