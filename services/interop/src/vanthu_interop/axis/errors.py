"""What can go wrong talking to the axis: try again later, or it said no."""

from __future__ import annotations


class AxisError(Exception):
    def __init__(self, operation: str, message: str, error_code: str = "") -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation
        self.message = message
        self.error_code = error_code


class AxisUnavailable(AxisError):
    """Not reached, timed out or a 5xx: try again later."""


class AxisRefused(AxisError):
    """The axis answered FAIL (or 4xx): retrying the same request will not help."""
