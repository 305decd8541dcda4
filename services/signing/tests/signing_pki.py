"""A real test PKI on loopback: certomancer's animator serves CA certificates, OCSP, CRLs and
an RFC 3161 TSA over HTTP, with certificates valid around the current time.

Architecture `vanthu` (trusted in the tests): root → signing CA → seal (agency), person,
revoked (revoked yesterday), no_nr (no non-repudiation), expired; OCSP for the signing CA,
CRLs for both CAs, a TSA under the root. Architecture `stranger`: another root and a signer
that no configured anchor trusts.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from asn1crypto import x509 as asn1_x509
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import CertomancerConfig
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from werkzeug.serving import make_server

KEYS = (
    "root",
    "interm",
    "ocsp",
    "tsa",
    "seal",
    "person",
    "revoked",
    "no_nr",
    "expired",
    "other_root",
    "stranger",
)


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _signer(
    issuer: str, valid: tuple[datetime, datetime], usage: list[str], extra: dict | None = None
) -> dict:
    spec = {
        "issuer": issuer,
        "validity": {"valid-from": _t(valid[0]), "valid-to": _t(valid[1])},
        "extensions": [
            {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": usage}},
            {
                "id": "crl_distribution_points",
                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [issuer]}},
            },
            {
                "id": "authority_information_access",
                "smart-value": {
                    "schema": "aia-urls",
                    "params": {"ocsp-responder-names": [issuer], "ca-issuer-links": [{"repo": issuer}]},
                },
            },
        ],
    }
    spec.update(extra or {})
    return spec


def _config(key_dir: Path, now: datetime) -> dict:
    year = (now - timedelta(days=30), now + timedelta(days=365))
    ca = (now - timedelta(days=3650), now + timedelta(days=3650))
    ca_ext = [
        {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
        {
            "id": "key_usage",
            "critical": True,
            "smart-value": {
                "schema": "key-usage",
                "params": ["digital_signature", "key_cert_sign", "crl_sign"],
            },
        },
    ]
    signing = ["digital_signature", "non_repudiation"]
    return {
        "keysets": {"k": {"path-prefix": str(key_dir), "keys": {k: {"path": f"{k}.key.pem"} for k in KEYS}}},
        "pki-architectures": {
            "vanthu": {
                "keyset": "k",
                "entity-defaults": {"country-name": "VN", "organization-name": "Vanthu Test PKI"},
                "entities": {
                    "root": {"common-name": "Vanthu Test Root CA"},
                    "interm": {"common-name": "Vanthu Test Signing CA"},
                    "ocsp": {"common-name": "Vanthu Test OCSP"},
                    "tsa": {"common-name": "Vanthu Test TSA"},
                    "seal": {"common-name": "Ủy ban nhân dân tỉnh Hà Giang"},
                    "person": {"common-name": "Nguyễn Văn Đông"},
                    "revoked": {"common-name": "Trần Thị Thu"},
                    "no_nr": {"common-name": "Lê Văn Không"},
                    "expired": {"common-name": "Phạm Văn Cũ"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": {"valid-from": _t(ca[0]), "valid-to": _t(ca[1])},
                        "extensions": ca_ext,
                    },
                    "interm": {
                        "issuer": "root",
                        "validity": {"valid-from": _t(ca[0]), "valid-to": _t(ca[1])},
                        "extensions": [
                            *ca_ext,
                            {
                                "id": "crl_distribution_points",
                                "smart-value": {
                                    "schema": "crl-dist-url",
                                    "params": {"crl-repo-names": ["root"]},
                                },
                            },
                        ],
                    },
                    "ocsp": {
                        "issuer": "interm",
                        "validity": {"valid-from": _t(ca[0]), "valid-to": _t(ca[1])},
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                            },
                            {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                            {"id": "ocsp_no_check"},
                        ],
                    },
                    "tsa": {
                        "issuer": "root",
                        "validity": {"valid-from": _t(ca[0]), "valid-to": _t(ca[1])},
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
                            },
                            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                            {
                                "id": "crl_distribution_points",
                                "smart-value": {
                                    "schema": "crl-dist-url",
                                    "params": {"crl-repo-names": ["root"]},
                                },
                            },
                        ],
                    },
                    "seal": _signer("interm", year, signing),
                    "person": _signer("interm", year, signing),
                    "revoked": _signer(
                        "interm",
                        year,
                        signing,
                        {
                            "revocation": {
                                "revoked-since": _t(now - timedelta(days=1)),
                                "reason": "key_compromise",
                            }
                        },
                    ),
                    "no_nr": _signer("interm", year, ["digital_signature"]),
                    "expired": _signer(
                        "interm", (now - timedelta(days=400), now - timedelta(days=35)), signing
                    ),
                },
                "services": {
                    "ocsp": {
                        "interm": {"for-issuer": "interm", "responder-cert": "ocsp", "signing-key": "ocsp"}
                    },
                    "crl-repo": {
                        "root": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P90D",
                        },
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P30D",
                        },
                    },
                    "cert-repo": {
                        "root": {"for-issuer": "root", "publish-issued-certs": True},
                        "interm": {"for-issuer": "interm", "publish-issued-certs": False},
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            },
            "stranger": {
                "keyset": "k",
                "entity-defaults": {"country-name": "VN", "organization-name": "Stranger PKI"},
                "entities": {
                    "other_root": {"common-name": "Stranger Root CA"},
                    "stranger": {"common-name": "Người Lạ"},
                },
                "certs": {
                    "other_root": {
                        "subject": "other_root",
                        "issuer": "other_root",
                        "validity": {"valid-from": _t(ca[0]), "valid-to": _t(ca[1])},
                        "extensions": ca_ext,
                    },
                    "stranger": {
                        "issuer": "other_root",
                        "validity": {"valid-from": _t(year[0]), "valid-to": _t(year[1])},
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {"schema": "key-usage", "params": signing},
                            }
                        ],
                    },
                },
            },
        },
    }


class _LateBoundApp:
    """The WSGI app is built once the server's port (part of every URL in the PKI) is known."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        return self.app(environ, start_response)


