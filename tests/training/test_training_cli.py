"""The admin's side from the command line: `program load|show`, `training load|list|invite`,
and re-certification rehearsed with `worker --once --at`."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.clock import system_clock
from bot.demo.slack_standin import VALID_TOKEN, SlackStandIn
from bot.domain import training
from bot.domain.access import find_by_email
from store.db import Database
from store.models import AuditEvent, Certification, Channel, Tier, TrainingAttempt
from tests.scheduler.test_worker_cli import CSV
from tests.test_cli import run

EXAMPLES = Path(__file__).parents[2] / "examples"
RIGHT = {1: 2, 2: 3, 3: 2, 4: 2, 5: 2}


def test_program_load_is_all_or_nothing_idempotent_and_shown(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "partners.csv").write_text(CSV)
    assert run(env, tmp_path, "partners", "import", "partners.csv").returncode == 0
    (tmp_path / "bad.yaml").write_text(
        "tiers:\n  - name: gold\n    protection_days: 90\n  - name: silver\n"
        "    protection_days: 30\n"
    )
    bad = run(env, tmp_path, "program", "load", "bad.yaml")
    assert bad.returncode == 1
    assert "bad.yaml:5: protection_days: must be between 60 and 90 (got 30)" in bad.stderr
    shown = json.loads(run(env, tmp_path, "program", "show", "--json").stdout)
    assert all(not tier["protection_days_set"] for tier in shown)  # gold was not loaded either

    loaded = run(env, tmp_path, "program", "load", str(EXAMPLES / "program.yaml"))
    assert loaded.returncode == 0, loaded.stderr
    assert "3 tier(s) created, 0 updated, 0 unchanged" in loaded.stdout
    again = run(env, tmp_path, "program", "load", str(EXAMPLES / "program.yaml"))
    assert "0 tier(s) created, 0 updated, 3 unchanged" in again.stdout
    shown = json.loads(run(env, tmp_path, "program", "show", "--json").stdout)
    by_name = {tier["name"]: tier for tier in shown}
    assert by_name["silver"]["protection_days"] == 60 and by_name["silver"]["partners"] == 1
    assert by_name["gold"]["certification_required"] is True
    assert by_name["registered"]["partners"] == 0
    table = run(env, tmp_path, "program", "show").stdout
    assert "gold" in table and "certification required" in table


async def test_training_catalogue_reload_keeps_history_and_invites_reach_slack(
    env: dict[str, str], tmp_path: Path, slack: SlackStandIn
) -> None:
    env = env | {"PARTNERBOT_PRODUCTS": "Core,Analytics,Enterprise"}
    (tmp_path / "partners.csv").write_text(CSV)
    assert run(env, tmp_path, "partners", "import", "partners.csv").returncode == 0
    catalogue = tmp_path / "catalogue"
    shutil.copytree(EXAMPLES / "training", catalogue)
    (catalogue / "broken.yaml").write_text("id: broken\ntitle: Broken\npath: sales\n")
    refused = run(env, tmp_path, "training", "load", "catalogue")
    assert refused.returncode == 1
    assert "catalogue/broken.yaml:1: content: is required" in refused.stderr
    assert "nothing was loaded" in refused.stderr
    assert json.loads(run(env, tmp_path, "training", "list", "--json").stdout) == []
    (catalogue / "broken.yaml").unlink()
    loaded = run(env, tmp_path, "training", "load", "catalogue")
    assert "3 module(s) created" in loaded.stdout, loaded.stderr
    listed = json.loads(run(env, tmp_path, "training", "list", "--json").stdout)
    assert [m["id"] for m in listed] == [
        "deal-registration-101",
        "platform-implementation",
        "support-essentials",
    ]
    assert listed[0]["certification"] == "Certified Seller" and listed[0]["products"] == [
        "Enterprise"
    ]

    # Sam passes; an edited, shrunk catalogue keeps his attempt and his certification.
    now = system_clock()
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    try:
        async with db.session() as session:
            sam = await find_by_email(session, "sam@southpaw.example")
            assert sam is not None
            seller = listed[0]
            module = await training.catalogue.find(session, seller["id"])
            assert module is not None
            await training.submit(
                session,
                person=sam,
                module_id=module.id or 0,
                answers=RIGHT,
                channel=Channel.SLACK,
                submission_key="cli-test",
                retry_wait=timedelta(minutes=10),
                now=now,
            )
    finally:
        await db.dispose()
    seller_file = catalogue / "deal-registration-101.yaml"
    seller_file.write_text(seller_file.read_text().replace("pass_mark: 80", "pass_mark: 60"))
    (catalogue / "support-essentials.yaml").unlink()
    reloaded = run(env, tmp_path, "training", "load", "catalogue")
    assert "0 module(s) created, 1 updated, 1 unchanged, 1 retired" in reloaded.stdout
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    try:
        async with db.read() as session:
            assert len((await session.exec(select(TrainingAttempt))).all()) == 1
            assert len((await session.exec(select(Certification))).all()) == 1
            actions = (await session.exec(select(AuditEvent.action))).all()
    finally:
        await db.dispose()
    assert {"training.module_updated", "training.module_retired"} <= set(actions)
    assert len(json.loads(run(env, tmp_path, "training", "list", "--json").stdout)) == 2

    # Invitations: by Slack a DM with `Start training`, once per person and version.
    slack_env = env | {
        "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_SLACK_SIGNING_SECRET": "secret",
        "PARTNERBOT_SLACK_API_URL": slack.api_url,
        "PARTNERBOT_QUIET_HOURS": "none",
    }
    invited = run(
        slack_env,
        tmp_path,
        "training",
        "invite",
        "deal-registration-101",
        "--types",
        "reseller,referral",
    )
    assert invited.returncode == 0, invited.stderr
    assert (
        "Invited 1 people to “Deal registration 101”: 1 by Slack, 0 by email; 1 passed it already"
        in invited.stdout
    )
    again = run(
        slack_env,
        tmp_path,
        "training",
        "invite",
        "deal-registration-101",
        "--partner",
        "Northwind Resellers",
    )
    assert "1 already invited" in again.stdout
    nobody = run(
        slack_env,
        tmp_path,
        "training",
        "invite",
        "platform-implementation",
        "--email",
        "sam@southpaw.example",
    )
    assert nobody.returncode == 1 and "offered to no one" in nobody.stderr
    both = run(slack_env, tmp_path, "training", "invite", "x", "--partner", "A", "--email", "b")
    assert both.returncode == 2
    sent = run(slack_env, tmp_path, "worker", "--once")
    assert "notifications: 1 sent" in sent.stdout, sent.stdout
    [dm] = slack.calls_to("chat.postMessage")
    assert dm.params["channel"] == "U0NORA" and "Start training" in json.dumps(dm.params)


async def test_worker_once_at_rehearses_recertification(
    env: dict[str, str], tmp_path: Path, slack: SlackStandIn
) -> None:
    env = env | {"PARTNERBOT_PRODUCTS": "Core,Analytics,Enterprise"}
    (tmp_path / "partners.csv").write_text(CSV)
    assert run(env, tmp_path, "partners", "import", "partners.csv").returncode == 0
    assert run(env, tmp_path, "program", "load", str(EXAMPLES / "program.yaml")).returncode == 0
    assert run(env, tmp_path, "training", "load", str(EXAMPLES / "training")).returncode == 0
    now = system_clock().replace(microsecond=0)
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    try:
        async with db.session() as session:
            nora = await find_by_email(session, "nora@northwind.example")
            module = await training.catalogue.find(session, "deal-registration-101")
            assert nora is not None and module is not None
            result = await training.submit(
                session,
                person=nora,
                module_id=module.id or 0,
                answers=RIGHT,
                channel=Channel.SLACK,
                submission_key="rehearsal",
                retry_wait=timedelta(minutes=10),
                now=now,
            )
            assert await session.get(Tier, "gold") is not None
    finally:
        await db.dispose()
    assert result.certification is not None
    expires = result.certification.expires_at
    slack_env = env | {
        "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_SLACK_SIGNING_SECRET": "secret",
        "PARTNERBOT_SLACK_API_URL": slack.api_url,
        "PARTNERBOT_QUIET_HOURS": "none",
    }

    def once(at: timedelta) -> str:
        moment = (expires + at).isoformat()
        result = run(slack_env, tmp_path, "worker", "--once", "--at", moment)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "certification-reminders: 0 sent" in once(-timedelta(days=31))
    assert "certification-reminders: 1 sent" in once(-timedelta(days=30))
    assert "certification-reminders: 0 sent" in once(-timedelta(days=29))
    assert "certification-reminders: 1 sent" in once(-timedelta(days=7))
    lapsed = once(timedelta(hours=1))
    assert "certification-expiry: 1 sent" in lapsed
    texts = [json.dumps(call.params) for call in slack.calls_to("chat.postMessage")]
    to_nora = [t for t in texts if '"channel": "U0NORA"' in t]
    assert len(to_nora) == 3 and all("Start training" in t for t in to_nora)
    [to_mia] = [t for t in texts if '"channel": "U0MIA"' in t]  # Northwind's channel manager
    assert "Certified Seller" in to_mia and "can no longer register Enterprise" in to_mia
