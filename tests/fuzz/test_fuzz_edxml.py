"""Hostile edXML through the real read path of received packets, then through the whole axis poller.

`read_packet` is what the axis poller runs on every downloaded packet (parse in bounded
memory, the domain's checks). ≥ 10,000 generated packets and a hand-made corpus go through
it in process: each is read or refused with an interop.edxml_* code defined in the contracts,
none raises anything else, none takes 5 s, no XXE reads the canary file or calls the watched
server. The corpus and a sample of generated packets then go through the poller against the
axis simulator on PostgreSQL: downloaded, stored, imported or refused, acknowledged.
"""

from __future__ import annotations

import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from edxml_corpus import ACCEPTED, FORBIDDEN, MALFORMED, Case, corpus
from edxml_outcome import read
from edxml_strategies import VARIANTS, hostile_batches, snippets
from fuzz_checks import Timings
from fuzz_watch import Canary, WatchServer
from hypothesis import HealthCheck, Phase, given, settings
from lxml import etree

from vanthu_interop.settings import InteropSettings

GENERATED_CI = 10_000
GENERATED_LONG = 100_000
GENERATED_LIMIT = 8 << 20  # max_packet_bytes for generated packets (they are small)
DEFAULT_LIMIT = InteropSettings().max_packet_bytes


@pytest.fixture(scope="module")
def hostile_corpus(canary: Canary, watch_server: WatchServer) -> list[Case]:
    return corpus(canary.url, watch_server.url)


def _left_behind(work: Path) -> list[Path]:
    return [p for p in work.iterdir() if p.name != "packet.edxml"]


def test_generated_packets_are_read_or_refused_with_a_stable_code(
    tmp_path: Path, canary: Canary, watch_server: WatchServer, long_run: bool
) -> None:
    nasty = snippets(canary.url, watch_server.url)
    timings = Timings()
    outcomes: Counter[str] = Counter()
    packets = GENERATED_LONG if long_run else GENERATED_CI

    @settings(
        max_examples=packets // VARIANTS,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_batches(nasty))
    def one(batch: list[bytes]) -> None:
        for data in batch:
            with timings.case(f"generated #{timings.count} ({len(data)} bytes)"):
                outcomes[read(data, tmp_path, GENERATED_LIMIT, canary)] += 1
            assert not _left_behind(tmp_path), "a parse left temporary files behind"

    one()
    print(f"\nedXML generated: {timings.summary()}; outcomes {dict(outcomes)}")
    assert timings.count >= packets
    timings.assert_within_budget()
    assert watch_server.requests == [], "a packet made the parser fetch a URL"
    # The generator reaches both sides: packets read leniently and every kind of refusal.
    assert outcomes[ACCEPTED] >= packets // 20, outcomes
    assert {MALFORMED, FORBIDDEN, "interop.edxml_invalid", "interop.edxml_attachment_invalid"} <= set(
        outcomes
    )


def test_hand_made_hostile_packets_get_their_expected_outcome(
    tmp_path: Path, canary: Canary, watch_server: WatchServer, hostile_corpus: list[Case]
) -> None:
    cases = hostile_corpus
    timings = Timings()
    wrong = []
    for case in cases:
        with timings.case(case.name):
            outcome = read(case.data, tmp_path, case.max_packet_bytes or DEFAULT_LIMIT, canary)
        if outcome not in case.expect:
            wrong.append(f"{case.name}: {outcome}, expected one of {sorted(case.expect)}")
        assert not _left_behind(tmp_path), case.name
    print(f"\nedXML corpus: {timings.summary()}")
    assert not wrong, "\n".join(wrong)
    timings.assert_within_budget()
    assert watch_server.requests == []


def test_xxe_reads_no_file_and_fetches_nothing(
    tmp_path: Path, canary: Canary, watch_server: WatchServer, hostile_corpus: list[Case]
) -> None:
    cases = {c.name: c for c in hostile_corpus}
    # Positive controls: the corpus does reach the canary with a careless parser, and the
    # server does see a fetch; so their silence below means the parser never tried.
    careless = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
    leaked = etree.tostring(etree.fromstring(cases["xxe_file_entity"].data, careless))
    assert canary.marker.encode() in leaked
    with urllib.request.urlopen(f"{watch_server.url}/control", timeout=5) as answer:
        assert answer.status == 200
    assert watch_server.requests == ["GET /control"]
    watch_server.requests.clear()

    external = [c for name, c in cases.items() if any(w in name for w in ("xxe", "dtd", "entity", "xinclude", "schema", "stylesheet", "laughs", "blowup"))]  # fmt: skip
    assert len(external) >= 15
    for case in external:
        outcome = read(case.data, tmp_path, DEFAULT_LIMIT, canary)
        assert outcome in case.expect, (case.name, outcome)
    assert watch_server.requests == [], "an external entity, DTD or XInclude was fetched"
