"""A pytest plugin that runs SciPy's and scikit-learn's own tests against xpkern.

Before their test modules are imported, the functions they test are replaced: SciPy's
``logsumexp``, ``softmax`` and ``log_softmax`` by xpkern's own (which have SciPy's semantics),
``scipy.spatial.distance.cdist`` and scikit-learn's ``euclidean_distances`` and ``rbf_kernel``
(also in ``PAIRWISE_DISTANCE_FUNCTIONS`` / ``PAIRWISE_KERNEL_FUNCTIONS``, which
``pairwise_distances`` and ``pairwise_kernels`` use) by the drop-ins of ``xpkern.dropin``,
which hand what they do not serve to the original. The summary at the end says, per function,
how many tests xpkern served and how many calls went to the original, and why.

``XPKERN_PEERS`` (comma-separated; default all but ``accel``) picks the swaps: ``special``,
``distance``, ``pairwise``; ``accel`` instead installs ``xpkern.accel`` as users do (its own
drop-ins, patched into the modules as they are imported).
"""

from __future__ import annotations

import collections
import functools
import os
from collections.abc import Callable
from typing import Any

import pytest

# function name -> ids of the tests in which xpkern served at least one call
_SERVED: dict[str, set[str]] = collections.defaultdict(set)
_TALLIES: dict[str, Any] = {}
_CURRENT = {"test": ""}


def _counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, noting the running test whenever xpkern (not the original) serves a call."""
    tally = getattr(fn, "tally", None)
    if tally is not None:
        _TALLIES[name] = tally

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        before = tally.served if tally is not None else 0
        out = fn(*args, **kwargs)
        if tally is None or tally.served > before:
            _SERVED[name].add(_CURRENT["test"])
        return out

    return call


def _swap_special() -> None:
    import scipy.special
    from scipy._lib._array_api import xp_capabilities_table

    import xpkern

    for name in ("logsumexp", "softmax", "log_softmax"):
        original = getattr(scipy.special, name)
        ours = _counted(name, getattr(xpkern, name))
        # SciPy's tests take the backends a function supports from this table
        xp_capabilities_table[ours] = xp_capabilities_table[original]
        setattr(scipy.special, name, ours)


def _swap_distance() -> None:
    import scipy.spatial.distance as distance

    from xpkern.dropin.scipy_spatial import cdist

    distance.cdist = _counted("cdist", cdist(distance.cdist))


def _swap_pairwise() -> None:
    import sklearn.metrics
    import sklearn.metrics.pairwise as pairwise

    from xpkern.dropin import sklearn_pairwise

    for name, table in (("euclidean_distances", pairwise.PAIRWISE_DISTANCE_FUNCTIONS),
                        ("rbf_kernel", pairwise.PAIRWISE_KERNEL_FUNCTIONS)):  # fmt: skip
        original = getattr(pairwise, name)
        ours = _counted(name, getattr(sklearn_pairwise, name)(original))
        setattr(pairwise, name, ours)
        if getattr(sklearn.metrics, name, None) is original:
            setattr(sklearn.metrics, name, ours)
        for key, fn in list(table.items()):  # "euclidean" and "l2" are the same function
            if fn is original:
                table[key] = ours


def _swap_accel() -> None:
    """No swap of its own: xpkern.accel, as users turn it on, with its import hook."""
    import xpkern.accel

    xpkern.accel.install()


SWAPS = {"special": _swap_special, "distance": _swap_distance, "pairwise": _swap_pairwise,
         "accel": _swap_accel}  # fmt: skip
FUNCTIONS = {"special": ("logsumexp", "softmax", "log_softmax"), "distance": ("cdist",),
             "pairwise": ("euclidean_distances", "rbf_kernel"), "accel": ()}  # fmt: skip
_WANTED: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    default = ",".join(name for name in SWAPS if name != "accel")
    wanted = [w.strip() for w in os.environ.get("XPKERN_PEERS", default).split(",")]
    unknown = set(wanted) - set(SWAPS)
    if unknown:
        raise pytest.UsageError(f"XPKERN_PEERS: unknown {sorted(unknown)}; known {list(SWAPS)}")
    for name in wanted:
        SWAPS[name]()
    _WANTED[:] = wanted


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A swap that served no test proves nothing: the run fails rather than pass vacuously.
    if exitstatus != 0 or session.testscollected == 0:
        return
    unserved = [f for w in _WANTED for f in FUNCTIONS[w] if not _SERVED[f]]
    if "accel" in _WANTED:
        import xpkern.accel

        if not xpkern.accel.report().served:
            unserved.append("xpkern.accel (any function)")
    if unserved:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"xpkern served no test of {unserved}: were their test modules selected?"
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    _CURRENT["test"] = item.nodeid
    try:
        return (yield)
    finally:
        _CURRENT["test"] = ""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    if "accel" in _WANTED:
        import xpkern.accel

        terminalreporter.section("xpkern.accel")
        for line in xpkern.accel.report().rows():
            write(line)
    names = sorted(set(_SERVED) | set(_TALLIES))
    if names:
        terminalreporter.section("xpkern swapped in")
    for name in names:
        line = f"{name}: served by xpkern in {len(_SERVED[name])} tests"
        tally = _TALLIES.get(name)
        if tally is not None:
            line += f" ({tally.served} calls); {sum(tally.passed.values())} calls to the original"
        write(line)
        for reason, n in sorted(tally.passed.items() if tally else [], key=lambda kv: -kv[1]):
            write(f"    {n:6d}  {reason}")
