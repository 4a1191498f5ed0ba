"""Training end to end: a gated product refused with `Start training`, a module passed in a
Slack modal and another by email reply, certifications that unlock the product, the CRM
hearing of them once, re-certification nudges, and the forgeries that must fail."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import PartnerBot, build_app
from bot.clock import system_clock
from bot.delivery import Delivery
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import SlackStandIn, view_error
from bot.demo.smtp import SmtpServer
from bot.domain import audit, catalogue, program, training
from bot.domain.access import find_by_email
from bot.mail.inbound import ingest
from bot.mail.outbound import Outbox
from bot.mail.smtp import SmtpMailer
from bot.scheduler.jobs import JobContext, run_jobs
from store.db import Database
from store.models import (
    AuditEvent,
    Certification,
    Channel,
    DealRegistration,
    Notification,
    OutboxItem,
    Partner,
    Person,
    TrainingAttempt,
    TrainingModule,
)
from tests.conftest import make_settings
from tests.handlers.test_registration_flow import button_value
from tests.handlers.test_registration_flow import form as deal_form
from tests.mail.world import SECRET, mail_ctx

EXAMPLES = Path(__file__).parents[2] / "examples"
PRODUCTS = "Core,Analytics,Enterprise"
DESK = "C0DEALDESK"
SELLER = "deal-registration-101"
RIGHT = {1: 2, 2: 3, 3: 2, 4: 2, 5: 2}  # the example module's answers


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def load_examples(db: Database, now: datetime) -> None:
    """The example program and catalogue, through the same services as the CLI."""
    tiers = program.parse("program.yaml", (EXAMPLES / "program.yaml").read_text())
    modules = catalogue.read_catalogue(EXAMPLES / "training", PRODUCTS.split(","))
    async with db.session() as session:
        await program.apply(session, tiers, actor=audit.Actor.system("t"), now=now)
        await catalogue.apply(session, modules, actor=audit.Actor.system("t"), now=now)


@pytest.fixture
async def clock() -> Clock:
    return Clock(system_clock().replace(microsecond=0))


@pytest.fixture
async def app(
    program: Database, slack: SlackStandIn, smtp_server: SmtpServer, clock: Clock
) -> AsyncIterator[PartnerBot]:
    settings = make_settings(
        program,
        slack,
        products=PRODUCTS,
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
    await load_examples(program, clock())
    built = build_app(settings, db=program, clock=clock)
    await built.start()
    smtp_server.clear()
    yield built
    await built.services.tasks.drain()
    await built.services.slack_http.close()


@pytest.fixture
async def sender(app: PartnerBot, slack: SlackStandIn) -> AsyncIterator[SlackSender]:
    import httpx

    transport = httpx.ASGITransport(app=app.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://partnerbot.test") as client:
        yield SlackSender(client, response_url=slack.response_url())


async def deliver(app: PartnerBot, now: datetime) -> None:
    settings = app.services.settings
    delivery = Delivery(
        app.services, Outbox(app.services.db, settings, SmtpMailer(settings)), worker="t"
    )
    await app.services.tasks.drain()
    while (await delivery.deliver_due(now)).sent:
        pass


def answers(picks: dict[int, int]) -> dict[str, dict[str, Any]]:
    """The quiz's state as Slack sends it."""
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(choice)}}}
        for n, choice in picks.items()
    }


async def person(db: Database, address: str) -> Person:
    async with db.read() as session:
        found = await find_by_email(session, address)
    assert found is not None
    return found


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    async with db.read() as session:
        return list((await session.exec(select(model).where(*where))).all())


def enterprise_deal(clock: Clock, company: str = "Initech") -> dict[str, Any]:
    close = (clock() + timedelta(days=45)).date().isoformat()
    return deal_form(
        customer_company=company,
        customer_domain=f"{company.lower()}.example",
        products=["Enterprise"],
        expected_close_date=close,
    )


