"""Alembic migrations, run programmatically: `partnerbot db upgrade`, and serve/worker start."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from store.db import Database

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """Return an Alembic config that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade_on(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (idempotent)."""
    async with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            # Several replicas may start at once: one migrates, the others wait.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7261001)")
        await conn.run_sync(_upgrade_on, revision)
    log.info("database schema is at %s", revision)


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Run `upgrade` from synchronous code (the CLI)."""

    async def _run() -> None:
        db = Database(url)
        try:
            await upgrade(db, revision)
        finally:
            await db.dispose()

    asyncio.run(_run())
