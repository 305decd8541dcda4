"""REST adapters of the signing service: profiles, the token agent's channel, validation."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vanthu_contracts import errors as common
from vanthu_contracts.events import signing as contract
from vanthu_contracts.events.common import Role
from vanthu_runtime.auth import CurrentPrincipal, Principal
from vanthu_runtime.errors import AppError
from vanthu_signing.domain.profiles import KeyKind, ProfileRuleBroken, Purpose, SignerProfile
from vanthu_signing.failures import as_app_error
from vanthu_signing.keys.certificates import load_certificate
from vanthu_signing.pdf.stamps import ImageProblem, load_png
from vanthu_signing.profile_rules import error_for_rule
from vanthu_signing.repository import ProfileRepository
from vanthu_signing.tokens import DECLINE_CODES, TokenRequests

# -- profiles (administrators of the agency) -------------------------------------------

profiles_router = APIRouter(prefix="/api/v1/signer-profiles", tags=["signer-profiles"])


class ProfileIn(BaseModel):
    agency_code: str = Field(max_length=13)
    purpose: Purpose
    key_kind: KeyKind
    user_id: str | None = Field(None, max_length=100)
    display_name: str = Field("", max_length=200, description="Agency name beside the seal / person's name")
    module_path: str | None = Field(None, max_length=500)
    token_label: str | None = Field(None, max_length=100)
    key_label: str | None = Field(None, max_length=100)
    key_id_hex: str | None = Field(None, max_length=128)
    pin_secret: str | None = Field(None, max_length=300, description="env:NAME or file:/path — never the PIN")
    pkcs12_path: str | None = Field(None, max_length=500)
    pkcs12_passphrase_secret: str | None = Field(None, max_length=300)
    image_width_mm: float = 0.0
    active: bool = True


class ProfileOut(ProfileIn):
    id: str
    image_sha256: str | None
    has_certificate: bool


def _admin_of(actor: Principal, agency_code: str) -> None:
    if not actor.has_role(Role.ADMIN) or actor.agency != agency_code:
        raise AppError(common.FORBIDDEN, {"agency_code": agency_code})


def _out(profile: SignerProfile) -> ProfileOut:
    data = {k: getattr(profile, k) for k in ProfileIn.model_fields}
    return ProfileOut(
        **data,
        id=profile.id,
        image_sha256=profile.image_sha256,
        has_certificate=profile.certificate_der is not None,
    )


@profiles_router.put("/{profile_id}", summary="Tạo/sửa hồ sơ chữ ký số / create or update a signer profile")
async def put_profile(
    profile_id: str, body: ProfileIn, actor: CurrentPrincipal, request: Request
) -> ProfileOut:
    _admin_of(actor, body.agency_code)
    settings = request.app.state.settings
    uow = request.app.state.uow
    async with uow.begin() as tx:
        repo = ProfileRepository(tx.session)
        existing = await repo.get(profile_id)
        if existing is not None and existing.profile.agency_code != body.agency_code:
            raise AppError(common.FORBIDDEN, {"profile_id": profile_id})
        keep = existing.profile if existing else None
        profile = SignerProfile(
            id=profile_id,
            **body.model_dump(),
            certificate_der=keep.certificate_der if keep else None,
            image_sha256=keep.image_sha256 if keep else None,
        )
        try:
            profile.check(
                production=settings.env.value == "production",
                allowed_modules=frozenset(settings.pkcs11_modules),
            )
        except ProfileRuleBroken as exc:
            raise AppError(error_for_rule(exc.rule), {"field": exc.field_name, "rule": exc.rule}) from exc
        await repo.save(profile)
    return _out(profile)


@profiles_router.get("", summary="Hồ sơ chữ ký số của cơ quan / the agency's signer profiles")
async def list_profiles(actor: CurrentPrincipal, request: Request) -> list[ProfileOut]:
    _admin_of(actor, actor.agency)
    async with request.app.state.uow.read() as session:
        stored = await ProfileRepository(session).list(actor.agency)
    return [_out(s.profile) for s in stored]


@profiles_router.put("/{profile_id}/image", summary="Ảnh chữ ký / con dấu (PNG nền trong suốt)")
async def put_image(
    profile_id: str, actor: CurrentPrincipal, request: Request, file: UploadFile = File(...)
) -> ProfileOut:
    data = await file.read(5 * 1024 * 1024 + 1)
    try:
        load_png(data)
    except ImageProblem as exc:
        raise AppError(contract.IMAGE_INVALID, {"detail": str(exc)}) from exc
    uow = request.app.state.uow
    async with uow.read() as session:
        existing = await ProfileRepository(session).get(profile_id)
    if existing is None:
        raise AppError(contract.PROFILE_NOT_FOUND, {"profile_id": profile_id})
    _admin_of(actor, existing.profile.agency_code)
    stored = await request.app.state.storage.put_image(data)
    from dataclasses import replace

    async with uow.begin() as tx:
        repo = ProfileRepository(tx.session)
        current = await repo.get(profile_id)
        assert current is not None
        profile = replace(current.profile, image_sha256=stored.sha256)
        await repo.save(profile)
    return _out(profile)


# -- the token agent ------------------------------------------------------------------

agent_router = APIRouter(prefix="/api/v1/token-agent", tags=["token-agent"])


def get_tokens(request: Request) -> TokenRequests:
    return request.app.state.tokens


Tokens = Annotated[TokenRequests, Depends(get_tokens)]


class CertificateIn(BaseModel):
    certificate_b64: str = Field(description="DER certificate read from the token, base64")
    chain_pem: str | None = Field(None, max_length=20000)


class SigningRequestOut(BaseModel):
    id: str
    expires_at: Any
    display: dict[str, Any]
    to_sign_b64: str = Field(description="DER of the CMS signed attributes: sign with SHA-256 on the token")


class AnswerIn(BaseModel):
    signature_b64: str | None = None
    decline_code: str | None = Field(None, description="signing.token_declined, signing.wrong_pin, …")


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise AppError(common.VALIDATION, {"detail": "not base64"}) from exc


@agent_router.put(
    "/certificate", summary="Đăng ký chứng thư số trên token / register the token's certificate"
)
async def register_certificate(
    body: CertificateIn, actor: CurrentPrincipal, tokens: Tokens
) -> dict[str, list[str]]:
    der = _b64(body.certificate_b64)
    try:
        load_certificate(der).subject  # noqa: B018 (parse it now, not at signing time)
    except ValueError as exc:
        raise AppError(contract.PROFILE_INVALID, {"detail": "not a certificate"}) from exc
    return {"profiles": await tokens.register_certificate(actor.user_id, der, body.chain_pem)}


@agent_router.get("/requests", summary="Yêu cầu ký đang chờ (long-poll) / pending signing requests")
async def pending(
    actor: CurrentPrincipal, tokens: Tokens, request: Request, wait: float = 20.0
) -> list[SigningRequestOut]:
    wait = max(0.0, min(wait, request.app.state.settings.token_poll_wait_s))
    rows = await tokens.pending(actor.user_id, wait)
    return [
        SigningRequestOut(
            id=r["id"],
            expires_at=r["expires_at"],
            display=r["display"],
            to_sign_b64=base64.b64encode(r["to_sign"]).decode(),
        )
        for r in rows
    ]


@agent_router.post(
    "/requests/{request_id}", status_code=204, summary="Trả chữ ký hoặc từ chối / answer a request"
)
async def answer(request_id: str, body: AnswerIn, actor: CurrentPrincipal, tokens: Tokens) -> Response:
    if (body.signature_b64 is None) == (body.decline_code is None):
        raise AppError(common.VALIDATION, {"detail": "give signature_b64 or decline_code"})
    if body.decline_code is not None and body.decline_code not in DECLINE_CODES:
        raise AppError(common.VALIDATION, {"decline_code": body.decline_code})
    signature = _b64(body.signature_b64) if body.signature_b64 is not None else None
    await tokens.answer(actor.user_id, request_id, signature=signature, decline_code=body.decline_code)
    return Response(status_code=204)


# -- validation -----------------------------------------------------------------------

verify_router = APIRouter(prefix="/api/v1", tags=["verify"])


@verify_router.post("/verify", summary="Kiểm tra chữ ký số của tệp PDF / validate a PDF's signatures")
async def verify(
    _: CurrentPrincipal, request: Request, file: UploadFile | None = File(None)
) -> contract.ValidationReport:
    settings = request.app.state.settings
    if file is None:
        raise AppError(contract.VERIFY_NO_FILE)
    data = await file.read(settings.max_pdf_bytes + 1)
    if len(data) > settings.max_pdf_bytes:
        raise AppError(
            contract.FILE_TOO_LARGE, {"limit": settings.max_pdf_bytes}, limit=settings.max_pdf_bytes
        )
    try:
        return await request.app.state.validator.validate(data, file.filename or "")
    except Exception as exc:
        raise as_app_error(exc) from exc