@dataclass
class TestPki:
    directory: Path
    base_url: str
    config: CertomancerConfig
    _server: object
    _thread: threading.Thread

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/vanthu/tsa/tsa"

    def cert(self, label: str, arch: str = "vanthu") -> asn1_x509.Certificate:
        return self.config.get_pki_arch(arch).get_cert(label)

    def cert_der(self, label: str, arch: str = "vanthu") -> bytes:
        return self.cert(label, arch).dump()

    def key_pem_path(self, label: str) -> Path:
        return self.directory / "keys" / f"{label}.key.pem"

    def root_pem(self, label: str = "root", arch: str = "vanthu") -> Path:
        path = self.directory / f"{arch}-{label}.crt"
        if not path.exists():
            from asn1crypto import pem

            path.write_bytes(pem.armor("CERTIFICATE", self.cert_der(label, arch)))
        return path

    def chain(self, label: str) -> list[asn1_x509.Certificate]:
        """Issuer certificates of `label`, nearest first (without the label itself)."""
        arch = self.config.get_pki_arch("vanthu")
        return [arch.get_cert(c) for c in arch.get_chain(label)]

    def pkcs12(self, label: str, arch: str = "vanthu", passphrase: str = "dev-pass") -> Path:
        path = self.directory / f"{label}.p12"
        key = serialization.load_pem_private_key(self.key_pem_path(label).read_bytes(), None)
        from cryptography import x509

        cert = x509.load_der_x509_certificate(self.cert_der(label, arch))
        chain_labels = list(self.config.get_pki_arch(arch).get_chain(label))
        chain = [x509.load_der_x509_certificate(self.cert_der(c, arch)) for c in chain_labels]
        blob = pkcs12.serialize_key_and_certificates(
            b"vanthu", key, cert, chain, serialization.BestAvailableEncryption(passphrase.encode())
        )
        path.write_bytes(blob)
        return path

    def import_into_token(
        self, token, label: str, key_id_hex: str, *, object_label: str | None = None
    ) -> None:  # type: ignore[no-untyped-def]
        """Put the key and certificate of `label` on a SoftHSM token (as an HSM would hold them)."""
        name = object_label or label
        subprocess.run(
            [
                "softhsm2-util", "--import", str(self.key_pem_path(label)), "--token", token.label,
                "--label", name, "--id", key_id_hex, "--pin", token.user_pin,
            ],
            check=True, capture_output=True, env={**__import__("os").environ, **token.env}, timeout=60,
        )  # fmt: skip
        token.import_certificate(name, key_id_hex, self.cert_der(label))

    def stop(self) -> None:
        self._server.shutdown()  # type: ignore[attr-defined]
        self._thread.join(timeout=5)


def start_pki(directory: Path) -> TestPki:
    key_dir = directory / "keys"
    key_dir.mkdir(parents=True, exist_ok=True)
    for label in KEYS:
        path = key_dir / f"{label}.key.pem"
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    app = _LateBoundApp()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    now = datetime.now(UTC).replace(microsecond=0)
    (directory / "certomancer.yml").write_text(
        yaml.safe_dump(_config(key_dir, now), allow_unicode=True), "utf-8"
    )
    config = CertomancerConfig.from_file(str(directory / "certomancer.yml"), external_url_prefix=base_url)
    app.app = Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False)
    thread = threading.Thread(target=server.serve_forever, name="certomancer", daemon=True)
    thread.start()
    return TestPki(directory, base_url, config, server, thread)
