"""Running `vanthu up` and `vanthu demo journey` as an operator would, and reading the spans they leave."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# `vanthu up` gives each process 60 s; a shared 2-core machine starting two platforms at once
# needs slack. This bounds the test, it is not the product's promise.
HEALTHY_WITHIN_S = 240.0


def vanthu(*args: str) -> list[str]:
    return [sys.executable, "-m", "vanthu_cli", *args]


class Platform:
    """One `vanthu up` in the background, its output in a file."""

    def __init__(self, data_dir: Path, output: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.output = output
        self._out = open(output, "ab")
        self.popen = subprocess.Popen(
            vanthu("up", "--data-dir", str(data_dir), "--nats-port", "0", "--base-port", "0", *args),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> dict[str, Any]:
        """Until the launcher printed its last start-up line (after demo signing); then platform.json."""
        deadline = time.monotonic() + HEALTHY_WITHIN_S
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(f"vanthu up exited with {self.popen.returncode}:\n{self.text()}")
            if "Ctrl-C" in self.text():
                return self.state()
            time.sleep(0.5)
        pytest.fail(f"vanthu up not ready within {HEALTHY_WITHIN_S:.0f} s:\n{self.text()}")

    def state(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "platform.json").read_text(encoding="utf-8"))

    def stop(self, timeout: float = 60.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()
        return self.popen.returncode

    def kill(self) -> None:
        """Whatever a failed test leaves running goes, children included."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        state_file = self.data_dir / "platform.json"
        if state_file.exists():
            state = self.state()
            pids = [r.get("pid") for r in [*state.get("instances", []), *state.get("helpers", [])]]
            pids.append((state.get("nats") or {}).get("pid"))
            for pid in filter(None, pids):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not self._out.closed:
            self._out.close()


def run_journey(
    *args: str, timeout: float = 300.0
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`vanthu demo journey --json …`: the process (text on stderr) and the JSON report."""
    done = subprocess.run(
        vanthu("demo", "journey", "--json", *args), capture_output=True, text=True, timeout=timeout
    )
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    except ValueError:
        report = {}
    return done, report


def produced(report: dict[str, Any], step: str) -> dict[str, Any]:
    found = next((s for s in report["steps"] if s["name"] == step), None)
    assert found is not None, f"no step {step} in {[s['name'] for s in report['steps']]}"
    assert found["ok"], found
    return dict(found["produced"])


def read_spans(directories: dict[str, Path]) -> list[dict[str, Any]]:
    """Every span of every process; `_instance` names it (`h99/registry-1`, from its file name)."""
    spans: list[dict[str, Any]] = []
    for label, directory in directories.items():
        for path in sorted(directory.glob("*.jsonl")):
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    spans.append(json.loads(line) | {"_instance": f"{label}/{path.stem}"})
    return spans


def missing_spans(
    spans: list[dict[str, Any]], trace_id: str, wanted: dict[str, set[str]]
) -> dict[str, set[str]]:
    """Per process (`h99/registry-1`), the wanted span names that are not in the trace."""
    found: dict[str, set[str]] = {}
    for span in spans:
        if span["trace_id"] == trace_id:
            found.setdefault(span["_instance"], set()).add(span["name"])
    return {
        instance: names - found.get(instance, set())
        for instance, names in wanted.items()
        if names - found.get(instance, set())
    }


def wait_for_spans(
    directories: dict[str, Path], trace_id: str, wanted: dict[str, set[str]], timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Spans are written as they end; the last consumers may finish a moment after the journey."""
    deadline = time.monotonic() + timeout
    while True:
        spans = read_spans(directories)
        if not missing_spans(spans, trace_id, wanted) or time.monotonic() > deadline:
            return spans
        time.sleep(0.5)


def ancestry(spans: list[dict[str, Any]], start: dict[str, Any]) -> list[dict[str, Any]]:
    """`start` and its parents, as far as the exported spans go (across processes)."""
    by_id = {span["span_id"]: span for span in spans}
    chain = [start]
    while chain[-1]["parent_span_id"] in by_id:
        chain.append(by_id[chain[-1]["parent_span_id"]])
    return chain
