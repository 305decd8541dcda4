"""Alembic environment of the interop service."""

from vanthu_interop.repository import metadata
from vanthu_runtime.migrations import run_env

run_env(metadata)
