"""The in-process read of one packet, as the axis poller does it, reduced to its outcome."""

from __future__ import annotations

from pathlib import Path

from edxml_corpus import ACCEPTED
from fuzz_checks import defined_code
from fuzz_watch import Canary

from vanthu_interop.usecases.polling import read_packet
from vanthu_runtime.errors import AppError


def read(data: bytes, work: Path, max_packet_bytes: int, canary: Canary) -> str:
    """'accepted' or the code of the refusal; anything but AppError propagates (a crash)."""
    path = work / "packet.edxml"
    path.write_bytes(data)
    try:
        parsed, incoming = read_packet(path, max_packet_bytes, work)
    except AppError as refused:
        assert refused.code.startswith("interop.edxml_"), refused.code
        defined_code(refused.code)
        return refused.code
    with parsed:
        seen = repr(parsed.packet) + repr(incoming)
        contents = [a.path.read_bytes() for a in getattr(parsed.packet, "attachments", []) if a.path]
    assert canary.marker not in seen and not any(canary.marker.encode() in c for c in contents)
    return ACCEPTED
