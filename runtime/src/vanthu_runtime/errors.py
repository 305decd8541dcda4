"""The one exception type use cases raise; HTTP and messaging adapters translate it."""

from __future__ import annotations

from typing import Any

from vanthu_contracts.errors import ErrorBody, ErrorCode


class AppError(Exception):
    """A failure with a stable code and messages in Vietnamese and English.

    Raise it from use cases with the code from contracts; `details` says what was
    wrong (field, limit, the conflicting id) without leaking internals.
    """

    def __init__(self, code: ErrorCode, details: dict[str, Any] | None = None, **fmt: Any) -> None:
        self.error = code
        self.details = details or {}
        self.fmt = fmt
        super().__init__(f"{code.code}: {code.message_en}")

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def http_status(self) -> int:
        return self.error.http_status

    def body(self) -> ErrorBody:
        return self.error.body(self.details, **self.fmt)
