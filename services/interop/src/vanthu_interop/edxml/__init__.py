"""edXML (QCVN 102:2016) packets: build as the VNPT library does, parse leniently and safely."""

from vanthu_interop.edxml.build import BuildOptions, BuildResult, build, build_file
from vanthu_interop.edxml.model import NS, Attachment, EdocPacket, Organ, StatusPacket
from vanthu_interop.edxml.normalize import from_json, to_json
from vanthu_interop.edxml.parse import ParsedPacket, ParseLimits, parse

__all__ = [
    "NS",
    "Attachment",
    "BuildOptions",
    "BuildResult",
    "EdocPacket",
    "Organ",
    "ParseLimits",
    "ParsedPacket",
    "StatusPacket",
    "build",
    "build_file",
    "from_json",
    "parse",
    "to_json",
]
