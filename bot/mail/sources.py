"""Where inbound mail comes from: an IMAP mailbox (IDLE, else polling), a Maildir, stdin.

All three feed `inbound.ingest_many`, and none holds more of a message than
PARTNERBOT_MAIL_MAX_BYTES: each learns a message's size first (RFC822.SIZE, the file's size,
or reading one byte past the limit) and takes only the head of a larger one (`Oversize`).
A message leaves its source (flagged `\\Seen` or moved to the processed folder; moved to
`cur/` in a Maildir) only after its outcome has been committed, so a crash in between
processes it again — and deduplication makes that a no-op. The IMAP loop keeps the
mailbox's UIDVALIDITY and the last UID it finished in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from aioimaplib import aioimaplib

from bot.mail.inbound import BATCH, MailContext, Outcome, Result, ingest_many
from bot.mail.reading import HEAD_BYTES, Oversize, Received
from store.models import SyncCursor

log = logging.getLogger(__name__)

UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
FETCH_UID = re.compile(rb"\bUID (\d+)")
FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
GROUP_BYTES = 64 << 20  # what one group of messages handed to the pipeline may hold
DRAIN_CHUNK = 64 << 10
T = TypeVar("T")
MAX_BACKOFF = 300.0
MAX_ATTEMPTS = 3  # passes a failing message is retried before it is filed (kept as failed)


class ImapError(Exception):
    """The IMAP server refused a command."""


@dataclass
class ImapStats:
    """What a pass over the mailbox did."""

    processed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class ImapSource:
    """One mailbox folder, watched with IDLE (or polled), processed in UID order."""

    def __init__(self, ctx: MailContext, *, batch: int = 50, group: int = 500) -> None:
        settings = ctx.settings
        if not settings.imap_host or not settings.imap_user or not settings.imap_password:
            raise ValueError("IMAP needs PARTNERBOT_IMAP_HOST, _USER and _PASSWORD")
        self.ctx, self.settings, self.batch, self.group = ctx, settings, batch, group
        self.cursor_name = f"imap:{settings.imap_user}@{settings.imap_host}/{settings.imap_folder}"
        self._client: aioimaplib.IMAP4 | None = None
        self._idle = False
        self._failures: dict[int, int] = {}  # UID -> failed passes in a row

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
            now = self.ctx.clock()
            row = await session.get(SyncCursor, self.cursor_name) or SyncCursor(
                name=self.cursor_name, cursor="", updated_at=now
            )
            row.cursor, row.updated_at = json.dumps(cursor), now
            session.add(row)

    async def _check_validity(self, validity: int) -> None:
        cursor = await self._cursor()
        if cursor.get("uidvalidity") != validity:
            if cursor.get("uidvalidity"):
                log.warning("IMAP UIDVALIDITY changed: rescanning (duplicates are skipped)")
            await self._save({"uidvalidity": validity, "uid": 0})

    async def drain(self) -> ImapStats:
        """Process every message after the last finished UID, oldest first, a batch at a time."""
        client = self._client or await self.connect()
        stats = ImapStats()
        cursor = await self._cursor()
        found = await client.uid_search(f"UID {cursor['uid'] + 1}:*")
        await self._ok(found)
        uids = sorted(
            int(u) for u in _b(found.lines[0]).split() if u.isdigit() and int(u) > cursor["uid"]
        )
        for start in range(0, len(uids), self.group):
            sized = await self._sizes(client, uids[start : start + self.group])
            limit = self.settings.mail_max_bytes
            by_size = [(pair, pair[1]) for pair in sized]
            for group in _groups(by_size, self.group, GROUP_BYTES, limit):
                if not await self._process(client, group, cursor, stats):
                    return stats
        return stats

    async def _process(
        self,
        client: aioimaplib.IMAP4,
        group: list[tuple[int, int]],
        cursor: dict[str, int],
        stats: ImapStats,
    ) -> bool:
        """Fetch a group of (UID, size), process it, file what is finished; False when a
        message must wait for the next pass."""
        fetched = []  # a group of fetches, so the pipeline parses ahead within it
        for at in range(0, len(group), self.batch):
            fetched += await self._fetch(client, group[at : at + self.batch])
        present = [(uid, raw) for uid, raw in fetched if raw is not None]
        results = iter(await ingest_many(self.ctx, [raw for _, raw in present], source="imap"))
        finished: list[int] = []
        for uid, raw in fetched:
            result = next(results) if raw is not None else None  # None: expunged meanwhile
            if result is not None:
                stats.processed += 1
                stats.outcomes[result.outcome] = stats.outcomes.get(result.outcome, 0) + 1
                if not self._may_file(uid, result):
                    break  # try this one (and what follows) again on the next pass
            finished.append(uid)
        if finished:
            await self._done(client, finished)
            cursor["uid"] = finished[-1]
            await self._save(cursor)
        return len(finished) == len(fetched)

    def _may_file(self, uid: int, result: Result) -> bool:
        """Whether a message may leave the mailbox: its outcome is committed — or it failed
        (and is kept in the store) on MAX_ATTEMPTS passes in a row."""
        if result.outcome != Outcome.FAILED:
            self._failures.pop(uid, None)
            return True
        if not result.stored:
            return False
        self._failures[uid] = self._failures.get(uid, 0) + 1
        if self._failures[uid] < MAX_ATTEMPTS:
            return False
        log.error(
            "IMAP UID %d failed %d times; filed, kept as failed (mail rejected)", uid, MAX_ATTEMPTS
        )
        return True

    async def _sizes(self, client: aioimaplib.IMAP4, uids: list[int]) -> list[tuple[int, int]]:
        """(UID, RFC822.SIZE) of the messages still there, in UID order."""
        if not uids:
            return []
        response = await client.uid("fetch", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
        await self._ok(response)
        sizes: dict[int, int] = {}
        for line in response.lines:
            text = _b(line)
            uid, size = FETCH_UID.search(text), FETCH_SIZE.search(text)
            if uid is not None and size is not None:
                sizes[int(uid.group(1))] = int(size.group(1))
        return [(uid, sizes[uid]) for uid in uids if uid in sizes]

    async def _fetch(
        self, client: aioimaplib.IMAP4, sized: list[tuple[int, int]]
    ) -> list[tuple[int, Received | None]]:
        """The messages of these (UID, size), in order (None: expunged): whole, or the head of
        one over the size limit (a partial fetch: the rest never reaches us)."""
        limit = self.settings.mail_max_bytes
        sizes = dict(sized)
        whole = [uid for uid, size in sized if size <= limit]
        large = [uid for uid, size in sized if size > limit]
        found: dict[int, Received] = dict(await self._bodies(client, whole, "BODY.PEEK[]"))
        heads = await self._bodies(client, large, f"BODY.PEEK[]<0.{HEAD_BYTES}>")
        found |= {uid: Oversize(head, sizes[uid]) for uid, head in heads.items()}
        return [(uid, found.get(uid)) for uid, _size in sized]

    async def _bodies(
        self, client: aioimaplib.IMAP4, uids: list[int], item: str
    ) -> dict[int, bytes]:
        """The literal each UID's FETCH of `item` returned, with one UID FETCH."""
        if not uids:
            return {}
        response = await client.uid("fetch", ",".join(map(str, uids)), f"(UID {item})")
        await self._ok(response)
        found: dict[int, bytes] = {}
        pending_uid: int | None = None
        pending_raw: bytes | None = None
        for line in response.lines:
            if isinstance(line, bytearray):
                if pending_uid is not None:
                    found[pending_uid], pending_uid = bytes(line), None
                else:
                    pending_raw = bytes(line)
                continue
            match = FETCH_UID.search(_b(line))
            if match is None:
                continue
            if pending_raw is not None:  # the server put UID after the literal
                found[int(match.group(1))], pending_raw = pending_raw, None
            else:
                pending_uid = int(match.group(1))
        return found

    async def _done(self, client: aioimaplib.IMAP4, uids: list[int]) -> None:
        """File finished messages: moved to the processed folder, or flagged \\Seen."""
        folder = self.settings.mail_processed_folder
        numbers = ",".join(map(str, uids))
        if folder:
            await self._ok(await client.uid("move", numbers, folder))
        else:
            await self._ok(await client.uid("store", numbers, "+FLAGS.SILENT (\\Seen)"))

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


