"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

_WRITE_OPTION = "partnerbot_write"
_READ_OPTION = "partnerbot_read"
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> str:
    """Turn a plain database URL (`sqlite:///x.db`, `postgresql://…`) into its async-driver form."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Make SQLite safe for concurrent async use: WAL, a busy timeout, FKs, serialised writers.

    Write sessions start with BEGIN IMMEDIATE so two writers queue up on the busy timeout
    instead of one failing with "database is locked" after both have read; read sessions
    use a plain BEGIN and, under WAL, never wait for a writer.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(_READ_OPTION):
            return  # autocommit: each read statement is its own snapshot
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE_OPTION) else "BEGIN")


class Database:
    """One engine and its session factory; `session()` is the unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # A pool as deep as the concurrency we serve: overflow connections are closed on
        # return, and re-opening them (a PostgreSQL backend, an aiosqlite thread) under load
        # costs far more than keeping them.
        self.engine = create_async_engine(async_url(url), echo=echo, pool_size=20, max_overflow=20)
        self.dialect = self.engine.dialect.name
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        # Reads run without a transaction: one round trip per query, no BEGIN/COMMIT.
        read_options: dict[str, Any] = {_READ_OPTION: True}
        if self.dialect == "postgresql":
            read_options["isolation_level"] = "AUTOCOMMIT"
        self._read_engine = self.engine.execution_options(**read_options)
        self._sqlite_writer = asyncio.Lock() if self.dialect == "sqlite" else None
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Yield a session in a transaction: committed on success, rolled back on error."""
        if self._sqlite_writer is None:
            async with self._write_session() as session:
                yield session
            return
        # SQLite has one writer at a time. Queue this process's writers here: SQLite's own
        # busy handler sleeps in growing steps (up to 100 ms) while it waits for the lock.
        async with self._sqlite_writer, self._write_session() as session:
            yield session

    @asynccontextmanager
    async def _write_session(self) -> AsyncIterator[AsyncSession]:
        async with (
            AsyncSession(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for reading only, without a transaction: each statement sees
        committed data as of its own start. Never waits for a writer."""
        async with AsyncSession(self._read_engine, expire_on_commit=False) as session:
            yield session

    async def ping(self) -> None:
        """Run a trivial query; raise if the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
