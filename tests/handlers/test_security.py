"""Attacks through the public Slack surface: each class found by the attack run stays closed.

Every request here is correctly signed (as Slack would deliver what an attacker clicked or
typed); the bot must refuse what the person may not do, audit the refusal, change nothing,
never answer 5xx, and never let their text become Slack markup.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.app import PartnerBot, build_app
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import SlackStandIn
from bot.domain import audit, people
from store.db import Database
from store.models import (
    AuditEvent,
    Certification,
    DealExtension,
    DealMessage,
    DealRegistration,
    OutboxItem,
    TrainingAttempt,
)
from tests.conftest import make_settings, serve_over_http
from tests.handlers.test_registration_flow import button_value, register
from tests.harness.clock import NOW

DESK = "C0DEALDESK"
INJECTION = "<!channel> <https://evil.example/login|open_crm> <@U0MIA> &amp;"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def bot(program: Database, slack: SlackStandIn):  # with a deal desk channel
    app = build_app(make_settings(program, slack, deal_desk_channel=DESK), db=program)
    await app.start()
    yield app
    await app.services.tasks.drain()
    await app.services.slack_http.close()


async def state(db: Database) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    async with db.read() as session:
        deals = (
            await session.exec(
                select(DealRegistration.id, DealRegistration.status).order_by(
                    DealRegistration.id  # type: ignore[arg-type]
                )
            )
        ).all()
        counts = [
            (await session.exec(select(func.count()).select_from(model))).one()
            for model in (DealMessage, DealExtension, OutboxItem, TrainingAttempt, Certification)
        ]
    return tuple(deals), tuple(counts)


async def refusals(db: Database) -> list[AuditEvent]:
    async with db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == "access.denied")
        return list((await session.exec(query.order_by(AuditEvent.seq))).all())  # type: ignore[arg-type]


async def nora_deal_with_a_question(sender: SlackSender, slack: SlackStandIn, bot: PartnerBot):
    """Nora's registration, on which Mia asked a question."""
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    action, deal_id = button_value(card.params["blocks"], "Request info")
    await sender.action(action, deal_id, user="U0MIA", channel=DESK)
    (opened,) = await slack.wait_for("views.open")
    await sender.submit_view(
        "request_info",
        {"question": {"value": {"type": "plain_text_input", "value": "Secret pricing: 40%?"}}},
        user="U0MIA",
        private_metadata=opened.params["view"]["private_metadata"],
    )
    await bot.services.tasks.drain()
    slack.calls.clear()
    return int(deal_id)


# --- 1. Reading another company's deal ----------------------------------------------------------


