"""Signing keys of the embedded demo platform, so a draft can really be signed and sealed.

docs/signing.md describes production: the agency seal key in an HSM (PKCS#11), each leader's key
on their own USB token, reached through `vanthu token-agent` on their computer. The embedded
platform builds the same thing on this machine, all of it real but for development only:

- a development CA (a key file under `<data>/hsm/`, "không dùng thật / not for real use");
- one SoftHSM2 token, `vanthu-dev-hsm`, holding each demo agency's seal key (`seal-<code>`) and the
  personal keys of its leaders (`person-<username>`), with certificates from the CA;
- one more SoftHSM2 token standing in for the USB token of the province leader
  (`ubnd.lanhdao`), driven by a `vanthu token-agent` child process of the launcher — the
  journey's personal signature goes through the agent exactly as in production;
- the signer profiles (REST, as each agency's administrator) and their images.

Keys are made once per data directory (recorded in `keys.json`) and survive restarts.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HSM_TOKEN = "vanthu-dev-hsm"
AGENT_USER_SUFFIX = "lanhdao"  # the leader of the province's root agency signs through the agent
AGENT_KEY_LABEL = "person"
LEADER_ROLES = ("lanh_dao", "pho_lanh_dao")
CA_NAME = "vanthu Development CA (không dùng thật / not for real use)"


@dataclass(frozen=True)
class KeySpec:
    token_label: str
    key_label: str
    key_id_hex: str
    common_name: str
    organization: str


@dataclass(frozen=True)
class AgentSpec:
    """The one person who signs through `vanthu token-agent` on the embedded platform."""

    username: str
    token_label: str
    key_label: str = AGENT_KEY_LABEL


class DevSigningError(Exception):
    pass


class DevHsm:
    """SoftHSM2 tokens and a development CA under one directory (kept between runs)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.record = directory / "keys.json"

    @property
    def conf_path(self) -> Path:
        return self.directory / "softhsm2.conf"

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf_path)}

    @property
    def pin_file(self) -> Path:
        return self.directory / "pin"

    @property
    def pin(self) -> str:
        return self.pin_file.read_text("utf-8").strip()

    @property
    def module(self) -> str:
        from vanthu_testing.softhsm import find_softhsm_module

        return str(find_softhsm_module())

    def prepare(self) -> None:
        """The directory, the PIN and the CA; tokens come with their first key."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.pin_file.exists():
            self.pin_file.write_text(secrets.token_hex(8), encoding="utf-8")
            self.pin_file.chmod(0o600)
        self._ca()

    def ensure_keys(self, specs: Iterable[KeySpec]) -> list[KeySpec]:
        """Make each key that is not there yet (key pair in the token, certificate beside it)."""
        from cryptography.hazmat.primitives import serialization

        from vanthu_testing.softhsm import SoftHSMToken

        made = self._made()
        created: list[KeySpec] = []
        tokens: dict[str, SoftHSMToken] = {}
        for spec in specs:
            if f"{spec.token_label}/{spec.key_label}" in made:
                continue
            token = tokens.get(spec.token_label)
            if token is None:
                token = SoftHSMToken(
                    self.directory, label=spec.token_label, user_pin=self.pin,
                    so_pin=self.pin + "-so", keep_on_stop=True,
                )  # fmt: skip
                token.start()  # initialises the token once; the conf file names the token directory
                tokens[spec.token_label] = token
            token.generate_rsa_keypair(spec.key_label, spec.key_id_hex)
            public_key = serialization.load_der_public_key(token.public_key_der(spec.key_id_hex))
            token.import_certificate(spec.key_label, spec.key_id_hex, self._issue(public_key, spec))
            made[f"{spec.token_label}/{spec.key_label}"] = asdict(spec)
            self.record.write_text(json.dumps(made, ensure_ascii=False, indent=1), encoding="utf-8")
            created.append(spec)
        return created

    def _made(self) -> dict[str, Any]:
        if not self.record.exists():
            return {}
        return json.loads(self.record.read_text("utf-8"))

    # -- the development CA

    def _ca(self) -> tuple[Any, Any]:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key_path, cert_path = self.directory / "dev-ca.key.pem", self.directory / "dev-ca.pem"
        if key_path.exists() and cert_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vanthu (development)"),
                x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
            ]
        )
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                _key_usage(ca=True),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def _issue(self, public_key: Any, spec: KeySpec) -> bytes:
        """A signing certificate (digital signature + non-repudiation, as TT 15/2025 checks)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import NameOID

        ca_key, ca_cert = self._ca()
        now = datetime.now(UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, spec.organization[:64]),
                x509.NameAttribute(NameOID.COMMON_NAME, spec.common_name[:64]),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(ca=False),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.DER)


def _key_usage(*, ca: bool) -> Any:
    """A CA signs certificates and CRLs; a signer signs with non-repudiation (content commitment)."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True, content_commitment=not ca, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False,
    )  # fmt: skip


def agent_argv(agent: AgentSpec, signing_url: str, hsm: DevHsm) -> list[str]:
    """`vanthu token-agent` for the person, on their stand-in USB token (PIN and sign-in from env)."""
    return [
        sys.executable, "-m", "vanthu_signing.agent", "--service-url", signing_url, "--module", hsm.module,
        "--token-label", agent.token_label, "--key-label", agent.key_label, "--poll-wait", "20",
    ]  # fmt: skip


# -- which keys the demo province needs -----------------------------------------------------------


def agent_spec(logins: list[dict[str, Any]]) -> AgentSpec | None:
    """The root agency's leader (the first agency the registry lists) signs through the agent."""
    if not logins:
        return None
    root = logins[0]["agency"]
    person = next(
        (
            login
            for login in logins
            if login["agency"] == root and login["username"].endswith(f".{AGENT_USER_SUFFIX}")
        ),
        None,
    )
    if person is None:
        return None
    return AgentSpec(username=person["username"], token_label=f"vanthu-dev-token-{person['username']}")


