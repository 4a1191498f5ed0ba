"""One leader among workers: exclusive, lost when its connection drops, taken over when it dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import asyncpg
import pytest

from bot.scheduler.leader import FileLeadership, PostgresLeadership, leadership_for
from tests.harness.postgres import PostgresServer
from tests.test_cli import PARTNERBOT


async def test_on_sqlite_a_lock_file_beside_the_database_elects_one_leader(tmp_path: Path) -> None:
    first = leadership_for(f"sqlite:///{tmp_path}/partnerbot.db")
    second = leadership_for(f"sqlite:///{tmp_path}/partnerbot.db")
    assert isinstance(first, FileLeadership) and first.path == tmp_path / "partnerbot.db.leader"
    assert await first.try_acquire() and await first.still_held()
    assert not await second.try_acquire()
    await first.release()
    assert not await first.still_held()
    assert await second.try_acquire()
    (tmp_path / "partnerbot.db.leader").unlink()  # someone removed the file: not ours any more
    assert not await second.still_held()
    await second.release()


@pytest.mark.postgres
async def test_on_postgresql_a_dropped_connection_loses_the_lock_and_another_takes_it(
    pg_url: str, pg_server: PostgresServer
) -> None:
    first, second = PostgresLeadership(pg_url), PostgresLeadership(pg_url)
    try:
        assert await first.try_acquire() and await first.still_held()
        assert not await second.try_acquire()
        assert first._connection is not None
        pid = first._connection.get_server_pid()
        admin = await asyncpg.connect(pg_server.admin_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)  # a network cut
        finally:
            await admin.close()
        await asyncio.sleep(0.2)
        assert not await first.still_held()  # noticed before its next cycle
        assert await second.try_acquire()
        assert not await first.try_acquire()  # it reconnects, but the lock is taken
    finally:
        await first.release()
        await second.release()


class Worker:
    """A real `partnerbot worker` process, its log read as it runs."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [PARTNERBOT, "worker"],
            env=env | {"PARTNERBOT_SCHEDULER_SECONDS": "5"},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> float:
        """Seconds until `text` appeared in the log; AssertionError after `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if any(text in line for line in self.lines):
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged in {timeout} s:\n" + "".join(self.lines[-30:]))

    def leads(self) -> bool:
        return any("this worker leads" in line for line in self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def failover(env: dict[str, str], cwd: Path) -> float:
    """Start two workers, kill the leader with SIGKILL; the seconds the standby took."""
    first = Worker(env, cwd)
    second: Worker | None = None
    try:
        first.wait_for("this worker leads", timeout=60)
        second = Worker(env, cwd)
        second.wait_for("worker started", timeout=60)
        time.sleep(6)  # at least one election round: the standby must not lead
        assert not second.leads()
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        return second.wait_for("this worker leads: running scheduler", timeout=30)
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_a_standby_worker_takes_over_within_30_s_when_the_leader_dies_on_sqlite(
    env: dict[str, str], tmp_path: Path
) -> None:
    took = failover(env | {"PARTNERBOT_LOG_LEVEL": "INFO"}, tmp_path)
    assert took < 30


@pytest.mark.postgres
def test_a_standby_worker_takes_over_within_30_s_when_the_leader_dies_on_postgresql(
    env: dict[str, str], tmp_path: Path, pg_url: str
) -> None:
    took = failover(env | {"PARTNERBOT_DATABASE_URL": pg_url}, tmp_path)
    assert took < 30
