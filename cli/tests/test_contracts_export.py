"""`vanthu contracts export`: deterministic files, stale files removed, others left alone."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vanthu_cli.contracts_export import ASYNCAPI_FILE, MANIFEST
from vanthu_cli.main import build_app


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def _export(directory: Path) -> str:
    result = CliRunner().invoke(build_app(plugins=False), ["contracts", "export", str(directory)])
    assert result.exit_code == 0, result.output
    return result.output


def test_export_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    from vanthu_contracts.export import asyncapi, json_schemas

    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    _export(first_dir)
    first = _snapshot(first_dir)
    _export(second_dir)
    assert _snapshot(second_dir) == first
    # Exporting again into the same directory rewrites nothing and changes nothing.
    output = _export(first_dir)
    assert "0 written" in output
    assert _snapshot(first_dir) == first

    expected = {*json_schemas(), ASYNCAPI_FILE, MANIFEST}
    assert set(first) == expected
    assert json.loads(first[ASYNCAPI_FILE]) == json.loads(json.dumps(asyncapi()))
    for name, schema in json_schemas().items():
        assert json.loads(first[name]) == json.loads(json.dumps(schema)), name


def test_files_are_sorted_indented_utf8_with_a_trailing_newline(tmp_path: Path) -> None:
    _export(tmp_path)
    codes = (tmp_path / "errors" / "codes.json").read_bytes()
    text = codes.decode("utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert "\\u" not in text  # Vietnamese stays readable: ensure_ascii=False
    assert any(ch in text for ch in "ăâđêôơưạảấầ")
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert text.splitlines()[1].startswith('  "')


def test_stale_files_from_an_earlier_export_are_removed_and_others_kept(tmp_path: Path) -> None:
    _export(tmp_path)
    # An earlier contract had an event that is gone now; someone also keeps a README here.
    stale = tmp_path / "events" / "old" / "registry.thing.removed.v1.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}\n", encoding="utf-8")
    manifest = tmp_path / MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8") + "events/old/registry.thing.removed.v1.json\n")
    keep = tmp_path / "events" / "README.md"
    keep.write_text("hand-written\n", encoding="utf-8")
    unlisted = tmp_path / "events" / "not-ours.json"
    unlisted.write_text("{}\n", encoding="utf-8")

    output = _export(tmp_path)

    assert "1 removed" in output and "registry.thing.removed.v1.json" in output
    assert not stale.exists()
    assert not stale.parent.exists()  # its folder was emptied by the export, so it goes too
    assert keep.read_text(encoding="utf-8") == "hand-written\n"
    assert unlisted.exists()
    assert "registry.thing.removed" not in manifest.read_text(encoding="utf-8")


def test_a_tampered_manifest_cannot_delete_outside_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "precious.json"
    outside.write_text("{}\n", encoding="utf-8")
    target = tmp_path / "export"
    target.mkdir()
    (target / MANIFEST).write_text("../precious.json\n", encoding="utf-8")
    result = CliRunner().invoke(build_app(plugins=False), ["contracts", "export", str(target)])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)
    assert outside.exists()
    assert not (target / ASYNCAPI_FILE).exists()  # refused before writing anything
