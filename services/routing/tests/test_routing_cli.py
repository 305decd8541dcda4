"""`vanthu calendar`: days off, deadlines, and refusal of a bad override file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from vanthu_routing.cli import calendar_app

runner = CliRunner()


def test_days_off_show_swapped_saturdays_and_tet() -> None:
    result = runner.invoke(calendar_app, ["days-off", "2025"])
    assert result.exit_code == 0, result.output
    assert "2025-04-26" in result.output and "2025-05-02" in result.output
    assert "2025-01-29" in result.output  # Tết Ất Tỵ


def test_deadline_with_an_override_file(tmp_path: Path) -> None:
    override = tmp_path / "cal.toml"
    override.write_text('[years.2026]\ndays_off = ["2026-02-23"]\n', "utf-8")
    plain = runner.invoke(calendar_app, ["deadline", "2026-02-13", "1"])
    assert plain.output.strip() == "2026-02-23"
    shifted = runner.invoke(calendar_app, ["deadline", "2026-02-13", "1", "--file", str(override)])
    assert shifted.exit_code == 0 and shifted.output.strip() == "2026-02-24"


def test_bad_input_exits_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[years.2026]\ndays_off = ["2027-01-01"]\n', "utf-8")
    result = runner.invoke(calendar_app, ["days-off", "2026", "--file", str(bad)])
    assert result.exit_code == 2
    assert "Tệp lịch ngày nghỉ không hợp lệ" in result.output and "2027-01-01" in result.output
    not_a_date = runner.invoke(calendar_app, ["deadline", "13/02/2026", "1"])
    assert not_a_date.exit_code == 2
