"""Every message of the corpus (tests/mail/corpus/*.eml) gets the outcome and the extracted
text tests/mail/corpus/expected.json names; a refusal is answered exactly when `replied` says
so, at most once a day. `max_bytes` and `authserv_id` set PARTNERBOT_MAIL_MAX_BYTES and
PARTNERBOT_MAIL_AUTHSERV_ID for a message (without the latter no Authentication-Results header
is read)."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.demo.smtp import SmtpServer
from bot.domain.access import find_by_email
from bot.mail.inbound import Outcome, ingest
from store.db import Database
from store.models import InboundEmail, OutboxItem
from tests.domain.test_registration import NOW
from tests.mail.world import build_world, mail_ctx, mail_settings

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())


def test_the_corpus_is_complete() -> None:
    files = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert files == sorted(EXPECTED) and len(files) >= 40


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_a_corpus_message_gets_its_outcome(
    name: str, program: Database, smtp_server: SmtpServer
) -> None:
    expected = EXPECTED[name]
    world = await build_world(program)
    raw = await world.fill(program, (CORPUS / name).read_bytes())
    overrides = {
        setting: expected[key]
        for key, setting in (("max_bytes", "mail_max_bytes"), ("authserv_id", "mail_authserv_id"))
        if key in expected
    }
    settings = mail_settings(program, smtp_server, **overrides)
    ctx = mail_ctx(settings, program, smtp_server)
    smtp_server.clear()
    notes_before = await _crm_notes(program)

    result = await ingest(ctx, raw, source="pipe", now=NOW + timedelta(hours=1))

    assert result.outcome == expected["outcome"], result
    if "reason" in expected:
        assert (result.reason or "").startswith(expected["reason"]), result.reason
    if "action" in expected:
        assert result.action == expected["action"]
    if expected.get("text") is not None:
        assert result.text == expected["text"]
    async with program.read() as session:
        kept = (await session.exec(select(InboundEmail))).one()  # nothing is dropped
        assert kept.outcome == expected["outcome"]
        assert (kept.raw is not None) == (result.outcome != Outcome.ACTED)
    if result.outcome == Outcome.ACTED and result.text:
        assert await _crm_notes(program) > notes_before  # the reply reached the CRM timeline
    if not expected.get("replied"):
        assert smtp_server.received == []  # auto-replies, bounces, unauthenticated mail: no answer
    else:
        [answer] = smtp_server.received
        assert answer.message["Auto-Submitted"] == "auto-generated"
        body = email.message_from_bytes(answer.data, policy=email.policy.default)
        assert str(body["In-Reply-To"]).strip() == result.key  # threaded under the sender's message
        assert "Nothing was changed" in body.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    for key, marked in (("bouncing", True), ("not_bouncing", False)):
        if key in expected:
            async with program.read() as session:
                someone = await find_by_email(session, expected[key])
            assert someone is not None and (someone.email_bouncing_since is not None) == marked
    if expected.get("twice") or result.outcome == Outcome.REJECTED:
        again = await ingest(ctx, raw, source="pipe", now=NOW + timedelta(hours=2))
        assert again.outcome == Outcome.DUPLICATE
    if result.outcome == Outcome.REJECTED:  # the same reason from the same address, same day
        retry = raw.replace(b"Message-ID: <", b"Message-ID: <again-", 1)
        if b"Message-ID: <again-" in retry:
            await ingest(ctx, retry, source="pipe", now=NOW + timedelta(hours=3))
            assert len(smtp_server.received) <= 1


async def _crm_notes(db: Database) -> int:
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem).where(OutboxItem.kind == "add_note"))).all()
    return len(rows)