async def test_in_slack_a_gated_product_is_refused_then_passing_a_module_unlocks_it(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database, clock: Clock
) -> None:
    # Gold requires certification; Enterprise is unlocked by "Certified Seller".
    refused = (
        await sender.submit_view("register_deal", enterprise_deal(clock), user="U0NORA")
    ).json()
    assert refused["response_action"] == "errors"
    assert "Certified Seller" in refused["errors"]["products"]
    await app.services.tasks.drain()
    [offer] = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U0NORA"]
    action, module_id = button_value(offer.params["blocks"], "Start training")

    # The module opens as a modal: content, then the quiz (no answers in it).
    await sender.action(action, module_id, user="U0NORA")
    (opened,) = await slack.wait_for("views.open")
    modal = opened.params["view"]
    assert view_error(modal) is None
    labels = [b["label"]["text"] for b in modal["blocks"] if b["type"] == "input"]
    assert labels[0] == "1. When does a deal's protection start?" and len(labels) == 5
    assert modal["submit"]["text"] == "Submit"
    shown = json.dumps(modal)  # "answer" is only each radio group's action id
    assert shown.count('"answer"') == shown.count('"action_id": "answer"') == 5
    assert "initial_option" not in shown

    # Two wrong: which ones is shown, never the right answers; a retry must wait.
    wrong = RIGHT | {2: 1, 4: 1}
    failed = await sender.submit_view(
        "training_page",
        answers(wrong),
        user="U0NORA",
        private_metadata=modal["private_metadata"],
        view_id="V0TRY1",
    )
    shown = json.dumps(failed.json()["view"])
    assert "Question 2, 4 were not right" in shown and "3 of 5 right" in shown
    assert "90 days" not in shown and "approves" not in shown
    too_soon = await sender.submit_view(
        "training_page",
        answers(RIGHT),
        user="U0NORA",
        private_metadata=modal["private_metadata"],
        view_id="V0TRY2",
    )
    assert too_soon.json()["view"]["title"]["text"] == "Not yet"

    # Ten minutes later she passes; Slack retrying the submission records nothing more.
    clock.now += timedelta(minutes=10)
    for _ in range(2):
        passed = await sender.submit_view(
            "training_page",
            answers(RIGHT),
            user="U0NORA",
            private_metadata=modal["private_metadata"],
            view_id="V0TRY3",
        )
        assert "You are certified as *Certified Seller* until" in json.dumps(passed.json())
    nora = await person(program, "nora@northwind.example")
    attempts = await rows(program, TrainingAttempt, TrainingAttempt.person_id == nora.id)
    assert [a.passed for a in sorted(attempts, key=lambda a: a.id)] == [False, True]
    [certification] = await rows(program, Certification, Certification.person_id == nora.id)
    assert certification.expires_at == clock.now + timedelta(days=365)

    # A DM with the expiry date; the CRM hears of the pass and the certification once.
    await deliver(app, clock.now)
    dms = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "U0NORA"]
    assert "certified as *Certified Seller* until" in json.dumps(dms[-1].params["blocks"])
    notes = await rows(program, OutboxItem, OutboxItem.kind == "add_note")
    texts = [n.payload["text"] for n in notes]
    assert len([t for t in texts if "passed “Deal registration 101” with 100%" in t]) == 1
    assert len([t for t in texts if "certified as Certified Seller until" in t]) == 1
    properties = await rows(program, OutboxItem, OutboxItem.kind == "set_partner")
    assert [p["name"] for p in properties[-1].payload["certifications"]] == ["Certified Seller"]

    # Enterprise registers now; /training shows her standing.
    registered = (
        await sender.submit_view(
            "register_deal", enterprise_deal(clock), user="U0NORA", view_id="V0DEAL2"
        )
    ).json()
    assert registered["response_action"] == "update", registered
    assert await rows(program, DealRegistration, DealRegistration.customer_company == "Initech")
    listed = (await sender.command("/training", user="U0NORA")).json()
    shown = json.dumps(listed["blocks"])
    assert "Certified as Certified Seller until" in shown and "Start training" in shown
    assert "Support essentials" in shown and "Next up" in shown


async def test_long_content_is_paged_with_next_and_every_page_fits_slack(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database, clock: Clock
) -> None:
    paragraph = "Register every opportunity before the first demo, and keep it current. " * 30
    async with program.session() as session:
        module = await catalogue.find(session, "support-essentials")
        assert module is not None
        module.content = "\n\n".join(f"## Part {n}\n\n{paragraph}" for n in range(1, 13))
        session.add(module)
    await sender.action("training_start", str(module.id), user="U0NORA")
    (opened,) = await slack.wait_for("views.open")
    view, pages = opened.params["view"], 1
    while view["submit"]["text"] == "Next":
        assert view_error(view) is None
        assert not [b for b in view["blocks"] if b["type"] == "input"]
        answer = await sender.submit_view(
            "training_page", {}, user="U0NORA", private_metadata=view["private_metadata"]
        )
        view = answer.json()["view"]
        pages += 1
    assert view_error(view) is None and pages >= 4
    assert f"Page {pages} of {pages}" in json.dumps(view)
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["q1", "q2"]


