"""The registry's use cases, built once at startup and shared by the REST and NATS adapters."""

from __future__ import annotations

from dataclasses import dataclass

from vanthu_registry.incoming import IncomingService
from vanthu_registry.outgoing import OutgoingService
from vanthu_registry.prints import RegisterPrints
from vanthu_registry.reading import DocumentReader
from vanthu_registry.registers import RegisterService
from vanthu_registry.search import SearchService
from vanthu_registry.settings import RegistrySettings
from vanthu_registry.storage import FileStorage
from vanthu_registry.workfile_service import WorkFileService
from vanthu_runtime.objectstore import ObjectStore
from vanthu_runtime.uow import UnitOfWork


@dataclass
class Services:
    storage: FileStorage
    registers: RegisterService
    incoming: IncomingService
    outgoing: OutgoingService
    reader: DocumentReader
    search: SearchService
    workfiles: WorkFileService
    prints: RegisterPrints
    uow: UnitOfWork

    async def directory_unit_abbreviation(self, unit_id: str | None) -> str | None:
        """The drafting unit's abbreviation (công văn ký hiệu: UBND-VP)."""
        if not unit_id:
            return None
        from sqlalchemy import select

        from vanthu_registry.tables import units

        async with self.uow.read() as session:
            return (await session.execute(select(units.c.abbreviation).where(units.c.id == unit_id))).scalar_one_or_none()

    @classmethod
    def build(cls, uow: UnitOfWork, store: ObjectStore, settings: RegistrySettings) -> Services:
        storage = FileStorage(store, settings.max_file_bytes)
        registers = RegisterService(uow)
        return cls(
            storage=storage,
            registers=registers,
            incoming=IncomingService(uow, registers, storage, settings.timezone),
            outgoing=OutgoingService(uow, registers, storage, settings.timezone),
            reader=DocumentReader(uow, storage, settings.signed_url_ttl_s),
            search=SearchService(uow, settings.search_count_cap),
            workfiles=WorkFileService(uow, store, settings.timezone, settings.font_regular, settings.font_bold),
            prints=RegisterPrints(uow, settings.font_regular, settings.font_bold),
            uow=uow,
        )
