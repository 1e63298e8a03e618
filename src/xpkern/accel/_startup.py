"""Run at interpreter start-up by ``xpkern_accel.pth`` when ``XPKERN_ACCEL`` is set: installs
``xpkern.accel`` (and, with ``XPKERN_ACCEL_SUMMARY``, prints its report at exit)."""

from __future__ import annotations

import atexit
import os
import sys


def _on(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def start() -> None:
    if not _on("XPKERN_ACCEL"):
        return
    from . import install, report

    install()
    if _on("XPKERN_ACCEL_SUMMARY"):
        atexit.register(lambda: print(report(), file=sys.stderr))
