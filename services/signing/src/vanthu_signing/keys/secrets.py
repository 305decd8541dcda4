"""Secret references: a profile names where its PIN lives, never the PIN itself."""

from __future__ import annotations

import os
from pathlib import Path


class SecretMissing(LookupError):
    pass


def resolve_secret(reference: str | None) -> str | None:
    """`env:NAME` reads an environment variable, `file:/path` a file (e.g. a mounted secret)."""
    if reference is None:
        return None
    scheme, _, target = reference.partition(":")
    if scheme == "env":
        value = os.environ.get(target)
        if value is None:
            raise SecretMissing(f"environment variable {target} is not set")
        return value
    if scheme == "file":
        path = Path(target)
        if not path.is_file():
            raise SecretMissing(f"secret file {target} does not exist")
        return path.read_text(encoding="utf-8").strip()
    raise SecretMissing(f"unknown secret reference scheme {scheme!r}")
