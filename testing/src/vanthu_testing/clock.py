"""The calendar the services use, for tests that compare against it.

Services date documents in the province's zone (Asia/Ho_Chi_Minh, UTC+7): between 17:00 and
24:00 UTC their "today" is the machine's tomorrow. A test that expects `date.today()` passes
by day and fails by night; these helpers give the services' day instead.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

PROVINCE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local_now() -> datetime:
    return datetime.now(PROVINCE_ZONE)


def local_today() -> date:
    return local_now().date()