async def test_a_quiz_cannot_be_forged(
    app: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database, clock: Clock
) -> None:
    async with program.read() as session:
        technical = await catalogue.find(session, "platform-implementation")
        seller = await catalogue.find(session, SELLER)
    assert technical is not None and seller is not None
    # Sam's company (a referral partner) is not offered the technical module.
    meta = json.dumps({"module_id": technical.id, "page": 1, "version": None})
    refused = await sender.submit_view(
        "training_page", answers({1: 2, 2: 2, 3: 2, 4: 1}), user="U0SAM", private_metadata=meta
    )
    assert "not offered to you" in json.dumps(refused.json())
    # A choice that is not one of the question's, or a question that does not exist.
    meta = json.dumps({"module_id": seller.id, "page": 1, "version": None})
    for picks in (RIGHT | {3: 7}, RIGHT | {9: 1}):
        forged = await sender.submit_view(
            "training_page", answers(picks), user="U0SAM", private_metadata=meta
        )
        assert "not valid" in json.dumps(forged.json())
    # A manager cannot take (or pass) a quiz for anyone.
    manager = await sender.submit_view(
        "training_page", answers(RIGHT), user="U0MIA", private_metadata=meta
    )
    assert "Training is for partners" in json.dumps(manager.json())
    assert await rows(program, TrainingAttempt) == []
    denied = await rows(program, AuditEvent, AuditEvent.action == "access.denied")
    assert len(denied) == 4
    # An unanswered question is asked for inline.
    partial = await sender.submit_view(
        "training_page", answers({1: 2}), user="U0SAM", private_metadata=meta
    )
    assert partial.json() == {
        "response_action": "errors",
        "errors": {"q2": "Please answer question 2."},
    }


async def test_by_email_a_partner_is_invited_answers_by_reply_and_is_certified(
    app: PartnerBot, program: Database, smtp_server: SmtpServer, clock: Clock
) -> None:
    async with program.session() as session:
        invited = await training.invite(
            session,
            slug=SELLER,
            audience=training.InviteAudience(email="sam@southpaw.example"),
            via=("email",),
            actor=audit.Actor.system("t"),
            now=clock(),
        )
    assert (invited.people, invited.by_email) == (1, 1)
    await deliver(app, clock.now)
    [mail] = smtp_server.received
    quiz = email.message_from_bytes(mail.data, policy=email.policy.default)
    text = quiz.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "1. When does a deal's protection start?" in text
    assert "   b) When a channel manager approves it" in text and "1b 2a 3c" in text
    reply_to = quiz["Reply-To"].addresses[0].addr_spec
    ctx = mail_ctx(app.services.settings, program, smtp_server)
    ctx.clock = clock

    async def reply(body: str) -> str:
        answer = EmailMessage()
        answer["From"], answer["To"] = "sam@southpaw.example", reply_to
        answer["Subject"], answer["Message-ID"] = (
            "Re: " + str(quiz["Subject"]),
            make_msgid(domain="southpaw.example"),
        )
        answer["In-Reply-To"] = quiz["Message-ID"]
        answer.set_content(body)
        result = await ingest(ctx, answer.as_bytes(), source="pipe")
        assert result.outcome == "acted", result
        smtp_server.clear()
        await deliver(app, clock.now)
        [sent] = smtp_server.received
        back = email.message_from_bytes(sent.data, policy=email.policy.default)
        return str(back["Subject"]) + "\n" + back.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # No answers: an explanation, and no attempt.
    told = await reply("Thanks! I'll look at this next week.")
    assert "found no quiz answers" in told and "Nothing was recorded" in told
    # Answers under a quoted original that holds other "answers": only the new text counts.
    quoted = "\n".join("> " + line for line in text.splitlines())
    told = await reply(f"1) b, 2 C, 3b 4A 5 a\n\nOn Monday partnerbot wrote:\n> 1a 2a\n{quoted}")
    assert "Not passed yet" in told and "Question 4, 5 were not right" in told
    assert "try again from" in told and "When a channel manager" not in told
    clock.now += timedelta(minutes=11)
    told = await reply("1b 2c 3b 4b 5b")
    assert "You passed Deal registration 101" in told
    assert "certified as Certified Seller until" in told
    sam = await person(program, "sam@southpaw.example")
    attempts = await rows(program, TrainingAttempt, TrainingAttempt.person_id == sam.id)
    assert sorted((a.channel, a.passed) for a in attempts) == [
        (Channel.EMAIL, False),
        (Channel.EMAIL, True),
    ]
    [certification] = await rows(program, Certification, Certification.person_id == sam.id)
    async with program.read() as session:
        southpaw = await session.get(Partner, sam.partner_id)
        assert southpaw is not None
        assert not await training.missing_certifications(session, southpaw, ["Enterprise"], clock())
    assert certification.name == "Certified Seller"


