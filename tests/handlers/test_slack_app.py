"""The Slack app end to end: signed requests in, Slack Web API calls out (to the stand-in)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import httpx

from bot.app import PartnerBot
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import SlackStandIn
from bot.domain import audit, people
from store.db import Database
from tests.harness.clock import NOW
from tests.harness.data import add_registrations


async def add_deals(db: Database, partner_name: str, count: int) -> None:
    """Registrations stored directly (the registration flow itself is another feature)."""
    async with db.session() as session:
        await add_registrations(session, partner_name, count)


def text_of(blocks: list[dict]) -> str:
    return json.dumps(blocks)


# --- /deals --------------------------------------------------------------------------------


async def test_a_partner_sees_only_their_own_companys_deals_and_no_pricing(
    sender: SlackSender, program: Database
) -> None:
    await add_deals(program, "Northwind Resellers", 2)
    await add_deals(program, "Southpaw Referrals", 1)
    response = await sender.command("/deals", user="U0NORA")
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer["blocks"])
    assert "Northwind Customer 0" in shown and "Northwind Customer 1" in shown
    assert "Southpaw" not in shown
    for secret in ("125000", "secret pricing", "pat@c.example"):
        assert secret not in shown


async def test_a_manager_sees_every_partners_deals_with_the_partner_named(
    sender: SlackSender, program: Database
) -> None:
    await add_deals(program, "Northwind Resellers", 1)
    await add_deals(program, "Southpaw Referrals", 1)
    shown = text_of((await sender.command("/deals", user="U0MIA")).json()["blocks"])
    assert "Northwind Resellers" in shown and "Southpaw Referrals" in shown


async def test_many_deals_are_paged_within_slacks_limits(
    sender: SlackSender, program: Database, slack: SlackStandIn
) -> None:
    await add_deals(program, "Northwind Resellers", 25)
    first = (await sender.command("/deals", user="U0NORA")).json()["blocks"]
    assert len(first) <= 50
    assert "1 to 10 of 25" in text_of(first)
    next_button = next(
        element
        for block in first
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == "Next"
    )
    response = await sender.action(next_button["action_id"], next_button["value"], user="U0NORA")
    assert response.status_code == 200
    (page_two,) = await slack.wait_for("response_url")
    assert page_two.params["replace_original"] is True
    assert "11 to 20 of 25" in text_of(page_two.params["blocks"])


# --- identity and access ---------------------------------------------------------------------


async def test_an_unknown_user_is_told_how_to_get_access_and_sees_nothing(
    sender: SlackSender, program: Database, slack: SlackStandIn
) -> None:
    await add_deals(program, "Northwind Resellers", 1)
    slack.add_user("U0STRANGER", "someone@elsewhere.example")
    answer = (await sender.command("/deals", user="U0STRANGER")).json()
    assert answer["response_type"] == "ephemeral"
    assert "doesn't know you yet" in answer["text"] and "channel manager" in answer["text"]
    assert "blocks" not in answer and "Northwind" not in json.dumps(answer)
    assert [call.params["user"] for call in slack.calls_to("users.info")] == ["U0STRANGER"]


async def test_a_new_colleague_at_a_partner_domain_gets_in_on_first_use(
    sender: SlackSender, program: Database, slack: SlackStandIn
) -> None:
    await add_deals(program, "Northwind Resellers", 1)
    slack.add_user("U0NEWBIE", "newbie@northwind.example", name="New Bie")
    shown = text_of((await sender.command("/deals", user="U0NEWBIE")).json()["blocks"])
    assert "Northwind Customer 0" in shown


async def test_a_revoked_user_is_refused_on_the_very_next_request(
    sender: SlackSender, program: Database
) -> None:
    assert "blocks" in (await sender.command("/deals", user="U0NORA")).json()
    async with program.session() as session:
        await people.revoke_person(
            session, actor=audit.Actor.system("t"), email="nora@northwind.example", now=NOW
        )
    answer = (await sender.command("/deals", user="U0NORA")).json()
    assert "revoked" in answer["text"] and "blocks" not in answer


async def test_a_refused_button_click_gets_an_ephemeral_answer(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    response = await sender.action("deals_page:next", "10", user="U0NOBODY")
    assert response.status_code == 200
    (reply,) = await slack.wait_for("response_url")
    assert (
        reply.params["response_type"] == "ephemeral" and "doesn't know you" in reply.params["text"]
    )


async def test_a_refused_shortcut_opens_a_modal_saying_why(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    assert (await sender.shortcut("register_deal", user="U0NOBODY")).status_code == 200
    (opened,) = await slack.wait_for("views.open")
    assert "doesn't know you" in json.dumps(opened.params["view"])


async def test_a_refused_view_submission_replaces_the_modal_with_the_reason(
    sender: SlackSender,
) -> None:
    answer = (await sender.submit_view("anything", {}, user="U0NOBODY")).json()
    assert answer["response_action"] == "update"
    assert "doesn't know you" in json.dumps(answer["view"])


# --- App Home and events ----------------------------------------------------------------------


async def test_app_home_shows_each_person_their_own_view(
    sender: SlackSender, program: Database, slack: SlackStandIn
) -> None:
    await add_deals(program, "Southpaw Referrals", 1)
    response = await sender.event(
        {"type": "app_home_opened", "user": "U0SAM", "channel": "D0SAM", "tab": "home"}
    )
    assert response.status_code == 200
    (published,) = await slack.wait_for("views.publish")
    assert published.params["user_id"] == "U0SAM" and published.token == "xoxb-test-token"
    shown = json.dumps(published.params["view"])
    assert "Sam South" in shown and "Southpaw Customer 0" in shown


async def test_app_home_for_a_stranger_says_how_to_get_access(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    await sender.event(
        {"type": "app_home_opened", "user": "U0WHO", "channel": "D0WHO", "tab": "home"}
    )
    (published,) = await slack.wait_for("views.publish")
    assert "doesn't know you yet" in json.dumps(published.params["view"])


async def test_a_slack_retry_of_an_event_does_nothing_twice(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    event = {"type": "app_home_opened", "user": "U0NORA", "channel": "D0NORA", "tab": "home"}
    assert (await sender.event(event, event_id="Ev0SAME")).status_code == 200
    assert (await sender.event(event, event_id="Ev0SAME", retry_num=1)).status_code == 200
    await bot.services.tasks.drain()
    assert len(slack.calls_to("views.publish")) == 1


async def test_a_rate_limited_slack_call_is_retried_after_retry_after(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    slack.rate_limit("views.publish", retry_after=1)
    started = time.monotonic()
    await sender.event(
        {"type": "app_home_opened", "user": "U0NORA", "channel": "D0NORA", "tab": "home"}
    )
    calls = await slack.wait_for("views.publish", count=2)
    assert calls[1].at - calls[0].at >= 0.9
    assert time.monotonic() - started < 5


# --- Bad requests ------------------------------------------------------------------------------


async def test_bad_and_stale_signatures_are_rejected_and_touch_nothing(
    sender: SlackSender, slack: SlackStandIn
) -> None:
    body = urlencode({"command": "/deals", "user_id": "U0NORA", "team_id": "T0TEST"}).encode()
    form = "application/x-www-form-urlencoded"
    unsigned = await sender.post(body, content_type=form, signed=False)
    forged = await sender.post(
        body, content_type=form, headers={"X-Slack-Signature": "v0=" + "0" * 64}
    )
    stale = await sender.post(body, content_type=form, timestamp=int(time.time()) - 6 * 60)
    assert [r.status_code for r in (unsigned, forged, stale)] == [401, 401, 401]
    assert slack.calls == []


async def test_malformed_and_unknown_payloads_get_a_4xx_not_a_500(sender: SlackSender) -> None:
    form = "application/x-www-form-urlencoded"
    broken = await sender.post(b"payload=%7Bnot-json", content_type=form)
    not_object = await sender.post(urlencode({"payload": "[1, 2]"}).encode(), content_type=form)
    unknown = await sender.post(
        json.dumps({"type": "mystery"}).encode(), content_type="application/json"
    )
    assert broken.status_code == 400 and not_object.status_code == 400
    assert 400 <= unknown.status_code < 500


# --- Over real HTTP, in production mode ---------------------------------------------------------


async def test_over_real_http_a_command_is_acknowledged_with_the_answer(
    http_sender: SlackSender, program: Database
) -> None:
    await add_deals(program, "Northwind Resellers", 1)
    started = time.monotonic()
    response = await http_sender.command("/deals", user="U0NORA")
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    assert "Northwind Customer 0" in text_of(response.json()["blocks"])


# --- Health and metrics -----------------------------------------------------------------------


async def test_healthz_reports_the_database_and_metrics_count_listeners(
    bot: PartnerBot, sender: SlackSender
) -> None:
    await sender.command("/deals", user="U0NORA")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bot.asgi), base_url="http://t"
    ) as client:
        health = await client.get("/healthz")
        metrics = await client.get("/metrics")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        'partnerbot_slack_requests_total{listener="command:/deals",outcome="200"} 1.0'
        in metrics.text
    )
    assert 'partnerbot_slack_ack_seconds_count{listener="command:/deals"} 1.0' in metrics.text


async def test_healthz_is_503_when_the_database_is_unreachable(slack: SlackStandIn) -> None:
    from bot.app import build_app
    from tests.conftest import make_settings

    broken = Database("postgresql://nobody@127.0.0.1:1/none")
    app = build_app(make_settings(broken, slack), db=broken)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app.asgi), base_url="http://t"
    ) as client:
        health = await client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "unhealthy"
    await broken.dispose()


async def test_without_slack_credentials_slack_events_says_what_to_set(sqlite_db: Database) -> None:
    from bot.app import build_app
    from bot.settings import load_settings

    app = build_app(load_settings(database_url=sqlite_db.url), db=sqlite_db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app.asgi), base_url="http://t"
    ) as client:
        events = await client.post("/slack/events", content=b"{}")
        health = await client.get("/healthz")
    assert events.status_code == 503
    assert "PARTNERBOT_SLACK_BOT_TOKEN" in events.json()["set"]
    assert health.status_code == 200 and health.json()["slack"] is False


# --- When Slack itself misbehaves ------------------------------------------------------------


async def test_a_slow_slack_never_delays_the_ack(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn
) -> None:
    slack.slow("views.publish", 2.0)
    started = time.monotonic()
    response = await sender.event(
        {"type": "app_home_opened", "user": "U0NORA", "channel": "D0NORA", "tab": "home"}
    )
    assert response.status_code == 200
    assert time.monotonic() - started < 1.0
    await bot.services.tasks.drain()
    assert len(slack.calls_to("views.publish")) == 1


async def test_a_slack_error_is_logged_and_the_request_still_answered(
    bot: PartnerBot, sender: SlackSender, slack: SlackStandIn, caplog
) -> None:
    slack.fail("views.publish", "invalid_blocks")
    response = await sender.event(
        {"type": "app_home_opened", "user": "U0NORA", "channel": "D0NORA", "tab": "home"}
    )
    assert response.status_code == 200
    await bot.services.tasks.drain()
    assert any(
        "app-home" in record.getMessage() and record.levelname == "ERROR"
        for record in caplog.records
    )
