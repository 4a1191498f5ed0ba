"""The deadline jobs: each nudge on its day, exactly once; expiry releases the customer."""

from __future__ import annotations

import email
import email.policy
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import build_app
from bot.delivery import Delivery
from bot.demo.slack_standin import SlackStandIn
from bot.demo.smtp import SmtpServer
from bot.domain import decisions
from bot.domain.access import find_by_email
from bot.mail.outbound import Outbox
from bot.mail.smtp import SmtpMailer
from bot.scheduler.jobs import JobContext, run_jobs
from bot.settings import Settings
from store.db import Database
from store.models import AuditEvent, DealRegistration, Notification, OutboxItem, Partner, SentNudge
from tests.conftest import make_settings
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import FORM, NOW, register
from tests.mail.world import mail_settings

DESK = "C0DEALDESK"
DAY = timedelta(days=1)


def settings_for(db: Database, slack: SlackStandIn, **overrides: Any) -> Settings:
    return make_settings(db, slack, deal_desk_channel=DESK, quiet_hours="none", **overrides)


async def run_at(db: Database, settings: Settings, now: datetime) -> dict[str, Any]:
    reports = await run_jobs(JobContext(db, settings), now)
    return {report.job: (report.sent, report.skipped, report.changed) for report in reports}


async def queued(db: Database) -> list[Notification]:
    async with db.read() as session:
        return list((await session.exec(select(Notification).order_by(Notification.id))).all())  # type: ignore[arg-type]


async def nudges(db: Database) -> Counter[tuple[str, str]]:
    async with db.read() as session:
        rows = (await session.exec(select(SentNudge.kind, SentNudge.outcome))).all()
    return Counter((kind, outcome) for kind, outcome in rows)


async def approved_deal(db: Database, now: datetime = NOW) -> int:
    deal = (await register(db, "nora@northwind.example", now=now)).deal
    await approve(db, await person(db, "mia@vendor.example"), deal.id or 0, now=now)
    return deal.id or 0


async def test_the_expiry_reminder_comes_once_seven_days_before_and_follows_an_extension(
    program: Database, slack: SlackStandIn
) -> None:
    settings = settings_for(program, slack)
    deal_id = await approved_deal(program)
    expires = NOW + timedelta(days=90)
    assert (await run_at(program, settings, expires - 8 * DAY))["protection-expiry-reminders"] == (
        0,
        0,
        0,
    )
    for moment in (expires - 7 * DAY, expires - 7 * DAY + timedelta(hours=1), expires - 2 * DAY):
        await run_at(program, settings, moment)
    [reminder] = await queued(program)
    assert reminder.kind == "deal.expiry_reminder" and reminder.via == "slack"
    assert reminder.payload["deal_id"] == deal_id

    nora, mia = (
        await person(program, "nora@northwind.example"),
        await person(program, "mia@vendor.example"),
    )
    async with program.session() as session:
        asked = await decisions.request_extension(
            session,
            partner_user=nora,
            deal_id=deal_id,
            days=30,
            settings=settings,
            now=expires - DAY,
        )
    async with program.session() as session:
        await decisions.decide_extension(
            session,
            manager=mia,
            extension_id=asked.extension.id or 0,
            approve=True,
            now=expires - DAY,
        )
    assert (await run_at(program, settings, expires + DAY))["protection-expiry"] == (0, 0, 0)
    await run_at(program, settings, expires + 30 * DAY - 7 * DAY)
    assert [n.kind for n in await queued(program)] == ["deal.expiry_reminder"] * 2
    assert await nudges(program) == {("deal.expiry_reminder", "sent"): 2}