async def test_a_partner_cannot_open_the_answer_modal_of_another_companys_deal(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    deal_id = await nora_deal_with_a_question(sender, slack, bot)
    before = await state(program)
    response = await sender.action("deal_answer", str(deal_id), user="U0SAM")
    await bot.services.tasks.drain()
    assert response.status_code == 200
    assert slack.calls_to("views.open") == []  # the question never left the database
    (told,) = slack.calls_to("response_url")
    assert "not one of your company's" in told.params["text"]
    assert "Secret pricing" not in json.dumps([c.params for c in slack.calls])
    assert await state(program) == before
    [denied] = await refusals(program)
    assert denied.actor == "partner:sam@southpaw.example"
    assert (denied.subject_type, denied.subject_id) == ("deal", str(deal_id))
    assert denied.after and denied.after["why"] == "NotYours"


# --- 2. mrkdwn injection -------------------------------------------------------------------------


async def test_an_address_with_markup_in_it_is_refused_inline(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    answer = await register(
        sender,
        "U0NORA",
        "V1",
        contact_email="art><!channel><https://evil.example/login|open_crm>@pendant.com",
    )
    assert answer["response_action"] == "errors" and "contact_email" in answer["errors"]
    await bot.services.tasks.drain()
    assert slack.calls_to("chat.postMessage") == []


async def test_what_partners_type_reaches_managers_only_as_text(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(
        sender,
        "U0NORA",
        "V1",
        customer_company=f"Acme {INJECTION}"[:200],
        contact_name=INJECTION,
        notes=f"See {INJECTION}",
    )
    (card,) = await slack.wait_for("chat.postMessage")
    action, deal_id = button_value(card.params["blocks"], "Request info")
    await sender.action(action, deal_id, user="U0MIA", channel=DESK)
    (opened,) = await slack.wait_for("views.open")
    await sender.submit_view(
        "request_info",
        {"question": {"value": {"type": "plain_text_input", "value": "Budget?"}}},
        user="U0MIA",
        private_metadata=opened.params["view"]["private_metadata"],
    )
    await bot.services.tasks.drain()
    await sender.action("deal_answer", deal_id, user="U0NORA")
    (answer_modal,) = (await slack.wait_for("views.open", count=2))[1:]
    await sender.submit_view(
        "answer_question",
        {"answer": {"value": {"type": "plain_text_input", "value": f"Yes {INJECTION}"}}},
        user="U0NORA",
        private_metadata=answer_modal.params["view"]["private_metadata"],
    )
    await bot.services.tasks.drain()
    sent = json.dumps([call.params for call in slack.calls])
    # The card, its fallback text, the DMs and the thread: never live markup from a partner.
    for live in ("<!channel>", "<https://evil", "<@U0MIA>", " &amp; "):
        assert live not in sent, live
    assert "&lt;!channel&gt;" in sent and "&amp;amp;" in sent


# --- 4. Every refusal is audited ----------------------------------------------------------------


async def test_refusals_at_the_door_are_audited_with_who_what_and_why(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    action, deal_id = button_value(card.params["blocks"], "Approve")
    before = await state(program)
    await sender.action(action, deal_id, user="U0STRANGER", channel=DESK)  # unknown to Slack too
    slack.add_user("U0EVE", "mia@vendor.example", name="Eve", team_id="T0ATTACKER")
    await sender.action(action, deal_id, user="U0EVE", team="T0ATTACKER", channel=DESK)
    async with program.session() as session:
        await people.revoke_person(
            session, actor=audit.Actor.system("t"), email="mia@vendor.example", now=NOW
        )
    await sender.action(action, deal_id, user="U0MIA", channel=DESK)
    await bot.services.tasks.drain()
    assert await state(program) == before
    denied = await refusals(program)
    assert [(d.actor, d.after["why"]) for d in denied if d.after] == [
        ("slack:U0STRANGER@T0TEST", "UnknownPerson"),
        ("slack:U0EVE@T0ATTACKER", "UnknownPerson"),
        ("slack:U0MIA@T0TEST", "RevokedPerson"),
    ]
    assert all(d.subject_type == "deal" and d.subject_id == deal_id for d in denied)


async def test_tampered_hidden_state_is_refused_and_audited(
    bot: PartnerBot, sender: SlackSender, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    before = await state(program)
    reason = {"reason": {"value": {"type": "plain_text_input", "value": "Not a fit"}}}
    for metadata in ('{"deal_id": "1 OR 1=1"}', "not json", "[1]", '{"deal_id": 99999999999}'):
        response = await sender.submit_view(
            "decline_deal", reason, user="U0MIA", private_metadata=metadata
        )
        assert response.status_code == 200
        assert response.json()["response_action"] == "update"  # a notice, not a 500
    # Hidden state nested too deep for the JSON parser, on every modal that keeps some.
    deep = "[" * 5000 + "]" * 5000
    for callback in ("decline_deal", "training_page", "announce_confirm", "customer_not_same"):
        response = await sender.submit_view(callback, reason, user="U0MIA", private_metadata=deep)
        assert response.status_code == 200, callback
    assert await state(program) == before
    assert [d.after["why"] for d in await refusals(program) if d.after] == ["ForgedRequest"] * 8


# --- 5 and 6. Malformed, oversized and deep bodies -----------------------------------------------


async def test_bodies_that_can_never_be_slack_get_4xx_not_500(
    sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    latin1 = "payload=caf\xe9".encode("latin-1")
    assert (await sender.post(latin1, content_type=FORM, signed=False)).status_code == 401
    assert (await sender.post(latin1, content_type=FORM)).status_code == 400  # signed, not UTF-8
    deep = b"[" * 100_000 + b"]" * 100_000
    assert (await sender.post(deep, content_type="application/json")).status_code == 400
    nested = urlencode_payload("[" * 100_000 + "]" * 100_000)
    assert (await sender.post(nested, content_type=FORM)).status_code == 400
    assert slack.calls == []


def urlencode_payload(text: str) -> bytes:
    from urllib.parse import quote

    return b"payload=" + quote(text).encode()


async def test_an_oversized_body_is_refused_while_it_streams(
    program: Database, slack: SlackStandIn
) -> None:
    app = build_app(make_settings(program, slack), db=program)
    server, task, base_url = await serve_over_http(app.asgi)

    async def endless() -> Any:  # 64 MiB offered in chunks; the server must not keep them
        for _ in range(1024):
            yield b"x" * 65536

    try:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: "
            + FORM.encode()
            + b"\r\nContent-Length: "
            + str(300 << 20).encode()
            + b"\r\n\r\n"
            + b"x" * 1024
        )
        await writer.drain()
        try:
            declared = await asyncio.wait_for(reader.readline(), timeout=5)
        finally:
            writer.close()
        tracemalloc.start()
        try:
            async with httpx.AsyncClient(base_url=base_url) as client:
                streamed = await client.post(
                    "/slack/events", content=endless(), headers={"Content-Type": FORM}
                )
            status = streamed.status_code
        except httpx.HTTPError:
            status = 413  # the server answered and closed the connection mid-upload
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        server.should_exit = server.force_exit = True
        await task
    assert declared.startswith(b"HTTP/1.1 413")  # answered at once, 300 MB never read
    assert status == 413 and peak < 8 << 20  # never more than the 1 MiB limit in memory


# --- 7. The registration retry key belongs to the submitter ---------------------------------------


async def test_someone_elses_view_id_is_not_taken_for_a_retry_of_theirs(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V0SHARED")
    sams = await register(
        sender,
        "U0SAM",
        "V0SHARED",
        customer_company="Globex",
        customer_domain="globex.example",
    )
    assert "Globex" in json.dumps(sams) and "Acme" not in json.dumps(sams)
    async with program.read() as session:
        customers = (await session.exec(select(DealRegistration.customer_company))).all()
    assert sorted(customers) == ["Acme Corp", "Globex"]


# --- 9. Identity: where the actor comes from ------------------------------------------------------


async def test_the_actor_comes_from_where_slack_puts_it_for_each_payload(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    action, deal_id = button_value(card.params["blocks"], "Approve")
    before = await state(program)
    # A click by Sam that also carries a slash command's top-level fields naming Mia.
    forged = {
        "type": "block_actions",
        "command": "/deals",
        "user_id": "U0MIA",
        "user": {"id": "U0SAM", "team_id": "T0TEST"},
        "team": {"id": "T0TEST"},
        "actions": [{"action_id": action, "value": deal_id, "type": "button"}],
        "response_url": sender.response_url,
        "container": {"type": "message", "channel_id": DESK, "message_ts": "1.0"},
    }
    body = ("payload=" + json.dumps(forged)).encode()
    answered = await sender.post(body, content_type=FORM)
    assert answered.status_code == 200 and "Mia" not in answered.text
    nobody = json.dumps({"type": "block_actions", "actions": [{"action_id": action}]})
    assert (await sender.post(("payload=" + nobody).encode(), content_type=FORM)).status_code == 400
    await bot.services.tasks.drain()
    assert await state(program) == before  # nothing was approved as Mia
    assert [d.actor for d in await refusals(program)] == ["slack:?@?"]


async def test_a_manager_cannot_act_from_another_workspace(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    before = await state(program)
    await sender.action(
        *button_value(card.params["blocks"], "Approve"), user="U0MIA", team="T0ELSE", channel=DESK
    )
    await bot.services.tasks.drain()
    assert await state(program) == before
    assert [d.after["why"] for d in await refusals(program) if d.after] == ["ForeignWorkspace"]


# --- 10. Ids and lengths -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\u0661", "\u00b2", "1e3", "-1", " 1", "99999999999", "0x1", ""])
async def test_ids_are_parsed_strictly(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database, value: str
) -> None:
    await register(sender, "U0NORA", "V1")
    await bot.services.tasks.drain()
    before = await state(program)
    response = await sender.action("deal_approve", value, user="U0MIA", channel=DESK)
    await bot.services.tasks.drain()
    assert response.status_code == 200
    assert await state(program) == before
    assert [d.after["why"] for d in await refusals(program) if d.after] == ["ForgedRequest"]


async def test_free_text_is_bounded_on_the_server(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    deal_id = button_value(card.params["blocks"], "Decline")[1]
    before = await state(program)
    long = {"reason": {"value": {"type": "plain_text_input", "value": "x" * 5000}}}
    response = await sender.submit_view(
        "decline_deal", long, user="U0MIA", private_metadata=json.dumps({"deal_id": int(deal_id)})
    )
    assert response.json() == {
        "response_action": "errors",
        "errors": {"reason": "Keep it under 2,000 characters."},
    }
    huge = await register(sender, "U0NORA", "V2", customer_domain="a." * 3000 + "example.com")
    assert huge["response_action"] == "errors" and "customer_domain" in huge["errors"]
    assert await state(program) == before
