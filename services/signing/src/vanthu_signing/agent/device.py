"""The USB token (any PKCS#11 module; SoftHSM2 in tests): read the certificate, sign.

The PIN is used for one signature and then the session is closed, so the token is not left
logged in between requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pkcs11
from asn1crypto import algos
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass


class DeviceError(Exception):
    """`code` is the signing.* code the agent reports back."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


@dataclass
class TokenDevice:
    module_path: str
    token_label: str
    key_label: str | None = None
    key_id: bytes | None = None

    def _token(self) -> pkcs11.Token:
        try:
            return pkcs11.lib(self.module_path).get_token(token_label=self.token_label)
        except Exception as exc:
            raise DeviceError("signing.hsm_unavailable", f"{type(exc).__name__}: {exc}") from exc

    def _attrs(self, object_class: ObjectClass) -> dict:
        attrs: dict = {Attribute.CLASS: object_class}
        if self.key_label:
            attrs[Attribute.LABEL] = self.key_label
        if self.key_id:
            attrs[Attribute.ID] = self.key_id
        return attrs

    def certificate(self) -> bytes:
        """The DER certificate stored next to the key (public: no PIN needed)."""
        with self._token().open() as session:
            for obj in session.get_objects(self._attrs(ObjectClass.CERTIFICATE)):
                return bytes(obj[Attribute.VALUE])
        raise DeviceError("signing.key_not_found", "no certificate with that label/id on the token")

    def sign(self, message: bytes, pin: str) -> bytes:
        """SHA-256 signature of `message` by the token's key (RSA PKCS#1 v1.5 or ECDSA)."""
        import pkcs11.exceptions as p11

        try:
            with self._token().open(user_pin=pin) as session:
                key = next(session.get_objects(self._attrs(ObjectClass.PRIVATE_KEY)), None)
                if key is None:
                    raise DeviceError(
                        "signing.key_not_found", "no private key with that label/id on the token"
                    )
                if key.key_type == KeyType.EC:
                    # Many tokens (SoftHSM among them) only do raw ECDSA over a digest.
                    raw = key.sign(hashlib.sha256(message).digest(), mechanism=Mechanism.ECDSA)
                    half = len(raw) // 2
                    return algos.DSASignature(
                        {"r": int.from_bytes(raw[:half], "big"), "s": int.from_bytes(raw[half:], "big")}
                    ).dump()
                return key.sign(message, mechanism=Mechanism.SHA256_RSA_PKCS)
        except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange) as exc:
            raise DeviceError("signing.wrong_pin", type(exc).__name__) from exc
        except (p11.PinLocked, p11.PinExpired) as exc:
            raise DeviceError("signing.pin_locked", type(exc).__name__) from exc
        except DeviceError:
            raise
        except Exception as exc:
            raise DeviceError("signing.hsm_unavailable", f"{type(exc).__name__}: {exc}") from exc