async def test_expiry_releases_the_customer_and_tells_the_partner_and_the_deal_desk(
    program: Database, slack: SlackStandIn
) -> None:
    settings = settings_for(program, slack)
    deal_id = await approved_deal(program)
    expires = NOW + timedelta(days=90)
    await run_at(program, settings, expires - 7 * DAY)
    outcome = await run_at(program, settings, expires)
    assert outcome["protection-expiry"] == (2, 0, 1)
    assert (await run_at(program, settings, expires + DAY))["protection-expiry"] == (0, 0, 0)
    async with program.read() as session:
        deal = await session.get(DealRegistration, deal_id)
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "deal.expired"))
        ).all()
        crm = (await session.exec(select(OutboxItem).where(OutboxItem.kind == "upsert_deal"))).all()
    assert deal is not None and deal.status == "expired"
    assert [(e.actor, e.channel) for e in events] == [("scheduler", "scheduler")]
    assert crm[-1].payload["status"] == "expired"
    kinds = [(n.kind, n.person_id is not None, n.slack_channel) for n in await queued(program)]
    assert kinds[1:] == [("deal.expired", True, None), ("deal.expired_desk", False, DESK)]
    # The customer is open again: Sam's registration of it is clear.
    reopened = replace(FORM, expected_close_date=(expires + 30 * DAY).date().isoformat())
    later = await register(program, "sam@southpaw.example", reopened, now=expires + DAY)
    assert later.deal.conflict_verdict == "clear"


async def test_after_downtime_a_reminder_past_its_use_is_skipped_not_sent(
    program: Database, slack: SlackStandIn
) -> None:
    settings = settings_for(program, slack)
    await approved_deal(program)
    await run_at(program, settings, NOW + timedelta(days=95))  # down for weeks
    assert await nudges(program) == {("deal.expiry_reminder", "skipped"): 1}
    assert [n.kind for n in await queued(program)] == ["deal.expired", "deal.expired_desk"]


async def test_approvals_are_reminded_at_half_the_sla_and_escalated_once_at_it(
    program: Database, slack: SlackStandIn
) -> None:
    settings = settings_for(program, slack)
    mia = await person(program, "mia@vendor.example")
    async with program.session() as session:
        northwind = (
            await session.exec(select(Partner).where(Partner.name == "Northwind Resellers"))
        ).one()
        northwind.channel_manager_id = mia.id
        session.add(northwind)
    await register(program, "nora@northwind.example")
    globex = replace(FORM, customer_company="Globex", customer_domain="globex.example")
    await register(program, "sam@southpaw.example", globex)
    decided = replace(FORM, customer_company="Initech", customer_domain="initech.example")
    early = (await register(program, "nora@northwind.example", decided)).deal
    await approve(program, mia, early.id or 0, now=NOW + timedelta(hours=2))

    assert (await run_at(program, settings, NOW + timedelta(hours=23)))[
        "approval-sla-reminders"
    ] == (0, 0, 0)
    assert (await run_at(program, settings, NOW + timedelta(hours=24)))[
        "approval-sla-reminders"
    ] == (2, 0, 0)
    reminders = await queued(program)
    assert {(n.person_id, n.slack_channel) for n in reminders} == {(mia.id, None), (None, DESK)}
    for hour in (30, 47, 48, 49, 72):
        await run_at(program, settings, NOW + timedelta(hours=hour))
    escalations = [n for n in await queued(program) if n.kind == "deal.sla_escalation"]
    assert (
        len(escalations) == 1 and escalations[0].slack_channel == DESK and not escalations[0].held
    )
    assert {item["customer"] for item in escalations[0].payload["items"]} == {
        "Acme Corp.",
        "Globex",
    }
    assert await nudges(program) == {
        ("deal.sla_reminder", "sent"): 2,
        ("deal.sla_escalation", "sent"): 2,
    }


async def test_a_quiet_approved_deal_is_flagged_once_then_again_after_new_activity(
    program: Database, slack: SlackStandIn
) -> None:
    settings = settings_for(program, slack)
    deal_id = await approved_deal(program)
    assert (await run_at(program, settings, NOW + 29 * DAY))["inactive-registrations"] == (0, 0, 0)
    assert (await run_at(program, settings, NOW + 30 * DAY))["inactive-registrations"] == (1, 0, 0)
    assert (await run_at(program, settings, NOW + 31 * DAY))["inactive-registrations"] == (0, 0, 0)
    nora = await person(program, "nora@northwind.example")
    async with program.session() as session:
        await decisions.request_extension(
            session,
            partner_user=nora,
            deal_id=deal_id,
            days=15,
            settings=settings,
            now=NOW + 40 * DAY,
        )
    assert (await run_at(program, settings, NOW + 69 * DAY))["inactive-registrations"] == (0, 0, 0)
    assert (await run_at(program, settings, NOW + 70 * DAY))["inactive-registrations"] == (1, 0, 0)
    flags = [n for n in await queued(program) if n.kind == "deal.inactive"]
    assert [n.slack_channel for n in flags] == [DESK, DESK]  # Northwind has no channel manager


