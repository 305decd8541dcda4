"""Alembic environment of the signing service."""

from vanthu_runtime.migrations import run_env
from vanthu_signing.repository import metadata

run_env(metadata)
