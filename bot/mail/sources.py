"""Where inbound mail comes from: an IMAP mailbox (IDLE, else polling), a Maildir, stdin.

All three feed `inbound.ingest`. A message leaves its source (flagged `\\Seen` or moved
to the processed folder; moved to `cur/` in a Maildir) only after its outcome has been
committed, so a crash in between processes it again — and deduplication makes that a no-op.
The IMAP loop keeps the mailbox's UIDVALIDITY and the last UID it finished in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from aioimaplib import aioimaplib

from bot.mail.inbound import MailContext, Outcome, Result, ingest
from store.models import SyncCursor
from store.types import utcnow

log = logging.getLogger(__name__)

UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
MAX_BACKOFF = 300.0


class ImapError(Exception):
    """The IMAP server refused a command."""


@dataclass
class ImapStats:
    """What a pass over the mailbox did."""

    processed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class ImapSource:
    """One mailbox folder, watched with IDLE (or polled), processed in UID order."""

    def __init__(self, ctx: MailContext, *, batch: int = 50) -> None:
        settings = ctx.settings
        if not settings.imap_host or not settings.imap_user or not settings.imap_password:
            raise ValueError("IMAP needs PARTNERBOT_IMAP_HOST, _USER and _PASSWORD")
        self.ctx, self.settings, self.batch = ctx, settings, batch
        self.cursor_name = f"imap:{settings.imap_user}@{settings.imap_host}/{settings.imap_folder}"
        self._client: aioimaplib.IMAP4 | None = None
        self._idle = False

    async def connect(self) -> aioimaplib.IMAP4:
        """Log in and select the folder."""
        s = self.settings
        assert s.imap_host and s.imap_user and s.imap_password
        client: aioimaplib.IMAP4
        if s.imap_security == "ssl":
            client = aioimaplib.IMAP4_SSL(host=s.imap_host, port=s.imap_port, timeout=30)
        else:
            client = aioimaplib.IMAP4(host=s.imap_host, port=s.imap_port, timeout=30)
        await client.wait_hello_from_server()
        if s.imap_security == "starttls":
            await self._ok(await client.starttls())
        await self._ok(await client.login(s.imap_user, s.imap_password.get_secret_value()))
        selected = await client.select(s.imap_folder)
        await self._ok(selected)
        validity = next(
            (int(m.group(1)) for line in selected.lines if (m := UIDVALIDITY.search(_b(line)))),
            0,
        )
        await self._check_validity(validity)
        self._idle = client.has_capability("IDLE")
        self._client = client
        return client

    @staticmethod
    async def _ok(response: object) -> None:
        if getattr(response, "result", "OK") != "OK":
            raise ImapError(str(getattr(response, "lines", response)))

    async def _cursor(self) -> dict[str, int]:
        async with self.ctx.db.read() as session:
            row = await session.get(SyncCursor, self.cursor_name)
        return json.loads(row.cursor) if row else {"uidvalidity": 0, "uid": 0}

    async def _save(self, cursor: dict[str, int]) -> None:
        async with self.ctx.db.session() as session:
            row = await session.get(SyncCursor, self.cursor_name) or SyncCursor(
                name=self.cursor_name, cursor=""
            )
            row.cursor, row.updated_at = json.dumps(cursor), utcnow()
            session.add(row)

    async def _check_validity(self, validity: int) -> None:
        cursor = await self._cursor()
        if cursor.get("uidvalidity") != validity:
            if cursor.get("uidvalidity"):
                log.warning("IMAP UIDVALIDITY changed: rescanning (duplicates are skipped)")
            await self._save({"uidvalidity": validity, "uid": 0})

    async def drain(self) -> ImapStats:
        """Process every message after the last finished UID, oldest first."""
        client = self._client or await self.connect()
        stats = ImapStats()
        cursor = await self._cursor()
        found = await client.uid_search(f"UID {cursor['uid'] + 1}:*")
        await self._ok(found)
        uids = sorted(
            int(u) for u in _b(found.lines[0]).split() if u.isdigit() and int(u) > cursor["uid"]
        )
        for uid in uids:
            fetched = await client.uid("fetch", str(uid), "(BODY.PEEK[])")
            await self._ok(fetched)
            raw = next((bytes(x) for x in fetched.lines if isinstance(x, bytearray)), None)
            if raw is None:  # expunged meanwhile
                cursor["uid"] = uid
                continue
            result = await ingest(self.ctx, raw, source="imap")
            stats.processed += 1
            stats.outcomes[result.outcome] = stats.outcomes.get(result.outcome, 0) + 1
            if result.outcome == Outcome.FAILED:
                break  # our fault: stop here and try this message again next time
            await self._done(client, uid)
            cursor["uid"] = uid
            await self._save(cursor)
        return stats

    async def _done(self, client: aioimaplib.IMAP4, uid: int) -> None:
        folder = self.settings.mail_processed_folder
        if folder:
            await self._ok(await client.uid("move", str(uid), folder))
        else:
            await self._ok(await client.uid("store", str(uid), "+FLAGS.SILENT (\\Seen)"))

    async def wait_for_mail(self) -> None:
        """Until the server announces new mail (IDLE), or the poll interval has passed."""
        client = self._client or await self.connect()
        seconds = self.settings.imap_poll_seconds
        if not self._idle:
            await asyncio.sleep(seconds)
            return
        idle = await client.idle_start(timeout=seconds)
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await client.wait_server_push(timeout=seconds)
        client.idle_done()
        await asyncio.wait_for(idle, timeout=30)

    async def close(self) -> None:
        """Log out (best effort)."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.logout(), timeout=5)
            self._client = None

    async def run(self, stop: asyncio.Event) -> None:
        """Drain, wait for mail, repeat; reconnect with backoff when the server goes away."""
        backoff = 1.0
        while not stop.is_set():
            try:
                await self.drain()
                backoff = 1.0
                waiting = asyncio.ensure_future(self.wait_for_mail())
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                for task in (waiting, stopping):
                    task.cancel()
            except (OSError, ImapError, TimeoutError, aioimaplib.Abort) as exc:
                log.warning("IMAP: %s; reconnecting in %.0f s", exc, backoff)
                await self.close()
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
        await self.close()


def _b(line: object) -> bytes:
    return bytes(line) if isinstance(line, (bytes, bytearray)) else str(line).encode()


async def ingest_maildir(ctx: MailContext, directory: Path) -> list[Result]:
    """Process every message in `new/` (and unseen ones in `cur/`), then file it as seen."""
    results = []
    for sub in ("new", "cur"):
        folder = directory / sub
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            name = path.name
            if sub == "cur" and "S" in name.partition(":2,")[2]:
                continue
            result = await ingest(ctx, path.read_bytes(), source="maildir")
            results.append(result)
            if result.outcome == Outcome.FAILED:
                continue
            base, _, flags = name.partition(":2,")
            target = directory / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}"
            path.rename(target)
    return results
