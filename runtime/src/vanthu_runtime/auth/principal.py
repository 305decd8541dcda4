"""Who is calling: the identity carried by a verified bearer token."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vanthu_contracts.events.common import AgencyCode

# Claim names. `sub`, `name` and `scope` are the OIDC/OAuth ones, so a Keycloak
# mapper only has to add `agency`, `unit`, `roles` (and `on_behalf_of`).
CLAIM_USER = "sub"
CLAIM_AGENCY = "agency"
CLAIM_UNIT = "unit"
CLAIM_ROLES = "roles"
CLAIM_NAME = "name"
CLAIM_ON_BEHALF_OF = "on_behalf_of"
CLAIM_SCOPE = "scope"


class Principal(BaseModel):
    """The authenticated user, as every service sees them."""

    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(min_length=1, description="Claim `sub`")
    agency: AgencyCode = Field(description="Identifier code of the user's agency (mã định danh)")
    unit: str | None = Field(None, description="The user's unit (phòng/ban) inside the agency")
    roles: list[str] = Field(default_factory=list, description="Values of vanthu_contracts Role")
    name: str = ""
    on_behalf_of: str | None = Field(None, description="User id this user acts for (ủy quyền)")
    scopes: list[str] = Field(default_factory=list)

    def has_role(self, *roles: str) -> bool:
        """True when the user holds at least one of `roles` (Role members or their values)."""
        held = set(self.roles)
        return any(str(role) in held for role in roles)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        """Build from verified JWT claims (raises pydantic.ValidationError when they don't fit)."""
        scope = claims.get(CLAIM_SCOPE, claims.get("scp", []))
        return cls.model_validate(
            {
                "user_id": claims.get(CLAIM_USER),
                "agency": claims.get(CLAIM_AGENCY),
                "unit": claims.get(CLAIM_UNIT),
                "roles": claims.get(CLAIM_ROLES) or [],
                "name": claims.get(CLAIM_NAME) or "",
                "on_behalf_of": claims.get(CLAIM_ON_BEHALF_OF),
                # OAuth puts scopes in one space-separated string; some issuers use a list.
                "scopes": scope.split() if isinstance(scope, str) else scope,
            }
        )

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            CLAIM_USER: self.user_id,
            CLAIM_AGENCY: self.agency,
            CLAIM_ROLES: list(self.roles),
            CLAIM_NAME: self.name,
        }
        if self.unit is not None:
            claims[CLAIM_UNIT] = self.unit
        if self.on_behalf_of is not None:
            claims[CLAIM_ON_BEHALF_OF] = self.on_behalf_of
        if self.scopes:
            claims[CLAIM_SCOPE] = " ".join(self.scopes)
        return claims