async def test_nudges_wait_for_working_hours_in_the_persons_time_zone(
    program: Database, slack: SlackStandIn
) -> None:
    slack.add_user("U0NORA", "nora@northwind.example", name="Nora North", tz="Asia/Tokyo")
    settings = make_settings(program, slack, deal_desk_channel=DESK)  # quiet hours 09:00-18:00
    app = build_app(settings, db=program)
    await app.start()
    try:
        await approved_deal(program)
        saturday = datetime(2027, 2, 13, 3, 0, tzinfo=UTC)  # Saturday 12:00 in Tokyo
        reminder_due = NOW + timedelta(days=83)
        assert reminder_due < saturday
        await run_at(program, settings, saturday)
        delivery = Delivery(app.services, None, worker="t")
        held = await delivery.deliver_due(saturday)
        assert (held.sent, held.held) == (0, 1)
        [row] = [n for n in await queued(program) if n.kind == "deal.expiry_reminder"]
        # Monday 09:00 in Tokyo is Monday 00:00 UTC.
        assert row.next_attempt_at == datetime(2027, 2, 15, 0, 0, tzinfo=UTC)
        assert (await delivery.deliver_due(datetime(2027, 2, 14, 23, 59, tzinfo=UTC))).sent == 0
        sent = await delivery.deliver_due(datetime(2027, 2, 15, 0, 0, tzinfo=UTC))
        assert sent.sent == 1
        [dm] = slack.calls_to("chat.postMessage")
        assert dm.params["channel"] == "U0NORA" and "Request extension" in str(dm.params["blocks"])
    finally:
        await app.services.tasks.drain()
        await app.services.slack_http.close()


async def test_a_partner_without_slack_is_reminded_by_email_with_a_reply_address(
    program: Database, slack: SlackStandIn, smtp_server: SmtpServer
) -> None:
    async with program.session() as session:
        nora = await find_by_email(session, "nora@northwind.example")
        assert nora is not None
        nora.slack_user_id = None
        session.add(nora)
    settings = mail_settings(program, smtp_server, quiet_hours="none")
    app = build_app(settings, db=program)
    await approved_deal(program)
    await run_at(program, settings, NOW + timedelta(days=83))
    smtp_server.clear()
    mail = Outbox(program, settings, SmtpMailer(settings))
    delivery = Delivery(app.services, mail, worker="t")
    report = await delivery.deliver_due(NOW + timedelta(days=83))
    assert report.sent == 1
    [received] = smtp_server.received
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert "Protection ends on" in str(message["Subject"])
    assert str(message["Reply-To"]).count("bot+") == 1
    assert "extend 30" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize("hours", [0, 11])
async def test_run_jobs_is_a_pure_function_of_now(
    program: Database, slack: SlackStandIn, hours: int
) -> None:
    settings = settings_for(program, slack)
    await approved_deal(program, now=NOW + timedelta(hours=hours))
    first = await run_at(program, settings, NOW + timedelta(days=120))
    again = await run_at(program, settings, NOW + timedelta(days=120))
    assert first["protection-expiry"] == (2, 0, 1) and again["protection-expiry"] == (0, 0, 0)


async def test_a_flag_opens_the_deal_for_a_manager_and_for_nobody_else(
    program: Database, slack: SlackStandIn, sender: Any
) -> None:
    deal_id = await approved_deal(program)
    await sender.action("deal_open", str(deal_id), user="U0MIA")
    (opened,) = await slack.wait_for("views.open")
    assert opened.params["view"]["title"]["text"] == f"Registration #{deal_id}"
    assert "Acme Corp." in str(opened.params["view"]["blocks"])
    await sender.action("deal_open", str(deal_id), user="U0NORA")
    (refused,) = await slack.wait_for("response_url")
    assert "Only a channel manager or admin" in refused.params["text"]
