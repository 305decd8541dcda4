"""Working days with the Vietnamese calendar: Tết, compensatory days, swapped Saturdays, overrides."""

from __future__ import annotations

from datetime import date

import pytest

from vanthu_contracts.events import routing as c
from vanthu_contracts.events.common import Urgency
from vanthu_routing.domain.calendar import WorkingCalendar, parse_overrides
from vanthu_routing.domain.deadlines import DeadlinePolicy
from vanthu_routing.domain.rules import RuleBroken

CAL = WorkingCalendar()


def test_tet_2026_is_five_days_off() -> None:
    # Tết Bính Ngọ: 16–20 February 2026 (Mon–Fri), announced by the Government.
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day))
    assert CAL.is_working_day(date(2026, 2, 13))
    assert CAL.is_working_day(date(2026, 2, 23))
    # A document received on Friday 13 Feb with 1 working day is due after Tết.
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


def test_compensatory_day_and_swapped_saturday_2025() -> None:
    # 30/4–1/5/2025 Wed–Thu; Friday 2 May off in exchange for working Saturday 26 April.
    assert not CAL.is_working_day(date(2025, 5, 2))
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_working_day(date(2025, 4, 27))  # an ordinary Sunday


def test_observed_day_when_a_holiday_falls_on_a_weekend() -> None:
    # Giỗ Tổ Hùng Vương 2026 is Sunday 26 April; Monday 27 April is the day off in lieu.
    assert not CAL.is_working_day(date(2026, 4, 27))


def test_counting_working_days() -> None:
    assert CAL.add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert CAL.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)  # Saturday → Monday
    assert CAL.add_working_days(date(2026, 3, 2), 10) == date(2026, 3, 16)
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 3, 16)) == 10
    assert CAL.working_days_between(date(2026, 3, 16), date(2026, 3, 2)) == -10
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 2), -1)


def test_override_file_adds_removes_and_replaces_days() -> None:
    overrides = parse_overrides(
        """
        [years.2026]
        days_off = ["2026-02-13"]
        working_days = ["2026-02-28"]
        not_days_off = ["2026-11-24"]

        [years.2031]
        replace = true
        days_off = ["2031-01-01"]
        """
    )
    cal = WorkingCalendar(overrides=overrides)
    assert not cal.is_working_day(date(2026, 2, 13))  # extra day before Tết
    assert cal.is_working_day(date(2026, 2, 28))  # a Saturday worked in exchange
    assert cal.is_working_day(date(2026, 11, 24))  # the package's holiday is removed
    assert cal.is_working_day(date(2031, 9, 2))  # replaced year: only the file's days are off
    assert not cal.is_working_day(date(2031, 1, 1))
    assert WorkingCalendar().is_working_day(date(2026, 2, 13))


@pytest.mark.parametrize(
    "text",
    [
        "years = 3",
        "[years.abcd]\ndays_off = []",
        '[years.2026]\ndays_off = ["2026-13-01"]',
        '[years.2026]\ndays_off = ["2027-01-01"]',
        '[years.2026]\nholidays = ["2026-01-01"]',
        "[years.2026",
        '[years.2026]\ndays_off = "2026-01-01"',
    ],
)
def test_bad_override_files_are_refused_with_a_code(text: str) -> None:
    with pytest.raises(RuleBroken) as info:
        parse_overrides(text)
    assert info.value.code is c.CALENDAR_INVALID and info.value.details["error"]


def test_deadline_policy_shortens_urgent_documents_and_respects_the_agency() -> None:
    policy = DeadlinePolicy(per_agency={"000.00.12.H99": {Urgency.NORMAL: 5}})
    received = date(2026, 3, 2)
    assert policy.default_deadline(CAL, "000.00.00.H99", Urgency.NORMAL, received) == date(2026, 3, 16)
    assert policy.default_deadline(CAL, "000.00.12.H99", Urgency.NORMAL, received) == date(2026, 3, 9)
    assert policy.default_deadline(CAL, "000.00.00.H99", Urgency.URGENT, received) == date(2026, 3, 5)
    assert policy.default_deadline(CAL, "000.00.00.H99", Urgency.FLASH, received) == received
    # The sender's earlier due date wins.
    assert policy.default_deadline(CAL, "000.00.00.H99", Urgency.NORMAL, received, date(2026, 3, 10)) == date(
        2026, 3, 10
    )
