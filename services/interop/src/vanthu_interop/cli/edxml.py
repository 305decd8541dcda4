"""`vanthu edxml parse FILE [--json]` and `vanthu edxml build SPEC.json FILE... -o OUT`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(
    help="edXML (QCVN 102:2016): đọc và tạo gói tin / read and build packets.",
    no_args_is_help=True,
)


def fail(exc: BaseException) -> typer.Exit:
    """One line `error <code>: <message>` and a non-zero exit; never a traceback."""
    from vanthu_runtime.errors import AppError

    if isinstance(exc, AppError):
        reason = exc.details.get("reason")
        message = f"{exc.error.message_vi} / {exc.error.message_en}" + (f" ({reason})" if reason else "")
        code = exc.code
    elif isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError):
        code, message = "not_found", f"Không đọc được tệp / cannot read the file: {exc.filename}"
    elif isinstance(exc, json.JSONDecodeError):
        code, message = (
            "interop.build_spec_invalid",
            f"Tệp mô tả không phải JSON / the spec is not JSON: {exc.msg}",
        )
    else:
        code, message = "internal_error", f"{type(exc).__name__}: {exc}"
    print(f"error {code}: {' '.join(message.split())}", file=sys.stderr)
    return typer.Exit(code=2)


@app.command("parse")
def parse_command(
    file: Path = typer.Argument(..., help="The .edxml packet"),
    as_json: bool = typer.Option(False, "--json", help="Print the normalized JSON"),
) -> None:
    """Đọc một gói tin edXML / parse one packet (leniently, safely)."""
    from vanthu_interop.edxml import parse, to_json

    try:
        with parse(file) as parsed:
            data = to_json(parsed.packet)
    except Exception as exc:  # every failure is one line, by contract
        raise fail(exc) from None
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    print(f"{data['kind']}: {data['document_id'] or (data['response_for'] or [{}])[0].get('document_id')}")
    print(f"  from: {data['from']['organ_id']} {data['from']['organ_name'] or ''}")
    for organ in data["to"]:
        print(f"  to:   {organ['organ_id']} {organ['organ_name'] or ''}")
    if data["status"]:
        print(f"  status {data['status']['code']}: {data['status']['description'] or ''}")
    else:
        print(f"  {data['code']['number']}/{data['code']['notation']}: {data['subject']}")
        print(f"  business type {data['business']['doc_type']}")
    for item in data["attachments"]:
        print(
            f"  file: {item['name']} ({item['content_type']}, {item['size']} bytes, sha256 {item['sha256']})"
        )


@app.command("build")
def build_command(
    spec: Path = typer.Argument(..., help="JSON in the shape `parse --json` prints"),
    files: list[Path] = typer.Argument(None, help="Attachments, in the order of spec.attachments"),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the .edxml"),
    no_zip: bool = typer.Option(False, "--no-zip", help="Do not ZIP-wrap attachments"),
    no_cid: bool = typer.Option(False, "--no-cid", help="Write ContentId without the cid: prefix"),
) -> None:
    """Tạo gói tin edXML / build a packet from a JSON spec and files."""
    from vanthu_interop.edxml import BuildOptions, build_file, from_json

    try:
        packet = from_json(json.loads(spec.read_text("utf-8")), list(files or []))
        result = build_file(packet, out, BuildOptions(zip_attachments=not no_zip, cid_prefix=not no_cid))
    except Exception as exc:
        raise fail(exc) from None
    print(f"{out} {result.size} bytes sha256 {result.sha256}")
