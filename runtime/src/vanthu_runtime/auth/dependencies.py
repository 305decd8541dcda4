"""FastAPI glue: the current principal from the `Authorization: Bearer` header, role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import trace

from vanthu_contracts.errors import FORBIDDEN, PROVINCE_OPERATOR_ONLY, UNAUTHENTICATED
from vanthu_contracts.events.common import Role
from vanthu_runtime.auth.principal import Principal
from vanthu_runtime.auth.verifier import TokenVerifier
from vanthu_runtime.errors import AppError

# auto_error=False: a missing or non-bearer header becomes our AppError (with
# Vietnamese and English messages), not FastAPI's bare 403. Declaring the scheme
# also gives the OpenAPI page its "Authorize" button.
_bearer_scheme = HTTPBearer(auto_error=False, description="JWT access token (Bearer)")


async def bearer_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    """Verify the bearer token with `app.state.token_verifier`; keep the principal on `request.state`."""
    if credentials is None or not credentials.credentials.strip():
        raise AppError(UNAUTHENTICATED, {"reason": "missing_bearer_token"})
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise RuntimeError("app.state.token_verifier is not set; build it with TokenVerifier.from_settings")
    principal = await verifier.averify(credentials.credentials.strip())
    request.state.principal = principal
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("enduser.id", principal.user_id)
        span.set_attribute("vanthu.agency", principal.agency)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(bearer_principal)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through principals holding at least one of `roles`.

    `@router.post(..., dependencies=[Depends(require_roles(Role.CLERK))])`, or
    as a parameter: `principal: Annotated[Principal, Depends(require_roles(Role.ADMIN))]`.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    required = [str(role) for role in roles]

    async def principal_with_role(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*required):
            raise AppError(FORBIDDEN, {"required_roles": required})
        return principal

    return principal_with_role


async def province_operator(request: Request, principal: CurrentPrincipal) -> Principal:
    """An administrator (quản trị) of the province's root agency (setting `province_agency`).

    Province-wide jobs — the reminder sweep over every agency, the partner directory and the
    axis poll shared by the whole platform — are not any one agency's to trigger: an
    administrator of a Sở manages that Sở only. With no `province_agency` configured nobody
    may trigger them over HTTP (operators use the CLI).
    """
    province = getattr(request.app.state.runtime.settings, "province_agency", "")
    if not (province and principal.agency == province and principal.has_role(Role.ADMIN)):
        raise AppError(
            PROVINCE_OPERATOR_ONLY,
            {"required_roles": [Role.ADMIN.value], "required_agency": province or None},
        )
    return principal


ProvinceOperator = Annotated[Principal, Depends(province_operator)]
