"""Signer profiles: which key signs for whom, and the rules a profile must follow.

A profile binds a key to a person (personal signatures) or to an agency (the seal key the
văn thư uses for seal, attachment and copy signatures):

- `pkcs11`: a key in an HSM (a network HSM in production, SoftHSM2 in tests), found by token
  label and key label or id; the PIN comes from a secret reference, never from the database.
- `token_proxy`: the key stays on the person's USB token, on their own computer; the token
  agent signs there. The profile keeps the certificate the agent registered.
- `pkcs12`: a key file, for development only; refused when the platform runs in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from vanthu_contracts.events.signing import SignatureKind


class KeyKind(StrEnum):
    PKCS11 = "pkcs11"
    TOKEN_PROXY = "token_proxy"
    PKCS12 = "pkcs12"


class Purpose(StrEnum):
    PERSONAL = "personal"  # chữ ký số của người có thẩm quyền
    AGENCY = "agency"  # chữ ký số của cơ quan (seal, attachment, copy)


_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$")
_HEX = re.compile(r"^([0-9a-f]{2})+$")


class ProfileRuleBroken(ValueError):
    def __init__(self, rule: str, field_name: str) -> None:
        super().__init__(f"{rule} ({field_name})")
        self.rule = rule
        self.field_name = field_name


@dataclass(frozen=True)
class SignerProfile:
    id: str
    agency_code: str
    purpose: Purpose
    key_kind: KeyKind
    user_id: str | None = None
    display_name: str = ""  # the person's name, or the agency's name written beside the seal
    module_path: str | None = None
    token_label: str | None = None
    key_label: str | None = None
    key_id_hex: str | None = None
    pin_secret: str | None = None  # env:NAME or file:/path
    pkcs12_path: str | None = None
    pkcs12_passphrase_secret: str | None = None
    certificate_der: bytes | None = field(default=None, repr=False)
    image_sha256: str | None = None
    image_width_mm: float = 0.0  # signature image width, or the seal's real diameter
    active: bool = True

    def check(self, *, production: bool, allowed_modules: frozenset[str] = frozenset()) -> None:
        """Raise ProfileRuleBroken for the first rule the profile breaks.

        `allowed_modules`: the PKCS#11 libraries the operator lets profiles load. A module
        is native code loaded into the signing worker, so an administrator's profile must
        not be able to name any file; empty means no list (development only: production
        settings refuse to start without one).
        """
        if not _ID.match(self.id):
            raise ProfileRuleBroken("id_format", "id")
        if self.purpose is Purpose.PERSONAL and not self.user_id:
            raise ProfileRuleBroken("personal_needs_user", "user_id")
        if self.key_kind is KeyKind.TOKEN_PROXY and self.purpose is not Purpose.PERSONAL:
            # The agency key is held by the văn thư's office (Decree 30 Art. 33), in an HSM.
            raise ProfileRuleBroken("token_proxy_is_personal", "key_kind")
        if self.key_kind is KeyKind.PKCS11:
            if not self.module_path:
                raise ProfileRuleBroken("pkcs11_needs_module", "module_path")
            if allowed_modules and self.module_path not in allowed_modules:
                raise ProfileRuleBroken("pkcs11_module_not_allowed", "module_path")
            if not self.token_label:
                raise ProfileRuleBroken("pkcs11_needs_token", "token_label")
            if not (self.key_label or self.key_id_hex):
                raise ProfileRuleBroken("pkcs11_needs_key", "key_label")
            if self.pin_secret is not None and not _SECRET_REF.match(self.pin_secret):
                raise ProfileRuleBroken("secret_reference", "pin_secret")
            if self.key_id_hex is not None and not _HEX.match(self.key_id_hex):
                raise ProfileRuleBroken("key_id_hex", "key_id_hex")
        if self.key_kind is KeyKind.PKCS12:
            if production:
                raise ProfileRuleBroken("pkcs12_in_production", "key_kind")
            if not self.pkcs12_path:
                raise ProfileRuleBroken("pkcs12_needs_path", "pkcs12_path")
            if self.pkcs12_passphrase_secret is not None and not _SECRET_REF.match(
                self.pkcs12_passphrase_secret
            ):
                raise ProfileRuleBroken("secret_reference", "pkcs12_passphrase_secret")
        if self.image_width_mm < 0 or self.image_width_mm > 120:
            raise ProfileRuleBroken("image_width", "image_width_mm")


def purpose_for(kind: SignatureKind) -> Purpose:
    return Purpose.PERSONAL if kind is SignatureKind.PERSONAL else Purpose.AGENCY


def needs_image(kind: SignatureKind) -> bool:
    """Personal and seal signatures show an image; attachments and copies show text only."""
    return kind in (SignatureKind.PERSONAL, SignatureKind.SEAL)
