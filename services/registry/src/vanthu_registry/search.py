"""Search: every metadata field plus the PDF text layer, with or without diacritics.

Free text is folded (see domain/text.py) and every token must match as a word
prefix: PostgreSQL answers from the generated tsvector (GIN) of `document_search`,
SQLite from the FTS5 table. Structured filters narrow by exact fields and date
ranges; access rules are part of the query, so a page never holds what the caller
may not see. Totals are exact up to `count_cap`, then reported as a lower bound.

PostgreSQL plans prefix tsqueries with a default selectivity, so it cannot tell a word
in every second document from one in every thousandth. Text searches sorted by time
therefore go in two steps instead: first the `RECENT_WINDOW` most recent documents
the caller may see are filtered (a frequent word fills the page there, and the newest
matches are necessarily among them); only when that leaves the page short is the word
rare enough for the GIN index to answer the whole agency cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, literal, literal_column, or_, select, text
from sqlalchemy.sql import ColumnElement, Select

from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Secrecy
from vanthu_registry import audit
from vanthu_registry.caller import Caller
from vanthu_registry.domain.access import GrantKind, is_unit_head, sees_everything_public
from vanthu_registry.domain.text import fold, query_tokens
from vanthu_registry.tables import access_grants, document_search, documents
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork

# Columns a result may show and be sorted by.
COLUMNS: tuple[str, ...] = (
    "id", "direction", "state", "register_id", "register_year", "number", "type_code", "type_name",
    "type_abbreviation", "code_number", "code_notation", "issued_date", "organ_id", "organ_name", "subject",
    "language", "page_amount", "description", "signer_position", "signer_name", "urgency", "secrecy", "priority",
    "to_places", "due_date", "arrival_date", "received_at", "registered_at", "channel", "external_document_id",
    "sender_organ_name", "axis_document_id", "issued_at", "issued_amount", "draft_id", "sort_at",
)
DEFAULT_COLUMNS = (
    "id", "direction", "state", "number", "code_number", "code_notation", "type_name", "issued_date",
    "organ_name", "subject", "urgency", "arrival_date", "issued_at",
)
EXACT_FILTERS = (
    "direction", "state", "register_id", "register_year", "number", "type_code", "code_number", "organ_id",
    "urgency", "secrecy", "channel", "external_document_id", "axis_document_id", "draft_id",
)
CONTAINS_FILTERS = ("code_notation", "organ_name", "subject", "signer_name", "signer_position", "to_places", "description")
DATE_FILTERS = ("issued_date", "arrival_date", "due_date")
RECENT_WINDOW = 5000


@dataclass
class SearchQuery:
    q: str = ""
    exact: dict[str, Any] = field(default_factory=dict)
    contains: dict[str, str] = field(default_factory=dict)
    date_from: dict[str, date] = field(default_factory=dict)
    date_to: dict[str, date] = field(default_factory=dict)
    sort: str = "-sort_at"
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    page: int = 1
    size: int = 20


@dataclass
class SearchPage:
    items: list[dict[str, Any]]
    total: int
    total_is_exact: bool
    page: int
    size: int
    columns: tuple[str, ...]


def validate(query: SearchQuery) -> None:
    unknown = [c for c in query.columns if c not in COLUMNS]
    sort_column = query.sort.lstrip("-+")
    if sort_column not in COLUMNS:
        unknown.append(sort_column)
    unknown += [k for k in query.exact if k not in EXACT_FILTERS]
    unknown += [k for k in query.contains if k not in CONTAINS_FILTERS]
    unknown += [k for k in (*query.date_from, *query.date_to) if k not in DATE_FILTERS]
    if unknown:
        raise AppError(contract.SEARCH_FIELD_UNKNOWN, {"fields": unknown})


def _prefixed(tokens: list[str]) -> list[tuple[str, bool]]:
    """Whole words, except the last one while it is being typed (3+ letters: `quyet din`).

    Exact words keep the GIN index fast (its skip-scan works on exact entries, while a
    prefix entry collects every matching posting first) and its estimates right.
    """
    return [(t, i == len(tokens) - 1 and len(t) >= 3 and not t.isdigit()) for i, t in enumerate(tokens)]


def _tsquery(tokens: list[str]) -> str:
    # Tokens are [0-9a-z]+ (folded), so nothing here can break the tsquery syntax.
    return " & ".join(f"{t}:*" if prefix else t for t, prefix in _prefixed(tokens))


def _fts5_query(tokens: list[str]) -> str:
    return " AND ".join(f'"{t}"*' if prefix else f'"{t}"' for t, prefix in _prefixed(tokens))


def _access(caller: Caller) -> ColumnElement[bool]:
    """What the caller may see, as a condition on document_search rows."""
    s = document_search.c
    mine = select(access_grants.c.document_id).where(
        access_grants.c.principal_type == "user", access_grants.c.principal_id == caller.user_id
    )
    secret_ok = s.document_id.in_(mine.where(access_grants.c.kind == GrantKind.SECRET))
    public = s.secrecy == Secrecy.NORMAL.value
    if sees_everything_public(caller.viewer):
        return or_(public, secret_ok)
    assigned = mine.where(access_grants.c.kind.in_((GrantKind.ASSIGNED, GrantKind.GIVEN)))
    if is_unit_head(caller.viewer) and caller.unit:
        unit_grants = select(access_grants.c.document_id).where(
            access_grants.c.principal_type == "unit",
            access_grants.c.principal_id == caller.unit,
            access_grants.c.kind.in_((GrantKind.ASSIGNED, GrantKind.GIVEN)),
        )
        return or_(and_(public, or_(s.document_id.in_(assigned), s.document_id.in_(unit_grants))), secret_ok)
    return or_(and_(public, s.document_id.in_(assigned)), secret_ok)


class SearchService:
    def __init__(self, uow: UnitOfWork, count_cap: int = 1000) -> None:
        self.uow = uow
        self.count_cap = count_cap

    def build(self, caller: Caller, query: SearchQuery, dialect: str) -> Select[Any]:
        s = document_search.c
        d = documents.c
        needs_documents = bool(query.exact or query.contains or query.date_from or query.date_to) or (
            query.sort.lstrip("-+") != "sort_at"
        )
        stmt = select(s.document_id).select_from(document_search)
        if needs_documents:
            stmt = stmt.join(documents, d.id == s.document_id)
        stmt = stmt.where(s.agency_code == caller.agency, _access(caller))
        tokens = query_tokens(query.q)
        if tokens:
            if dialect == "postgresql":
                stmt = stmt.where(text("document_search.tsv @@ to_tsquery('simple', :tsq)").bindparams(tsq=_tsquery(tokens)))
            else:
                stmt = stmt.where(
                    s.document_id.in_(
                        text("SELECT document_id FROM document_fts WHERE document_fts MATCH :fts")
                        .bindparams(fts=_fts5_query(tokens))
                        .columns(document_id=s.document_id.type)
                    )
                )
        for key, value in query.exact.items():
            if key in ("direction", "secrecy"):
                stmt = stmt.where(getattr(s, key) == value)
            else:
                stmt = stmt.where(getattr(d, key) == value)
        for key, value in query.contains.items():
            stmt = stmt.where(func.lower(getattr(d, key)).contains(value.lower(), autoescape=True))
        for key, value in query.date_from.items():
            stmt = stmt.where(getattr(d, key) >= value)
        for key, value in query.date_to.items():
            stmt = stmt.where(getattr(d, key) <= value)
        return stmt

    async def search(self, caller: Caller, query: SearchQuery) -> SearchPage:
        validate(query)
        size = max(1, min(query.size, 100))
        page = max(1, query.page)
        sort_column = query.sort.lstrip("-+")
        descending = query.sort.startswith("-")
        async with self.uow.begin() as tx:
            dialect = tx.session.dialect.name
            tokens = query_tokens(query.q)
            plain_text_search = (
                dialect == "postgresql" and tokens and sort_column == "sort_at"
                and not (query.exact or query.contains or query.date_from or query.date_to)
            )
            found = None
            if plain_text_search:
                found = await self._recent_first(tx.session, caller, _tsquery(tokens), descending, page, size)
            if found is not None:
                ids, total, exact = found
            else:
                base = self.build(caller, query, dialect)
                if plain_text_search:
                    # A rare word: order by an expression so the planner takes the GIN index.
                    column = document_search.c.sort_at + literal_column("interval '0 second'")
                else:
                    column = document_search.c.sort_at if sort_column == "sort_at" else getattr(documents.c, sort_column)
                order = [column.desc() if descending else column.asc(), document_search.c.document_id]
                ids = list(
                    (await tx.session.execute(base.order_by(*order).limit(size).offset((page - 1) * size))).scalars().all()
                )
                capped = base.order_by(*order).limit(self.count_cap + 1).subquery()
                total = (await tx.session.execute(select(func.count(literal(1))).select_from(capped))).scalar_one()
                exact = total <= self.count_cap
            rows = []
            if ids:
                wanted = [getattr(documents.c, c) for c in query.columns if c != "id"]
                fetched = (
                    await tx.session.execute(select(documents.c.id, *wanted).where(documents.c.id.in_(ids)))
                ).mappings().all()
                by_id = {r["id"]: r for r in fetched}
                rows = [{k: by_id[i][k] for k in ("id", *query.columns) if k in by_id[i]} for i in ids if i in by_id]
            await audit.append(
                tx.session,
                caller,
                "document.search",
                "search",
                caller.agency,
                {"q": fold(query.q)[:200], "results": list(ids)},
            )
        return SearchPage(rows, min(total, self.count_cap), exact and total <= self.count_cap, page, size, query.columns)

    async def _recent_first(
        self, session: Any, caller: Caller, tsquery: str, descending: bool, page: int, size: int
    ) -> tuple[list[str], int, bool] | None:
        """Page and total from the most recent documents, or None when the word is rare."""
        s = document_search.c
        order = s.sort_at.desc() if descending else s.sort_at.asc()
        visible = and_(s.agency_code == caller.agency, _access(caller))
        recent = (
            select(s.document_id, s.sort_at, literal_column("document_search.tsv").label("tsv"))
            .where(visible)
            .order_by(order)
            .limit(RECENT_WINDOW)
            .cte("recent")
            .prefix_with("MATERIALIZED")
        )
        window_rows = select(func.count(literal(1))).select_from(recent).scalar_subquery()
        matches = (
            select(recent.c.document_id, func.count(literal(1)).over().label("matched"), window_rows.label("window_rows"))
            .where(text("recent.tsv @@ to_tsquery('simple', :tsq)").bindparams(tsq=tsquery))
            .order_by(recent.c.sort_at.desc() if descending else recent.c.sort_at.asc(), recent.c.document_id)
            .limit(page * size)
        )
        rows = (await session.execute(matches)).all()
        if not rows:
            return None  # nothing recent: the GIN index answers a rare (or absent) word at once
        matched, window_full = rows[0].matched, rows[0].window_rows >= RECENT_WINDOW
        page_ids = [r.document_id for r in rows][(page - 1) * size :]
        if not window_full:
            return page_ids, matched, True  # the window held every document the caller may see
        if matched >= page * size:
            return page_ids, matched, False  # the page is right; the total is at least this
        return None
