"""Announcements end to end: `/announce` → confirmation → fan-out by the worker → read
receipts, acknowledgement by button and by email (once), questions, reminders, the rules."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import PartnerBot, build_app
from bot.clock import system_clock
from bot.delivery import Delivery
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import SlackStandIn
from bot.demo.smtp import SmtpServer
from bot.domain import audit, people, publishing
from bot.mail.inbound import ingest
from bot.mail.outbound import Outbox
from bot.mail.smtp import SmtpMailer
from bot.scheduler.jobs import JobContext, run_jobs
from store.db import Database
from store.models import Acknowledgement, AuditEvent, Notification, OutboxItem
from tests.conftest import make_settings
from tests.harness.clock import NOW
from tests.mail.world import SECRET, mail_ctx
from tests.test_cli import run

DESK = "C0DEALDESK"


@pytest.fixture
async def app(
    program: Database, slack: SlackStandIn, smtp_server: SmtpServer
) -> AsyncIterator[PartnerBot]:
    settings = make_settings(
        program,
        slack,
        deal_desk_channel=DESK,
        quiet_hours="none",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_user=smtp_server.user,
        smtp_password=smtp_server.password,
        mail_from="partnerbot <bot@vendor.example>",
        reply_domain="reply.vendor.example",
        secret_key=SECRET,
        slack_channel_post_seconds=0,
    )
    async with program.session() as session:
        await people.add_person(
            session,
            actor=audit.Actor.system("t"),
            name="Ed Email",
            email="ed@northwind.example",
            role="partner",
            partner_name="Northwind Resellers",
            now=NOW,
        )
    built = build_app(settings, db=program)
    await built.start()
    smtp_server.clear()
    yield built
    await built.services.tasks.drain()
    await built.services.slack_http.close()


def form(**changes: Any) -> dict[str, dict[str, Any]]:
    """The `/announce` modal's state as Slack sends it."""
    values = {
        "title": "Q3 rules of engagement",
        "message": "*New:* register before the demo.",
    } | changes
    state: dict[str, dict[str, Any]] = {
        "title": {"value": {"type": "plain_text_input", "value": values["title"]}},
        "message": {"value": {"type": "plain_text_input", "value": values["message"]}},
        "partner_types": {
            "value": {
                "type": "multi_static_select",
                "selected_options": [{"value": t} for t in changes.get("types", [])],
            }
        },
        "tiers": {"value": {"type": "multi_static_select", "selected_options": []}},
        "regions": {"value": {"type": "multi_static_select", "selected_options": []}},
        "via": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": v} for v in changes.get("via", ["slack"])],
            }
        },
        "ack": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "yes"}] if changes.get("ack", True) else [],
            }
        },
        "deadline": {"value": {"type": "datepicker", "selected_date": changes.get("deadline")}},
        "rules": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "yes"}] if changes.get("rules") else [],
            }
        },
    }
    return state


async def publish(sender: SlackSender, slack: SlackStandIn, **changes: Any) -> int:
    """Mia publishes through the modal and its confirmation; the announcement's id."""
    response = await sender.submit_view("announce", form(**changes), user="U0MIA")
    confirm = response.json()
    assert confirm["response_action"] == "update", confirm
    metadata = confirm["view"]["private_metadata"]
    sent = await sender.submit_view("announce_confirm", {}, user="U0MIA", private_metadata=metadata)
    assert sent.json() == {"response_action": "clear"}
    return int(json.loads(metadata)["announcement_id"])


async def deliver(app: PartnerBot) -> None:
    settings = app.services.settings
    delivery = Delivery(
        app.services, Outbox(app.services.db, settings, SmtpMailer(settings)), worker="t"
    )
    await app.services.tasks.drain()
    while (report := await delivery.deliver_due(system_clock())).sent:
        pass
    del report


async def test_a_partner_cannot_announce_and_a_manager_gets_the_contract_labels(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    refused = (await sender.command("/announce", user="U0NORA")).json()
    assert "Only a channel manager or admin" in refused["text"]
    async with program.read() as session:
        denied = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "access.denied"))
        ).all()
    assert (
        len(denied) == 1 and denied[0].after and denied[0].after["attempted"] == "command:/announce"
    )
    await sender.command("/announce", user="U0MIA")
    (opened,) = await slack.wait_for("views.open")
    labels = [b["label"]["text"] for b in opened.params["view"]["blocks"] if b["type"] == "input"]
    assert labels[:8] == [
        "Title",
        "Message",
        "Partner types",
        "Tiers",
        "Regions",
        "Send by",
        "Acknowledgement required",
        "Deadline",
    ]


async def test_bad_input_is_shown_next_to_its_field(app: PartnerBot, sender: SlackSender) -> None:
    answer = (
        await sender.submit_view(
            "announce", form(title="", via=[], deadline="2020-01-01"), user="U0MIA"
        )
    ).json()
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"title", "via", "deadline"}