def read_stream(stream: BinaryIO, max_bytes: int) -> Received:
    """One message from a stream (an MTA pipe), holding at most `max_bytes` + 1 bytes of it:
    the rest of a larger one is read in small chunks and dropped (the MTA must see all of it
    consumed), leaving its head and size."""
    raw = stream.read(max_bytes + 1)
    if len(raw) <= max_bytes:
        return raw
    size = len(raw)
    while chunk := stream.read(DRAIN_CHUNK):
        size += len(chunk)
    return Oversize(raw[:HEAD_BYTES], size)


def read_file(path: Path, max_bytes: int) -> Received:
    """A message file: whole, or only its head when it is over the size limit."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        raw = file.read(HEAD_BYTES if size > max_bytes else max_bytes + 1)
    return Oversize(raw, size) if size > max_bytes or len(raw) > max_bytes else raw


async def ingest_maildir(ctx: MailContext, directory: Path) -> list[Result]:
    """Process every message in `new/` (and unseen ones in `cur/`), then file it as seen.

    A message that failed stays where it is, for the next run."""
    paths = [
        path
        for sub in ("new", "cur")
        if (directory / sub).is_dir()
        for path in sorted((directory / sub).iterdir())
        if not (sub == "cur" and "S" in path.name.partition(":2,")[2])
    ]
    max_bytes = ctx.settings.mail_max_bytes
    sized = [(path, path.stat().st_size) for path in paths]
    results: list[Result] = []
    for chunk in _groups(sized, 10 * BATCH, GROUP_BYTES, max_bytes):
        received = [read_file(path, max_bytes) for path in chunk]
        done = await ingest_many(ctx, received, source="maildir")
        for path, result in zip(chunk, done, strict=True):
            results.append(result)
            if result.outcome == Outcome.FAILED:
                continue
            base, _, flags = path.name.partition(":2,")
            path.rename(directory / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}")
    return results


def _groups(sized: list[tuple[T, int]], count: int, size: int, max_bytes: int) -> list[list[T]]:
    """Items in groups of at most `count` and (unless one is larger) `size` bytes, counting a
    message over `max_bytes` as the head that is read of it."""
    groups: list[list[T]] = [[]]
    total = 0
    for item, length in sized:
        length = HEAD_BYTES if length > max_bytes else length
        if groups[-1] and (len(groups[-1]) >= count or total + length > size):
            groups.append([])
            total = 0
        groups[-1].append(item)
        total += length
    return [group for group in groups if group]
