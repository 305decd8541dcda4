"""Registers (sổ văn bản) and gapless numbering.

A register is one numbering series of one agency for one direction and one year;
numbers run from 1 each 1 January because each year has its own register row.
Which types share a series is configuration (`numbering_series`); a type not named
by any series goes to the catch-all series (empty type list), and secret documents
go to a series marked secret. Without configuration every agency has four:
`den`, `den-mat`, `di`, `di-mat`.

Gapless under concurrency: the number is taken by `UPDATE registers SET last_number
= last_number + 1 … RETURNING` inside the registration's own transaction. On
PostgreSQL the row lock makes concurrent registrations queue on that register until
the holder commits or rolls back; on SQLite the transaction already holds the
database write lock (BEGIN IMMEDIATE). A failed registration rolls the increment
back with everything else, so no number is consumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from cachetools import TTLCache
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from vanthu_contracts.errors import FORBIDDEN
from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry.caller import Caller
from vanthu_registry.domain.doctypes import UnknownDocumentType, document_type
from vanthu_registry.domain.documents import Direction
from vanthu_registry.tables import numbering_series, registers
from vanthu_runtime.db import dialect_insert
from vanthu_runtime.errors import AppError
from vanthu_runtime.uow import UnitOfWork

DEFAULT_SERIES: dict[Direction, tuple[tuple[str, str, bool], ...]] = {
    Direction.INCOMING: (
        ("den", "Sổ đăng ký văn bản đến", False),
        ("den-mat", "Sổ đăng ký văn bản đến mật", True),
    ),
    Direction.OUTGOING: (
        ("di", "Sổ đăng ký văn bản đi", False),
        ("di-mat", "Sổ đăng ký văn bản đi mật", True),
    ),
}


@dataclass(frozen=True)
class Series:
    agency_code: str
    direction: Direction
    series: str
    name: str
    type_codes: tuple[str, ...]
    secret: bool


@dataclass(frozen=True)
class Register:
    id: str
    agency_code: str
    direction: Direction
    year: int
    series: str
    name: str
    type_codes: tuple[str, ...]
    secret: bool
    last_number: int


def choose_series(all_series: list[Series], type_code: str, secret: bool) -> Series:
    """The series a document of `type_code` goes to: named first, else the catch-all."""
    candidates = [s for s in all_series if s.secret == secret]
    for s in candidates:
        if type_code in s.type_codes:
            return s
    for s in candidates:
        if not s.type_codes:
            return s
    raise AppError(contract.SERIES_INVALID, {"type": type_code, "secret": secret})


def check_series_setup(all_series: list[Series]) -> None:
    """Each type in at most one series per secrecy class; a catch-all for each class."""
    for secret in (False, True):
        seen: set[str] = set()
        catch_alls = 0
        for s in (x for x in all_series if x.secret == secret):
            if not s.type_codes:
                catch_alls += 1
            for code in s.type_codes:
                if code in seen:
                    raise AppError(contract.SERIES_INVALID, {"type": code})
                seen.add(code)
        if catch_alls != 1:
            raise AppError(contract.SERIES_INVALID, {"catch_all_series": catch_alls, "secret": secret})


def _register(row: object) -> Register:
    r = row._mapping  # type: ignore[attr-defined]
    return Register(
        id=r["id"],
        agency_code=r["agency_code"],
        direction=Direction(r["direction"]),
        year=r["year"],
        series=r["series"],
        name=r["name"],
        type_codes=tuple(r["type_codes"] or ()),
        secret=r["secret"],
        last_number=r["last_number"],
    )


async def series_of(session: AsyncConnection, agency: str, direction: Direction) -> list[Series]:
    rows = (
        await session.execute(
            select(numbering_series).where(
                numbering_series.c.agency_code == agency, numbering_series.c.direction == direction.value
            )
        )
    ).all()
    configured = [
        Series(agency, direction, r.series, r.name, tuple(r.type_codes or ()), r.secret) for r in rows
    ]
    if configured:
        return configured
    return [
        Series(agency, direction, key, name, (), secret) for key, name, secret in DEFAULT_SERIES[direction]
    ]


async def take_number(session: AsyncConnection, register_id: str) -> int:
    """The next number of the register; call late in the transaction (it holds the row lock)."""
    result = await session.execute(
        update(registers)
        .where(registers.c.id == register_id)
        .values(last_number=registers.c.last_number + 1)
        .returning(registers.c.last_number)
    )
    return int(result.scalar_one())


async def _number_one_portably(
    session: AsyncConnection,
    register_id: str,
    year: int,
    document_id: str,
    state: str,
    registered_at: datetime,
) -> int:
    """Take the register's next number and write it on the document and its search entries, in
    statements any database runs (SQLite: its FTS5 table too)."""
    from vanthu_registry.tables import document_search, documents

    number = await take_number(session, register_id)
    await session.execute(
        update(documents)
        .where(documents.c.id == document_id)
        .values(
            number=number,
            state=state,
            register_id=register_id,
            register_year=year,
            registered_at=registered_at,
        )
    )
    await session.execute(
        update(document_search)
        .where(document_search.c.document_id == document_id)
        .values(body=document_search.c.body + f" {number} {number:02d}")
    )
    await session.execute(
        text("UPDATE document_fts SET body = body || :suffix WHERE document_id = :document_id"),
        {"suffix": f" {number} {number:02d}", "document_id": document_id},
    )
    return number


_NUMBER_DOCUMENTS_PG = text(
    """
    WITH n AS (
        UPDATE registers SET last_number = last_number + :count WHERE id = :register_id
        RETURNING last_number - :count AS base
    ), wanted AS (
        SELECT id, ord FROM unnest(CAST(:document_ids AS text[])) WITH ORDINALITY AS t(id, ord)
    ), d AS (
        UPDATE documents
        SET number = n.base + wanted.ord, state = :state, register_id = :register_id,
            register_year = :year, registered_at = :registered_at
        FROM n, wanted
        WHERE documents.id = wanted.id
        RETURNING documents.id, documents.number
    ), s AS (
        UPDATE document_search
        SET body = body || ' ' || d.number::text || ' ' || lpad(d.number::text, 2, '0')
        FROM d
        WHERE document_search.document_id = d.id
        RETURNING 1
    )
    SELECT id, number FROM d
    """
)


async def number_documents(
    session: AsyncConnection,
    register_id: str,
    year: int,
    document_ids: list[str],
    state: str,
    registered_at: datetime,
) -> list[int]:
    """Consecutive numbers for documents of one register, in the order given: the last step of
    a registration (from here to the commit the register row is locked).

    On PostgreSQL one statement takes the whole range and writes it on the documents and their
    search entries, so the register row is locked for one round trip and the commit, whatever
    the group's size."""
    if session.dialect.name != "postgresql":
        return [
            await _number_one_portably(session, register_id, year, document_id, state, registered_at)
            for document_id in document_ids
        ]
    rows = (
        await session.execute(
            _NUMBER_DOCUMENTS_PG,
            {
                "register_id": register_id,
                "count": len(document_ids),
                "document_ids": document_ids,
                "state": state,
                "year": year,
                "registered_at": registered_at,
            },
        )
    ).all()
    numbers = {row.id: int(row.number) for row in rows}
    if len(numbers) != len(document_ids):  # a document vanished: never hand out a number twice
        raise RuntimeError(
            f"numbered {len(numbers)} of {len(document_ids)} documents in register {register_id}"
        )
    return [numbers[document_id] for document_id in document_ids]


