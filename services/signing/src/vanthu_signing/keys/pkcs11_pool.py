"""A pool of PKCS#11 sessions per HSM key, so concurrent signings never share a session.

A PKCS#11 session runs one operation at a time (CKR_OPERATION_ACTIVE otherwise), and
pyHanko's PKCS11Signer runs `key.sign` in a thread pool, so two signings on one signer
would interleave on one session (engineering notes §3.2.4). Each signing checks one
(session, signer) pair out of the pool and returns it afterwards.

Separate sessions are still not enough: python-pkcs11 initialises a module with
`C_Initialize(NULL)`, which in PKCS#11 is the application's promise that no two threads call the
module at the same time. SoftHSM2 then runs without its mutexes, and two sessions signing in
two threads at once crashed the worker (segfaults in libstdc++, found by `vanthu bench
signing`). So every call into a module — opening and closing sessions, loading objects,
signing — is made under that module's process-wide lock. A signature takes the HSM a few
milliseconds; the PDF work around it, which is most of a job, still runs concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

log = logging.getLogger("vanthu.signing.pkcs11")


class HsmError(Exception):
    """`reason`: unavailable, wrong_pin, pin_locked, key_not_found."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def classify(exc: BaseException) -> HsmError:
    """Map python-pkcs11 / pyHanko exceptions to the reasons jobs report."""
    import pkcs11.exceptions as p11

    if isinstance(exc, HsmError):
        return exc
    if isinstance(exc, p11.PinIncorrect | p11.PinInvalid | p11.PinLenRange):
        return HsmError("wrong_pin", type(exc).__name__)
    if isinstance(exc, p11.PinLocked | p11.PinExpired):
        return HsmError("pin_locked", type(exc).__name__)
    message = str(exc)
    if "Could not find" in message or isinstance(exc, p11.NoSuchKey):
        return HsmError("key_not_found", message[:200])
    return HsmError("unavailable", f"{type(exc).__name__}: {message[:200]}")


# (module, token label) -> SHA-256 of the PIN that logged this process in.
_LOGINS: dict[tuple[str, str], bytes] = {}


def _digest(pin: str) -> bytes:
    return hashlib.sha256(pin.encode()).digest()


_MODULE_LOCKS: dict[str, threading.Lock] = {}
_MODULE_LOCKS_GUARD = threading.Lock()


def module_lock(module_path: str) -> threading.Lock:
    """The lock every call into this PKCS#11 module is made under, in this process."""
    with _MODULE_LOCKS_GUARD:
        return _MODULE_LOCKS.setdefault(module_path, threading.Lock())


class _LockedKey:
    """A key handle whose `sign` (a call into the module) holds the module's lock."""

    def __init__(self, key: Any, lock: threading.Lock) -> None:
        self._key = key
        self._lock = lock

    def sign(self, data: bytes, **kwargs: Any) -> bytes:
        with self._lock:
            return self._key.sign(data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._key, name)


class _SerializedSigner(PKCS11Signer):
    """pyHanko's PKCS11Signer, with its module calls made under the module's lock: loading the
    key and certificates here, and signing through the wrapped key handle (pyHanko signs with
    `key.sign` in an executor thread)."""

    def __init__(self, *args: Any, module_lock: threading.Lock, **kwargs: Any) -> None:
        self._module_lock = module_lock
        super().__init__(*args, **kwargs)

    def _load_objects(self) -> None:
        if self._loaded:
            return
        with self._module_lock:
            super()._load_objects()
        if self._key_handle is not None and not isinstance(self._key_handle, _LockedKey):
            self._key_handle = _LockedKey(self._key_handle, self._module_lock)


@dataclass(frozen=True)
class Pkcs11KeySpec:
    module_path: str
    token_label: str
    key_label: str | None
    key_id: bytes | None
    cert_label: str | None = None


class Pkcs11KeyPool:
    def __init__(self, spec: Pkcs11KeySpec, pin: str | None, size: int) -> None:
        self.spec = spec
        self._pin = pin
        self._size = max(1, size)
        self._idle: asyncio.Queue[tuple[object, PKCS11Signer]] = asyncio.Queue()
        self._opened = 0
        self._open_lock = asyncio.Lock()
        self._all: list[object] = []
        self._lock = module_lock(spec.module_path)

    def _open_one(self) -> tuple[object, PKCS11Signer]:
        with self._lock:
            return self._open_one_locked()

    def _open_one_locked(self) -> tuple[object, PKCS11Signer]:
        import pkcs11.exceptions as p11

        criteria = TokenCriteria(label=self.spec.token_label)
        token_key = (self.spec.module_path, self.spec.token_label)
        # Login state belongs to the application and the token, not to a session: once one
        # session (of any pool on this token) has logged in, the others share that login and
        # a second C_Login answers CKR_USER_ALREADY_LOGGED_IN without checking the PIN. A
        # token has one user PIN, so a PIN other than the one that logged in is wrong.
        try:
            session = open_pkcs11_session(self.spec.module_path, token_criteria=criteria, user_pin=self._pin)
            if self._pin is not None:
                _LOGINS[token_key] = _digest(self._pin)
        except p11.UserAlreadyLoggedIn:
            known = _LOGINS.get(token_key)
            if known is not None and self._pin is not None and known != _digest(self._pin):
                raise HsmError("wrong_pin", "differs from the PIN this token is logged in with") from None
            session = open_pkcs11_session(self.spec.module_path, token_criteria=criteria, user_pin=None)
        signer = _SerializedSigner(
            session,
            module_lock=self._lock,
            key_label=self.spec.key_label,
            key_id=self.spec.key_id,
            cert_label=self.spec.cert_label or self.spec.key_label,
            cert_id=self.spec.key_id,
        )
        return session, signer

    async def _grow(self) -> None:
        async with self._open_lock:
            if self._opened >= self._size or not self._idle.empty():
                return
            try:
                session, signer = await asyncio.to_thread(self._open_one)
                await signer.ensure_objects_loaded()
            except Exception as exc:
                raise classify(exc) from exc
            self._opened += 1
            self._all.append(session)
            self._idle.put_nowait((session, signer))

    @asynccontextmanager
    async def signer(self) -> AsyncIterator[PKCS11Signer]:
        if self._idle.empty() and self._opened < self._size:
            await self._grow()
        session, signer = await self._idle.get()
        healthy = True
        try:
            yield signer
        except Exception as exc:
            import pkcs11.exceptions as p11

            # A session the device dropped is not given back to the pool.
            healthy = not isinstance(exc, p11.SessionHandleInvalid | p11.DeviceRemoved | p11.TokenNotPresent)
            raise
        finally:
            if healthy:
                self._idle.put_nowait((session, signer))
            else:
                self._opened -= 1
                self._all.remove(session)

    @property
    def sessions_open(self) -> int:
        return self._opened

    def close(self) -> None:
        for session in self._all:
            try:
                with self._lock:
                    session.close()  # type: ignore[attr-defined]
            except Exception:
                log.debug("closing a PKCS#11 session failed", exc_info=True)
        self._all.clear()
        self._opened = 0