async def test_recertification_nudges_on_day_30_and_7_then_the_rights_lapse(
    app: PartnerBot, program: Database, clock: Clock
) -> None:
    nora = await person(program, "nora@northwind.example")
    async with program.session() as session:
        seller = await catalogue.find(session, SELLER)
        assert seller is not None
        result = await training.submit(
            session,
            person=nora,
            module_id=seller.id or 0,
            answers=RIGHT,
            channel=Channel.SLACK,
            submission_key="t1",
            retry_wait=timedelta(minutes=10),
            now=clock(),
        )
    assert result.certification is not None
    expires = result.certification.expires_at
    ctx = JobContext(program, app.services.settings)

    async def run_at(moment: datetime) -> dict[str, int]:
        return {r.job: r.sent for r in await run_jobs(ctx, moment)}

    assert (await run_at(expires - timedelta(days=31)))["certification-reminders"] == 0
    assert (await run_at(expires - timedelta(days=30)))["certification-reminders"] == 1
    assert (await run_at(expires - timedelta(days=29)))["certification-reminders"] == 0
    assert (await run_at(expires - timedelta(days=7)))["certification-reminders"] == 1
    assert (await run_at(expires - timedelta(days=6)))["certification-reminders"] == 0
    reminded = await rows(program, Notification, Notification.kind == "training.recertify")
    assert len(reminded) == 2 and all(n.person_id == nora.id for n in reminded)

    async with program.read() as session:
        northwind = await session.get(Partner, nora.partner_id)
        assert northwind is not None
        assert not await training.missing_certifications(
            session, northwind, ["Enterprise"], expires - timedelta(seconds=1)
        )
    after = await run_at(expires + timedelta(hours=1))
    assert after["certification-expiry"] == 1
    assert (await run_at(expires + timedelta(hours=2)))["certification-expiry"] == 0
    told = await rows(program, Notification, Notification.kind == "certification.expired")
    assert [n.slack_channel for n in told] == [DESK]  # Northwind has no channel manager
    async with program.read() as session:
        assert await training.missing_certifications(
            session, northwind, ["Enterprise"], expires + timedelta(hours=1)
        ) == {"Enterprise": {"Certified Seller"}}
        properties = (
            await session.exec(
                select(OutboxItem)
                .where(OutboxItem.kind == "set_partner")
                .order_by(col(OutboxItem.id).desc())
            )
        ).first()
    assert properties is not None and properties.payload["certifications"] == []


async def test_renewing_early_moves_the_expiry_and_stops_the_old_nudges(
    app: PartnerBot, program: Database, clock: Clock
) -> None:
    nora = await person(program, "nora@northwind.example")
    async with program.read() as session:
        seller = await catalogue.find(session, SELLER)
    assert seller is not None

    async def take(key: str, now: datetime) -> training.Result:
        async with program.session() as session:
            return await training.submit(
                session,
                person=nora,
                module_id=seller.id or 0,
                answers=RIGHT,
                channel=Channel.SLACK,
                submission_key=key,
                retry_wait=timedelta(minutes=10),
                now=now,
            )

    first = await take("a", clock())
    assert first.certification is not None
    too_early = await take("b", clock() + timedelta(days=100))
    assert too_early.certification is None and too_early.still_certified_until
    expires = first.certification.expires_at
    renewed = await take("c", expires - timedelta(days=20))
    assert renewed.certification is not None
    ctx = JobContext(program, app.services.settings)
    reports = {r.job: r for r in await run_jobs(ctx, expires + timedelta(hours=1))}
    assert reports["certification-expiry"].sent == 0  # the renewal is the one that counts
    assert len(await rows(program, Certification, Certification.person_id == nora.id)) == 2
    modules = await rows(program, TrainingModule, col(TrainingModule.retired_at).is_(None))
    assert len(modules) == 3
