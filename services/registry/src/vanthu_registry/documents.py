"""Rows of documents, their files, search entries and grants; access checks; event payloads.

Shared by the incoming, outgoing, search and work-file use cases. Functions take
the session of the caller's transaction and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import and_, delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.envelope import Envelope
from vanthu_contracts.errors import NOT_FOUND
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role, Secrecy
from vanthu_registry.caller import Caller
from vanthu_registry.domain.access import Grant, GrantKind, can_see
from vanthu_registry.domain.text import fold, search_body
from vanthu_registry.storage import StoredFile
from vanthu_registry.tables import access_grants, document_files, document_search, documents, users
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import Tx

Doc = dict[str, Any]


def now() -> datetime:
    return datetime.now(UTC)


def is_sqlite(session: AsyncConnection) -> bool:
    return session.dialect.name == "sqlite"


async def load(session: AsyncConnection, document_id: str) -> Doc | None:
    row = (await session.execute(select(documents).where(documents.c.id == document_id))).mappings().first()
    return dict(row) if row else None


async def grants_of(session: AsyncConnection, document_id: str) -> list[Grant]:
    rows = (
        await session.execute(
            select(access_grants.c.principal_type, access_grants.c.principal_id, access_grants.c.kind).where(
                access_grants.c.document_id == document_id
            )
        )
    ).all()
    return [Grant(r.principal_type, r.principal_id, r.kind) for r in rows]


async def visible(session: AsyncConnection, caller: Caller, document_id: str) -> Doc:
    """The document if `caller` may see it; 404 otherwise (its existence is not revealed)."""
    doc = await load(session, document_id)
    if doc is None or doc["agency_code"] != caller.agency:
        raise AppError(NOT_FOUND, {"document": document_id})
    if not can_see(caller.viewer, doc["agency_code"], doc["secrecy"], await grants_of(session, document_id)):
        raise AppError(NOT_FOUND, {"document": document_id})
    return doc


async def add_grant(
    session: AsyncConnection, document_id: str, principal_type: str, principal_id: str, kind: str, by: str, source: str = ""
) -> bool:
    exists = (
        await session.execute(
            select(access_grants.c.id).where(
                access_grants.c.document_id == document_id,
                access_grants.c.principal_type == principal_type,
                access_grants.c.principal_id == principal_id,
                access_grants.c.kind == kind,
            )
        )
    ).first()
    if exists:
        return False
    await session.execute(
        access_grants.insert().values(
            id=str(uuid4()),
            document_id=document_id,
            principal_type=principal_type,
            principal_id=principal_id,
            kind=kind,
            granted_by=by,
            granted_at=now(),
            source=source[:100],
        )
    )
    return True


def document_event(
    caller: Caller, doc: Doc, event_type: str, payload: Any, *, correlation_id: str | None = None
) -> Envelope:
    """A registry event about one document, by the caller (and on whose behalf).

    Correlated by the id the document travels under between agencies, else its own id."""
    return Envelope(
        type=event_type,
        source="registry",
        agency=doc["agency_code"],
        actor=caller.user_id,
        on_behalf_of=caller.on_behalf_of,
        correlation_id=correlation_id or doc.get("external_document_id") or doc["id"],
        payload=payload,
    )


async def grant_secret(tx: Tx, doc: Doc, user_id: str, caller: Caller, source: str) -> bool:
    """Let one user read a secret document, and say so: routing shows the document's handling
    in full to the same people (`registry.document.secret_granted`)."""
    if not await add_grant(tx.session, doc["id"], "user", user_id, GrantKind.SECRET, caller.user_id, source):
        return False
    await tx.publish(
        document_event(
            caller,
            doc,
            contract.DOCUMENT_SECRET_GRANTED.type,
            contract.SecretAccessGranted(
                document_id=doc["id"],
                agency_code=doc["agency_code"],
                user_id=user_id,
                secrecy=doc["secrecy"],
                source=source,
                granted_by=caller.user_id,
                granted_at=now(),
            ),
        )
    )
    return True


async def secret_holders(session: AsyncConnection, caller: Caller, named: Iterable[str | None] = ()) -> list[str]:
    """Who holds a secret document the caller records: the văn thư at the keyboard; or — when the
    system records it — every văn thư of the agency, as a sealed envelope would reach whoever is
    on duty at the office (Decree 30 Art. 21) and as the văn thư registers and sends what the
    agency issues (Art. 14), with the `named` people who handled it (an issued draft's drafter,
    reviewers and signer). Only active users of the agency: a name from elsewhere holds nothing."""
    if not caller.is_system:
        return [caller.user_id]
    people = {u for u in named if u}
    rows = await session.execute(
        select(users.c.id, users.c.roles).where(users.c.agency_code == caller.agency, users.c.active.is_(True))
    )
    return sorted(row.id for row in rows if row.id in people or Role.CLERK.value in (row.roles or []))


async def add_files(
    session: AsyncConnection, document_id: str, files: Iterable[StoredFile], by: str, role: str, *, first: bool = False
) -> list[dict[str, Any]]:
    """Add file versions and return their rows; `first` for a document created in this
    transaction (no earlier versions to number after)."""
    existing = [] if first else (
        await session.execute(select(document_files.c.version).where(document_files.c.document_id == document_id))
    ).scalars().all()
    version = max(existing, default=0)
    rows = []
    for stored in files:
        version += 1
        rows.append(
            {
                "id": str(uuid4()),
                "document_id": document_id,
                "sha256": stored.sha256,
                "name": stored.name,
                "content_type": stored.content_type,
                "size": stored.size,
                "page_count": stored.page_count,
                "role": role,
                "version": version,
                "text_state": "pending",
                "uploaded_by": by,
                "uploaded_at": now(),
            }
        )
    if rows:
        await session.execute(document_files.insert(), rows)
    return rows


async def files_of(session: AsyncConnection, document_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(document_files).where(document_files.c.document_id == document_id).order_by(document_files.c.version)
        )
    ).mappings().all()
    return [dict(r) for r in rows]


def metadata_text(doc: Doc) -> str:
    """Every metadata field a person may search for, folded to accent-free tokens."""
    number = doc.get("number")
    symbol = f"{doc.get('code_number') or ''}/{doc.get('code_notation') or ''}"
    recipients = " ".join(f"{r.get('organ_id', '')} {r.get('organ_name', '')}" for r in doc.get("recipients") or [])
    return search_body(
        doc.get("type_name"),
        doc.get("type_abbreviation"),
        symbol,
        doc.get("code_notation"),
        str(number) if number else None,
        f"{number:02d}" if number else None,
        doc.get("organ_id"),
        doc.get("organ_name"),
        doc.get("subject"),
        doc.get("description"),
        doc.get("signer_position"),
        doc.get("signer_name"),
        doc.get("to_places"),
        doc.get("sender_organ_name"),
        doc.get("external_document_id"),
        doc.get("axis_document_id"),
        recipients,
        doc.get("trace_header_list"),
    )


async def index(session: AsyncConnection, doc: Doc, content: str | None = None, *, new: bool = False) -> None:
    """Write (or rewrite) the document's search entry from its current metadata."""
    body = metadata_text(doc)
    values = {
        "agency_code": doc["agency_code"],
        "direction": doc["direction"],
        "secrecy": doc["secrecy"],
        "sort_at": doc["sort_at"],
        "body": body,
    }
    exists = None if new else (
        await session.execute(select(document_search.c.content).where(document_search.c.document_id == doc["id"]))
    ).first()
    if exists is None:
        await session.execute(document_search.insert(), {"document_id": doc["id"], "content": content or "", **values})
        full = f"{body} {content or ''}"
    else:
        if content is not None:
            values["content"] = content
        await session.execute(update(document_search).where(document_search.c.document_id == doc["id"]).values(**values))
        full = f"{body} {content if content is not None else exists.content}"
    if is_sqlite(session):
        await session.execute(text("DELETE FROM document_fts WHERE document_id = :id"), {"id": doc["id"]})
        await session.execute(
            text("INSERT INTO document_fts (document_id, agency_code, body) VALUES (:id, :agency, :body)"),
            {"id": doc["id"], "agency": doc["agency_code"], "body": full},
        )


