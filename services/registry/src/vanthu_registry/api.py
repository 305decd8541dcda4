"""REST adapters of the registry: translate HTTP ↔ use cases, nothing more."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from vanthu_contracts.events import registry as contract
from vanthu_contracts.events.common import Role
from vanthu_registry.domain.directory import Agency, Unit, User
from vanthu_registry.service import DirectoryService
from vanthu_runtime.auth import CurrentPrincipal, Principal
from vanthu_runtime.errors import AppError


def get_directory(request: Request) -> DirectoryService:
    return request.app.state.directory


Directory = Annotated[DirectoryService, Depends(get_directory)]


class AgencyIn(BaseModel):
    code: str = Field(max_length=13, examples=["000.00.12.H99"])
    name: str = Field(max_length=200)
    abbreviation: str = Field(max_length=20, examples=["SXD"])
    parent_code: str | None = Field(None, max_length=13)
    hosted: bool = True
    active: bool = True
    address: str = Field("", max_length=500)
    email: str = Field("", max_length=100)
    phone: str = Field("", max_length=20)


class AgencyOut(AgencyIn):
    @classmethod
    def of(cls, a: Agency) -> AgencyOut:
        return cls(**a.__dict__)


class UnitIn(BaseModel):
    id: str | None = None
    agency_code: str = Field(max_length=13)
    name: str = Field(max_length=200)
    abbreviation: str = Field(max_length=20)
    parent_unit_id: str | None = None
    active: bool = True


class UnitOut(BaseModel):
    id: str
    agency_code: str
    name: str
    abbreviation: str
    parent_unit_id: str | None
    active: bool

    @classmethod
    def of(cls, u: Unit) -> UnitOut:
        return cls(**u.__dict__)


class UserIn(BaseModel):
    id: str | None = None
    username: str = Field(max_length=64)
    full_name: str = Field(max_length=50)
    agency_code: str = Field(max_length=13)
    unit_id: str | None = None
    position: str = Field("", max_length=100)
    email: str = Field("", max_length=100)
    roles: list[Role] = Field(min_length=1)
    active: bool = True
    password: str | None = Field(None, min_length=8, max_length=128)


class UserOut(BaseModel):
    id: str
    username: str
    full_name: str
    agency_code: str
    unit_id: str | None
    position: str
    email: str
    roles: list[Role]
    active: bool

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            username=u.username,
            full_name=u.full_name,
            agency_code=u.agency_code,
            unit_id=u.unit_id,
            position=u.position,
            email=u.email,
            roles=list(u.roles),
            active=u.active,
        )


def _without_none_id(data: dict) -> dict:
    if data.get("id") is None:
        data.pop("id", None)
    return data


directory_router = APIRouter(prefix="/api/v1", tags=["directory"])


@directory_router.get("/agencies", summary="Danh sách cơ quan / list agencies")
async def list_agencies(_: CurrentPrincipal, directory: Directory) -> list[AgencyOut]:
    return [AgencyOut.of(a) for a in await directory.list_agencies()]


@directory_router.get("/agencies/{code}", summary="Một cơ quan / one agency")
async def get_agency(code: str, _: CurrentPrincipal, directory: Directory) -> AgencyOut:
    return AgencyOut.of(await directory.get_agency(code))


@directory_router.put("/agencies/{code}", summary="Tạo hoặc sửa cơ quan / create or update an agency")
async def put_agency(code: str, body: AgencyIn, actor: CurrentPrincipal, directory: Directory) -> AgencyOut:
    data = body.model_dump()
    data["code"] = code
    return AgencyOut.of(await directory.upsert_agency(actor, data))


@directory_router.get("/units", summary="Danh sách đơn vị / list units")
async def list_units(actor: CurrentPrincipal, directory: Directory, agency: str | None = None) -> list[UnitOut]:
    return [UnitOut.of(u) for u in await directory.list_units(agency or actor.agency)]


@directory_router.post("/units", summary="Tạo hoặc sửa đơn vị / create or update a unit")
async def post_unit(body: UnitIn, actor: CurrentPrincipal, directory: Directory) -> UnitOut:
    return UnitOut.of(await directory.upsert_unit(actor, _without_none_id(body.model_dump())))


@directory_router.get("/users", summary="Danh sách người dùng / list users")
async def list_users(actor: CurrentPrincipal, directory: Directory, agency: str | None = None) -> list[UserOut]:
    return [UserOut.of(u) for u in await directory.users_seen_by(actor, agency or actor.agency)]


@directory_router.post("/users", summary="Tạo hoặc sửa người dùng / create or update a user")
async def post_user(body: UserIn, actor: CurrentPrincipal, directory: Directory) -> UserOut:
    data = _without_none_id(body.model_dump(exclude={"password"}))
    return UserOut.of(await directory.upsert_user(actor, data, password=body.password))


@directory_router.get("/me", summary="Người dùng hiện tại / the current principal")
async def me(actor: CurrentPrincipal) -> Principal:
    return actor


# -- development token issuer ----------------------------------------------------------

class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=128)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


dev_router = APIRouter(tags=["development"])


@dev_router.post("/auth/dev-token", summary="Đăng nhập thử nghiệm / development login (not in production)")
async def dev_token(body: LoginIn, request: Request, directory: Directory) -> TokenOut:
    issuer = getattr(request.app.state, "dev_issuer", None)
    if issuer is None:
        raise AppError(contract.DEV_ISSUER_DISABLED)
    user = await directory.authenticate(body.username, body.password)
    ttl = 8 * 3600
    principal = Principal(
        user_id=user.id,
        agency=user.agency_code,
        unit=user.unit_id,
        roles=[str(r) for r in user.roles],
        name=user.full_name,
    )
    return TokenOut(access_token=issuer.mint(principal, ttl_s=ttl), expires_in=ttl)


@dev_router.get("/dev/logins", summary="Tài khoản thử nghiệm / demo logins (development only)")
async def dev_logins(request: Request) -> list[dict]:
    if getattr(request.app.state, "dev_issuer", None) is None or not request.app.state.demo_seeded:
        raise AppError(contract.DEV_ISSUER_DISABLED)
    from vanthu_registry.demo import demo_logins

    return demo_logins(request.app.state.demo_province)


@dev_router.get("/.well-known/jwks.json", summary="Public keys of the development issuer")
async def jwks(request: Request) -> dict:
    issuer = getattr(request.app.state, "dev_issuer", None)
    if issuer is None:
        raise AppError(contract.DEV_ISSUER_DISABLED)
    return issuer.jwks()
