"""Alembic environment of the analytics service."""

from vanthu_analytics.repository import metadata
from vanthu_runtime.migrations import run_env

run_env(metadata)