class RegisterService:
    """Registers and their series; what a registration looks up is kept for `cache_s` seconds.

    A register row never changes identity once created, and the series setup changes
    rarely (another replica sees a change after at most `cache_s`), so registrations do
    not pay two queries each for them.
    """

    def __init__(self, uow: UnitOfWork, cache_s: float = 5.0) -> None:
        self.uow = uow
        self.cache_s = cache_s
        self._series: TTLCache[tuple[str, Direction], list[Series]] = TTLCache(
            maxsize=4096, ttl=cache_s, timer=time.monotonic
        )
        self._registers: dict[tuple[str, Direction, int, str], Register] = {}

    async def _series_cached(self, agency: str, direction: Direction) -> list[Series]:
        key = (agency, direction)
        hit = self._series.get(key)
        if hit is not None:
            return hit
        async with self.uow.read() as session:
            found = await series_of(session, agency, direction)
        self._series[key] = found
        return found

    async def register_for(
        self, agency: str, direction: Direction, year: int, type_code: str, secret: bool
    ) -> Register:
        """The register a document goes to, created on first use (idempotent, race-safe)."""
        chosen = choose_series(await self._series_cached(agency, direction), type_code, secret)
        key = (agency, direction, year, chosen.series)
        if key in self._registers:
            return self._registers[key]
        async with self.uow.read() as session:
            found = await self._find(session, agency, direction, year, chosen.series)
        if found is not None:
            self._registers[key] = found
            return found
        async with self.uow.begin() as tx:
            insert = dialect_insert(tx.session)
            await tx.session.execute(
                insert(registers)
                .values(
                    id=str(uuid4()),
                    agency_code=agency,
                    direction=direction.value,
                    year=year,
                    series=chosen.series,
                    name=f"{chosen.name} năm {year}",
                    type_codes=list(chosen.type_codes),
                    secret=chosen.secret,
                    last_number=0,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["agency_code", "direction", "year", "series"])
            )
        async with self.uow.read() as session:
            found = await self._find(session, agency, direction, year, chosen.series)
        assert found is not None
        self._registers[key] = found
        return found

    @staticmethod
    async def _find(
        session: AsyncConnection, agency: str, direction: Direction, year: int, series: str
    ) -> Register | None:
        row = (
            await session.execute(
                select(registers).where(
                    registers.c.agency_code == agency,
                    registers.c.direction == direction.value,
                    registers.c.year == year,
                    registers.c.series == series,
                )
            )
        ).first()
        return _register(row) if row else None

    async def list_registers(self, caller: Caller, year: int | None = None) -> list[Register]:
        query = select(registers).where(registers.c.agency_code == caller.agency)
        if year is not None:
            query = query.where(registers.c.year == year)
        async with self.uow.read() as session:
            rows = (
                await session.execute(
                    query.order_by(registers.c.year, registers.c.direction, registers.c.series)
                )
            ).all()
        return [_register(r) for r in rows]

    async def get(self, caller: Caller, register_id: str) -> Register:
        async with self.uow.read() as session:
            row = (await session.execute(select(registers).where(registers.c.id == register_id))).first()
        if row is None or row.agency_code != caller.agency:
            from vanthu_contracts.errors import NOT_FOUND

            raise AppError(NOT_FOUND, {"register": register_id})
        return _register(row)

    async def list_series(self, caller: Caller, direction: Direction) -> list[Series]:
        async with self.uow.read() as session:
            return await series_of(session, caller.agency, direction)

    async def configure_series(self, caller: Caller, direction: Direction, setup: list[dict]) -> list[Series]:
        """Replace the agency's series of one direction (the head decides the numbering)."""
        if not caller.has_role(Role.ADMIN, Role.CLERK):
            raise AppError(FORBIDDEN)
        wanted: list[Series] = []
        for item in setup:
            codes = []
            for key in item.get("types", []):
                try:
                    codes.append(document_type(key).code)
                except UnknownDocumentType as exc:
                    raise AppError(contract.UNKNOWN_DOCUMENT_TYPE, {"type": key}) from exc
            wanted.append(
                Series(
                    caller.agency,
                    direction,
                    item["series"],
                    item["name"],
                    tuple(codes),
                    bool(item.get("secret")),
                )
            )
        check_series_setup(wanted)
        self._series.pop((caller.agency, direction), None)
        async with self.uow.begin() as tx:
            await tx.session.execute(
                numbering_series.delete().where(
                    numbering_series.c.agency_code == caller.agency,
                    numbering_series.c.direction == direction.value,
                )
            )
            now = datetime.now(UTC)
            for s in wanted:
                await tx.session.execute(
                    numbering_series.insert().values(
                        agency_code=s.agency_code,
                        direction=direction.value,
                        series=s.series,
                        name=s.name,
                        type_codes=list(s.type_codes),
                        secret=s.secret,
                        updated_at=now,
                    )
                )
            from vanthu_registry import audit

            await audit.append(
                tx.session,
                caller,
                "series.configure",
                "series",
                direction.value,
                {"series": [s.series for s in wanted]},
            )
        return wanted
