"""Mail that cannot be taken in: a message no parser will read is refused (not retried for
ever), and one over PARTNERBOT_MAIL_MAX_BYTES is refused without ever being held whole —
from an MTA pipe, a Maildir and IMAP alike."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import tracemalloc
from email.utils import make_msgid
from pathlib import Path

import pytest
from aioimaplib import aioimaplib
from sqlmodel import select

from bot.mail.inbound import Outcome, ingest
from bot.mail.sources import ImapSource, ingest_maildir
from store.db import Database
from store.models import InboundEmail
from tests.harness.dovecot import DovecotServer
from tests.mail.world import SECRET, build_world, mail_ctx, mail_settings, reply
from tests.test_cli import PARTNERBOT, run

MB = 1 << 20
HEADERS = (
    "From: Nora North <nora@northwind.example>\r\n"
    "To: partnerbot <bot@reply.vendor.example>\r\n"
    "Subject: {subject}\r\n"
    "Message-ID: {message_id}\r\n"
)


def _nested(levels: int, newline: str = "\r\n", parameter: str = "boundary") -> bytes:
    """A message whose multipart parts nest `levels` deep."""
    head = HEADERS.format(subject="deep", message_id=make_msgid(domain="mail.example"))
    opening = "".join(
        f'Content-Type: multipart/mixed;\r\n {parameter}="b{n}"\r\n\r\n--b{n}\r\n'
        for n in range(levels)
    )
    closing = "".join(f"\r\n--b{n}--\r\n" for n in reversed(range(levels)))
    text = head + opening + "Content-Type: text/plain\r\n\r\nhi" + closing
    return text.replace("\r\n", newline).encode()


def _many_forwards(count: int, token_to: str) -> bytes:
    """A reply with `count` forwarded messages attached side by side (shallow, but more
    containers than the depth limit)."""
    forwarded = "".join(
        f"--top\r\nContent-Type: message/rfc822\r\n\r\nFrom: x{n}@example.com\r\n"
        f'Subject: old {n}\r\nContent-Type: multipart/alternative; boundary="i{n}"\r\n\r\n'
        f"--i{n}\r\nContent-Type: text/plain\r\n\r\nold\r\n--i{n}--\r\n"
        for n in range(count)
    )
    return (
        f"From: Nora North <nora@northwind.example>\r\nTo: {token_to}\r\n"
        f"Subject: Re: news\r\nMessage-ID: {make_msgid(domain='mail.example')}\r\n"
        'Content-Type: multipart/mixed; boundary="top"\r\n\r\n'
        "--top\r\nContent-Type: text/plain\r\n\r\nAll forwarded, noted.\r\n"
        f"{forwarded}--top--\r\n"
    ).encode()


# --- 2. parse failures are refusals ------------------------------------------------------


@pytest.mark.parametrize(
    ("newline", "parameter"),
    [("\r\n", "boundary"), ("\n", "boundary"), ("\r", "boundary"), ("\r\n", "boundary*0")],
)
async def test_mime_nested_thousands_deep_is_refused_as_unparseable(
    program: Database, newline: str, parameter: str
) -> None:
    await build_world(program)
    ctx = mail_ctx(mail_settings(program), program)

    result = await ingest(ctx, _nested(2000, newline, parameter), source="pipe")

    assert (result.outcome, result.reason) == (
        Outcome.REJECTED,
        "unparseable: MIME parts nested over 50 deep",
    )
    async with program.read() as session:
        [kept] = (await session.exec(select(InboundEmail))).all()
    assert kept.subject == "deep" and kept.raw is not None  # kept, with what its headers say


async def test_many_attached_messages_side_by_side_are_not_deep(program: Database) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program), program)
    token = await world.token(program, "TOKEN", "nora@northwind.example", "ANN")
    raw = _many_forwards(80, f"bot+{token}@reply.vendor.example")

    result = await ingest(ctx, raw, source="pipe")

    assert result.outcome == Outcome.ACTED, result.reason
    assert (result.text or "").startswith("All forwarded, noted.")


def _pipe(env: dict[str, str], cwd: Path, raw: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [PARTNERBOT, "mail", "ingest"], input=raw, env=env, cwd=cwd, capture_output=True, timeout=60
    )


async def _cli_world(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Database]:
    from tests.conftest import PROGRAM, seed

    env = env | {
        "PARTNERBOT_SECRET_KEY": SECRET,
        "PARTNERBOT_REPLY_DOMAIN": "reply.vendor.example",
        "PARTNERBOT_MAIL_FROM": "partnerbot <bot@vendor.example>",
    }
    assert run(env, tmp_path, "db", "upgrade").returncode == 0
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    await seed(db, PROGRAM)
    await build_world(db)
    return env, db


async def test_mail_ingest_refuses_what_will_never_parse_and_does_not_ask_for_a_retry(
    env: dict[str, str], tmp_path: Path
) -> None:
    env, db = await _cli_world(env, tmp_path)
    await db.dispose()
    huge_id = "d" + "z" * 14 + ".1.k2n4.abcdefghijklmnop"  # beyond any database integer
    forged = (
        HEADERS.format(subject="Re: deal", message_id="<big-id@mail.example>").replace(
            "bot@reply", f"bot+{huge_id}@reply"
        )
        + "\r\nwithdraw\r\n"
    )

    refused = [_pipe(env, tmp_path, forged.encode()), _pipe(env, tmp_path, _nested(2000))]

    assert [(p.returncode, p.stdout.split()[:2]) for p in refused] == [
        (0, [b"rejected", b"forged_token:"]),
        (0, [b"rejected", b"unparseable:"]),
    ], [p.stderr[-2000:] for p in refused]
    listed = json.loads(run(env, tmp_path, "mail", "rejected", "--json").stdout)
    assert sorted(r["reason"].split(":")[0] for r in listed) == ["forged_token", "unparseable"]


# --- 3. size limits, enforced while reading ------------------------------------------------


def _oversize(subject: str) -> tuple[bytes, bytes]:
    """The headers of a large message, and the 1 MB block of lines its body repeats."""
    head = (
        HEADERS.format(subject=subject, message_id=f"<{subject}@mail.example>") + "\r\n"
    ).encode()
    return head, b"A" * 1022 * 1024 + b"\r\n" * 1024


def _ingest_measured(
    env: dict[str, str], cwd: Path, head: bytes, block: bytes, blocks: int
) -> tuple[int, bytes, int]:
    """Pipe a message into `mail ingest`: (exit code, stdout, peak RSS in kB of the process);
    fails if the process stopped reading before the end (the MTA would see an error)."""
    process = subprocess.Popen(
        [PARTNERBOT, "mail", "ingest"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
    )
    assert process.stdin is not None and process.stdout is not None
    errors: list[BaseException] = []

    def feed() -> None:
        try:
            process.stdin.write(head)  # type: ignore[union-attr]
            for _ in range(blocks):
                process.stdin.write(block)  # type: ignore[union-attr]
            process.stdin.close()  # type: ignore[union-attr]
        except BaseException as exc:  # a broken pipe: the message was not all consumed
            errors.append(exc)

    writer = threading.Thread(target=feed)
    writer.start()
    output = process.stdout.read()
    writer.join(60)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert errors == []
    return process.returncode, output, usage.ru_maxrss


async def test_mail_ingest_holds_no_more_than_the_limit_of_a_huge_message(
    env: dict[str, str], tmp_path: Path
) -> None:
    env, db = await _cli_world(env, tmp_path)
    env = env | {"PARTNERBOT_MAIL_MAX_BYTES": str(MB)}
    head, block = _oversize("huge")
    small_head, _ = _oversize("small")

    baseline = _ingest_measured(env, tmp_path, small_head, b"small\r\n", 1)
    code, output, peak = _ingest_measured(env, tmp_path, head, block, 200)

    assert baseline[0] == 0 and code == 0, output
    assert output.split()[:2] == [b"rejected", b"too_large:"]
    assert peak - baseline[2] < 64 * 1024, (peak, baseline[2])  # kB: 200 MB went by, unheld
    async with db.read() as session:
        kept = (
            await session.exec(select(InboundEmail).where(InboundEmail.subject == "huge"))
        ).one()
    await db.dispose()
    assert (kept.message_id, kept.from_address, kept.outcome) == (
        "<huge@mail.example>",
        "nora@northwind.example",
        "rejected",
    )
    assert kept.size == len(head) + 200 * len(block) and kept.raw is not None
    assert len(kept.raw) <= 64 * 1024  # its head, not a megabyte of it


async def test_a_maildir_reads_only_the_head_of_an_oversize_file(
    program: Database, tmp_path: Path
) -> None:
    world = await build_world(program)
    ctx = mail_ctx(mail_settings(program, mail_max_bytes=MB), program)
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    head, _ = _oversize("sparse")
    with (maildir / "new" / "1.big.host").open("wb") as file:
        file.write(head)
        file.truncate(256 * MB)  # sparse: large on disk, cheap to make
    (maildir / "new" / "2.small.host").write_bytes(await reply(world, program, "Noted."))

    tracemalloc.start()
    try:
        results = await ingest_maildir(ctx, maildir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert [(r.outcome, (r.reason or "").split(":")[0]) for r in results] == [
        (Outcome.REJECTED, "too_large"),
        (Outcome.ACTED, "announcement.acknowledged"),
    ]
    assert peak < 16 * MB, peak
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == [
        "1.big.host:2,S",
        "2.small.host:2,S",
    ]
    async with program.read() as session:
        kept = (
            await session.exec(select(InboundEmail).where(InboundEmail.subject == "sparse"))
        ).one()
    assert kept.size == 256 * MB and kept.from_address == "nora@northwind.example"


async def _append(server: DovecotServer, folder: str, messages: list[bytes]) -> None:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    assert (await client.create(folder)).result == "OK"
    for raw in messages:
        assert (await client.append(raw, mailbox=folder)).result == "OK"
    await client.logout()


async def test_imap_fetches_only_the_head_of_an_oversize_message(
    program: Database, dovecot: DovecotServer
) -> None:
    world = await build_world(program)
    folder = "Oversize" + make_msgid().strip("<>").split(".")[0].replace("@", "")
    head, block = _oversize("imap-huge")
    await _append(
        dovecot, folder, [await reply(world, program, "Seen, thanks."), head + block * 12]
    )
    settings = mail_settings(
        program,
        mail_max_bytes=MB,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_user=dovecot.user,
        imap_password=dovecot.password,
        imap_security="plain",
        imap_folder=folder,
    )
    source = ImapSource(mail_ctx(settings, program))
    await source.connect()

    tracemalloc.start()
    try:
        stats = await source.drain()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        await source.close()

    assert stats.outcomes == {"acted": 1, "rejected": 1}
    assert peak < 8 * MB, peak  # the 12 MB message never came over the wire
    async with program.read() as session:
        kept = (
            await session.exec(select(InboundEmail).where(InboundEmail.subject == "imap-huge"))
        ).one()
    assert kept.outcome == "rejected" and kept.size == len(head) + 12 * len(block)
    assert (kept.reason or "").startswith(f"too_large: {kept.size} bytes")
    assert kept.message_id == "<imap-huge@mail.example>" and kept.raw is not None
    assert kept.raw.startswith(head) and len(kept.raw) <= 64 * 1024
