"""The same story gives the same outcome whatever the date: registration → approval → CRM
delivery → an email reply → its CRM note, three years before and three years after today."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from bot.clock import fixed_clock, system_clock
from bot.demo.smtp import SmtpServer
from bot.domain import audit, decisions, outbox
from bot.domain.access import find_by_email
from bot.domain.registration import register_deal
from bot.mail.inbound import MailContext, ingest
from bot.mail.outbound import Outbox, Outgoing
from bot.mail.smtp import SmtpMailer
from bot.mail.tokens import SubjectKind
from crm.local import LocalCrm, timeline
from store.db import Database
from store.models import DealRegistration, OutboxItem
from store.types import UtcDateTime
from tests.conftest import PROGRAM, seed
from tests.domain.test_registration import FORM, SETTINGS
from tests.mail.world import mail_settings

YEARS = timedelta(days=3 * 365)


async def _story(db: Database, smtp: SmtpServer, start: datetime) -> dict[str, Any]:
    """Run the story from `start`; return what a user would see, with dates made relative."""
    await seed(db, PROGRAM, now=start)
    form = replace(FORM, expected_close_date=(start.date() + timedelta(days=60)).isoformat())
    async with db.session() as session:
        nora = await find_by_email(session, "nora@northwind.example")
        assert nora is not None
        registered = await register_deal(
            session, person=nora, form=form, idempotency_key="k", settings=SETTINGS, now=start
        )
    deal_id = registered.deal.id or 0
    async with db.session() as session:
        mia = await find_by_email(session, "mia@vendor.example")
        assert mia is not None
        await decisions.approve(
            session, manager=mia, deal_id=deal_id, settings=SETTINGS, now=start + timedelta(hours=1)
        )
    crm = LocalCrm(db)
    first = await outbox.deliver_due(
        db, crm, worker="w", clock=fixed_clock(start + timedelta(hours=1, seconds=1))
    )

    settings = mail_settings(db, smtp)
    smtp.clear()
    await Outbox(db, settings, SmtpMailer(settings)).send(
        Outgoing(
            nora,
            "deal_update",
            {
                "customer": "Acme Corp",
                "domain": "acme.com",
                "headline": "Approved",
                "message": "",
                "question": "",
            },
            kind=SubjectKind.DEAL,
            subject_id=deal_id,
        ),
        now=start + timedelta(hours=2),
    )
    [received] = smtp.received
    sent = email.message_from_bytes(received.data, policy=email.policy.default)
    answer = EmailMessage()
    answer["From"] = "Nora North <nora@northwind.example>"
    answer["To"] = str(sent["Reply-To"])
    answer["Subject"] = "Re: " + str(sent["Subject"])
    answer["Message-ID"] = make_msgid(domain="northwind.example")
    answer.set_content("The CIO signs next week.\n\nOn Monday, partnerbot wrote:\n> Approved.")
    ctx = MailContext(db, settings, fixed_clock(start + timedelta(hours=3)))
    result = await ingest(ctx, answer.as_bytes(), source="pipe")
    second = await outbox.deliver_due(
        db, crm, worker="w", clock=fixed_clock(start + timedelta(hours=3, seconds=1))
    )

    async with db.read() as session:
        deal = await session.get(DealRegistration, deal_id)
        assert deal is not None and deal.protection_expires_at is not None
        pending = (
            await session.exec(select(OutboxItem).where(OutboxItem.status != "delivered"))
        ).all()
        verified = await audit.verify(session)
        stamps = await _every_timestamp(session)
    expiry = deal.protection_expires_at.strftime("%Y-%m-%d %H:%M UTC")
    notes = await timeline(db, record_type="deal", record_ids=[str(deal_id)])
    return {
        "status": deal.status,
        "protected_days": (deal.protection_expires_at - start).days,
        "delivered": (first.delivered, second.delivered, len(pending)),
        "mail": (result.outcome, result.reason, result.text),
        "timeline": [(str(n.noted_at - start), re.sub(expiry, "<expiry>", n.text)) for n in notes],
        "audit_ok": verified.ok,
        # Every timestamp in the store comes from the story's clock (a protection window or
        # a reply token's expiry reaches 90 days ahead; the wall clock is years away).
        "stamps_outside_story": [
            where for where, value in stamps if not start <= value <= start + timedelta(days=91)
        ],
    }


async def _every_timestamp(session: Any) -> list[tuple[str, datetime]]:
    found = []
    connection = await session.connection()
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, UtcDateTime):
                rows = await connection.execute(sa_select(column).where(column.is_not(None)))
                found += [(f"{table.name}.{column.name}", value) for (value,) in rows.all()]
    return found


@pytest.mark.parametrize(
    "offset", [-YEARS, timedelta(0), YEARS], ids=["3-years-ago", "today", "in-3-years"]
)
async def test_the_story_has_the_same_outcome_years_from_today(
    db: Database, smtp_server: SmtpServer, offset: timedelta
) -> None:
    today = system_clock().replace(microsecond=0)
    story = await _story(db, smtp_server, today + offset)
    assert story["status"] == "approved" and story["protected_days"] == 90
    assert story["delivered"] == (2, 1, 0)  # deal + approval note; then the reply's note
    assert story["mail"] == ("acted", "deal.commented", "The CIO signs next week.")
    assert story["timeline"] == [
        (
            "1:00:00",
            "Deal registration: Acme Corp.: Approved by Mia Manager; protected until <expiry>.",
        ),
        (
            "3:00:00",
            "Deal registration: Acme Corp.: Email reply “Re: [partnerbot] Acme Corp: Approved”:"
            "\nThe CIO signs next week.",
        ),
    ]
    assert story["audit_ok"] and story["stamps_outside_story"] == []
