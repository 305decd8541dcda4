"""Rewrite a packet the way the 2025 SaaS axis did: it rebuilds the XML from a model.

Observed (S2 xml/2025/10): the axis added its own TraceHeader entries, dropped the
`Bussiness` block and `Reference/Description`, and collapsed empty elements to `<x />`.
Receivers must not rely on byte identity; this lets tests prove ours does not.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lxml import etree

from vanthu_interop.edxml.model import NS


def reserialise(source: Path, target: Path, *, axis_organ_id: str, now: datetime | None = None) -> None:
    # The simulator only rewrites packets it already accepted; still, no DTDs and no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    tree = etree.parse(str(source), parser)
    root = tree.getroot()
    q = f"{{{NS}}}"
    for business in list(root.iter(f"{q}Bussiness")):
        business.getparent().remove(business)
    for description in list(root.iter(f"{q}Description")):
        parent = description.getparent()
        if parent is not None and etree.QName(parent).localname == "Reference":
            parent.remove(description)
    traces = root.find(f".//{q}TraceHeaderList")
    if traces is not None:
        trace = etree.SubElement(traces, f"{q}TraceHeader")
        etree.SubElement(trace, f"{q}OrganId").text = axis_organ_id
        etree.SubElement(trace, f"{q}Timestamp").text = (now or datetime.now()).strftime("%Y/%m/%d %H:%M:%S")
    for element in root.iter():
        if isinstance(element.tag, str) and len(element) == 0 and not (element.text or "").strip():
            element.text = None
    tree.write(str(target), xml_declaration=True, encoding="UTF-8")
