"""What the hostile-input tests watch: a canary file and a loopback HTTP server (see conftest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Canary:
    """A file whose content must never show up anywhere: an XXE that reads it would carry `marker`."""

    path: Path
    marker: str

    @property
    def url(self) -> str:
        return self.path.as_uri()


@dataclass
class WatchServer:
    """An HTTP server on loopback recording every request; a parser that fetches anything is caught."""

    url: str
    requests: list[str] = field(default_factory=list)