async def test_publish_fan_out_acknowledge_by_button_and_by_email_once_each(
    app: PartnerBot,
    sender: SlackSender,
    slack: SlackStandIn,
    smtp_server: SmtpServer,
    program: Database,
) -> None:
    response = await sender.submit_view("announce", form(types=["reseller"]), user="U0MIA")
    confirm = response.json()["view"]
    summary = json.dumps(confirm["blocks"])
    assert "2 people" in summary and "1 companies" in summary  # Nora by Slack, Ed by email
    announcement_id = await publish(sender, slack, types=["reseller"])
    await deliver(app)

    dms = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U0NORA"]
    assert len(dms) == 1 and "Acknowledge" in json.dumps(dms[0].params["blocks"])
    assert "Ask a question" in json.dumps(dms[0].params["blocks"])
    assert not [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U0SAM"]
    [mail] = smtp_server.received
    received = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert received["To"].addresses[0].addr_spec == "ed@northwind.example"
    assert "<strong>New:</strong>" in received.get_body(("html",)).get_content()  # type: ignore[union-attr]
    status = [
        c
        for c in slack.calls_to("chat.update")
        if "delivered to 2 of 2" in c.params.get("text", "")
    ]
    assert status, [c.params.get("text") for c in slack.calls_to("chat.update")]

    # Nora clicks Acknowledge twice; her DM says so in place.
    for _ in range(2):
        await sender.action("announcement_ack", str(announcement_id), user="U0NORA")
    await app.services.tasks.drain()
    updated = [
        c
        for c in slack.calls_to("chat.update")
        if "Acknowledged on" in json.dumps(c.params.get("blocks"))
    ]
    assert updated
    # Ed replies to the email (with his own question), and replies again.
    reply_to = received["Reply-To"].addresses[0].addr_spec
    ctx = mail_ctx(app.services.settings, program, smtp_server)
    for text in ("Got it. Does this apply to renewals?", "Acknowledged again"):
        answer = EmailMessage()
        answer["From"], answer["To"] = "ed@northwind.example", reply_to
        answer["Subject"], answer["Message-ID"] = (
            "Re: rules",
            make_msgid(domain="northwind.example"),
        )
        answer.set_content(text)
        ctx.clock = system_clock
        result = await ingest(ctx, answer.as_bytes(), source="pipe")
        assert result.outcome == "acted", result
    async with program.read() as session:
        acks = (await session.exec(select(Acknowledgement))).all()
        notes = (await session.exec(select(OutboxItem).where(OutboxItem.kind == "add_note"))).all()
        questions = (
            await session.exec(
                select(Notification).where(Notification.kind == "announcement.question")
            )
        ).all()
    assert sorted(a.channel for a in acks) == ["email", "slack"]
    assert len([n for n in notes if "acknowledged" in n.payload["text"]]) == 2
    assert [q.payload["question"] for q in questions] == ["Got it. Does this apply to renewals?"]
    async with program.read() as session:
        found = await publishing.receipts(session, announcement_id)
    assert found.counts == {"audience": 2, "delivered": 2, "acknowledged": 2, "failed": 0}


async def test_someone_outside_the_audience_cannot_acknowledge(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    announcement_id = await publish(sender, slack, types=["reseller"])
    await deliver(app)
    await sender.action("announcement_ack", str(announcement_id), user="U0SAM")
    (refused,) = await slack.wait_for("response_url")
    assert "not sent to you" in refused.params["text"]
    async with program.read() as session:
        assert (await session.exec(select(Acknowledgement))).all() == []
        denied = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "access.denied"))
        ).all()
    assert denied and denied[-1].actor == "partner:sam@southpaw.example"


async def test_a_question_from_the_dm_reaches_the_publisher(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    announcement_id = await publish(sender, slack)
    await deliver(app)
    await sender.action("announcement_question", str(announcement_id), user="U0NORA")
    (opened,) = await slack.wait_for("views.open")
    await sender.submit_view(
        "announcement_question",
        {"question": {"value": {"type": "plain_text_input", "value": "Renewals too? <!channel>"}}},
        user="U0NORA",
        private_metadata=opened.params["view"]["private_metadata"],
    )
    await deliver(app)
    [dm] = [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] == "U0MIA" and "asks about" in c.params["text"]
    ]
    assert "Renewals too?" in dm.params["text"] and "<!channel>" not in json.dumps(dm.params)


