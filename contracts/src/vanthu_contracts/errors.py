"""The error model: a stable code, a Vietnamese and an English message, details.

Codes are part of the contract: clients and operators match on them, so a code
is never renamed or reused for another meaning. Messages may be improved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class ErrorCode:
    code: str
    http_status: int
    message_vi: str
    message_en: str

    def body(self, details: dict[str, Any] | None = None, **fmt: Any) -> ErrorBody:
        return ErrorBody(
            code=self.code,
            message_vi=self.message_vi.format(**fmt) if fmt else self.message_vi,
            message_en=self.message_en.format(**fmt) if fmt else self.message_en,
            details=details or {},
        )


class ErrorBody(BaseModel):
    """What every failed request or job reports."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Stable machine-readable code, e.g. registry.file_not_pdf")
    message_vi: str = Field(description="Thông báo lỗi tiếng Việt")
    message_en: str = Field(description="English message")
    details: dict[str, Any] = Field(default_factory=dict)


_codes: dict[str, ErrorCode] = {}


def define(code: str, http_status: int, message_vi: str, message_en: str) -> ErrorCode:
    if code in _codes and _codes[code] != ErrorCode(code, http_status, message_vi, message_en):
        raise ValueError(f"error code {code!r} defined twice")
    _codes[code] = ErrorCode(code, http_status, message_vi, message_en)
    return _codes[code]


def all_codes() -> dict[str, ErrorCode]:
    from vanthu_contracts import catalog  # noqa: F401  (registers service error codes)

    return dict(sorted(_codes.items()))


def lookup(code: str) -> ErrorCode | None:
    return all_codes().get(code)


# Common codes; services define their own in their contract modules.
VALIDATION = define(
    "validation_error", 422, "Dữ liệu gửi lên không hợp lệ.", "The submitted data is invalid."
)
MALFORMED_JSON = define(
    "malformed_request", 400, "Yêu cầu không đúng định dạng.", "The request is malformed."
)
UNAUTHENTICATED = define(
    "unauthenticated",
    401,
    "Chưa đăng nhập hoặc phiên đăng nhập không hợp lệ.",
    "Authentication is missing or invalid.",
)
TOKEN_EXPIRED = define("token_expired", 401, "Phiên đăng nhập đã hết hạn.", "The access token has expired.")
FORBIDDEN = define(
    "forbidden", 403, "Bạn không có quyền thực hiện thao tác này.", "You are not allowed to do this."
)
PROVINCE_OPERATOR_ONLY = define(
    "province_operator_only",
    403,
    "Chỉ quản trị viên của cơ quan cấp tỉnh (UBND tỉnh) được chạy thao tác chung cho toàn tỉnh.",
    "Only an administrator of the province's root agency may run province-wide operations.",
)
METHOD_NOT_ALLOWED = define(
    "method_not_allowed", 405, "Phương thức không được hỗ trợ.", "The HTTP method is not allowed here."
)
NOT_FOUND = define("not_found", 404, "Không tìm thấy dữ liệu yêu cầu.", "The resource was not found.")
CONFLICT = define("conflict", 409, "Dữ liệu bị xung đột.", "The request conflicts with the current state.")
VERSION_CONFLICT = define(
    "version_conflict",
    409,
    "Dữ liệu đã được người khác thay đổi; hãy tải lại rồi thử lại.",
    "Someone else changed this first; reload and try again.",
)
PAYLOAD_TOO_LARGE = define(
    "payload_too_large", 413, "Tệp hoặc yêu cầu vượt quá dung lượng cho phép.", "The payload is too large."
)
UNSUPPORTED_MEDIA = define(
    "unsupported_media_type", 415, "Định dạng tệp không được hỗ trợ.", "The media type is not supported."
)
RATE_LIMITED = define(
    "rate_limited", 429, "Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests; try again later."
)
INTERNAL = define(
    "internal_error",
    500,
    "Hệ thống gặp lỗi ngoài dự kiến; sự cố đã được ghi lại.",
    "An unexpected error occurred; it has been logged.",
)
UNAVAILABLE = define(
    "service_unavailable",
    503,
    "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại sau.",
    "The service is temporarily unavailable; try again later.",
)
INTEGRITY = define(
    "storage.integrity_error",
    500,
    "Tệp lưu trữ không khớp mã băm; tệp có thể đã bị thay đổi.",
    "The stored object does not match its hash; it may have been altered.",
)
OBJECT_MISSING = define(
    "storage.object_missing", 404, "Không tìm thấy tệp trong kho lưu trữ.", "The stored object was not found."
)
