"""Identifiers: UUIDv7 strings (time ordered, so they index well)."""

from __future__ import annotations

from vanthu_contracts.envelope import new_event_id


def new_id() -> str:
    return str(new_event_id())
