"""`vanthu up`: the whole platform on one machine, in the foreground, from one data directory.

Order of events: lock the data directory → key pair → nats-server → provisioning →
first replica of every service (in parallel) → each healthy → its extra replicas →
healthy → table of URLs and demo logins → watch (restart crashed children with
back-off) → on SIGINT/SIGTERM stop the services, then NATS, and record the platform
as stopped.

A service's extra replicas start only once its first one is healthy: the first
process runs the database migrations, and two processes migrating one SQLite file
at the same moment would fight over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import asyncpg
import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vanthu_cli import processes
from vanthu_cli.axis import (
    DEFAULT_AXIS_PORT,
    EMBEDDED_POLL_INTERVAL_S,
    AxisConnection,
    embedded_secret,
    interop_env,
    province_system_id,
    simulator_argv,
)
from vanthu_cli.devsigning import DevHsm, DevSigningError
from vanthu_cli.health import Health, probe_http
from vanthu_cli.platform_state import (
    AxisRecord,
    DataDir,
    HelperRecord,
    InstanceRecord,
    NatsRecord,
    PlatformState,
)
from vanthu_cli.ports import port_is_free
from vanthu_cli.provisioning import NatsUnreachable, print_report, provision_at
from vanthu_cli.services import (
    DEFAULT_NATS_PORT,
    SERVICES,
    Backends,
    InstancePlan,
    plan_instances,
    service_env,
)

if TYPE_CHECKING:
    from vanthu_testing.procs import NatsServer

MAX_RESTARTS = 5
RESTART_BACKOFF_S = 1.0  # doubled on each restart: 1, 2, 4, 8, 16 s
STABLE_UPTIME_S = 60.0  # a child that ran this long before crashing starts a fresh restart budget
NATS_WATCH_INTERVAL_S = 1.0


class LaunchError(Exception):
    """Start-up cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class AxisOptions:
    """`embedded` (the simulator as a child), `external` (url, system id, secret given) or `none`."""

    mode: str = "embedded"
    url: str = ""
    system_id: str = ""
    secret: str = ""
    port: int | None = None  # the embedded simulator's; None: recorded or 8480 (free with --base-port 0)
    poll_interval_s: float = EMBEDDED_POLL_INTERVAL_S


@dataclass(frozen=True)
class UpOptions:
    replicas: dict[str, int]
    demo: bool = True
    province: str = "H99"
    axis: AxisOptions = field(default_factory=AxisOptions)
    token_agent: bool = True  # demo signing: HSM keys, signer profiles and the leader's token agent
    nats_port: int | None = None  # None: recorded or 14222; 0: recorded or any free port
    base_port: int | None = None  # None: recorded or 8101…; 0: recorded or free ports
    startup_timeout_s: float = 60.0  # per process, from its start to a healthy /healthz
    backends: Backends = field(default_factory=Backends)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    plan: InstancePlan | None = None  # None: a helper (the axis simulator, the token agent)
    health_url: str | None = None  # probed at start (`/healthz`); None: staying up is enough
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    restarts: int = 0

    @classmethod
    def service(cls, plan: InstancePlan, env: dict[str, str], log: Path) -> Child:
        return cls(plan.instance, [sys.executable, "-m", plan.module], env, log, plan, plan.url)

    @property
    def pid(self) -> int | None:
        if self.process is None or self.process.returncode is not None:
            return None
        return self.process.pid


