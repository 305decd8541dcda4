"""Business data made through the public APIs, as the agency's own people would make it."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import timedelta
from functools import cache
from typing import Any

import httpx
from security_platform import VPCP, SecurityPlatform, eventually

from vanthu_testing.clock import local_today

_numbers = itertools.count(1)


@cache
def letter_pdf() -> bytes:
    """A real official-letter PDF (the signing service's sample), accepted by every PDF check."""
    from vanthu_signing.samples import official_letter

    return official_letter()


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (response.status_code, response.text[:500])
    return response.json() if response.content else None


async def register_incoming(
    platform: SecurityPlatform,
    agency: str,
    *,
    register: bool = True,
    secrecy: str = "thuong",
    subject: str = "",
) -> dict[str, Any]:
    """A paper document received (and numbered) by the agency's văn thư."""
    number = next(_numbers)
    metadata = {
        "type": "cong_van",
        "subject": subject or f"V/v kiểm tra an toàn thông tin số {number}",
        "code_number": str(100 + number),
        "code_notation": "BXD-VP",
        "issued_date": str(local_today() - timedelta(days=2)),
        "organ_name": "Bộ Xây dựng",
        "signer_position": "Thứ trưởng",
        "signer_name": "Nguyễn Văn A",
        "secrecy": secrecy,
    }
    response = await platform.request(
        "registry",
        "POST",
        "/api/v1/incoming",
        agency,
        "vanthu",
        data={"metadata": json.dumps(metadata), "register": "true" if register else "false"},
        files={"file": ("scan.pdf", letter_pdf(), "application/pdf")},
    )
    return ok(response, 201)


async def issue_outgoing(
    platform: SecurityPlatform,
    agency: str,
    *,
    secrecy: str = "thuong",
    recipients: list[dict[str, str]] | None = None,
    doc_type: str | None = None,
) -> dict[str, Any]:
    """An outgoing document numbered and issued by the văn thư; by default to the Government Office (axis).

    Ordinary ones are decisions (QĐ), secret ones submissions (TTr) unless `doc_type` says:
    secret documents have registers of their own, so a secret QĐ may repeat an ordinary QĐ's
    number and symbol, and with them the edXML DocumentId (test_security_axis covers that case).
    """
    number = next(_numbers)
    metadata = {
        "type": doc_type or ("QĐ" if secrecy == "thuong" else "TTr"),
        "subject": f"Quyết định phê duyệt phương án bảo mật số {number}",
        "signer_name": "Trần Văn Hùng",
        "signer_position": "Giám đốc",
        "secrecy": secrecy,
        "recipients": recipients
        if recipients is not None
        else [{"organ_id": VPCP, "organ_name": "Văn phòng Chính phủ"}],
    }
    response = await platform.request(
        "registry",
        "POST",
        "/api/v1/outgoing",
        agency,
        "vanthu",
        data={"metadata": json.dumps(metadata)},
        files={"file": ("signed.pdf", letter_pdf(), "application/pdf")},
    )
    return ok(response, 201)


async def open_work_file(platform: SecurityPlatform, agency: str, document_ids: list[str]) -> dict[str, Any]:
    number = next(_numbers)
    opened = ok(
        await platform.request(
            "registry",
            "POST",
            "/api/v1/work-files",
            agency,
            "vanthu",
            json={
                "year": local_today().year,
                "title": f"Hồ sơ bảo mật {number}",
                "notation": f"{number:02d}.BMAT",
            },
        ),
        201,
    )
    for document_id in document_ids:
        ok(
            await platform.request(
                "registry",
                "POST",
                f"/api/v1/work-files/{opened['id']}/documents",
                agency,
                "vanthu",
                json={"document_id": document_id},
            )
        )
    return opened


async def handling_of(platform: SecurityPlatform, agency: str, document_id: str) -> dict[str, Any]:
    """Routing's handling of a registered document, once the registry's event has reached it."""

    async def fetched() -> dict[str, Any] | None:
        response = await platform.request(
            "routing", "GET", f"/api/v1/documents/{document_id}/handling", agency, "lanhdao"
        )
        return response.json() if response.status_code == 200 else None

    return await eventually(fetched, f"the handling of {document_id}")


async def assign_to_unit(platform: SecurityPlatform, agency: str, handling: dict[str, Any]) -> dict[str, Any]:
    """The leader gives the document to the unit head's unit to handle (xử lý chính)."""
    unit = platform.person(agency, "truongphong").unit
    assigned = ok(
        await platform.request(
            "routing",
            "POST",
            f"/api/v1/handlings/{handling['id']}/assignments",
            agency,
            "lanhdao",
            json={
                "assignees": [{"kind": "unit", "assignee_id": unit, "role": "main"}],
                "instruction": "Phòng chủ trì, báo cáo kết quả",
                "version": handling["version"],
            },
        )
    )
    return assigned


async def draft_in_review(platform: SecurityPlatform, agency: str) -> dict[str, Any]:
    """A specialist's draft with its file, submitted to the unit head then the leader (who signs)."""
    draft = ok(
        await platform.request(
            "routing",
            "POST",
            "/api/v1/drafts",
            agency,
            "chuyenvien",
            json={
                "type_name": "Công văn",
                "subject": f"V/v dự thảo báo cáo bảo mật {next(_numbers)}",
                "external_recipients": [{"organ_id": VPCP, "organ_name": "Văn phòng Chính phủ"}],
            },
        )
    )
    ok(
        await platform.request(
            "routing",
            "PUT",
            f"/api/v1/drafts/{draft['id']}/files/du-thao.pdf",
            agency,
            "chuyenvien",
            content=letter_pdf(),
            headers={"Content-Type": "application/pdf"},
        )
    )
    reviewers = [
        {"reviewer_id": platform.person(agency, "truongphong").user_id, "label": "Trưởng phòng"},
        {"reviewer_id": platform.person(agency, "lanhdao").user_id, "label": "Giám đốc"},
    ]
    return ok(
        await platform.request(
            "routing",
            "POST",
            f"/api/v1/drafts/{draft['id']}/submit",
            agency,
            "chuyenvien",
            json={"reviewers": reviewers},
        )
    )


async def task_for_unit(platform: SecurityPlatform, agency: str) -> dict[str, Any]:
    return ok(
        await platform.request(
            "routing",
            "POST",
            "/api/v1/tasks",
            agency,
            "lanhdao",
            json={
                "title": f"Rà soát an toàn thông tin {next(_numbers)}",
                "owner_unit_id": platform.person(agency, "truongphong").unit,
                "deadline": str(local_today() + timedelta(days=30)),
            },
        )
    )


def seal_profile(agency: str, **changes: Any) -> dict[str, Any]:
    """An agency-seal signer profile on an HSM key (the PIN named, never given)."""
    return {
        "agency_code": agency,
        "purpose": "agency",
        "key_kind": "pkcs11",
        "module_path": "/usr/lib/softhsm/libsofthsm2.so",
        "token_label": "seal-token",
        "key_label": "seal",
        "pin_secret": "env:SEAL_HSM_PIN",
    } | changes


def new_id() -> str:
    return str(uuid.uuid4())