async def set_content(session: AsyncConnection, document_id: str, pdf_text: str) -> None:
    doc = await load(session, document_id)
    if doc is None:
        return
    row = (
        await session.execute(select(document_search.c.content).where(document_search.c.document_id == document_id))
    ).first()
    folded = search_body(pdf_text)
    combined = folded if row is None or not row.content else f"{row.content} {folded}"
    await index(session, doc, combined[:1_000_000])


async def find_duplicates(
    session: AsyncConnection,
    agency: str,
    *,
    exclude_id: str | None,
    external_document_id: str | None,
    code_number: str | None,
    code_notation: str | None,
    organ_id: str | None,
    organ_name: str | None,
) -> list[str]:
    """Phụ lục VI III.1.h: same document id, or same (số, ký hiệu, issuing agency)."""
    conditions = []
    if external_document_id:
        conditions.append(documents.c.external_document_id == external_document_id)
    if code_number and code_notation and (organ_id or organ_name):
        issuer = []
        if organ_id:
            issuer.append(documents.c.organ_id == organ_id)
        if organ_name:
            issuer.append(documents.c.organ_name == organ_name)
        conditions.append(
            and_(documents.c.code_number == code_number, documents.c.code_notation == code_notation, or_(*issuer))
        )
    if not conditions:
        return []
    query = select(documents.c.id).where(
        documents.c.agency_code == agency,
        documents.c.direction == "incoming",
        documents.c.state != "returned",
        or_(*conditions),
    )
    if exclude_id:
        query = query.where(documents.c.id != exclude_id)
    return list((await session.execute(query.limit(20))).scalars().all())


def file_refs(files: list[dict[str, Any]]) -> list[contract.FileRef]:
    return [
        contract.FileRef(sha256=f["sha256"], name=f["name"], content_type=f["content_type"], size=f["size"], role=f["role"])
        for f in files
    ]


def organ(organ_id: str | None, organ_name: str | None) -> contract.OrganRef | None:
    if not organ_id and not organ_name:
        return None
    return contract.OrganRef(organ_id=organ_id or "", organ_name=organ_name or "")


def facts(doc: Doc, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "document_id": doc["id"],
        "agency_code": doc["agency_code"],
        "type_name": doc["type_name"],
        "type_abbreviation": doc["type_abbreviation"],
        "type_code": doc["type_code"],
        "code_number": doc["code_number"],
        "code_notation": doc["code_notation"],
        "issued_date": doc["issued_date"],
        "issuer": organ(doc["organ_id"], doc["organ_name"]),
        "subject": doc["subject"],
        "urgency": doc["urgency"],
        "secrecy": doc["secrecy"],
        "page_amount": doc["page_amount"],
        "files": file_refs(files),
        "language": doc["language"],
        "description": doc["description"],
        "priority": doc["priority"],
    }


def local_date(moment: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).date()


def is_secret(secrecy: str) -> bool:
    return Secrecy(secrecy) is not Secrecy.NORMAL


async def remove_search(session: AsyncConnection, document_id: str) -> None:
    await session.execute(delete(document_search).where(document_search.c.document_id == document_id))
    if is_sqlite(session):
        await session.execute(text("DELETE FROM document_fts WHERE document_id = :id"), {"id": document_id})


__all__ = ["GrantKind", "fold"]
