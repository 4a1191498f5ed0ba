"""Deal registration end to end: signed Slack requests in, the stand-in records what the bot sent."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.app import PartnerBot, build_app
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import SlackStandIn
from store.db import Database
from store.models import AuditEvent, DealRegistration, OutboxItem
from tests.conftest import make_settings

DESK = "C0DEALDESK"


@pytest.fixture
async def bot(program: Database, slack: SlackStandIn):  # this module: with a deal desk channel
    app = build_app(make_settings(program, slack, deal_desk_channel=DESK), db=program)
    await app.start()
    yield app
    await app.services.tasks.drain()
    await app.services.slack_http.close()


def form(**changes: Any) -> dict[str, dict[str, Any]]:
    """view.state.values as Slack sends them for the registration modal."""
    values = {
        "customer_company": "Acme Corp",
        "customer_domain": "https://www.acme.com",
        "contact_name": "Jane Doe",
        "contact_email": "jane@acme.com",
        "estimated_value": "25000",
        "notes": "Two demos done.",
    } | changes
    state = {
        name: {"value": {"type": "plain_text_input", "value": values[name]}}
        for name in (
            "customer_company",
            "customer_domain",
            "contact_name",
            "contact_email",
            "estimated_value",
            "notes",
        )
    }
    close = changes.get("expected_close_date", (date.today() + timedelta(days=45)).isoformat())
    state["expected_close_date"] = {"value": {"type": "datepicker", "selected_date": close}}
    state["currency"] = {"value": {"type": "static_select", "selected_option": {"value": "EUR"}}}
    state["motion"] = {"value": {"type": "static_select", "selected_option": {"value": "resale"}}}
    products = changes.get("products", ["Core"])
    state["products"] = {
        "value": {
            "type": "multi_static_select",
            "selected_options": [{"value": p} for p in products],
        }
    }
    return state


def texts(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def button_value(blocks: list[dict], text: str) -> tuple[str, str]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button" and element["text"]["text"] == text:
                return element["action_id"], element["value"]
    raise AssertionError(f"no {text!r} button in {texts(blocks)[:500]}")


async def register(sender: SlackSender, user: str, view_id: str, **changes: Any) -> dict:
    response = await sender.submit_view(
        "register_deal", form(**changes), user=user, view_id=view_id
    )
    assert response.status_code == 200
    return response.json()


async def test_register_deal_opens_the_modal_with_the_contract_labels(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    response = await sender.command("/register-deal", "acme.com", user="U0NORA")
    assert response.status_code == 200
    (opened,) = await slack.wait_for("views.open")
    view = opened.params["view"]
    labels = [block["label"]["text"] for block in view["blocks"] if block["type"] == "input"]
    assert labels == [
        "Customer company",
        "Customer domain",
        "Contact name",
        "Contact email",
        "Estimated value",
        "Currency",
        "Expected close date",
        "Products",
        "Motion",
        "Notes",
    ]
    domain = next(b for b in view["blocks"] if b.get("block_id") == "customer_domain")
    assert domain["element"]["initial_value"] == "acme.com"
    products = next(b for b in view["blocks"] if b.get("block_id") == "products")
    assert [o["value"] for o in products["element"]["options"]] == ["Core", "Analytics"]


async def test_the_shortcut_and_the_home_button_open_the_same_modal(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    assert (await sender.shortcut("register_deal", user="U0NORA")).status_code == 200
    await sender.event(
        {"type": "app_home_opened", "user": "U0NORA", "channel": "D0NORA", "tab": "home"}
    )
    (home,) = await slack.wait_for("views.publish")
    await sender.action(
        *button_value(home.params["view"]["blocks"], "Register a deal"),
        user="U0NORA",
        view={"id": "VHOME"},
    )
    opened = await slack.wait_for("views.open", count=2)
    assert [call.params["view"]["callback_id"] for call in opened] == [
        "register_deal",
        "register_deal",
    ]


async def test_a_manager_cannot_open_the_registration_modal(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    answer = (await sender.command("/register-deal", user="U0MIA")).json()
    assert "Only a partner" in answer["text"]
    assert slack.calls_to("views.open") == []


async def test_invalid_fields_are_shown_inline_and_nothing_is_stored(
    sender: SlackSender, program: Database
) -> None:
    answer = await register(
        sender,
        "U0NORA",
        "V1",
        customer_domain="gmail.com",
        estimated_value="-3",
        expected_close_date="2020-01-01",
        contact_email="nope",
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {
        "customer_domain",
        "estimated_value",
        "expected_close_date",
        "contact_email",
    }
    async with program.read() as session:
        assert (await session.exec(select(DealRegistration))).all() == []


async def test_the_whole_flow_register_conflict_approve_protect_extend(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    # Nora registers a free customer: clear, pending approval, card on the deal desk.
    result = await register(sender, "U0NORA", "V1")
    assert result["response_action"] == "update"
    assert "Registered — pending approval" in texts(result["view"])
    (card,) = await slack.wait_for("chat.postMessage")
    assert card.params["channel"] == DESK
    assert "Acme Corp" in texts(card.params["blocks"]) and "no_match" in texts(
        card.params["blocks"]
    )
    approve = button_value(card.params["blocks"], "Approve")
    assert button_value(card.params["blocks"], "Decline") and button_value(
        card.params["blocks"], "Request info"
    )

    # A retry of the same submission (same view id) creates nothing new.
    await register(sender, "U0NORA", "V1")
    await bot.services.tasks.drain()
    assert len(slack.calls_to("chat.postMessage")) == 1

    # Sam registers the same customer under another spelling: a conflict, nobody named.
    conflict = await register(
        sender, "U0SAM", "V2", customer_company="ACME Corporation", customer_domain="sales@acme.com"
    )
    shown = texts(conflict["view"])
    assert "Potential conflict — a channel manager will review" in shown
    assert "Northwind" not in shown and "Nora" not in shown
    cards = await slack.wait_for("chat.postMessage", count=2)
    manager_view = texts(cards[1].params["blocks"])
    assert "first_registration_wins" in manager_view and "Northwind Resellers" in manager_view

    # Mia approves Nora's from the card: updated in place, Nora told, CRM write queued.
    slack.calls.clear()
    response = await sender.action(*approve, user="U0MIA", channel=DESK)
    assert response.status_code == 200
    (updated,) = await slack.wait_for("chat.update")
    assert "Approved* by Mia Manager" in texts(updated.params["blocks"])
    assert "button" not in texts(updated.params["blocks"])
    dm = (await slack.wait_for("chat.postMessage"))[0]
    assert "approved" in dm.params["text"] and dm.params["channel"] == "U0NORA"
    # Nora's App Home is republished at once, with the protection expiry and Request extension.
    (home,) = await slack.wait_for("views.publish")
    assert home.params["user_id"] == "U0NORA"
    async with program.read() as session:
        queued = (await session.exec(select(OutboxItem.kind))).all()
    assert sorted(queued) == ["add_note", "upsert_deal"]

    # A second click is told who decided.
    await bot.services.tasks.drain()
    slack.calls.clear()
    await sender.action(*approve, user="U0MIA", channel=DESK)
    (told,) = await slack.wait_for("response_url")
    assert "Already approved by Mia Manager" in told.params["text"]

    home_blocks = home.params["view"]["blocks"]
    assert "Protected until" in texts(home_blocks)
    extension = button_value(home_blocks, "Request extension")

    # She asks for 30 more days; Mia approves; protection grows.
    async with program.read() as session:
        deal = (
            await session.exec(
                select(DealRegistration).where(DealRegistration.customer_company == "Acme Corp")
            )
        ).one()
    before = deal.protection_expires_at
    await sender.action(*extension, user="U0NORA", channel=None)
    (opened,) = await slack.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "request_extension"
    days = {
        "days": {"value": {"type": "static_select", "selected_option": {"value": "30"}}},
        "reason": {"value": {"type": "plain_text_input", "value": "Procurement slipped"}},
    }
    asked = await sender.submit_view(
        "request_extension",
        days,
        user="U0NORA",
        private_metadata=opened.params["view"]["private_metadata"],
    )
    assert asked.json()["response_action"] == "update"
    (ext_card,) = await slack.wait_for("chat.postMessage")
    assert "30 days" in texts(ext_card.params["blocks"])
    slack.calls.clear()
    await sender.action(
        *button_value(ext_card.params["blocks"], "Approve"), user="U0MIA", channel=DESK
    )
    await slack.wait_for("chat.update")
    await bot.services.tasks.drain()
    async with program.read() as session:
        extended = await session.get(DealRegistration, deal.id)
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert extended is not None and before is not None
    assert extended.protection_expires_at == before + timedelta(days=30)
    for action in (
        "deal.registered",
        "deal.approved",
        "deal.extension_requested",
        "deal.extension_approved",
    ):
        assert action in actions


async def test_a_forged_approval_from_a_partner_changes_nothing_and_is_audited(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    await sender.action(*button_value(card.params["blocks"], "Approve"), user="U0SAM", channel=DESK)
    (refusal,) = await slack.wait_for("response_url")
    assert "Only a channel manager or admin" in refusal.params["text"]
    await bot.services.tasks.drain()
    assert slack.calls_to("chat.update") == []
    async with program.read() as session:
        deal = (await session.exec(select(DealRegistration))).one()
        denied = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "access.denied"))
        ).all()
    assert deal.status == "pending" and len(denied) == 1


async def test_decline_asks_for_a_reason_and_tells_the_partner(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    await sender.action(*button_value(card.params["blocks"], "Decline"), user="U0MIA", channel=DESK)
    (opened,) = await slack.wait_for("views.open")
    metadata = opened.params["view"]["private_metadata"]
    empty = await sender.submit_view(
        "decline_deal",
        {"reason": {"value": {"type": "plain_text_input", "value": ""}}},
        user="U0MIA",
        private_metadata=metadata,
    )
    assert empty.json() == {
        "response_action": "errors",
        "errors": {"reason": "Give the partner a reason."},
    }
    reason = {
        "reason": {
            "value": {"type": "plain_text_input", "value": "Direct sales already closing this"}
        }
    }
    assert (
        await sender.submit_view("decline_deal", reason, user="U0MIA", private_metadata=metadata)
    ).status_code == 200
    (updated,) = await slack.wait_for("chat.update")
    assert "Declined* by Mia Manager: Direct sales already closing this" in texts(
        updated.params["blocks"]
    )
    dms = await slack.wait_for("chat.postMessage", count=2)
    assert "declined: Direct sales already closing this" in dms[1].params["text"]


async def test_request_info_reaches_the_partner_and_the_answer_reaches_the_manager(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    (card,) = await slack.wait_for("chat.postMessage")
    await bot.services.tasks.drain()  # the card's location is stored after posting
    await sender.action(
        *button_value(card.params["blocks"], "Request info"), user="U0MIA", channel=DESK
    )
    (opened,) = await slack.wait_for("views.open")
    question = {
        "question": {"value": {"type": "plain_text_input", "value": "Is the budget approved?"}}
    }
    await sender.submit_view(
        "request_info",
        question,
        user="U0MIA",
        private_metadata=opened.params["view"]["private_metadata"],
    )
    posts = await slack.wait_for(
        "chat.postMessage", count=3
    )  # card, DM to Nora, thread on the card
    dm = next(p for p in posts if p.params["channel"] == "U0NORA")
    assert "Is the budget approved?" in texts(dm.params["blocks"])
    answer_button = button_value(dm.params["blocks"], "Answer")
    await sender.action(*answer_button, user="U0NORA", channel="D0NORA")
    answer_view = (await slack.wait_for("views.open", count=2))[1].params["view"]
    reply = {
        "answer": {"value": {"type": "plain_text_input", "value": "Yes, signed off by the CFO"}}
    }
    await sender.submit_view(
        "answer_question", reply, user="U0NORA", private_metadata=answer_view["private_metadata"]
    )
    posts = await slack.wait_for("chat.postMessage", count=5)  # + thread on the card, + DM to Mia
    assert any(
        "Yes, signed off by the CFO" in p.params["text"] and p.params["channel"] == "U0MIA"
        for p in posts
    )
    async with program.read() as session:
        assert (await session.exec(select(DealRegistration.status))).one() == "pending"


async def test_manager_home_shows_the_queue_against_the_sla(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    await register(sender, "U0NORA", "V1")
    await bot.services.tasks.drain()
    slack.calls.clear()
    await sender.event(
        {"type": "app_home_opened", "user": "U0MIA", "channel": "D0MIA", "tab": "home"}
    )
    (home,) = await slack.wait_for("views.publish")
    shown = texts(home.params["view"]["blocks"])
    assert "Waiting for a decision" in shown and "Acme Corp" in shown and "h old" in shown


async def test_withdraw_from_deals(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    await register(sender, "U0NORA", "V1")
    listing = (await sender.command("/deals", user="U0NORA")).json()["blocks"]
    await sender.action(*button_value(listing, "Withdraw"), user="U0NORA")
    (told,) = await slack.wait_for("response_url")
    assert "Withdrawn: Acme Corp" in told.params["text"]
    async with program.read() as session:
        assert (await session.exec(select(DealRegistration.status))).one() == "withdrawn"


async def test_a_manager_teaches_the_matcher_from_the_card(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, program: Database
) -> None:
    # Nora's registration is clear: its card offers `Same customer`, not the opposite.
    await register(sender, "U0NORA", "V1")
    (nora_card,) = await slack.wait_for("chat.postMessage")
    assert button_value(nora_card.params["blocks"], "Same customer")
    assert "Not the same customer" not in texts(nora_card.params["blocks"])

    # Sam's "Acme Corporation" on another domain is taken for Nora's customer, with the why.
    await register(
        sender,
        "U0SAM",
        "V2",
        customer_company="Acme Corporation",
        customer_domain="acme-industrial.com",
        contact_email="jo@acme-industrial.com",
    )
    sam_card = (await slack.wait_for("chat.postMessage", count=2))[1]
    shown = texts(sam_card.params["blocks"])
    assert "Conflict" in shown and "on the distinctive words" in shown
    await bot.services.tasks.drain()
    async with program.read() as session:
        placed = await session.get(DealRegistration, 2)
    assert placed is not None and placed.slack_card_ts
    card_ts = placed.slack_card_ts

    # Mia says they are different companies: the card turns clear, in place, and says who.
    slack.calls.clear()
    await sender.action(
        *button_value(sam_card.params["blocks"], "Not the same customer"),
        user="U0MIA",
        channel=DESK,
        message_ts=card_ts,
    )
    (opened,) = await slack.wait_for("views.open")
    modal = opened.params["view"]
    assert modal["callback_id"] == "customer_not_same"
    boxes = next(b for b in modal["blocks"] if b.get("block_id") == "records")["element"]
    assert [o["text"]["text"] for o in boxes["initial_options"]] == [
        "Acme Corp (Northwind Resellers, pending)"
    ]
    ticked = {"records": {"value": {"type": "checkboxes", "selected_options": boxes["options"]}}}
    answer = await sender.submit_view(
        "customer_not_same",
        ticked,
        user="U0MIA",
        private_metadata=modal["private_metadata"],
    )
    assert answer.status_code == 200 and not answer.content
    (updated,) = await slack.wait_for("chat.update")
    assert updated.params["ts"] == card_ts
    now_shown = texts(updated.params["blocks"])
    assert "Clear" in now_shown and "no_match" in now_shown
    assert button_value(updated.params["blocks"], "Same customer")
    (line,) = await slack.wait_for("chat.postMessage")
    assert line.params["thread_ts"] == card_ts
    assert "Mia Manager marked 1 record as a different company" in line.params["text"]

    # A partner cannot do it, and a typed domain nobody holds is answered inline.
    slack.calls.clear()
    await sender.action(
        *button_value(updated.params["blocks"], "Same customer"), user="U0SAM", channel=DESK
    )
    (refusal,) = await slack.wait_for("response_url")
    assert "Only a channel manager or admin" in refusal.params["text"]
    await sender.action(
        *button_value(updated.params["blocks"], "Same customer"),
        user="U0MIA",
        channel=DESK,
        message_ts=card_ts,
    )
    (opened,) = await slack.wait_for("views.open")
    modal = opened.params["view"]
    assert modal["callback_id"] == "customer_same"
    select_ = next(b for b in modal["blocks"] if b.get("block_id") == "records")["element"]
    assert [o["value"] for o in select_["options"]] == ["registration:1"]
    nowhere = {"other": {"value": {"type": "plain_text_input", "value": "nobody-here.com"}}}
    refused = await sender.submit_view(
        "customer_same", nowhere, user="U0MIA", private_metadata=modal["private_metadata"]
    )
    assert refused.json()["response_action"] == "errors"
    assert "nobody-here.com" in refused.json()["errors"]["other"]

    # Mia changes her mind: the same customer after all, named by its domain.
    slack.calls.clear()
    acme = {"other": {"value": {"type": "plain_text_input", "value": "https://www.acme.com"}}}
    await sender.submit_view(
        "customer_same", acme, user="U0MIA", private_metadata=modal["private_metadata"]
    )
    (flagged,) = await slack.wait_for("chat.update")
    assert "a manager marked them the same customer" in texts(flagged.params["blocks"])
    assert button_value(flagged.params["blocks"], "Not the same customer")
    async with program.read() as session:
        actions = (await session.exec(select(AuditEvent.action))).all()
        sam_deal = await session.get(DealRegistration, 2)
    assert actions.count("customer.not_same") == 1 and actions.count("customer.same") == 1
    assert sam_deal is not None and sam_deal.conflict_verdict == "conflict"
