"""Write the contract's JSON Schemas and AsyncAPI document to a directory, byte-for-byte reproducibly.

A manifest (`.vanthu-export`) lists the files the last export wrote, so the next one can
delete those that no longer exist in the contract (a renamed event) without touching
anything else someone keeps in the same directory. Files whose content did not change
are not rewritten, so their modification times stay put for build tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = ".vanthu-export"
ASYNCAPI_FILE = "asyncapi.json"


@dataclass
class ExportResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def contract_files() -> dict[str, bytes]:
    """Relative path → bytes, for every file of the export (rendered by the contracts package)."""
    from vanthu_contracts.export import rendered_files

    files = {name: text.encode("utf-8") for name, text in rendered_files().items()}
    for name in files:
        _check_relative(name)
    return dict(sorted(files.items()))


def export_contracts(directory: Path) -> ExportResult:
    files = contract_files()
    directory.mkdir(parents=True, exist_ok=True)
    previous = _previous_manifest(directory)  # read (and checked) before anything is written
    result = ExportResult()
    for name, content in files.items():
        target = directory / name
        if target.is_file() and target.read_bytes() == content:
            result.unchanged.append(name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        result.written.append(name)
    for name in sorted(previous - files.keys()):
        stale = directory / name
        if stale.is_file():
            stale.unlink()
            result.removed.append(name)
            _remove_empty_parents(stale.parent, directory)
    (directory / MANIFEST).write_text("".join(f"{name}\n" for name in files), encoding="utf-8")
    return result


def _previous_manifest(directory: Path) -> set[str]:
    try:
        lines = (directory / MANIFEST).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return set()
    names = set()
    for line in lines:
        line = line.strip()
        if line:
            _check_relative(line)  # a tampered manifest must not delete files outside the directory
            names.add(line)
    return names


def _check_relative(name: str) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"refusing a contract file path outside the export directory: {name!r}")


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty
        folder = folder.parent
