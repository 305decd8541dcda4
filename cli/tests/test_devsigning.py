"""The embedded demo's signing keys: which keys, made in a real SoftHSM2 token, certified by the dev CA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding

from vanthu_cli.devsigning import HSM_TOKEN, DevHsm, agent_spec, key_specs

pytestmark = [pytest.mark.hsm]

LOGINS = [
    {
        "username": f"{slug}.{suffix}",
        "agency": code,
        "agency_name": name,
        "full_name": person,
        "roles": [role],
    }
    for slug, code, name in (
        ("ubnd", "000.00.00.H98", "Ủy ban nhân dân tỉnh Sông Ngân"),
        ("sxd", "000.00.12.H98", "Sở Xây dựng"),
    )
    for suffix, role, person in (
        ("vanthu", "van_thu", "Nguyễn Thị Lan"),
        ("lanhdao", "lanh_dao", "Trần Văn Hùng"),
        ("pholanhdao", "pho_lanh_dao", "Lê Thị Mai"),
        ("quantri", "quan_tri", "Vũ Đức Anh"),
    )
]


def test_keys_for_every_seal_and_leader_and_the_root_leaders_own_token() -> None:
    agent = agent_spec(LOGINS)
    assert agent is not None and agent.username == "ubnd.lanhdao"
    specs = key_specs(LOGINS, agent)
    seals = [s for s in specs if s.key_label.startswith("seal-")]
    assert [s.key_label for s in seals] == ["seal-000.00.00.H98", "seal-000.00.12.H98"]
    assert all(s.token_label == HSM_TOKEN for s in seals)
    [on_token] = [s for s in specs if s.token_label == agent.token_label]
    assert on_token.key_label == "person" and on_token.common_name == "Trần Văn Hùng"
    people = {s.key_label for s in specs if s.key_label.startswith("person-")}
    assert people == {"person-ubnd.pholanhdao", "person-sxd.lanhdao", "person-sxd.pholanhdao"}
    assert len({(s.token_label, s.key_id_hex) for s in specs}) == len(specs)  # ids never collide
    assert agent_spec([]) is None


def test_keys_are_made_once_in_softhsm_with_certificates_from_the_dev_ca(tmp_path: Path) -> None:
    hsm = DevHsm(tmp_path / "hsm")
    hsm.prepare()
    specs = key_specs(LOGINS[:4], agent_spec(LOGINS[:4]))  # one agency: a seal, two leaders
    assert [s.key_label for s in hsm.ensure_keys(specs)] == [s.key_label for s in specs]
    assert hsm.ensure_keys(specs) == []  # a restart makes nothing again
    assert set(json.loads(hsm.record.read_text("utf-8"))) == {f"{s.token_label}/{s.key_label}" for s in specs}
    assert (hsm.pin_file.stat().st_mode & 0o777) == 0o600

    from cryptography.hazmat.primitives import serialization

    from vanthu_testing.softhsm import SoftHSMToken

    ca = x509.load_pem_x509_certificate((hsm.directory / "dev-ca.pem").read_bytes())
    for spec in specs:
        token = SoftHSMToken(hsm.directory, label=spec.token_label, user_pin=hsm.pin, keep_on_stop=True)
        out = tmp_path / f"{spec.key_label}.der"
        token._pkcs11_tool(
            "--read-object", "--type", "cert", "--label", spec.key_label, "--output-file", str(out)
        )
        cert = x509.load_der_x509_certificate(out.read_bytes())
        # For the key pair made inside the token (the private key never left it) …
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert spki == token.public_key_der(spec.key_id_hex)
        # … issued and signed by the development CA, for signing with non-repudiation (TT 15/2025).
        assert cert.issuer == ca.subject
        ca.public_key().verify(  # type: ignore[union-attr]
            cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm
        )
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
        assert spec.common_name in cert.subject.rfc4514_string()