def key_specs(logins: list[dict[str, Any]], agent: AgentSpec | None) -> list[KeySpec]:
    specs: list[KeySpec] = []
    agencies: dict[str, str] = {}
    for login in logins:
        agencies.setdefault(login["agency"], login.get("agency_name") or login["agency"])
    for index, (code, name) in enumerate(agencies.items(), start=1):
        specs.append(KeySpec(HSM_TOKEN, f"seal-{code}", f"a{index:03d}", name, name))
    for index, login in enumerate(logins, start=1):
        if not set(login.get("roles", [])) & set(LEADER_ROLES):
            continue
        agency_name = agencies[login["agency"]]
        if agent is not None and login["username"] == agent.username:
            specs.append(KeySpec(agent.token_label, agent.key_label, "01", login["full_name"], agency_name))
        else:
            specs.append(
                KeySpec(
                    HSM_TOKEN, f"person-{login['username']}", f"b{index:03d}", login["full_name"], agency_name
                )
            )
    return specs


# -- signer profiles, through the signing service's REST API --------------------------------------


def _profile_id(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in text.lower())[:100]


async def configure_profiles(
    client: httpx.AsyncClient,
    *,
    registry_url: str,
    signing_url: str,
    logins: list[dict[str, Any]],
    hsm: DevHsm,
    agent: AgentSpec | None,
) -> int:
    """Seal and personal signer profiles for every demo agency (idempotent PUTs); how many."""
    from vanthu_signing.samples import seal_png, signature_png

    seal_image, signature_image = seal_png(), signature_png()
    pin_secret = f"file:{hsm.pin_file}"
    count = 0
    by_agency: dict[str, list[dict[str, Any]]] = {}
    for login in logins:
        by_agency.setdefault(login["agency"], []).append(login)
    for code, people in by_agency.items():
        admin = next((p for p in people if "quan_tri" in p.get("roles", [])), None)
        if admin is None:
            continue
        headers = {"Authorization": f"Bearer {await dev_token(client, registry_url, admin)}"}
        profiles: list[tuple[str, dict[str, Any], bytes]] = [
            (
                _profile_id(f"seal-{code}"),
                {
                    "agency_code": code,
                    "purpose": "agency",
                    "key_kind": "pkcs11",
                    "display_name": people[0].get("agency_name", code),
                    "module_path": hsm.module,
                    "token_label": HSM_TOKEN,
                    "key_label": f"seal-{code}",
                    "pin_secret": pin_secret,
                },
                seal_image,
            )
        ]
        for person in people:
            if not set(person.get("roles", [])) & set(LEADER_ROLES):
                continue
            user_id = (await whoami(client, registry_url, person))["user_id"]
            body: dict[str, Any] = {
                "agency_code": code, "purpose": "personal", "user_id": user_id,
                "display_name": person["full_name"],
            }  # fmt: skip
            if agent is not None and person["username"] == agent.username:
                body |= {"key_kind": "token_proxy"}
            else:
                body |= {
                    "key_kind": "pkcs11", "module_path": hsm.module, "token_label": HSM_TOKEN,
                    "key_label": f"person-{person['username']}", "pin_secret": pin_secret,
                }  # fmt: skip
            profiles.append((_profile_id(f"person-{person['username']}-{code}"), body, signature_image))
        for profile_id, body, image in profiles:
            put = await client.put(
                f"{signing_url}/api/v1/signer-profiles/{profile_id}", json=body, headers=headers
            )
            _check(put, f"signer profile {profile_id}")
            picture = await client.put(
                f"{signing_url}/api/v1/signer-profiles/{profile_id}/image",
                files={"file": ("image.png", image, "image/png")},
                headers=headers,
            )
            _check(picture, f"image of {profile_id}")
            count += 1
    return count


async def dev_token(client: httpx.AsyncClient, registry_url: str, login: dict[str, Any]) -> str:
    response = await client.post(
        f"{registry_url}/auth/dev-token", json={"username": login["username"], "password": login["password"]}
    )
    _check(response, f"dev login {login['username']}")
    return str(response.json()["access_token"])


async def whoami(client: httpx.AsyncClient, registry_url: str, login: dict[str, Any]) -> dict[str, Any]:
    token = await dev_token(client, registry_url, login)
    response = await client.get(f"{registry_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    _check(response, f"/api/v1/me of {login['username']}")
    return dict(response.json())


def long_lived_token(private_key_file: Path, principal: dict[str, Any], *, issuer: str, audience: str) -> str:
    """The token agent's sign-in: the same person, valid for 30 days (an agent runs unattended)."""
    from vanthu_runtime.auth import DevTokenIssuer, Principal

    minted = DevTokenIssuer(private_key_file.read_bytes(), issuer=issuer, audience=audience)
    return minted.mint(Principal.model_validate(principal), ttl_s=30 * 24 * 3600)


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        raise DevSigningError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
