"""The data directory of an embedded platform, and `platform.json` inside it.

The data directory is the platform's only state: NATS's JetStream store, one SQLite
file per service, object files, the development key pair, logs, and `platform.json`,
which records where everything listens and which processes run it. `vanthu status`
and any other command given the same `--data-dir` find the platform through it, and
`vanthu up` reads it back to resume on the same ports.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

STATE_FILE = "platform.json"
STATE_VERSION = 1


@dataclass(frozen=True)
class DataDir:
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> DataDir:
        return cls(Path(path).expanduser().resolve())

    @property
    def nats(self) -> Path:
        return self.root / "nats"

    @property
    def db(self) -> Path:
        return self.root / "db"

    @property
    def objects(self) -> Path:
        return self.root / "objects"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def hsm(self) -> Path:
        """SoftHSM2 tokens and the development CA of the demo's signing keys."""
        return self.root / "hsm"

    @property
    def axis(self) -> Path:
        """The embedded axis simulator's packets and this platform's connection secret."""
        return self.root / "axis"

    @property
    def state_file(self) -> Path:
        return self.root / STATE_FILE

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    def create(self) -> None:
        for directory in (self.root, self.nats, self.db, self.objects, self.keys, self.logs):
            directory.mkdir(parents=True, exist_ok=True)

    def database_url(self, service: str) -> str:
        # Absolute path after the three slashes, so the URL has four: sqlite+aiosqlite:////abs/db
        return f"sqlite+aiosqlite:///{self.db / f'{service}.db'}"

    def object_dir(self, service: str) -> Path:
        # One content-addressed store for every service, as in production (one S3 bucket): a file
        # reference (sha256) passed in an event names the same bytes in the registry, routing,
        # signing and interop.
        return self.objects

    def log_file(self, instance: str) -> Path:
        return self.logs / f"{instance}.log"


class NatsRecord(BaseModel):
    port: int
    url: str
    pid: int | None = None
    store_dir: str
    log: str


class InstanceRecord(BaseModel):
    """One service process (a service has one instance per replica)."""

    service: str
    instance: str
    replica: int
    port: int
    url: str
    pid: int | None = None
    log: str

    @property
    def docs_url(self) -> str:
        return f"{self.url}/docs"


class HelperRecord(BaseModel):
    """A process that is not one of the five services: the axis simulator, the token agent."""

    name: str
    pid: int | None = None
    url: str | None = None
    log: str


class AxisRecord(BaseModel):
    """The province's connection to an axis (no secret here: the embedded one keeps it in <data>/axis)."""

    url: str
    system_id: str
    embedded: bool
    port: int | None = None  # the embedded simulator's, reused on resume


class PlatformState(BaseModel):
    version: int = STATE_VERSION
    data_dir: str
    launcher_pid: int | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    demo: bool = True
    # The --base-port of the first run (None: the 8101… layout, 0: free ports), so that a
    # replica added on a later run gets a port the same way as the others did.
    base_port: int | None = None
    jwt_private_key_file: str | None = None
    jwt_public_key_file: str | None = None
    nats: NatsRecord | None = None
    instances: list[InstanceRecord] = Field(default_factory=list)
    province: str = "H99"  # the demo province's code
    axis: AxisRecord | None = None
    helpers: list[HelperRecord] = Field(default_factory=list)

    @classmethod
    def load(cls, data: DataDir) -> PlatformState | None:
        try:
            text = data.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return cls.model_validate_json(text)

    def save(self, data: DataDir) -> None:
        """Write atomically: `vanthu status` may read the file while the launcher rewrites it."""
        data.root.mkdir(parents=True, exist_ok=True)
        text = self.model_dump_json(indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".platform-", suffix=".json", dir=data.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, data.state_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def ports_by_instance(self) -> dict[str, int]:
        return {record.instance: record.port for record in self.instances}

    def service_url(self, service: str) -> str | None:
        """The URL of the service's first replica."""
        record = self.instance(f"{service}-1")
        return record.url if record else None

    def instance(self, name: str) -> InstanceRecord | None:
        return next((record for record in self.instances if record.instance == name), None)

    def mark_started(self, launcher_pid: int) -> None:
        self.launcher_pid = launcher_pid
        self.started_at = datetime.now(UTC)
        self.stopped_at = None

    def mark_stopped(self) -> None:
        """Keep ports and keys (the next `vanthu up` reuses them); forget the processes."""
        self.launcher_pid = None
        self.stopped_at = datetime.now(UTC)
        if self.nats is not None:
            self.nats.pid = None
        for record in self.instances:
            record.pid = None
        for helper in self.helpers:
            helper.pid = None
