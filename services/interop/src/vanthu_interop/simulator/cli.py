"""`vanthu axis-sim`: run the axis simulator (a test double, never the real axis)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer

HELP = (
    "Trục liên thông GIẢ LẬP để kiểm thử và demo — KHÔNG phải trục thật. / "
    "A TEST DOUBLE of the national document axis for tests and the demo — not the real axis. "
    "It speaks the VNPT SDK HTTP protocol (XroadVnpt-* HMAC headers), routes packets between the "
    "systems you register, keeps per-recipient delivery state and can inject faults "
    "(5xx, timeouts, duplicate list entries, re-serialised packets) through PUT /_sim/faults."
)

app = typer.Typer(help=HELP, invoke_without_command=True, no_args_is_help=False)


def parse_system(text: str) -> tuple[str, str, list[str]]:
    """`00.99.W00=SECRET` or `00.99.W00=SECRET@H99,H98` (the level-1 groups it serves)."""
    system_id, sep, rest = text.partition("=")
    if not sep or not system_id or not rest:
        raise typer.BadParameter(f"{text!r}: expected SYSTEM_ID=SECRET[@H99,H98]")
    secret, _, routes = rest.partition("@")
    return system_id, secret, [r for r in routes.split(",") if r]


@app.callback()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8480, help="Port to listen on"),
    system: list[str] = typer.Option(
        [],
        "--system",
        help="SYSTEM_ID=SECRET or SYSTEM_ID=SECRET@H99,H98: a connected system and the code groups it serves",
    ),
    agencies: Path | None = typer.Option(
        None, help="JSON list of {code, name, system_id, pcode, mail, code102, old_code} to preload"
    ),
    faults: str = typer.Option("", help='Initial faults as JSON, e.g. {"error_rate": 0.1}'),
    data_dir: Path | None = typer.Option(
        None, help="Where packets are kept (default: a temporary directory)"
    ),
    axis_organ_id: str = typer.Option("001.00.20.TT2", help="OrganId the simulator writes in TraceHeader"),
) -> None:
    import uvicorn

    from vanthu_interop.simulator.app import create_sim_app
    from vanthu_interop.simulator.state import AxisState, Faults, SimAgency

    directory = data_dir or Path(tempfile.mkdtemp(prefix="vanthu-axis-sim-"))
    state = AxisState(directory, axis_organ_id=axis_organ_id)
    for item in system:
        system_id, secret, routes = parse_system(item)
        state.add_system(system_id, secret, routes)
    if agencies is not None:
        for entry in json.loads(agencies.read_text("utf-8")):
            state.add_agency(SimAgency(**entry))
    if faults:
        state.set_faults(Faults(**json.loads(faults)))
    typer.echo(
        f"axis-sim (test double) on http://{host}:{port} — {len(state.systems)} systems, data in {directory}"
    )
    uvicorn.run(create_sim_app(state), host=host, port=port, log_level="warning", access_log=False)
