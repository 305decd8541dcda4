"""The embedded platform's connection to a national document axis.

By default `vanthu up` (with the demo) runs the axis simulator (`vanthu axis-sim`, a test double
that speaks the VNPT SDK protocol) as one more child process and connects the province's interop
to it, so documents can come from and go to agencies outside the province. `--axis-url` connects
to another axis instead (a shared simulator, or a real adapter with its system id and secret);
`--no-axis` runs without one.

The province's connection is one system on the axis: its id is the province's root agency code
(`000.00.00.H99`), and the simulator routes every code of the province (`….H99`) to it.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_AXIS_PORT = 8480
# Embedded: poll often, so a demo packet shows up in seconds rather than the production minute.
EMBEDDED_POLL_INTERVAL_S = 3.0


@dataclass(frozen=True)
class AxisConnection:
    url: str
    system_id: str
    secret: str
    embedded: bool  # the launcher runs the simulator (and may use its /_sim control routes)


def province_system_id(province: str) -> str:
    return f"000.00.00.{province}"


def embedded_secret(directory: Path) -> str:
    """One secret per data directory, kept so a resumed platform keeps its connection."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text("utf-8").strip()


def simulator_argv(port: int, connection: AxisConnection, province: str, directory: Path) -> list[str]:
    return [
        sys.executable, "-m", "vanthu_interop.simulator", "--port", str(port),
        "--system", f"{connection.system_id}={connection.secret}@{province}",
        "--data-dir", str(directory),
    ]  # fmt: skip


def interop_env(
    connection: AxisConnection, poll_interval_s: float = EMBEDDED_POLL_INTERVAL_S
) -> dict[str, str]:
    return {
        "VANTHU_INTEROP_AXIS_ENABLED": "true",
        "VANTHU_INTEROP_AXIS_ENDPOINT": connection.url,
        "VANTHU_INTEROP_AXIS_SYSTEM_ID": connection.system_id,
        "VANTHU_INTEROP_AXIS_SECRET": connection.secret,
        "VANTHU_INTEROP_POLL_INTERVAL_S": str(poll_interval_s),
    }
