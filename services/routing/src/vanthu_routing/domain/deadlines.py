"""Default handling periods: per agency, in working days, shorter for urgent documents.

Decree 30 leaves the handling period to each agency's quy chế làm việc and says urgent
documents are handled "immediately" (Art. 24); these numbers are the platform's defaults [R],
overridable per agency in the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from vanthu_contracts.events.common import Urgency
from vanthu_routing.domain.calendar import WorkingCalendar

DEFAULT_PERIODS: dict[Urgency, int] = {
    Urgency.NORMAL: 10,
    Urgency.URGENT: 3,  # khẩn
    Urgency.VERY_URGENT: 1,  # thượng khẩn
    Urgency.FLASH: 0,  # hỏa tốc: the same working day
}


@dataclass(frozen=True)
class DeadlinePolicy:
    periods: dict[Urgency, int] = field(default_factory=lambda: dict(DEFAULT_PERIODS))
    per_agency: dict[str, dict[Urgency, int]] = field(default_factory=dict)

    def period(self, agency: str, urgency: Urgency) -> int:
        agency_periods = self.per_agency.get(agency, {})
        if urgency in agency_periods:
            return agency_periods[urgency]
        return self.periods.get(urgency, DEFAULT_PERIODS[urgency])

    def default_deadline(
        self,
        calendar: WorkingCalendar,
        agency: str,
        urgency: Urgency,
        received: date,
        asked_by_sender: date | None = None,
    ) -> date:
        """The agency's period counted in working days, but never later than the sender's due date."""
        own = calendar.add_working_days(received, self.period(agency, urgency))
        if asked_by_sender is not None and received <= asked_by_sender < own:
            return asked_by_sender
        return own