async def test_reminders_go_only_to_who_has_not_acknowledged_and_then_the_manager_hears(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    deadline = (system_clock() + timedelta(days=5)).date()
    announcement_id = await publish(sender, slack, deadline=deadline.isoformat())
    await deliver(app)
    await sender.action("announcement_ack", str(announcement_id), user="U0NORA")
    await app.services.tasks.drain()
    settings = app.services.settings
    ends = publishing._deadline(deadline)
    for moment in (
        ends - timedelta(days=3),
        ends - timedelta(days=3, hours=-1),
        ends - timedelta(days=1),
    ):
        await run_jobs(JobContext(program, settings), moment)
    async with program.read() as session:
        reminded = (
            await session.exec(
                select(Notification).where(Notification.kind == "announcement.reminder")
            )
        ).all()
    sam, ed = (
        await _person(program, "sam@southpaw.example"),
        await _person(program, "ed@northwind.example"),
    )
    assert sorted(n.person_id for n in reminded) == sorted([sam.id, ed.id] * 2)
    await run_jobs(JobContext(program, settings), ends + timedelta(hours=1))
    await run_jobs(JobContext(program, settings), ends + timedelta(hours=2))
    async with program.read() as session:
        missed = (
            await session.exec(
                select(Notification).where(Notification.kind == "announcement.missed")
            )
        ).all()
    [to_mia] = missed  # no channel managers set: the publisher gets one list
    assert sorted(p["name"] for p in to_mia.payload["people"]) == ["Ed Email", "Sam South"]


async def test_a_long_announcement_fits_slacks_limits(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    mia = await _person(program, "mia@vendor.example")
    paragraph = "Partners must register every opportunity before the first demo. " * 40
    async with program.session() as session:
        draft = publishing.validate_draft(
            title="Handbook", body="\n\n".join([paragraph] * 15), now=NOW
        )
        await publishing.create(session, author=mia, draft=draft, now=system_clock(), publish=True)
    await deliver(app)
    dms = [
        c for c in slack.calls_to("chat.postMessage") if c.params["channel"] in ("U0NORA", "U0SAM")
    ]
    assert len(dms) == 2  # the stand-in refuses what Slack refuses: both went through
    assert all(
        len(b["text"]["text"]) <= 3000
        for c in dms
        for b in c.params["blocks"]
        if b["type"] == "section"
    )


async def test_with_rules_required_a_partner_acknowledges_them_then_registers(
    program: Database, slack: SlackStandIn
) -> None:
    settings = make_settings(program, slack, require_rules_ack=True)
    built = build_app(settings, db=program)
    await built.start()
    try:
        import httpx

        transport = httpx.ASGITransport(app=built.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            sender = SlackSender(client, response_url=slack.response_url())
            mia = await _person(program, "mia@vendor.example")
            async with program.session() as session:
                draft = publishing.validate_draft(
                    title="Rules v2", body="Register first.", rules=True, now=NOW
                )
                rules = await publishing.create(
                    session, author=mia, draft=draft, now=system_clock(), publish=True
                )
            await sender.command("/register-deal", "acme.com", user="U0NORA")
            (gate,) = await slack.wait_for("views.open")
            assert gate.params["view"]["callback_id"] == "rules_gate"
            view = {"id": "V0GATE", **gate.params["view"]}
            await sender.action("rules_ack", str(rules.id), user="U0NORA", view=view)
            (swapped,) = await slack.wait_for("views.update")
            assert swapped.params["view"]["callback_id"] == "register_deal"
            await sender.command("/register-deal", user="U0NORA")
            opened = await slack.wait_for("views.open", count=2)
            assert opened[1].params["view"]["callback_id"] == "register_deal"  # once is enough
    finally:
        await built.services.tasks.drain()
        await built.services.slack_http.close()


async def _person(db: Database, email_address: str) -> Any:
    from bot.domain.access import find_by_email

    async with db.read() as session:
        return await find_by_email(session, email_address)


async def test_a_script_publishes_and_reads_the_receipts(
    env: dict[str, str], tmp_path: Path
) -> None:
    csv = (
        "partner,type,tier,region,domains,name,email,role,slack_user_id\n"
        ",,,,,Mo Manager,mo@vendor.example,manager,U0MO\n"
        "Acme,reseller,gold,emea,acme.example,Ann Able,ann@acme.example,partner,U0ANN\n"
        "Acme,,,,,Bob Mail,bob@acme.example,partner,\n"
        "Beta,referral,silver,amer,beta.example,Bea Beta,bea@beta.example,partner,U0BEA\n"
    )
    (tmp_path / "partners.csv").write_text(csv)
    assert run(env, tmp_path, "partners", "import", "partners.csv").returncode == 0
    (tmp_path / "body.md").write_text("*New price list* from 1 December.")
    published = run(
        env, tmp_path, "announce", "--title", "Price list", "--body-file", "body.md",
        "--types", "reseller", "--via", "slack,email", "--ack-required", "--json",
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    result = json.loads(published.stdout)
    assert (result["people"], result["companies"], result["slack"], result["email"]) == (2, 1, 1, 2)
    receipts = json.loads(run(env, tmp_path, "report", "acks", str(result["id"]), "--json").stdout)
    assert receipts["counts"] == {"audience": 2, "delivered": 0, "acknowledged": 0, "failed": 0}
    table = run(env, tmp_path, "report", "acks", str(result["id"]), "--csv").stdout
    assert table.splitlines()[0].startswith("person,email,company,delivered")
    bad = run(env, tmp_path, "announce", "--title", "", "--body-file", "body.md")
    assert bad.returncode == 2 and "--title" in bad.stderr
