"""The pytest plugin seen from outside: options, automatic markers, loud start-up failures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vanthu_testing import infra
from vanthu_testing.procs import InfrastructureError, reserve_free_ports


def run_inner_pytest(directory: Path, test_source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (directory / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n", encoding="utf-8")
    (directory / "test_inner.py").write_text(textwrap.dedent(test_source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "vanthu_testing.pytest_plugin", "-p", "no:cacheprovider",
         "-q", "-rA", *args],
        cwd=directory, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_nats_url_option_uses_the_external_server_and_fixtures_carry_markers(
    nats_url: str, tmp_path: Path
) -> None:
    result = run_inner_pytest(
        tmp_path,
        f"""
        def test_external(nats_server, nats_url):
            assert nats_url == {nats_url!r}
            assert nats_server.store_dir is None

        def test_needs_nothing(tmp_data_dir):
            assert tmp_data_dir.is_dir() and not any(tmp_data_dir.iterdir())
        """,
        "--nats-url", nats_url, "-m", "nats",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 deselected" in result.stdout


def test_unreachable_postgres_fails_loudly_instead_of_skipping(tmp_path: Path) -> None:
    (closed_port,) = reserve_free_ports(1)
    result = run_inner_pytest(
        tmp_path,
        """
        def test_database(postgres_url):
            assert postgres_url
        """,
        "--postgres-server-dsn", f"postgresql://postgres@127.0.0.1:{closed_port}/postgres",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout
    assert "skipped" not in result.stdout
    assert "cannot create database" in result.stdout
    assert "--private-postgres" in result.stdout


@pytest.mark.parametrize(
    ("requested", "containers_problem", "expected"),
    [
        ("processes", None, "processes"),
        ("", "no Docker engine answers", "processes"),
        ("auto", "no Docker engine answers", "processes"),
        ("auto", None, "containers"),
        ("Containers", None, "containers"),
    ],
)
def test_infra_kind_choice(
    monkeypatch: pytest.MonkeyPatch, requested: str, containers_problem: str | None, expected: str
) -> None:
    monkeypatch.setattr(infra, "containers_unavailable_reason", lambda: containers_problem)
    assert infra.infra_kind({infra.INFRA_ENV: requested}) == expected


def test_infra_kind_refuses_containers_it_cannot_have_and_unknown_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(infra, "containers_unavailable_reason", lambda: "no Docker engine answers")
    with pytest.raises(InfrastructureError, match="no Docker engine answers"):
        infra.infra_kind({infra.INFRA_ENV: "containers"})
    with pytest.raises(InfrastructureError, match="processes, containers or auto"):
        infra.infra_kind({infra.INFRA_ENV: "docker"})


def test_tmp_data_dir_is_fresh_and_private_to_the_test(tmp_data_dir: Path, tmp_path: Path) -> None:
    assert tmp_data_dir.is_dir()
    assert list(tmp_data_dir.iterdir()) == []
    assert tmp_data_dir.parent == tmp_path
