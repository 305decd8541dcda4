"""Alembic environment of the routing service."""

from vanthu_routing.repository import metadata
from vanthu_runtime.migrations import run_env

run_env(metadata)
