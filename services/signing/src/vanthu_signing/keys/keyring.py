"""Keys by profile: a PKCS#11 session pool per HSM key, a parsed signer per key file.

Pools are keyed by the profile id and its last change, so editing a profile (another PIN
reference, another key label) starts a fresh pool on the next job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from pyhanko.sign.signers.pdf_cms import Signer

from vanthu_signing.domain.profiles import KeyKind, SignerProfile
from vanthu_signing.keys.pkcs11_pool import Pkcs11KeyPool, Pkcs11KeySpec
from vanthu_signing.keys.pkcs12 import load_pkcs12_signer
from vanthu_signing.keys.secrets import resolve_secret


class KeyRing:
    def __init__(self, sessions_per_key: int) -> None:
        self.sessions_per_key = sessions_per_key
        self._pools: dict[tuple[str, datetime], Pkcs11KeyPool] = {}
        self._files: dict[tuple[str, datetime], Signer] = {}

    def _pool(self, profile: SignerProfile, version: datetime) -> Pkcs11KeyPool:
        key = (profile.id, version)
        pool = self._pools.get(key)
        if pool is None:
            for stale in [k for k in self._pools if k[0] == profile.id]:
                # In a thread: closing waits for the module's lock, which a signing or a login
                # (a network HSM's round trip) may hold, and must not stall the event loop.
                asyncio.get_running_loop().run_in_executor(None, self._pools.pop(stale).close)
            assert profile.module_path and profile.token_label
            pool = Pkcs11KeyPool(
                Pkcs11KeySpec(
                    module_path=profile.module_path,
                    token_label=profile.token_label,
                    key_label=profile.key_label,
                    key_id=bytes.fromhex(profile.key_id_hex) if profile.key_id_hex else None,
                ),
                resolve_secret(profile.pin_secret),
                self.sessions_per_key,
            )
            self._pools[key] = pool
        return pool

    @asynccontextmanager
    async def signer(self, profile: SignerProfile, version: datetime) -> AsyncIterator[Signer]:
        """A signer used by this signing alone (its own PKCS#11 session)."""
        if profile.key_kind is KeyKind.PKCS11:
            async with self._pool(profile, version).signer() as signer:
                yield signer
            return
        if profile.key_kind is KeyKind.PKCS12:
            key = (profile.id, version)
            if key not in self._files:
                assert profile.pkcs12_path
                self._files[key] = load_pkcs12_signer(
                    profile.pkcs12_path, resolve_secret(profile.pkcs12_passphrase_secret)
                )
            yield self._files[key]  # a parsed key holds no session: sharing it is safe
            return
        raise ValueError(f"{profile.key_kind} keys are not held by the service")

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._files.clear()
