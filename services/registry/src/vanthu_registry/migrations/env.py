"""Alembic environment of the registry service."""

from vanthu_registry.repository import metadata
from vanthu_runtime.migrations import run_env

run_env(metadata)
