"""The one exception the domain raises: a broken rule, named by its contract error code."""

from __future__ import annotations

from typing import Any

from vanthu_contracts.errors import ErrorCode


class RuleBroken(Exception):
    """A rule of the domain refused the action; the service layer turns it into an AppError."""

    def __init__(self, code: ErrorCode, details: dict[str, Any] | None = None, **fmt: Any) -> None:
        super().__init__(f"{code.code}: {details or ''}")
        self.code = code
        self.details = details or {}
        self.fmt = fmt
