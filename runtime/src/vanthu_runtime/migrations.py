"""Alembic, shared: each service keeps its own `migrations/` folder and calls these.

A service's `migrations/env.py` is two lines:

    from vanthu_runtime.migrations import run_env
    from vanthu_<svc>.repository import metadata
    run_env(metadata)

and its lifespan (embedded mode) or `vanthu migrate` (production) calls `upgrade()`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def upgrade_sync(script_location: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, database_url), revision)


async def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    # Alembic's env.py drives its own event loop, so it runs in a worker thread.
    await asyncio.to_thread(upgrade_sync, script_location, database_url, revision)


def revision(script_location: Path, database_url: str, message: str) -> None:
    """Autogenerate a migration (developer tool)."""
    command.revision(alembic_config(script_location, database_url), message=message, autogenerate=True)


def _do_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE support on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(metadata: MetaData) -> None:
    config = context.config
    engine = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with engine.connect() as connection:
        await connection.run_sync(_do_run, metadata)
    await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """Body of every service's env.py."""
    if context.is_offline_mode():
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_async(metadata))
