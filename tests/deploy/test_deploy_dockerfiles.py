"""The images: hadolint-clean, multi-stage, slim, non-root, with a health check, built from uv.lock.

No Docker engine runs here, so the images are not built in this suite; what can be checked
without one is checked: the linter, the structure of each Dockerfile, that every file it copies
exists, that the entry point and port are the service's, and that every package the image
installs has a wheel for the image's Python and platform (the build stage has no compiler).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import dockerfile
import pytest
from deploy_support import DEFAULT_PORTS, DOCKER_DIR, ROOT, SERVICES
from packaging import tags
from packaging.markers import Marker
from packaging.utils import canonicalize_name, parse_wheel_filename

IMAGES = (*SERVICES, "tools")
# python:3.11-slim-bookworm: CPython 3.11, glibc 2.36, x86_64.
IMAGE_PYTHON = (3, 11)
IMAGE_GLIBC_MINOR = 36
MARKER_ENV = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "python_full_version": "3.11.14",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "extra": "",
}


def dockerfile_of(image: str) -> Path:
    return DOCKER_DIR / f"{image}.Dockerfile"


def instructions(image: str) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(dockerfile_of(image))))


def final_stage(commands: list[dockerfile.Command]) -> list[dockerfile.Command]:
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def arg_defaults(commands: list[dockerfile.Command]) -> dict[str, str]:
    defaults = {}
    for c in commands:
        if c.cmd == "ARG" and "=" in c.value[0]:
            name, _, value = c.value[0].partition("=")
            defaults[name] = value
    return defaults


@pytest.mark.parametrize("image", IMAGES)
def test_hadolint_finds_nothing(image: str, hadolint_binary: Path) -> None:
    result = subprocess.run(
        [str(hadolint_binary), "--no-color", str(dockerfile_of(image))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_on_a_bad_dockerfile(hadolint_binary: Path, tmp_path: Path) -> None:
    # The linter's exit code is what the check above relies on: prove it says no.
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nUSER root\n")
    result = subprocess.run(
        [str(hadolint_binary), "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # "latest" tag


@pytest.mark.parametrize("image", IMAGES)
def test_image_is_multi_stage_slim_and_non_root(image: str) -> None:
    commands = instructions(image)
    froms = [c for c in commands if c.cmd == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    base = arg_defaults(commands)["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim-[a-z]+", base), base
    assert all(f.value[0] == "${PYTHON_IMAGE}" for f in froms), "both stages on the same Python"
    runtime = final_stage(commands)
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    assert users, "the runtime stage sets USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, f"numeric non-root uid, got {users[-1]}"
    copies_from_build = [c for c in runtime if c.cmd == "COPY" and "--from=build" in c.flags]
    assert [c.value for c in copies_from_build] == [("/opt/vanthu/venv", "/opt/vanthu/venv")]


@pytest.mark.parametrize("image", IMAGES)
def test_uv_installs_from_the_lock_file(image: str) -> None:
    runs = [c.value[0] for c in instructions(image) if c.cmd == "RUN" and "uv sync" in c.value[0]]
    assert len(runs) == 1
    flags = runs[0].split()
    assert {"--frozen", "--no-dev", "--no-editable"} <= set(flags)
    if image == "tools":
        assert "--all-packages" in flags
    else:
        assert flags[flags.index("--package") + 1] == f"vanthu-{image}"


@pytest.mark.parametrize("image", IMAGES)
def test_every_copied_path_exists_and_every_workspace_member_is_copied(image: str) -> None:
    commands = instructions(image)
    copied = set()
    for c in commands:
        if c.cmd == "COPY" and not any(f.startswith("--from") for f in c.flags):
            for source in c.value[:-1]:
                assert (ROOT / source).exists(), f"{image}: COPY {source} does not exist"
                copied.add(source.rstrip("/"))
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    # uv reads every member's pyproject.toml, so each member's top directory must be in the image.
    for member in workspace:
        assert member.split("/")[0] in copied, f"{image}: workspace member {member} is not copied"
    assert {"pyproject.toml", "uv.lock"} <= copied


@pytest.mark.parametrize("service", SERVICES)
def test_service_image_runs_its_entry_point_with_a_health_check(service: str) -> None:
    runtime = final_stage(instructions(service))
    [entrypoint] = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    assert entrypoint.json and entrypoint.value == (f"vanthu-{service}",)
    scripts = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"][
        "scripts"
    ]
    assert f"vanthu-{service}" in scripts, "the entry point is the service's console script"
    [health] = [c for c in runtime if c.cmd == "HEALTHCHECK"]
    assert health.value == ("CMD", "vanthu-healthcheck", service)
    assert any("--interval" in f for f in health.flags) and any("--start-period" in f for f in health.flags)
    [expose] = [c for c in runtime if c.cmd == "EXPOSE"]
    assert expose.value == (str(DEFAULT_PORTS[service]),)
    env = {}
    for c in runtime:
        if c.cmd == "ENV":
            env.update(zip(c.value[::2], c.value[1::2], strict=True))
    assert env[f"VANTHU_{service.upper()}_HOST"] == "0.0.0.0", "listen beyond the container's loopback"
    assert env["PATH"].startswith("/opt/vanthu/bin:/opt/vanthu/venv/bin:")


def test_signing_image_has_pkcs11_fonts_and_a_writable_token_directory() -> None:
    runtime = final_stage(instructions("signing"))
    apt = " ".join(c.value[0] for c in runtime if c.cmd == "RUN" and "apt-get install" in c.value[0])
    for package in ("softhsm2", "opensc", "fonts-liberation2", "fonts-dejavu-core"):
        assert re.search(rf"\b{package}\b", apt), package
    assert "poppler-utils" not in apt, "not needed at run time"
    env = {}
    for c in runtime:
        if c.cmd == "ENV":
            env.update(zip(c.value[::2], c.value[1::2], strict=True))
    conf_in_image = env["SOFTHSM2_CONF"]
    [copy] = [c for c in runtime if c.cmd == "COPY" and c.value[-1] == conf_in_image]
    conf = (ROOT / copy.value[0]).read_text()
    tokendir = re.search(r"^directories\.tokendir\s*=\s*(\S+)", conf, re.M).group(1)
    user_setup = " ".join(c.value[0] for c in runtime if c.cmd == "RUN" and "useradd" in c.value[0])
    assert f"-o vanthu -g vanthu -m 0700 /var/lib/vanthu/softhsm {tokendir}" in user_setup


def test_tools_image_carries_the_deploy_scripts() -> None:
    runtime = final_stage(instructions("tools"))
    targets = {c.value[-1]: c.value[0] for c in runtime if c.cmd == "COPY" and "--chmod=0755" in c.flags}
    assert targets == {
        "/opt/vanthu/bin/vanthu-migrate": "deploy/docker/bin/migrate.py",
        "/opt/vanthu/bin/vanthu-smoke": "deploy/docker/bin/smoke.py",
        "/opt/vanthu/bin/vanthu-healthcheck": "deploy/docker/bin/healthcheck.py",
    }
    [entrypoint] = [c for c in runtime if c.cmd == "ENTRYPOINT"]
    assert entrypoint.value == ("vanthu",)


def _image_tags() -> set[tags.Tag]:
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(IMAGE_GLIBC_MINOR, 4, -1)]
    platforms += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    supported = set(tags.cpython_tags(IMAGE_PYTHON, abis=["cp311", "abi3", "none"], platforms=platforms))
    supported |= set(tags.compatible_tags(IMAGE_PYTHON, "cp311", platforms))
    return supported


def _installed_packages(image: str) -> list[tuple[str, str]]:
    selector = ["--all-packages"] if image == "tools" else ["--package", f"vanthu-{image}"]
    exported = subprocess.run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--no-header",
            "--no-annotate",
            "--format",
            "requirements-txt",
            *selector,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    packages = []
    for line in exported.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-e", "./")):
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(MARKER_ENV):
            continue
        name, _, version = requirement.strip().partition("==")
        packages.append((str(canonicalize_name(name)), version))
    return packages


@pytest.mark.parametrize("image", IMAGES)
def test_every_installed_package_has_a_wheel_for_the_image(image: str) -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    wheels = {
        (str(canonicalize_name(p["name"])), p.get("version", "")): [
            w["url"].rsplit("/", 1)[-1] for w in p.get("wheels", [])
        ]
        for p in lock["package"]
    }
    supported = _image_tags()
    packages = _installed_packages(image)
    assert len(packages) > 10, packages
    missing = []
    for name, version in packages:
        files = wheels.get((name, version), [])
        if not any(parse_wheel_filename(f)[3] & supported for f in files):
            missing.append(f"{name}=={version}")
    assert not missing, (
        f"{image}: no wheel for CPython 3.11 manylinux x86_64, the build would need a compiler: {missing}"
    )
