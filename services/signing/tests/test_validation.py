"""Validation reports for a good, a tampered, an untrusted and a revoked signature, through
the library, `POST /api/v1/verify`, `vanthu sign verify` and the `signing.verify` RPC."""

from __future__ import annotations

import json

import pytest
from signing_helpers import hsm_pool, plan, sign_with
from signing_support import signing_app

from vanthu_contracts.events import signing as contract
from vanthu_contracts.events.signing import PadesLevel, SignatureKind
from vanthu_signing.keys.pkcs12 import load_pkcs12_signer
from vanthu_signing.pdf import pades
from vanthu_signing.trust import TrustAnchor
from vanthu_signing.validation import Validator


@pytest.fixture(scope="module")
async def signed_files(hsm, pki, documents, appearance_settings) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    from pyhanko.sign.timestamps import HTTPTimeStamper

    field = plan(SignatureKind.PERSONAL, documents.letter, appearance_settings, documents.signature_png)
    good = await sign_with(
        hsm_pool(hsm, "person"),
        documents.letter,
        field,
        PadesLevel.B_T,
        timestamper=HTTPTimeStamper(pki.tsa_url),
    )
    start = good.index(b"stream", 2000) + 40
    tampered = good[:start] + bytes([good[start] ^ 0x01]) + good[start + 1 :]
    stranger = load_pkcs12_signer(pki.pkcs12("stranger", arch="stranger"), "dev-pass")
    untrusted = await pades.sign(documents.letter, field, pades.SignOptions(PadesLevel.B_B), stranger)
    revoked = await sign_with(hsm_pool(hsm, "revoked"), documents.letter, field)
    return {
        "good": good,
        "tampered": tampered,
        "untrusted": untrusted,
        "revoked": revoked,
        "unsigned": documents.letter,
    }


@pytest.fixture(scope="module")
def validator(pki) -> Validator:  # type: ignore[no-untyped-def]
    return Validator([TrustAnchor("Vanthu Test Root CA", pki.cert("root"))])


EXPECTED = {
    "good": ("valid", []),
    "tampered": ("invalid", ["signing.verify.tampered"]),
    "untrusted": ("indeterminate", ["signing.verify.untrusted"]),
    "revoked": ("invalid", ["signing.verify.revoked"]),
}


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_reports(signed_files, validator, name) -> None:  # type: ignore[no-untyped-def]
    report = await validator.validate(signed_files[name], f"{name}.pdf")
    verdict, codes = EXPECTED[name]
    assert report.verdict.value == verdict, report.model_dump()
    signature = report.signatures[0]
    assert [f.code for f in signature.findings] == codes
    assert all(f.message_vi and f.message_en for f in signature.findings)
    if name == "good":
        assert signature.signer.common_name == "Nguyễn Văn Đông"
        assert "Vanthu Test Signing CA" in signature.signer.issuer
        assert signature.trusted and signature.trust_anchor == "Vanthu Test Root CA"
        assert (
            signature.trust_path[0].endswith(
                "Vanthu Test Root CA, Organization: Vanthu Test PKI, Country: VN"
            )
            or "Root" in signature.trust_path[0]
        )
        assert signature.timestamp_time is not None and signature.timestamp_trusted
        assert (
            signature.revocation.value == "good" and signature.intact and signature.coverage == "entire_file"
        )
        assert signature.pades_level == "B-T" and signature.signer.valid_at_signing
    if name == "revoked":
        assert signature.revocation.value == "revoked" and signature.revoked_at is not None
    if name == "untrusted":
        assert not signature.trusted and signature.trust_anchor is None and signature.intact


async def test_an_unsigned_pdf_has_no_signature(signed_files, validator) -> None:  # type: ignore[no-untyped-def]
    report = await validator.validate(signed_files["unsigned"])
    assert report.verdict.value == "no_signature" and report.signatures == []


def _cli(*args: str):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from vanthu_signing.cli import sign_app

    return CliRunner().invoke(sign_app, ["verify", *args])


def test_cli_verify_json_and_text(signed_files, pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    good, tampered = tmp_path / "good.pdf", tmp_path / "tampered.pdf"
    good.write_bytes(signed_files["good"])
    tampered.write_bytes(signed_files["tampered"])
    anchor = str(pki.root_pem())
    result = _cli(str(good), "--json", "--anchor", anchor)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "valid"
    result = _cli(str(tampered), "--anchor", anchor)
    assert result.exit_code == 1
    assert "Không hợp lệ / Invalid" in result.stdout and "Nguyễn Văn Đông" in result.stdout
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf at all")
    result = _cli(str(junk), "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["code"] == "signing.not_pdf"


def test_commands_and_benchmark_are_contributed_by_entry_points() -> None:
    from importlib.metadata import entry_points

    commands = {
        ep.name: ep.load()
        for ep in entry_points(group="vanthu.commands")
        if ep.value.startswith("vanthu_signing")
    }
    assert set(commands) == {"sign", "token-agent"}
    assert {c.info.name for c in commands.values()} == {"sign", "token-agent"}
    benchmarks = {
        ep.name for ep in entry_points(group="vanthu.benchmarks") if ep.value.startswith("vanthu_signing")
    }
    assert benchmarks == {"signing"}


async def test_http_verify_and_rpc(tmp_path, nats_url, pki, signed_files) -> None:  # type: ignore[no-untyped-def]
    async with signing_app(tmp_path, nats_url, extra_trust_anchors=[pki.root_pem()], worker_instances=0) as h:
        response = await h.client.post(
            "/api/v1/verify",
            files={"file": ("good.pdf", signed_files["good"], "application/pdf")},
            headers=h.headers(roles=("van_thu",)),
        )
        assert response.status_code == 200, response.text
        assert response.json()["verdict"] == "valid" and response.json()["file_name"] == "good.pdf"
        response = await h.client.post(
            "/api/v1/verify", files={"file": ("x.pdf", b"hello", "application/pdf")}, headers=h.headers()
        )
        assert response.status_code == 415 and response.json()["code"] == "signing.not_pdf"
        assert (await h.client.post("/api/v1/verify", files={"file": ("x.pdf", b"%PDF")})).status_code == 401

        sha = await h.store(signed_files["revoked"])
        reply = await h.nc.request(
            contract.VERIFY.subject,
            contract.VerifyStored(sha256=sha, name="r.pdf").model_dump_json().encode(),
            timeout=30,
        )
        body = contract.VerifyReply.model_validate_json(reply.data)
        assert body.report is not None and body.report.verdict.value == "invalid"
        reply = await h.nc.request(
            contract.VERIFY.subject,
            contract.VerifyStored(sha256="0" * 64).model_dump_json().encode(),
            timeout=30,
        )
        assert contract.VerifyReply.model_validate_json(reply.data).error["code"] == "signing.file_missing"
