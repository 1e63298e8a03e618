"""pytest plugin: ``backend`` and ``xp`` fixtures over every installed backend.

Enable it in a ``conftest.py`` with ``pytest_plugins = ["xpkern.testing.plugin"]``. Restrict
the backends with the ``XPKERN_BACKENDS`` environment variable (e.g. ``numpy,torch``).
"""

from __future__ import annotations

from types import ModuleType

import pytest

from ._cases import BackendCase, available_cases


def _params() -> list[object]:
    return [
        pytest.param(case, id=case.name, marks=[pytest.mark.gpu] if case.gpu else [])
        for case in available_cases()
    ]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: needs a CUDA device")


@pytest.fixture(scope="session", params=_params())
def backend(request: pytest.FixtureRequest) -> BackendCase:
    """One installed backend case (library and device) per test run."""
    case: BackendCase = request.param
    return case


@pytest.fixture(scope="session")
def xp(backend: BackendCase) -> ModuleType:
    """The Array-API namespace of the current ``backend`` case."""
    return backend.xp
