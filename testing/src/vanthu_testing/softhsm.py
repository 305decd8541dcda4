"""A SoftHSM2 PKCS#11 token in a directory of its own, plus the few pkcs11-tool steps tests need."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from vanthu_testing._process import InfrastructureError, StartStop

SOFTHSM_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


def find_softhsm_module() -> Path:
    for candidate in SOFTHSM_MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise InfrastructureError(
        "SoftHSM2: libsofthsm2.so not found (looked in "
        + ", ".join(SOFTHSM_MODULE_CANDIDATES)
        + "). Run scripts/bootstrap-system.sh (Debian package softhsm2)."
    )


class SoftHSMToken(StartStop):
    """An initialised token labelled `label`, stored under `directory`.

    SoftHSM finds its token store through the file named by SOFTHSM2_CONF, so every PKCS#11
    user of this token (pkcs11-tool, python-pkcs11, pyHanko) needs `env` in its environment.
    `stop()` deletes the token store unless `keep_on_stop=True` (the embedded launcher keeps it).
    """

    def __init__(
        self,
        directory: str | Path,
        label: str = "vanthu-test",
        user_pin: str = "1234",
        so_pin: str = "5678",
        *,
        keep_on_stop: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.label = label
        self.user_pin = user_pin
        self.so_pin = so_pin
        self.keep_on_stop = keep_on_stop
        self.conf_path = self.directory / "softhsm2.conf"
        self.token_dir = self.directory / "tokens"
        self._module: Path | None = None

    @property
    def module(self) -> Path:
        """Path of the PKCS#11 module (libsofthsm2.so)."""
        if self._module is None:
            self._module = find_softhsm_module()
        return self._module

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf_path)}

    def start(self) -> None:
        self.token_dir.mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(
            f"directories.tokendir = {self.token_dir}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n",
            encoding="utf-8",
        )
        if self.label in self._token_labels():
            return  # initialised by an earlier run over the same directory
        self._run(
            "softhsm2-util", "--init-token", "--free", "--label", self.label,
            "--so-pin", self.so_pin, "--pin", self.user_pin,
        )  # fmt: skip

    def stop(self) -> None:
        if not self.keep_on_stop:
            shutil.rmtree(self.token_dir, ignore_errors=True)

    def generate_rsa_keypair(self, label: str, key_id_hex: str, bits: int = 2048) -> None:
        """An RSA key pair made inside the token (the private key never leaves it)."""
        self._pkcs11_tool(
            "--keypairgen", "--key-type", f"rsa:{bits}", "--id", key_id_hex, "--label", label, "--usage-sign"
        )

    def import_certificate(self, label: str, key_id_hex: str, der_bytes: bytes) -> None:
        """Store an X.509 certificate; give it the key pair's id so signers can pair them."""
        with tempfile.NamedTemporaryFile(dir=self.directory, suffix=".der") as der_file:
            der_file.write(der_bytes)
            der_file.flush()
            self._pkcs11_tool(
                "--write-object", der_file.name, "--type", "cert", "--id", key_id_hex, "--label", label
            )

    def public_key_der(self, key_id_hex: str) -> bytes:
        """The public key with that id, DER SubjectPublicKeyInfo (to build a certificate for it)."""
        with tempfile.TemporaryDirectory(dir=self.directory) as scratch:
            out = Path(scratch) / "public.der"
            self._pkcs11_tool(
                "--read-object", "--type", "pubkey", "--id", key_id_hex, "--output-file", str(out)
            )
            return out.read_bytes()

    def list_objects(self) -> str:
        """pkcs11-tool's listing of every object on the token (after user login)."""
        return self._pkcs11_tool("--list-objects")

    def _token_labels(self) -> list[str]:
        listing = self._run("softhsm2-util", "--show-slots")
        return [m.group(1) for m in re.finditer(r"^\s*Label:\s*(.*?)\s*$", listing, re.MULTILINE)]

    def _pkcs11_tool(self, *args: str) -> str:
        return self._run(
            "pkcs11-tool", "--module", str(self.module), "--token-label", self.label,
            "--login", "--pin", self.user_pin, *args,
        )  # fmt: skip

    def _run(self, program: str, *args: str) -> str:
        executable = shutil.which(program)
        if executable is None:
            package = "opensc" if program == "pkcs11-tool" else "softhsm2"
            raise InfrastructureError(
                f"SoftHSM2: '{program}' not found. Run scripts/bootstrap-system.sh (Debian package {package})."
            )
        result = subprocess.run(
            [executable, *args], capture_output=True, text=True, env={**os.environ, **self.env}, timeout=120
        )
        if result.returncode != 0:
            shown = " ".join("***" if previous in {"--pin", "--so-pin"} else arg
                             for previous, arg in zip(("", *args), args, strict=False))  # fmt: skip
            raise InfrastructureError(
                f"SoftHSM2: {program} {shown} failed (exit {result.returncode})\n"
                f"--- stderr ---\n{result.stderr}\n--- stdout ---\n{result.stdout}"
            )
        return result.stdout
