"""One document's journey, end to end, on real processes (issue 9, parts 1 and 2).

(a) `vanthu up` on a fresh data directory (SQLite, the embedded axis simulator, demo signing) and
    `vanthu demo journey` against it, as an operator runs the smoke test after a deployment.
(b) Two platforms — two provinces, H99 and H98 — each with its five services as separate
    processes on the fixtures' PostgreSQL and S3 server, SoftHSM2 tokens for the seal and the
    leader's "USB token", connected to one axis simulator as two systems. A ministry (a third system,
    played by the journey) sends a công văn to H99; H99 registers, routes, handles it, drafts a
    reply that is reviewed, signed (token agent for the person, HSM for the seal), numbered and
    sent to the ministry and to H98; H98 registers and assigns it; statuses flow back both ways;
    analytics counts it on both sides; one trace id covers every process's part in the exported spans.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    Platform,
    ancestry,
    missing_spans,
    produced,
    run_journey,
    wait_for_spans,
)

from vanthu_testing._process import reserve_free_ports

pytestmark = [pytest.mark.e2e, pytest.mark.nats, pytest.mark.slow, pytest.mark.hsm]

SYMBOL = re.compile(r"^\d{2,}/UBND-KT$")  # a công văn of the UBND's Phòng Kinh tế
ARRIVAL = re.compile(r"^\d{4}/\d{4}$")  # số đến / year


@pytest.fixture
def platforms() -> Iterator[list[Platform]]:
    started: list[Platform] = []
    yield started
    for platform in started:
        platform.kill()


def _check_the_journey(report: dict[str, Any]) -> None:
    assert report["ok"] is True, [s for s in report["steps"] if not s["ok"]]
    assert ARRIVAL.match(produced(report, "registry.register")["so_den"])
    symbol = produced(report, "registry.issue")["so_ky_hieu"]
    assert SYMBOL.match(symbol), symbol
    assert produced(report, "ministry.reply")["symbol"] == symbol
    assert produced(report, "signing.verify")["signatures"] == 2
    assert produced(report, "ministry.statuses")["statuses"] == "01 → 03 → 04 → 05 → 06"
    # Every report is kept, in arrival order (one poll imports them in parallel).
    assert sorted(produced(report, "interop.status_in")["history"]) == ["01", "03"]
    assert produced(report, "routing.complete")["statuses_sent"] == ["03", "04", "05", "06"]
    counted = report["context"]["analytics_delta"]
    assert counted["signed_personal"] == 1 and counted["signed_seal"] == 1 and counted["issued"] == 1
    assert counted["statuses_sent"] == 5 and counted["registered"] == 1 and counted["sent_axis"] >= 1


def test_the_journey_against_vanthu_up(tmp_path: Path, platforms: list[Platform]) -> None:
    platform = Platform(tmp_path / "var", tmp_path / "up.log")
    platforms.append(platform)
    state = platform.wait_ready()
    assert state["axis"]["embedded"] is True and state["province"] == "H99"
    assert {h["name"] for h in state["helpers"]} == {"axis-sim", "token-agent-ubnd.lanhdao"}
    assert "18 signer profiles" in platform.text()

    done, report = run_journey("--data-dir", str(tmp_path / "var"), "--timeout", "60")
    assert done.returncode == 0, done.stderr
    _check_the_journey(report)
    # What the operator reads: each step with what it produced, then the verdict.
    text = done.stderr
    assert "✓ registry.register" in text and "Hành trình hoàn tất / journey complete (17 steps)" in text
    assert f"so_ky_hieu={produced(report, 'registry.issue')['so_ky_hieu']}" in text
    assert f"trace id: {report['trace_id']}" in text

    # A second run on the same platform: the next numbers, figures counted again from their new base.
    again, second = run_journey("--data-dir", str(tmp_path / "var"), "--timeout", "60")
    assert again.returncode == 0, again.stderr
    first_number = int(produced(report, "registry.issue")["so_ky_hieu"].split("/")[0])
    assert int(produced(second, "registry.issue")["so_ky_hieu"].split("/")[0]) == first_number + 1
    assert platform.stop() == 0


def test_a_failing_step_stops_the_journey_with_a_bilingual_reason(tmp_path: Path) -> None:
    # No platform at these URLs: the first step fails, says why in both languages, exit code 1.
    [port] = reserve_free_ports(1)
    url = f"http://127.0.0.1:{port}"
    urls = [
        arg
        for service in ("registry", "routing", "signing", "interop", "analytics")
        for arg in (f"--{service}-url", url)
    ]
    done, report = run_journey(*urls, "--axis-url", url, "--timeout", "2", timeout=60)
    assert done.returncode == 1, done.stderr
    assert report["ok"] is False and [s["name"] for s in report["steps"]] == ["setup"]
    assert "không kết nối được" in report["steps"][0]["error_vi"]
    assert "cannot reach" in report["steps"][0]["error_en"]
    assert "the journey stopped at setup" in done.stderr
    # And without any platform to find, a usage error (2) that says what to do.
    missing = subprocess.run(
        [sys.executable, "-m", "vanthu_cli", "demo", "journey", "--data-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "vanthu up" in missing.stdout


@pytest.mark.postgres
@pytest.mark.s3
def test_two_provinces_on_postgres_s3_softhsm_and_one_axis(
    tmp_path: Path, platforms: list[Platform], postgres_server_dsn: str, s3_server: Any
) -> None:
    [axis_port] = reserve_free_ports(1)
    secrets_of = {"H99": secrets.token_urlsafe(16), "H98": secrets.token_urlsafe(16)}
    axis_url = f"http://127.0.0.1:{axis_port}"
    simulator_log = open(tmp_path / "axis-sim.log", "ab")
    simulator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vanthu_interop.simulator",
            "--port",
            str(axis_port),
            "--data-dir",
            str(tmp_path / "axis"),
        ]
        + [
            arg
            for code, secret in secrets_of.items()
            for arg in ("--system", f"000.00.00.{code}={secret}@{code}")
        ],
        stdout=simulator_log,
        stderr=subprocess.STDOUT,
    )
    run = secrets.token_hex(3)
    traces = {code.lower(): tmp_path / f"spans-{code}" for code in secrets_of}
    try:
        for code, secret in secrets_of.items():
            platform = Platform(
                tmp_path / f"var-{code}",
                tmp_path / f"up-{code}.log",
                "--province", code,
                "--postgres-dsn", postgres_server_dsn,
                "--database-prefix", f"e2e_{run}_{code.lower()}",
                "--s3-endpoint", s3_server.endpoint,
                "--s3-access-key", s3_server.access_key,
                "--s3-secret-key", s3_server.secret_key,
                "--s3-bucket", f"e2e-{run}-{code.lower()}",
                "--axis-url", axis_url,
                "--axis-system-id", f"000.00.00.{code}",
                "--axis-secret", secret,
                # Only the journey's own polls (POST /api/v1/axis/poll) import packets, so they
                # happen inside its trace; a background poll would start a trace of its own.
                "--axis-poll-interval", "600",
                "--trace-dir", str(traces[code.lower()]),
                # H98 receives and assigns, it signs nothing: no keys, profiles or token agent.
                *(["--no-demo-signing"] if code == "H98" else []),
            )  # fmt: skip
            platforms.append(platform)
        h99, h98 = (platform.wait_ready() for platform in platforms)
        for state, code in ((h99, "H99"), (h98, "H98")):
            assert state["province"] == code and state["axis"] == {
                "url": axis_url, "system_id": f"000.00.00.{code}", "embedded": False, "port": None,
            }  # fmt: skip
        text = platforms[0].text()
        assert f"e2e_{run}_h99_registry" in text and "(5 created)" in text

        done, report = run_journey(
            "--data-dir", str(tmp_path / "var-H99"), "--peer-data-dir", str(tmp_path / "var-H98"),
            "--axis-url", axis_url, "--timeout", "60",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        _check_the_journey(report)
        # The reply went to the ministry and over the axis to the other province, which registered
        # and assigned it: its statuses came back to H99.
        sent = produced(report, "interop.send")
        assert sent == {"000.00.00.G99": "Đã gửi", "000.00.00.H98": "Đã gửi"}
        peer = produced(report, "peer.receive")
        assert peer["agency"] == "000.00.00.H98" and peer["statuses_sent"] == ["03", "04"]
        back = produced(report, "interop.status_peer")
        assert back["status"].startswith("04") and sorted(back["history"]) == ["01", "03", "04"]
        assert produced(report, "analytics.count")["peer"] == {
            "arrived_axis": 1,
            "registered": 1,
            "routed": 1,
        }

        # One trace id covers the journey in every process's exported spans, across both provinces.
        trace_id = report["trace_id"]
        wanted = {
            "h99/registry-1": {
                "POST /api/v1/incoming/{document_id}/register",
                "vanthu.evt.interop.document.received process",
                "vanthu.rpc.registry.issue_document process",
                "vanthu.evt.registry.document.issued create",
            },
            "h99/routing-1": {
                "vanthu.evt.registry.document.registered process",
                "vanthu.evt.signing.document.signed process",
                "vanthu.rpc.registry.issue_document request",
            },
            "h99/signing-1": {"vanthu.job.signing.sign process", "signing.sign", "POST /api/v1/verify"},
            "h99/interop-1": {
                "POST /api/v1/axis/poll",
                "vanthu.evt.registry.document.issued process",
                "vanthu.evt.interop.document.sent create",
                "vanthu.evt.interop.status.received create",
                "vanthu.job.interop.send process",
            },
            "h99/analytics-1": {"GET /api/v1/analytics/usage"},
            "h98/interop-1": {"POST /api/v1/axis/poll", "vanthu.evt.interop.status.sent create"},
            "h98/registry-1": {"vanthu.evt.interop.document.received process"},
            "h98/routing-1": {"vanthu.evt.registry.document.registered process"},
            "h98/analytics-1": {"GET /api/v1/analytics/usage"},
        }
        spans = wait_for_spans(traces, trace_id, wanted)
        assert missing_spans(spans, trace_id, wanted) == {}
        # The personal signature and the seal: two sign jobs, both in the trace.
        jobs = [
            s for s in spans if s["trace_id"] == trace_id and s["name"] == "vanthu.job.signing.sign process"
        ]
        assert len(jobs) == 2
        # Each goes back, through the outbox and NATS, to the leader's approval over HTTP.
        for job in jobs:
            assert "POST /api/v1/drafts/{draft_id}/review" in [s["name"] for s in ancestry(spans, job)]
        # Analytics folds events in batches: its batch spans link to the journey's trace.
        for province in ("h99", "h98"):
            batches = [
                s
                for s in spans
                if s["_instance"] == f"{province}/analytics-1" and s["name"].endswith("process batch")
            ]
            assert any(link["trace_id"] == trace_id for s in batches for link in s["links"]), province
        for platform in platforms:
            assert platform.stop() == 0
    finally:
        for platform in platforms:
            platform.kill()  # before their databases go
        simulator.terminate()
        simulator.wait(timeout=15)
        simulator_log.close()
        _drop_databases(
            postgres_server_dsn,
            [
                f"e2e_{run}_{code.lower()}_{service}"
                for code in secrets_of
                for service in ("registry", "routing", "signing", "interop", "analytics")
            ],
        )


def _drop_databases(server_dsn: str, names: list[str]) -> None:
    from vanthu_testing.postgres import run_sync

    async def drop() -> None:
        import asyncpg

        connection = await asyncpg.connect(server_dsn, timeout=10)
        try:
            for name in names:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    run_sync(drop)
