"""Child processes of the launcher: start one with its log file, stop it politely, check a recorded pid."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from vanthu_testing._process import die_with_parent_hook

STOP_GRACE_S = 10.0


def pid_alive(pid: int | None, expect: str | None = None) -> bool:
    """Whether `pid` runs, and — where /proc tells — runs a command line containing `expect`.

    The second check keeps a pid recorded before a reboot, now reused by some other
    program, from passing for one of ours.
    """
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, it is just not ours to signal
    if expect is None:
        return True
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False  # exited in between
    except OSError:
        return True  # no /proc here: trust the signal check
    if status.rpartition(")")[2].split()[:1] == ["Z"]:
        return False  # a zombie has exited; only its exit status is left
    return expect.encode() in raw


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError:
        return "(no log yet)"
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])


def _open_log(path: Path) -> BinaryIO:
    # Opening a local file for append does not block the loop in any way that matters.
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")


async def spawn(argv: Sequence[str], *, env: Mapping[str, str], log_path: Path) -> asyncio.subprocess.Process:
    """Start `argv` with stdout and stderr appended to `log_path` (the child keeps its own handle)."""
    with _open_log(log_path) as log:
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env),
            # Own session: a Ctrl-C in the terminal reaches only the launcher, which then
            # stops the services before NATS instead of everything dying at once.
            start_new_session=True,
            preexec_fn=die_with_parent_hook(),
        )


async def stop(process: asyncio.subprocess.Process, grace_s: float = STOP_GRACE_S) -> int:
    """SIGTERM, wait up to `grace_s`, then SIGKILL. Returns the exit code."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    return await process.wait()
