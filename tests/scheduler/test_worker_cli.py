"""`partnerbot worker --once --at …` rehearses a program's next months from the command line,
and `partnerbot report sla` shows what waits and what was late."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.clock import system_clock
from bot.demo.slack_standin import VALID_TOKEN, SlackStandIn
from store.db import Database
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import FORM, register
from tests.test_cli import run

CSV = (
    "partner,type,tier,region,domains,name,email,role,slack_user_id,channel_manager\n"
    ",,,,,Mia Manager,mia@vendor.example,manager,U0MIA,\n"
    "Northwind Resellers,reseller,gold,emea,northwind.example,Nora North,"
    "nora@northwind.example,partner,U0NORA,mia@vendor.example\n"
    "Southpaw Referrals,referral,silver,amer,southpaw.example,Sam South,"
    "sam@southpaw.example,partner,U0SAM,\n"
)


async def test_worker_once_at_rehearses_reminders_expiry_and_escalations(
    env: dict[str, str], tmp_path: Path, slack: SlackStandIn
) -> None:
    (tmp_path / "partners.csv").write_text(CSV)
    assert run(env, tmp_path, "partners", "import", "partners.csv").returncode == 0
    now = system_clock().replace(microsecond=0)
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    try:
        form = replace(FORM, expected_close_date=(now + timedelta(days=60)).date().isoformat())
        deal = (await register(db, "nora@northwind.example", form, now=now)).deal
        await approve(db, await person(db, "mia@vendor.example"), deal.id or 0, now=now)
        globex = replace(form, customer_company="Globex", customer_domain="globex.example")
        await register(db, "sam@southpaw.example", globex, now=now)
    finally:
        await db.dispose()
    slack_env = env | {
        "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_SLACK_SIGNING_SECRET": "secret",
        "PARTNERBOT_SLACK_API_URL": slack.api_url,
        "PARTNERBOT_DEAL_DESK_CHANNEL": "C0DESK",
        "PARTNERBOT_QUIET_HOURS": "none",
    }

    def once(at: timedelta) -> str:
        result = run(slack_env, tmp_path, "worker", "--once", "--at", (now + at).isoformat())
        assert result.returncode == 0, result.stderr
        return result.stdout

    one_day = once(timedelta(hours=25))
    assert "approval-sla-reminders: 1 sent, 0 skipped" in one_day
    assert "notifications: 1 sent" in one_day
    two_days = once(timedelta(hours=49))
    assert "approval-sla-escalations: 1 sent" in two_days
    assert "approval-sla-reminders: 0 sent, 0 skipped" in two_days  # nothing twice
    assert "protection-expiry-reminders: 1 sent" in once(timedelta(days=83, hours=1))
    expired = once(timedelta(days=90, hours=1))
    assert "protection-expiry: 2 sent, 0 skipped, 1 changed" in expired
    assert "crm outbox: 2 delivered" in expired  # the deal's new status and its note
    texts = [call.params["text"] for call in slack.calls_to("chat.postMessage")]
    assert any("past their approval SLA" in text for text in texts)
    assert any("Protection for *Acme Corp.* ends" in text for text in texts)
    assert any("has ended" in text for text in texts)

    at = (now + timedelta(hours=60)).isoformat()
    sla = json.loads(run(env, tmp_path, "report", "sla", "--json", "--at", at).stdout)
    assert [item["customer"] for item in sla["pending"]] == ["Globex"]
    assert sla["pending"][0]["breached"] is True
    assert [breach["customer"] for breach in sla["breaches"]] == ["Globex"]


def test_at_needs_once_and_a_time(env: dict[str, str], tmp_path: Path) -> None:
    alone = run(env, tmp_path, "worker", "--at", "2027-01-01")
    assert alone.returncode == 2 and "--at goes with --once" in alone.stderr
    bad = run(env, tmp_path, "worker", "--once", "--at", "next tuesday")
    assert bad.returncode == 2 and "ISO-8601" in bad.stderr
