"""PostgreSQL for tests: the machine's server at 127.0.0.1:5432, or a throwaway cluster.

Each test run gets a database of its own, created here and dropped at the end.
Set PARTNERBOT_TEST_POSTGRES_URL to use another server (an admin URL).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bot.demo.net import free_port

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


@dataclass
class ThrowawayCluster:
    """A PostgreSQL cluster in a temporary directory, stopped and deleted by `stop()`."""

    directory: Path
    port: int
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls) -> ThrowawayCluster:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("no PostgreSQL server reachable and no initdb/pg_ctl to start one")
        directory = Path(tempfile.mkdtemp(prefix="partnerbot-pg-"))
        run_as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(directory, "postgres", "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        data, port = directory / "data", free_port()
        subprocess.run(
            [*run_as, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                *run_as,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(directory / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        return cls(directory, port, run_as)

    def stop(self) -> None:
        pg_ctl = _pg_bin("pg_ctl")
        subprocess.run(
            [
                *self.run_as,
                str(pg_ctl),
                "-D",
                str(self.directory / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


class PostgresServer:
    """Finds (or starts) a server and hands out fresh databases on it."""

    def __init__(self) -> None:
        self.cluster: ThrowawayCluster | None = None
        self.admin_url = os.environ.get("PARTNERBOT_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
        self.databases: list[str] = []

    async def start(self) -> PostgresServer:
        if not await _reachable(self.admin_url):
            self.cluster = ThrowawayCluster.start()
            self.admin_url = self.cluster.admin_url
        return self

    async def create_database(self) -> str:
        """Create an empty database; return its URL."""
        name = f"partnerbot_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.databases.append(name)
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    async def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
            return
        conn = await asyncpg.connect(self.admin_url)
        try:
            for name in self.databases:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