class Launcher:
    def __init__(self, data: DataDir, options: UpOptions, console: Console) -> None:
        self.data = data
        self.options = options
        self.console = console
        self.state = PlatformState(data_dir=str(data.root), demo=options.demo)
        self.children: list[Child] = []  # the services' processes, then the helpers
        self.axis: AxisConnection | None = None
        self.hsm: DevHsm | None = None
        self.nats: NatsServer | None = None
        self._lock: IO[str] | None = None
        # Set once we know no other run owns the data directory; only then is platform.json ours to write.
        self._owns_state = False
        self._stop = asyncio.Event()
        self._watchers: list[asyncio.Task[None]] = []
        self._failed = False

    # ------------------------------------------------------------------ entry

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_signal, signum)
        try:
            try:
                await self._start()
            except LaunchError as exc:
                self.console.print(f"[bold red]vanthu up:[/] {escape(str(exc))}")
                return 1
            if not self._stop.is_set():
                self._print_summary()
                await self._print_dev_logins()
                await self._demo_signing()
                self._watchers += [asyncio.create_task(self._watch(child)) for child in self.children]
                self._watchers.append(asyncio.create_task(self._watch_nats()))
                self.console.print("Nhấn Ctrl-C để dừng / Press Ctrl-C to stop.")
                await self._stop.wait()
            return 1 if self._failed else 0
        finally:
            await self._shutdown()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    def _on_signal(self, signum: int) -> None:
        if self._stop.is_set():
            # A second Ctrl-C: the operator does not want to wait for a graceful stop.
            self.console.print("[yellow]Dừng ngay / stopping now (SIGKILL)[/]")
            for child in self.children:
                if child.pid is not None and child.process is not None:
                    with contextlib.suppress(ProcessLookupError):
                        child.process.kill()
            return
        self.console.print(f"\n{signal.Signals(signum).name}: đang dừng / stopping …")
        self._stop.set()

    # ---------------------------------------------------------------- start-up

    async def _start(self) -> None:
        self.data.create()
        self._take_lock()
        previous = self._load_previous_state()
        self._refuse_if_running(previous)
        if previous is not None:
            # Resume: keep what the earlier run recorded (ports above all) until replaced.
            self.state = previous.model_copy(deep=True)
            self.state.demo = self.options.demo
        if self.options.base_port is not None or previous is None:
            self.state.base_port = self.options.base_port
        self._owns_state = True

        from vanthu_runtime.auth import ensure_dev_keypair

        private_key, public_key = ensure_dev_keypair(self.data.keys)
        self.state.jwt_private_key_file = str(private_key)
        self.state.jwt_public_key_file = str(public_key)
        self.state.mark_started(os.getpid())

        await self._start_nats(previous)
        if self._stop.is_set():
            return
        await self._provision()
        if self._stop.is_set():
            return
        await self._prepare_backends()
        self.state.province = self.options.province
        extra = await self._start_axis(previous)
        if self.options.demo and self.options.token_agent:
            self.hsm = DevHsm(self.data.hsm)
            await asyncio.to_thread(self.hsm.prepare)
            extra["signing"] = self.hsm.env
        extra["registry"] = {"VANTHU_REGISTRY_SEED_DEMO_PROVINCE": self.options.province}
        if self.options.demo and "VANTHU_PROVINCE_AGENCY" not in os.environ:
            # The demo province's UBND tỉnh operates the province-wide jobs (reminder sweep, axis poll).
            for service in SERVICES:
                extra[service] = {
                    "VANTHU_PROVINCE_AGENCY": f"000.00.00.{self.options.province}",
                    **extra.get(service, {}),
                }
        backends = dataclasses.replace(
            self.options.backends, service_extra={**extra, **self.options.backends.service_extra}
        )

        recorded = previous.ports_by_instance() if previous else {}
        plans = self._plan(recorded)
        busy = [f"{plan.instance}:{plan.port}" for plan in plans if not port_is_free(plan.port)]
        if busy:
            raise LaunchError(
                f"cổng đang bận / ports already in use: {', '.join(busy)}. "
                "Another program listens there (or the port is privileged); choose other ports with --base-port."
            )
        assert self.nats is not None
        services = [
            Child.service(
                plan,
                service_env(
                    plan,
                    data=self.data,
                    nats_url=self.nats.url,
                    jwt_public_key_file=public_key,
                    jwt_private_key_file=private_key,
                    demo=self.options.demo,
                    backends=backends,
                ),
                self.data.log_file(plan.instance),
            )
            for plan in plans
        ]
        self.children[:0] = services
        await self._start_services(services)

    def _take_lock(self) -> None:
        # Held for the whole run; the kernel drops the lock if this process dies.
        handle = open(self.data.lock_file, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            pid = None
            with contextlib.suppress(ValueError):  # a damaged record must not hide the real message
                previous = PlatformState.load(self.data)
                pid = previous.launcher_pid if previous else None
            raise LaunchError(
                f"nền tảng đang chạy với thư mục dữ liệu này / a platform is already running for "
                f"{self.data.root}" + (f" (vanthu up, pid {pid})" if pid else "") + ". "
                "See `vanthu status --data-dir ...`; stop it with Ctrl-C in its terminal."
            ) from None
        self._lock = handle

    def _load_previous_state(self) -> PlatformState | None:
        try:
            return PlatformState.load(self.data)
        except ValueError as exc:
            raise LaunchError(
                f"{self.data.state_file} is not a platform record ({exc.__class__.__name__}); "
                "move it away or use another --data-dir"
            ) from None

    def _refuse_if_running(self, previous: PlatformState | None) -> None:
        """The lock was free, so no launcher runs; but one killed outright may have left children."""
        if previous is None:
            return
        alive: list[str] = []
        if previous.nats and processes.pid_alive(previous.nats.pid, "nats-server"):
            alive.append(f"nats-server pid {previous.nats.pid}")
        for record in previous.instances:
            if processes.pid_alive(record.pid, f"vanthu_{record.service}"):
                alive.append(f"{record.instance} pid {record.pid}")
        for helper in previous.helpers:
            if processes.pid_alive(helper.pid, "vanthu_"):
                alive.append(f"{helper.name} pid {helper.pid}")
        if alive:
            raise LaunchError(
                "tiến trình của lần chạy trước vẫn còn / processes of an earlier run for "
                f"{self.data.root} are still running: {', '.join(alive)}. Stop them (kill PID) and run again."
            )

    async def _start_nats(self, previous: PlatformState | None) -> None:
        from vanthu_testing.procs import InfrastructureError, NatsServer

        recorded = previous.nats.port if previous and previous.nats else None
        wanted = self.options.nats_port
        if wanted:  # an explicit port wins over the recorded one
            port: int | None = wanted
        elif recorded:
            port = recorded
        else:
            port = None if wanted == 0 else DEFAULT_NATS_PORT
        if port is not None and not port_is_free(port):
            raise LaunchError(
                f"cổng NATS {port} đang bận / NATS port {port} is already in use; choose another with --nats-port"
            )
        log = self.data.logs / "nats-server.log"
        server = NatsServer(self.data.nats, port=port, log_path=log)
        self.nats = server
        try:
            await asyncio.to_thread(server.start)
        except InfrastructureError as exc:  # it carries the server's log
            raise LaunchError(f"nats-server did not start: {exc}") from exc
        self.state.nats = NatsRecord(
            port=server.port, url=server.url, pid=server.pid, store_dir=str(self.data.nats), log=str(log)
        )
        self._save_state()
        self.console.print(f"[green]✓[/] NATS (JetStream) {server.url}  [dim]store {self.data.nats}[/]")

    async def _provision(self) -> None:
        assert self.state.nats is not None
        try:
            report = await provision_at(self.state.nats.url, wait_s=5.0)
        except NatsUnreachable as exc:
            raise LaunchError(str(exc)) from exc
        if not report.ok:
            print_report(self.console, report)
            raise LaunchError("provisioning reported errors (above); the streams need a deliberate migration")
        print_report(self.console, report, verbose=False)

    async def _start_axis(self, previous: PlatformState | None) -> dict[str, dict[str, str]]:
        """Connect interop to an axis (start the embedded simulator first); interop's env for it."""
        axis = self.options.axis
        if axis.mode == "none":
            self.state.axis = None
            return {}
        province = self.options.province
        if axis.mode == "external":
            self.axis = AxisConnection(axis.url.rstrip("/"), axis.system_id, axis.secret, embedded=False)
            self.state.axis = AxisRecord(url=self.axis.url, system_id=axis.system_id, embedded=False)
            self.console.print(f"[green]✓[/] axis {self.axis.url} (system {axis.system_id})")
            return {"interop": interop_env(self.axis, axis.poll_interval_s)}
        from vanthu_testing.procs import reserve_free_ports

        recorded = previous.axis.port if previous and previous.axis and previous.axis.embedded else None
        if axis.port:
            port = axis.port
        elif recorded:
            port = recorded
        else:
            port = reserve_free_ports(1)[0] if self.state.base_port == 0 else DEFAULT_AXIS_PORT
        if not port_is_free(port):
            raise LaunchError(
                f"cổng trục giả lập {port} đang bận / the axis simulator's port {port} is already in use; "
                "choose another with --axis-port, or --no-axis"
            )
        url = f"http://127.0.0.1:{port}"
        self.axis = AxisConnection(url, province_system_id(province), embedded_secret(self.data.axis), True)
        simulator = Child(
            "axis-sim",
            simulator_argv(port, self.axis, province, self.data.axis),
            dict(os.environ),
            self.data.log_file("axis-sim"),
            health_url=url,
        )
        self.children.append(simulator)
        self.state.axis = AxisRecord(url=url, system_id=self.axis.system_id, embedded=True, port=port)
        await self._start_services([simulator])
        return {"interop": interop_env(self.axis, axis.poll_interval_s)}

    async def _demo_signing(self) -> None:
        """HSM keys, signer profiles and the leader's token agent, so drafts can be signed."""
        if self.hsm is None or self._stop.is_set():
            return
        from vanthu_cli import devsigning
        from vanthu_testing.procs import InfrastructureError

        registry = self.state.service_url("registry")
        signing = self.state.service_url("signing")
        assert registry and signing
        try:
            async with httpx.AsyncClient(timeout=30.0) as client:
                response = await client.get(f"{registry}/dev/logins")
                logins = response.json() if response.status_code == 200 else []
                if not logins:
                    return
                agent = devsigning.agent_spec(logins)
                specs = devsigning.key_specs(logins, agent)
                made = await asyncio.to_thread(self.hsm.ensure_keys, specs)
                profiles = await devsigning.configure_profiles(
                    client,
                    registry_url=registry,
                    signing_url=signing,
                    logins=logins,
                    hsm=self.hsm,
                    agent=agent,
                )
                principal = None
                if agent is not None:
                    person = next(login for login in logins if login["username"] == agent.username)
                    principal = await devsigning.whoami(client, registry, person)
        except (httpx.HTTPError, DevSigningError, InfrastructureError, OSError) as exc:
            self.console.print(
                f"[yellow]Ký số thử chưa sẵn sàng / demo signing not set up:[/] {escape(str(exc))}"
            )
            return
        self.console.print(
            f"[green]✓[/] ký số thử / demo signing: {len(specs)} keys in SoftHSM2 ({len(made)} new), "
            f"{profiles} signer profiles  [dim]{self.hsm.directory}[/]"
        )
        if agent is None or principal is None:
            return
        assert self.state.jwt_private_key_file is not None
        token = devsigning.long_lived_token(
            Path(self.state.jwt_private_key_file),
            principal,
            issuer=os.environ.get("VANTHU_JWT_ISSUER", "vanthu-dev"),
            audience=os.environ.get("VANTHU_JWT_AUDIENCE", "vanthu"),
        )
        env = {
            **os.environ,
            **self.hsm.env,
            "PYTHONUNBUFFERED": "1",
            "VANTHU_TOKEN_AGENT_TOKEN": token,
            "VANTHU_TOKEN_AGENT_PIN": self.hsm.pin,
        }
        agent_child = Child(
            f"token-agent-{agent.username}",
            devsigning.agent_argv(agent, signing, self.hsm),
            env,
            self.data.log_file(f"token-agent-{agent.username}"),
        )
        self.children.append(agent_child)
        await self._spawn(agent_child)
        self._save_state()
        self.console.print(
            f"[green]✓[/] token agent for {agent.username} (USB token stand-in: SoftHSM2 {agent.token_label})"
        )

    async def _prepare_backends(self) -> None:
        """Databases on an external PostgreSQL (one per service), the span directory."""
        backends = self.options.backends
        if backends.trace_dir is not None:
            backends.trace_dir.mkdir(parents=True, exist_ok=True)
        if backends.postgres_dsn is None:
            return
        names = [backends.database_name(service) for service in SERVICES]
        try:
            created = await create_missing_databases(backends.postgres_dsn, names)
        except (OSError, asyncpg.PostgresError) as exc:
            raise LaunchError(
                f"không kết nối được PostgreSQL / cannot prepare the databases on {backends.postgres_dsn}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self.console.print(f"[green]✓[/] PostgreSQL: {', '.join(names)}  [dim]({len(created)} created)[/]")

    def _plan(self, recorded: dict[str, int]) -> list[InstancePlan]:
        from vanthu_testing.procs import reserve_free_ports

        base_port = self.state.base_port
        total = sum(self.options.replicas.get(service, 1) for service in SERVICES)
        free = reserve_free_ports(total) if base_port == 0 else None
        return plan_instances(
            self.options.replicas, base_port=base_port, recorded_ports=recorded, free_ports=free
        )

    async def _start_services(self, services: list[Child]) -> None:
        """First replicas at once; a service's extra replicas as soon as its first one is healthy."""
        followers: dict[str, list[Child]] = {}
        for child in services:
            if child.plan is not None and child.plan.replica > 1:
                followers.setdefault(child.plan.service, []).append(child)
        pending = [child for child in services if child.plan is None or child.plan.replica == 1]
        for child in pending:
            await self._spawn(child)
        self._save_state()
        failure = await self._wait_healthy(pending, followers)
        if failure is not None:
            child, reason = failure
            raise LaunchError(
                f"{child.name} {reason}.\n"
                f"--- {child.log} (cuối nhật ký / last lines) ---\n{processes.log_tail(child.log)}\n---"
            )

    async def _spawn(self, child: Child) -> None:
        child.process = await processes.spawn(child.argv, env=child.env, log_path=child.log)
        child.started_at = asyncio.get_running_loop().time()

    async def _wait_healthy(
        self, pending: list[Child], followers: dict[str, list[Child]]
    ) -> tuple[Child, str] | None:
        """Poll until every child answers /healthz; the child that failed, and how, otherwise.

        Each child has `startup_timeout_s` from its own start.
        """
        loop = asyncio.get_running_loop()
        timeout = self.options.startup_timeout_s
        async with httpx.AsyncClient() as client:
            while pending and not self._stop.is_set():
                for child in list(pending):
                    assert child.process is not None
                    if child.process.returncode is not None:
                        return child, f"exited with code {child.process.returncode} while starting"
                    if (
                        child.health_url is None
                        or await probe_http(client, child.health_url, timeout_s=1.0) is Health.HEALTHY
                    ):
                        pending.remove(child)
                        elapsed = loop.time() - child.started_at
                        self.console.print(
                            f"[green]✓[/] {child.name} healthy in {elapsed:.1f} s  {child.health_url or ''}"
                        )
                        if child.plan is None:
                            continue
                        # Its migrations are done now, so the replicas can share the database safely.
                        for follower in followers.pop(child.plan.service, []):
                            await self._spawn(follower)
                            pending.append(follower)
                        self._save_state()
                    elif loop.time() - child.started_at > timeout:
                        return (
                            child,
                            f"was not healthy after {timeout:.0f} s (GET {child.health_url}/healthz)",
                        )
                if pending:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), 0.2)
        return None

    # ------------------------------------------------------------------ output

    def _print_summary(self) -> None:
        table = Table(title="vanthu — nền tảng đang chạy / platform running", title_justify="left")
        for column in ("Service", "Instance", "URL", "API docs (OpenAPI)", "Status"):
            table.add_column(column, overflow="fold")  # a URL cut short with "…" is useless
        for child in self.children:
            if child.plan is not None:
                url = child.plan.url
                table.add_row(child.plan.service, child.name, url, f"{url}/docs", "[green]healthy[/]")
        if self.axis is not None:
            kind = "simulator (test double)" if self.axis.embedded else "external"
            table.add_row("axis", "axis-sim" if self.axis.embedded else "-", self.axis.url, kind,
                          f"system {self.axis.system_id}")  # fmt: skip
        self.console.print(table)
        assert self.state.nats is not None
        self.console.print(f"NATS: {self.state.nats.url}   Data: {self.data.root}   Logs: {self.data.logs}")

    async def _print_dev_logins(self) -> None:
        registry = next(child for child in self.children if child.name == "registry-1")
        url = f"{registry.health_url}/dev/logins"
        try:
            async with httpx.AsyncClient() as client:
                response = await client.get(url, timeout=5.0)
        except httpx.HTTPError as exc:
            self.console.print(
                f"Tài khoản thử chưa có / dev logins not available ({url}: {type(exc).__name__})"
            )
            return
        logins = response.json() if response.status_code == 200 else None
        if not isinstance(logins, list):
            self.console.print(
                f"Tài khoản thử chưa có / dev logins not available yet ({url} answered HTTP {response.status_code})"
            )
            return
        if not logins:
            self.console.print("Không có tài khoản thử / no dev logins (demo data not seeded, see --no-demo)")
            return
        table = Table(title="Tài khoản thử / dev logins", title_justify="left")
        for column in ("username", "password", "full name", "agency", "roles"):
            table.add_column(column, overflow="fold")
        for login in logins:
            roles = login.get("roles", [])
            table.add_row(
                str(login.get("username", "")),
                str(login.get("password", "")),
                str(login.get("full_name", "")),
                str(login.get("agency", "")),
                ", ".join(map(str, roles)) if isinstance(roles, list) else str(roles),
            )
        self.console.print(table)

    # ---------------------------------------------------------------- watching

    async def _watch(self, child: Child) -> None:
        """Restart `child` when it exits on its own, with back-off, at most MAX_RESTARTS times in a row."""
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            assert child.process is not None
            code = await child.process.wait()
            if self._stop.is_set():
                return
            if loop.time() - child.started_at >= STABLE_UPTIME_S:
                child.restarts = 0
            self._save_state()
            if child.restarts >= MAX_RESTARTS:
                self._failed = True
                self.console.print(
                    f"[bold red]{child.name} exited with code {code} again; gave up after {MAX_RESTARTS} restarts.[/] "
                    f"Log: {child.log}"
                )
                return
            child.restarts += 1
            delay = RESTART_BACKOFF_S * 2 ** (child.restarts - 1)
            self.console.print(
                f"[red]{child.name} exited with code {code}[/]; restarting in {delay:.0f} s "
                f"(restart {child.restarts}/{MAX_RESTARTS}). Log: {child.log}"
            )
            if code > 0:  # it failed by itself (not killed by a signal): its last words say why
                self.console.print(processes.log_tail(child.log, 8), markup=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                return
            await self._spawn(child)
            self._save_state()
            self.console.print(f"{child.name} restarted (pid {child.pid})")

    async def _watch_nats(self) -> None:
        """NATS is a child too: bring it back on the same port with the same store if it dies."""
        server = self.nats
        assert server is not None
        restarts = 0
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), NATS_WATCH_INTERVAL_S)
            if self._stop.is_set() or server.is_running():
                continue
            if restarts >= MAX_RESTARTS:
                self._failed = True
                self.console.print(
                    f"[bold red]nats-server keeps exiting; gave up.[/] Log: {self.state.nats and self.state.nats.log}"
                )
                return
            restarts += 1
            self.console.print(f"[red]nats-server exited[/]; restarting (restart {restarts}/{MAX_RESTARTS})")
            try:
                await asyncio.to_thread(server.restart)
            except Exception as exc:
                self.console.print(f"[red]nats-server did not restart:[/] {exc}")
                continue
            if self.state.nats is not None:
                self.state.nats.pid = server.pid
            self._save_state()

    # ---------------------------------------------------------------- shutdown

    async def _shutdown(self) -> None:
        self._stop.set()
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        running = [
            child for child in self.children if child.process is not None and child.process.returncode is None
        ]
        if running:
            self.console.print(f"Dừng {len(running)} dịch vụ / stopping {len(running)} service processes …")
            await asyncio.gather(*(processes.stop(child.process) for child in running if child.process))
        if self.nats is not None:
            await asyncio.to_thread(self.nats.stop)
            self.console.print("NATS stopped.")
        if self._owns_state:
            self.state.mark_stopped()
            self._save_state()
            self.console.print("Đã dừng / stopped.")
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    # ------------------------------------------------------------------- state

    def _save_state(self) -> None:
        if not self.children:
            self.state.save(self.data)  # nothing planned yet: keep the recorded instances
            return
        self.state.instances = [
            InstanceRecord(
                service=child.plan.service,
                instance=child.name,
                replica=child.plan.replica,
                port=child.plan.port,
                url=child.plan.url,
                pid=child.pid,
                log=str(child.log),
            )
            for child in self.children
            if child.plan is not None
        ]
        self.state.helpers = [
            HelperRecord(name=child.name, pid=child.pid, url=child.health_url, log=str(child.log))
            for child in self.children
            if child.plan is None
        ]
        if self.state.nats is not None and self.nats is not None:
            self.state.nats.pid = self.nats.pid
        self.state.save(self.data)


async def create_missing_databases(server_dsn: str, names: list[str]) -> list[str]:
    """CREATE DATABASE for each name the server does not have yet; the names created."""
    connection = await asyncpg.connect(server_dsn, timeout=10)
    created: list[str] = []
    try:
        for name in names:
            if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                continue
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                await connection.execute(f"CREATE DATABASE {quoted} ENCODING 'UTF8' TEMPLATE template0")
            except asyncpg.DuplicateDatabaseError:
                continue  # another launcher created it in between
            created.append(name)
    finally:
        await connection.close()
    return created


def run_up(data_dir: Path, options: UpOptions, console: Console) -> int:
    launcher = Launcher(DataDir.at(data_dir), options, console)
    return asyncio.run(launcher.run())
