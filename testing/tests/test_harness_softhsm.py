"""SoftHSM2 token fixture: key pair generation, certificate import, SOFTHSM2_CONF in the environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vanthu_testing.procs import SoftHSMToken

pytestmark = pytest.mark.hsm


def self_signed_certificate_der(workdir: Path) -> bytes:
    der_path = workdir / "cert.der"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(workdir / "key.pem"),
         "-out", str(der_path), "-outform", "DER", "-subj", "/CN=Van thu test", "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return der_path.read_bytes()


def test_token_holds_generated_key_pair_and_imported_certificate(
    softhsm_token: SoftHSMToken, tmp_path: Path
) -> None:
    assert os.environ["SOFTHSM2_CONF"] == str(softhsm_token.conf_path)
    assert softhsm_token.env == {"SOFTHSM2_CONF": str(softhsm_token.conf_path)}
    assert softhsm_token.module.name == "libsofthsm2.so"
    assert (softhsm_token.label, softhsm_token.user_pin) == ("vanthu-test", "1234")

    softhsm_token.generate_rsa_keypair("harness-seal", "a1")
    softhsm_token.import_certificate("harness-seal", "a1", self_signed_certificate_der(tmp_path))

    listing = softhsm_token.list_objects()
    assert "Private Key Object; RSA" in listing
    assert "Public Key Object; RSA 2048 bits" in listing
    assert "Certificate Object; type = X.509 cert" in listing
    assert listing.count("label:      harness-seal") == 3
    assert listing.count("ID:         a1") == 3

    public_key = softhsm_token.public_key_der("a1")
    parsed = subprocess.run(
        ["openssl", "pkey", "-pubin", "-inform", "DER", "-noout", "-text"],
        input=public_key, capture_output=True, check=True,
    )  # fmt: skip
    assert b"Public-Key: (2048 bit)" in parsed.stdout


def test_token_reinitialisation_is_idempotent_and_stop_removes_it(tmp_path: Path) -> None:
    token = SoftHSMToken(tmp_path / "hsm", label="harness-other", user_pin="2468", so_pin="1357")
    token.start()
    token.generate_rsa_keypair("k", "01", bits=1024)
    token.start()  # same directory, same label: keeps the token and its keys
    assert "label:      k" in token.list_objects()
    token.stop()
    assert not token.token_dir.exists()
    token.stop()
