"""Shared fixtures: a certomancer PKI on loopback, a SoftHSM token holding its keys, documents."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from signing_pki import TestPki, start_pki

from vanthu_signing import samples
from vanthu_signing.pdf.fonts import stamp_font
from vanthu_signing.pdf.plan import AppearanceSettings
from vanthu_testing.softhsm import SoftHSMToken

# Key ids of the PKI's signers on the session token (the HSM).
KEY_IDS = {"seal": "01", "person": "02", "revoked": "03", "no_nr": "04", "expired": "05"}


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPki]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    test_pki = start_pki(tmp_path_factory.mktemp("pki"))
    yield test_pki
    test_pki.stop()


@pytest.fixture(scope="session")
def hsm(softhsm_token: SoftHSMToken, pki: TestPki) -> SoftHSMToken:
    """The session token with the PKI's signing keys and certificates imported (label = PKI label)."""
    present = softhsm_token.list_objects()
    for label, key_id in KEY_IDS.items():
        if f"label:      {label}" not in present and f"label: {label}" not in present:
            pki.import_into_token(softhsm_token, label, key_id)
    return softhsm_token


@dataclass(frozen=True)
class Documents:
    letter: bytes
    signature_png: bytes
    seal_png: bytes


@pytest.fixture(scope="session")
def documents() -> Documents:
    return Documents(samples.official_letter(), samples.signature_png(), samples.seal_png())


@pytest.fixture(scope="session")
def appearance_settings() -> AppearanceSettings:
    return AppearanceSettings(font_path=stamp_font())


@pytest.fixture(scope="session")
def trust_root_file(pki: TestPki) -> Path:
    return pki.root_pem()
