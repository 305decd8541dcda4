"""`vanthu edxml parse|build` through the real `vanthu` command, and parsing memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from interop_edxml_samples import axis_2019_packet
from test_interop_edxml import BILLION_LAUGHS, EDOC_SPEC

VANTHU = str(Path(sys.executable).parent / "vanthu")


def _vanthu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VANTHU, *args], capture_output=True, text=True, timeout=120)


def test_an_unreadable_packet_gives_one_error_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.edxml"
    bomb.write_bytes(BILLION_LAUGHS)
    done = _vanthu("edxml", "parse", str(bomb), "--json")
    assert done.returncode != 0 and done.stdout == ""
    errors = [
        line for line in done.stderr.splitlines() if not line.startswith(("vanthu: cảnh báo", "warning:"))
    ]
    assert len(errors) == 1 and errors[0].startswith("error interop.edxml_forbidden: "), done.stderr
    assert "Traceback" not in done.stderr
    missing = _vanthu("edxml", "parse", str(tmp_path / "nope.edxml"))
    assert (
        missing.returncode != 0
        and "error not_found: " in missing.stderr
        and "Traceback" not in missing.stderr
    )


def test_build_then_parse_through_the_command(tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(EDOC_SPEC, ensure_ascii=False), "utf-8")
    first, second = tmp_path / "a.pdf", tmp_path / "b.xlsx"
    first.write_bytes(b"%PDF-1.4 main")
    second.write_bytes(b"table")
    out = tmp_path / "out.edxml"
    done = _vanthu("edxml", "build", str(spec), str(first), str(second), "-o", str(out))
    assert done.returncode == 0, done.stderr
    parsed = json.loads(_vanthu("edxml", "parse", str(out), "--json").stdout)
    assert parsed["subject"] == EDOC_SPEC["subject"] and parsed["business"] == EDOC_SPEC["business"]
    assert [a["size"] for a in parsed["attachments"]] == [13, 5]
    axis = tmp_path / "axis.edxml"
    axis.write_bytes(axis_2019_packet())
    done = _vanthu("edxml", "parse", str(axis))
    assert done.returncode == 0 and "9fbfbad2-6c4b-4b8e-a3a4-2f7b0e9d1c55" in done.stdout
    assert "3805-VPCP-HC.signed.pdf (application/pdf" in done.stdout
    wrong = _vanthu("edxml", "build", str(spec), str(first), "-o", str(out))
    assert wrong.returncode != 0 and "error interop.build_spec_invalid: " in wrong.stderr


MEMORY_PROBE = """
import os, resource, sys, tempfile
from pathlib import Path
from vanthu_interop.edxml import parse, build_file, from_json
from vanthu_interop.edxml.model import EdocPacket, Organ, Attachment
size = int(sys.argv[1])
work = Path(tempfile.mkdtemp())
source = work / "scan.pdf"
with source.open("wb") as f:
    for _ in range(size >> 20):
        f.write(os.urandom(1 << 20))
packet = EdocPacket(from_=Organ(organ_id="000.00.00.H99"), to=[Organ(organ_id="000.00.00.G22")],
                    document_id="x", attachments=[Attachment(name="scan.pdf", path=source)])
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
build_file(packet, work / "p.edxml")
with parse(work / "p.edxml", workdir=work) as parsed:
    assert parsed.packet.attachments[0].size == size
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - baseline) * 1024)
"""


def test_a_large_attachment_is_built_and_parsed_in_bounded_memory() -> None:
    size = 48 << 20
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(size)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    grown = int(done.stdout.strip())
    # The issue allows 3x the attachment; streaming keeps it to a few spool buffers.
    assert grown < size, f"peak RSS grew by {grown / 2**20:.1f} MiB for a {size >> 20} MiB attachment"
