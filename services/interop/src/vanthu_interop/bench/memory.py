"""`python -m vanthu_interop.bench.memory ours|floor SIZE`: peak RSS growth of one build+parse.

Runs in a fresh process. A thread samples the resident set size (/proc/self/statm) every
millisecond while the work runs; the result is the highest sample minus the size just before
the work started, in bytes. (ru_maxrss alone would hide growth below an earlier high-water mark.)
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from lxml import etree

from vanthu_interop.edxml import build_file, parse
from vanthu_interop.edxml.model import NS, Attachment, EdocPacket, Organ

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE


class _Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.001)

    def stop(self) -> int:
        self.running = False
        self.join()
        return max(self.peak, _rss())


def main(mode: str, size: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="vanthu-bench-mem-"))
    source = work / "scan.pdf"
    with source.open("wb") as sink:
        for _ in range(size >> 20):
            sink.write(os.urandom(1 << 20))
    packet = EdocPacket(
        from_=Organ(organ_id="000.00.00.H99"),
        to=[Organ(organ_id="000.00.00.G22")],
        document_id="x",
        attachments=[Attachment(name="scan.pdf", path=source)],
    )
    out = work / "p.edxml"
    if mode == "floor":
        build_file(packet, out)
    baseline = _rss()
    sampler = _Sampler()
    sampler.start()
    if mode == "floor":
        root = etree.fromstring(out.read_bytes(), etree.XMLParser(huge_tree=True, resolve_entities=False))
        decoded = [base64.b64decode(e.text) for e in root.iter(f"{{{NS}}}ContentTransferEncoded")]
        assert decoded
    else:
        build_file(packet, out)
        with parse(out, workdir=work) as parsed:
            assert parsed.packet.attachments[0].size == size
    return sampler.stop() - baseline


if __name__ == "__main__":
    print(main(sys.argv[1], int(sys.argv[2])))
