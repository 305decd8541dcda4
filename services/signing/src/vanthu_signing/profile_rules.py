"""The error a caller sees for each signer-profile rule the domain reports."""

from __future__ import annotations

from vanthu_contracts.errors import ErrorCode
from vanthu_contracts.events import signing as contract

_SPECIFIC: dict[str, ErrorCode] = {
    "pkcs12_in_production": contract.PKCS12_IN_PRODUCTION,
    "pkcs11_module_not_allowed": contract.PKCS11_MODULE_NOT_ALLOWED,
}


def error_for_rule(rule: str) -> ErrorCode:
    """Rules an operator acts on get their own code; the others are `signing.profile_invalid`."""
    return _SPECIFIC.get(rule, contract.PROFILE_INVALID)
