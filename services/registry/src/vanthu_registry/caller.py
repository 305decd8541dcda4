"""Who is acting, on whose behalf and from where: what every use case and audit entry needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from vanthu_registry.domain.access import Viewer
from vanthu_runtime.auth import Principal


@dataclass(frozen=True)
class Caller:
    user_id: str
    agency: str
    unit: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    on_behalf_of: str | None = None
    source_ip: str | None = None
    name: str = ""
    # The registry itself acting on an event (NATS), not a person: only `Caller.system` sets it.
    # Never derived from the request: `source_ip` comes from a client-supplied header.
    is_system: bool = False

    @classmethod
    def of(cls, principal: Principal, source_ip: str | None = None) -> Caller:
        return cls(
            user_id=principal.user_id,
            agency=principal.agency,
            unit=principal.unit,
            roles=frozenset(principal.roles),
            on_behalf_of=principal.on_behalf_of,
            source_ip=source_ip,
            name=principal.name,
        )

    @classmethod
    def system(cls, agency: str, actor: str = "system", on_behalf_of: str | None = None) -> Caller:
        return cls(user_id=actor, agency=agency, on_behalf_of=on_behalf_of, source_ip="nats", is_system=True)

    def has_role(self, *roles: str) -> bool:
        return any(str(r) in self.roles for r in roles)

    @property
    def viewer(self) -> Viewer:
        return Viewer(user_id=self.user_id, agency=self.agency, unit=self.unit, roles=self.roles)
