"""Fixtures of the security tests: the whole platform in this process (see security_platform)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from security_platform import SecurityPlatform, security_platform


@pytest.fixture(scope="session")
async def platform(
    tmp_path_factory: pytest.TempPathFactory, postgres_server_dsn: str
) -> AsyncIterator[SecurityPlatform]:
    """One platform for every security module: starting five services is the expensive part.

    Session scope in this directory's conftest: only the security tests ask for it, and
    the tests only add their own data (each under fresh ids), so they cannot disturb each other.
    """
    async with security_platform(tmp_path_factory.mktemp("security"), postgres_server_dsn) as running:
        yield running
