"""What B-T and B-LT need besides the key: the TSA client and validation contexts.

One timestamper is kept for the process (pyHanko caches a dummy token on it to size the
signature). The OCSP/CRL fetchers are kept for `revocation_cache_s`, so the answers they
fetched serve many signatures. Each signature gets a fresh ValidationContext on top of
them: a context reused across certificates let a revoked certificate pass after a good
one from the same issuer had been checked (found by test_jobs).
"""

from __future__ import annotations

import time
from typing import Any

from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from vanthu_contracts.events.signing import PadesLevel
from vanthu_signing.trust import TrustAnchor


class LevelTools:
    def __init__(
        self,
        *,
        tsa_url: str,
        tsa_timeout_s: float,
        anchors: list[TrustAnchor],
        revocation_cache_s: float,
        fetch_timeout_s: float,
    ) -> None:
        self.tsa_url = tsa_url
        self.anchors = anchors
        self.revocation_cache_s = revocation_cache_s
        self.fetch_timeout_s = fetch_timeout_s
        self._timestamper: TimeStamper | None = (
            HTTPTimeStamper(tsa_url, timeout=int(tsa_timeout_s)) if tsa_url else None
        )
        self._fetchers: Any = None
        self._fetchers_born = 0.0

    def timestamper(self, level: PadesLevel) -> TimeStamper | None:
        if level is PadesLevel.B_B:
            return None
        return self._timestamper

    def can_do(self, level: PadesLevel) -> bool:
        return level is PadesLevel.B_B or self._timestamper is not None

    def signing_context(self, extra_certs: list | None = None) -> ValidationContext:
        """A hard-fail context that may fetch OCSP/CRL, over fetchers shared for a while."""
        now = time.monotonic()
        if self._fetchers is None or now - self._fetchers_born > self.revocation_cache_s:
            backend = RequestsFetcherBackend(per_request_timeout=int(self.fetch_timeout_s))
            self._fetchers = backend.get_fetchers()
            self._fetchers_born = now
        return ValidationContext(
            trust_roots=[a.certificate for a in self.anchors],
            allow_fetching=True,
            fetchers=self._fetchers,
            revocation_mode="hard-fail",
            other_certs=extra_certs or [],
        )

    async def check_not_revoked(self, cert: Any, chain: list[Any], *, strict: bool) -> None:
        """TT 15/2025: check the signer certificate before signing, revocation included.

        A revoked certificate always stops the signature. Without a trust anchor nothing can
        be checked; a missing path or unreachable OCSP/CRL only stops long-term (B-LT)
        signatures (`strict`), which could not embed their validation data anyway.
        """
        from pyhanko_certvalidator import CertificateValidator
        from pyhanko_certvalidator.errors import RevokedError

        from vanthu_signing.keys.certificates import CertificateProblem

        if not self.anchors:
            return
        validator = CertificateValidator(
            cert, intermediate_certs=chain, validation_context=self.signing_context(extra_certs=chain)
        )
        try:
            await validator.async_validate_usage(set())
        except RevokedError as exc:
            raise CertificateProblem("revoked") from exc
        except Exception:
            if strict:
                raise
