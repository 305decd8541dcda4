"""Imports every contract module so its events, jobs, consumers and error codes register."""

from vanthu_contracts.events import (  # noqa: F401
    analytics,
    interop,
    registry,
    routing,
    signing,
)
