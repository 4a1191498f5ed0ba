"""`partnerbot report training` and its weekly post: figures a channel manager can check by
hand on a small program, the JSON and PNG forms, and the chart reaching the report channel
exactly once a week — through a second run, a worker dying after the upload, or Slack failing
after it shared the file."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import col, select, update

from bot.app import PartnerBot, build_app
from bot.charts import render_png
from bot.demo.slack_standin import VALID_TOKEN, SlackStandIn
from bot.domain import audit, decisions, notifications, training
from bot.domain.people import revoke_person
from bot.domain.training_report import TrainingReport, training_report
from bot.worker import run_once
from crm.local import LocalCrm
from store.db import Database
from store.migrate import upgrade
from store.models import (
    Certification,
    Channel,
    DealRegistration,
    Notification,
    Partner,
    SentNudge,
    TrainingAttempt,
    TrainingModule,
)
from tests.conftest import make_settings, seed
from tests.domain.test_decisions import approve, person
from tests.domain.test_registration import FORM, register
from tests.harness.clock import NOW
from tests.test_cli import run

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
REPORTS = "C0REPORTS"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=NOW.tzinfo)  # ISO week 2026-W48 begins

# --- A small program whose figures are worked out by hand below -------------------------

PEOPLE = [  # partner, type, tier, region, email
    ("Alpha Resale", "reseller", "gold", "emea", "ann@alpha.example"),
    ("Alpha Resale", "reseller", "gold", "emea", "abe@alpha.example"),
    ("Alpha Resale", "reseller", "gold", "emea", "ava@alpha.example"),  # revoked
    ("Beta Referrals", "referral", "silver", "amer", "bea@beta.example"),
    ("Beta Referrals", "referral", "silver", "amer", "ben@beta.example"),
    ("Beta Referrals", "referral", "silver", "amer", "bo@beta.example"),
    ("Gamma Distribution", "distributor", "gold", "amer", "gus@gamma.example"),
    ("Delta Services", "implementation", "silver", "emea", "dot@delta.example"),
    ("Epsilon Resale", "reseller", "gold", "emea", "eve@epsilon.example"),  # leaves the program
]


def _rows() -> list[dict[str, str]]:
    rows = [
        {
            "partner": partner,
            "type": kind,
            "tier": tier,
            "region": region,
            "domains": email.split("@")[1],
            "name": email.split("@")[0].title(),
            "email": email,
            "role": "partner",
            "slack_user_id": "",
        }
        for partner, kind, tier, region, email in PEOPLE
    ]
    manager = dict.fromkeys(rows[0], "") | {
        "name": "Mia Manager",
        "email": "mia@vendor.example",
        "role": "manager",
    }
    return [*rows, manager]


async def _modules(db: Database) -> dict[str, TrainingModule]:
    """The catalogue: one module for everyone, one for technical partner types, one for
    resellers only, and one retired a month ago."""
    modules = {
        "sales": TrainingModule(slug="deal-registration-101", title="Deal registration 101",
                                learning_path="sales", certification="Certified Seller"),
        "tech": TrainingModule(slug="integration-201", title="Integration 201",
                               learning_path="technical", certification="Certified Engineer",
                               partner_types=["implementation", "distributor"]),
        "resale": TrainingModule(slug="resale-basics", title="Resale basics",
                                 learning_path="sales", partner_types=["reseller"]),
        "old": TrainingModule(slug="legacy-101", title="Legacy 101", learning_path="sales",
                              retired_at=NOW - 30 * DAY),
    }  # fmt: skip
    async with db.session() as session:
        for module in modules.values():
            module.content, module.updated_at = "…", NOW - 500 * DAY
            session.add(module)
    return modules


async def _attempt(
    db: Database, email: str, module: TrainingModule, at: datetime, *, passed: bool = True
) -> None:
    taker = await person(db, email)
    async with db.session() as session:
        session.add(
            TrainingAttempt(
                module_id=module.id or 0,
                person_id=taker.id or 0,
                channel="slack",
                score=1.0 if passed else 0.4,
                passed=passed,
                started_at=at - HOUR,
                completed_at=at,
            )
        )


async def _certify(db: Database, email: str, module: TrainingModule, at: datetime) -> int:
    holder = await person(db, email)
    async with db.session() as session:
        issued = await training.certify(
            session, person=holder, module=module, channel=Channel.SLACK, now=at
        )
    return issued.id or 0


async def _deal(
    db: Database,
    email: str,
    name: str,
    submitted: datetime,
    *,
    value: str = "1000",
    currency: str = "EUR",
    approved: datetime | None = None,
    declined: datetime | None = None,
) -> int:
    form = replace(
        FORM,
        customer_company=f"{name} Holdings",
        customer_domain=f"{name.lower()}-holdings.example",
        contact_email=f"cio@{name.lower()}-holdings.example",
        estimated_value=value,
        currency=currency,
        expected_close_date=(submitted + 60 * DAY).date().isoformat(),
    )
    deal = (await register(db, email, form, now=submitted)).deal
    mia = await person(db, "mia@vendor.example")
    if approved is not None:
        await approve(db, mia, deal.id or 0, now=approved)
    if declined is not None:
        async with db.session() as session:
            await decisions.decline(
                session, manager=mia, deal_id=deal.id or 0, reason="Direct account", now=declined
            )
    return deal.id or 0


async def seed_program(db: Database) -> None:
    """Four active partners (and one that left), their training and their registrations."""
    await seed(db, _rows(), now=NOW - 500 * DAY)
    modules = await _modules(db)
    sales, tech, resale, old = (modules[k] for k in ("sales", "tech", "resale", "old"))
    # Training. Completed: ann (resale, offered to resellers), ben, gus, dot. Not: abe
    # (failed), ava (revoked), bea (a module not offered to referral partners), bo (a retired
    # module, and a pass after `now`), eve (her company left).
    await _attempt(db, "ann@alpha.example", resale, NOW - 110 * DAY)
    await _attempt(db, "abe@alpha.example", sales, NOW - 20 * DAY, passed=False)
    await _attempt(db, "ava@alpha.example", sales, NOW - 50 * DAY)
    await _attempt(db, "bea@beta.example", tech, NOW - 30 * DAY)
    await _attempt(db, "ben@beta.example", sales, NOW - 400 * DAY)
    await _attempt(db, "bo@beta.example", old, NOW - 10 * DAY)
    await _attempt(db, "bo@beta.example", sales, NOW + 2 * HOUR)
    await _attempt(db, "gus@gamma.example", tech, NOW - 20 * DAY)
    await _attempt(db, "dot@delta.example", tech, NOW - 40 * DAY)
    await _attempt(db, "eve@epsilon.example", sales, NOW - 10 * DAY)
    # Certifications. Valid at `now`: Alpha's and Delta's. Beta's expired (and its next comes
    # after `now`), Gamma's was revoked.
    await _certify(db, "ann@alpha.example", sales, NOW - 100 * DAY)
    await _certify(db, "ben@beta.example", sales, NOW - 400 * DAY)
    await _certify(db, "bo@beta.example", sales, NOW + HOUR)
    gus_certificate = await _certify(db, "gus@gamma.example", tech, NOW - 20 * DAY)
    await _certify(db, "dot@delta.example", tech, NOW - 40 * DAY)
    await _certify(db, "eve@epsilon.example", sales, NOW - 10 * DAY)
    # Registrations: certified partners (Alpha, Delta) ...
    expired = await _deal(
        db, "ann@alpha.example", "Orchid", NOW - 120 * DAY, value="10000", approved=NOW - 119 * DAY
    )
    await _deal(
        db,
        "ann@alpha.example",
        "Quartz",
        NOW - 90 * DAY,
        value="20000",
        approved=NOW - 90 * DAY + 10 * HOUR,
    )
    await _deal(
        db, "ann@alpha.example", "Falcon", NOW - 50 * DAY, declined=NOW - 50 * DAY + 30 * HOUR
    )
    await _deal(db, "ann@alpha.example", "Juniper", NOW - 10 * DAY)
    await _deal(
        db,
        "dot@delta.example",
        "Marble",
        NOW - 10 * DAY,
        value="5000",
        currency="USD",
        approved=NOW - 10 * DAY + 2 * HOUR,
    )
    await _deal(db, "dot@delta.example", "Nimbus", NOW + DAY)
    # ... uncertified ones (Beta, Gamma) ...
    await _deal(
        db, "ben@beta.example", "Pioneer", NOW - 60 * DAY, value="7500.50", approved=NOW - 58 * DAY
    )
    await _deal(db, "ben@beta.example", "Saffron", NOW - 20 * DAY, declined=NOW - 17 * DAY)
    await _deal(db, "bea@beta.example", "Tundra", NOW - 5 * DAY)
    await _deal(
        db, "gus@gamma.example", "Velvet", NOW - 15 * DAY, declined=NOW - 15 * DAY + 12 * HOUR
    )
    await _deal(db, "gus@gamma.example", "Willow", NOW - DAY, approved=NOW + HOUR)
    # ... and the company that left.
    await _deal(db, "eve@epsilon.example", "Zephyr", NOW - 30 * DAY, approved=NOW - 29 * DAY)
    async with db.session() as session:
        await revoke_person(
            session, actor=audit.Actor.system("test"), email="ava@alpha.example", now=NOW - DAY
        )
        await session.exec(  # the expiry job's work: approved once, expired since
            update(DealRegistration)
            .where(col(DealRegistration.id) == expired)
            .values(status="expired")
        )
        await session.exec(
            update(Certification)
            .where(col(Certification.id) == gus_certificate)
            .values(revoked_at=NOW - DAY)
        )
        await session.exec(
            update(Partner).where(Partner.name == "Epsilon Resale").values(active=False)
        )


def group(
    name: str,
    people: int,
    done: int,
    pct: float | None,
    partners: int,
    certified: int,
    cert_pct: float | None,
) -> dict[str, Any]:
    return {
        "group": name,
        "people": people,
        "completed": done,
        "completion_percent": pct,
        "partners": partners,
        "certified": certified,
        "certification_percent": cert_pct,
    }


# Worked out by hand from the program above, as of NOW.
EXPECTED = {
    "at": "2026-11-21T12:00:00+00:00",
    "week": "2026-W47",
    # 7 partner people (ava revoked, Epsilon gone); ann, ben, gus, dot completed.
    # 4 partners; Alpha and Delta hold a valid certification.
    "overall": group("all", 7, 4, 57.1, 4, 2, 50.0),
    "by": {
        "type": [
            group("distributor", 1, 1, 100.0, 1, 0, 0.0),
            group("implementation", 1, 1, 100.0, 1, 1, 100.0),
            group("referral", 3, 1, 33.3, 1, 0, 0.0),
            group("reseller", 2, 1, 50.0, 1, 1, 100.0),
        ],
        "tier": [
            group("gold", 3, 2, 66.7, 2, 1, 50.0),
            group("silver", 4, 2, 50.0, 2, 1, 50.0),
        ],
        "region": [
            group("amer", 4, 2, 50.0, 2, 0, 0.0),
            group("emea", 3, 2, 66.7, 2, 2, 100.0),
        ],
    },
    # Alpha's 4 and Delta's 1 (its second comes after now); decided in 24, 10, 30 and 2 h.
    "certified": {
        "partners": 2,
        "registrations": 5,
        "decided": 4,
        "approved": 3,
        "approval_percent": 75.0,
        "approved_value": {"EUR": "30000.00", "USD": "5000.00"},
        "median_hours_to_decision": 17.0,
    },
    # Beta's 3 and Gamma's 2 (one approved only after now); decided in 48, 72 and 12 h.
    "uncertified": {
        "partners": 2,
        "registrations": 5,
        "decided": 3,
        "approved": 1,
        "approval_percent": 33.3,
        "approved_value": {"EUR": "7500.50"},
        "median_hours_to_decision": 48.0,
    },
    # Alpha 10 days, Beta 340, Delta 30; Gamma's deal is approved only after now.
    "first_certification_to_first_approved_deal": {"partners": 3, "median_days": 30.0},
}


@pytest.fixture
async def world(db: Database) -> Database:
    await seed_program(db)
    return db


async def report_at(db: Database, at: datetime) -> TrainingReport:
    async with db.read() as session:
        return await training_report(session, now=at)


async def test_the_report_gives_the_figures_worked_out_by_hand(world: Database) -> None:
    report = await report_at(world, NOW)
    assert report.to_json() == EXPECTED
    assert TrainingReport.from_json(json.loads(json.dumps(report.to_json()))) == report


async def test_the_report_is_as_of_its_moment(world: Database) -> None:
    later = (await report_at(world, NOW + 2 * HOUR)).to_json()
    # bo's pass and certification, and Gamma's approval, have happened by then.
    assert later["overall"] == group("all", 7, 5, 71.4, 4, 3, 75.0)
    assert later["certified"] == {
        "partners": 3,
        "registrations": 8,
        "decided": 6,
        "approved": 4,
        "approval_percent": 66.7,
        "approved_value": {"EUR": "37500.50", "USD": "5000.00"},
        "median_hours_to_decision": 27.0,
    }
    assert later["uncertified"] == {
        "partners": 1,
        "registrations": 2,
        "decided": 2,
        "approved": 1,
        "approval_percent": 50.0,
        "approved_value": {"EUR": "1000.00"},
        "median_hours_to_decision": 18.5,
    }
    assert later["first_certification_to_first_approved_deal"] == {
        "partners": 4,
        "median_days": 24.5,
    }


async def test_an_empty_program_reports_no_rates_rather_than_dividing_by_zero(
    db: Database,
) -> None:
    report = await report_at(db, NOW)
    assert report.to_json()["overall"] == group("all", 0, 0, None, 0, 0, None)
    assert report.certified.approval_percent is None
    png = render_png(report)
    assert png.startswith(PNG_SIGNATURE)


def test_the_chart_is_a_png_of_a_fixed_size_whatever_the_program() -> None:
    small = TrainingReport.from_json(EXPECTED)
    crowded = replace(
        small,
        groups=small.groups
        | {"region": [replace(small.groups["region"][0], group=f"r{n}$") for n in range(40)]},
    )
    drawn = [render_png(report) for report in (small, crowded, small)]
    for png in drawn:
        image = matplotlib.image.imread(io.BytesIO(png), format="png")
        assert png.startswith(PNG_SIGNATURE) and image.shape == (750, 1200, 4)
    assert drawn[0] == drawn[2]  # the same report, the same bytes


# --- The command line --------------------------------------------------------------------


async def test_report_training_prints_json_and_draws_the_chart(
    env: dict[str, str], tmp_path: Path
) -> None:
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    try:
        await upgrade(db)
        await seed_program(db)
    finally:
        await db.dispose()
    at = NOW.isoformat()
    printed = run(env, tmp_path, "report", "training", "--json", "--at", at)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == EXPECTED

    drawn = run(env, tmp_path, "report", "training", "--png", "chart.png", "--at", at)
    assert drawn.returncode == 0, drawn.stderr
    assert "Chart written to chart.png" in drawn.stdout
    assert "type: referral" in drawn.stdout and "region: emea" in drawn.stdout
    assert "EUR 30,000.00, USD 5,000.00" in drawn.stdout
    assert "median 30 days (3 partners)" in drawn.stdout
    png = (tmp_path / "chart.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert matplotlib.image.imread(tmp_path / "chart.png").shape == (750, 1200, 4)

    nowhere = run(env, tmp_path, "report", "training", "--png", "no/such/dir/c.png")
    assert nowhere.returncode == 2 and "--png: no such directory: no/such/dir" in nowhere.stderr


# --- The weekly post ---------------------------------------------------------------------


class Clock:
    """The moment the stand-in Slack stamps its messages with, moved along with the worker."""

    def __init__(self) -> None:
        self.at = MONDAY

    def __call__(self) -> float:
        return self.at.timestamp()


@pytest.fixture
async def worker_app(
    program: Database, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[PartnerBot, Clock]]:
    clock = Clock()
    monkeypatch.setattr(slack, "clock", clock)
    app = build_app(make_settings(program, slack, report_channel=REPORTS), db=program)
    await app.start()
    yield app, clock
    await app.services.tasks.drain()
    await app.services.slack_http.close()


async def once(app: PartnerBot, clock: Clock, at: datetime) -> Any:
    clock.at = at
    return await run_once(app.services, LocalCrm(app.services.db), at)


async def test_the_weekly_report_reaches_the_channel_once_a_week_as_a_chart(
    worker_app: tuple[PartnerBot, Clock], slack: SlackStandIn
) -> None:
    app, clock = worker_app
    assert (await once(app, clock, MONDAY - timedelta(minutes=1))).notifications.sent == 0
    first = await once(app, clock, MONDAY)
    assert [r.summary() for r in first.jobs if r.job == "training-report"] == [
        "training-report: 1 sent, 0 skipped"
    ]
    assert first.notifications.sent == 1
    for later in (MONDAY + 6 * HOUR, MONDAY + 2 * DAY):  # the worker runs on: nothing more
        assert (await once(app, clock, later)).notifications.sent == 0
    await once(app, clock, MONDAY + 7 * DAY + timedelta(minutes=5))

    files = slack.shared_files(REPORTS)
    assert [f["name"] for f in files] == [
        "training-report-2026-W48.png",
        "training-report-2026-W49.png",
    ]
    [asked, _] = slack.calls_to("files.getUploadURLExternal")
    assert int(asked.params["length"]) == len(files[0]["data"])
    assert files[0]["data"].startswith(PNG_SIGNATURE)
    assert files[0]["title"] == "Partner training report 2026-W48"
    assert files[0]["alt_txt"].startswith("Training report 2026-W48:")
    [post, _] = slack.history[REPORTS]
    assert post["text"].startswith(
        "Training report 2026-W48: 0% of partner people completed a module (0/2),"
        " 0% of partners are certified (0/2)."
    )
    assert slack.calls_to("chat.postMessage") == []


async def test_a_worker_that_dies_after_the_upload_does_not_post_it_twice(
    worker_app: tuple[PartnerBot, Clock],
    slack: SlackStandIn,
    program: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, clock = worker_app

    class Killed(BaseException):
        """The worker process dies between Slack's answer and recording it."""

    async def dies(*args: Any, **kwargs: Any) -> None:
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(notifications, "sent", dies)
        with pytest.raises(Killed):
            await once(app, clock, MONDAY)
    assert len(slack.shared_files(REPORTS)) == 1
    async with program.read() as session:
        [row] = (await session.exec(select(Notification))).all()
    assert row.status == "pending" and row.claimed_by is not None  # as the crash left it

    # Another worker, once the dead one's claim has run out.
    again = await once(app, clock, MONDAY + notifications.CLAIM_SECONDS * timedelta(seconds=1.5))
    assert again.notifications.sent == 1
    assert len(slack.shared_files(REPORTS)) == 1
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    async with program.read() as session:
        [row] = (await session.exec(select(Notification))).all()
    assert row.status == "sent" and row.slack_ts_channel == REPORTS and row.slack_ts


async def test_slack_failing_after_it_shared_the_file_is_not_posted_twice(
    worker_app: tuple[PartnerBot, Clock], slack: SlackStandIn, program: Database
) -> None:
    app, clock = worker_app
    slack.fail_after_sharing("fatal_error")
    first = await once(app, clock, MONDAY)
    assert (first.notifications.sent, first.notifications.retried) == (0, 1)
    async with program.read() as session:
        [row] = (await session.exec(select(Notification))).all()
    assert row.error == "Slack: fatal_error"
    retried = await once(app, clock, row.next_attempt_at)
    assert retried.notifications.sent == 1
    assert len(slack.shared_files(REPORTS)) == 1
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1


async def test_a_channel_slack_refuses_fails_for_good_with_slacks_answer(
    worker_app: tuple[PartnerBot, Clock], slack: SlackStandIn, program: Database
) -> None:
    app, clock = worker_app
    slack.fail("files.completeUploadExternal", "posting_to_channel_denied")
    report = await once(app, clock, MONDAY)
    assert (report.notifications.sent, report.notifications.failed) == (0, 1)
    async with program.read() as session:
        [row] = (await session.exec(select(Notification))).all()
    assert (row.status, row.error) == ("failed", "Slack: posting_to_channel_denied")
    assert slack.history[REPORTS] == []


async def test_nothing_is_posted_without_a_report_channel(
    program: Database, slack: SlackStandIn
) -> None:
    app = build_app(make_settings(program, slack), db=program)
    await app.start()
    try:
        report = await run_once(app.services, LocalCrm(program), MONDAY + HOUR)
    finally:
        await app.services.tasks.drain()
        await app.services.slack_http.close()
    assert [r.summary() for r in report.jobs if r.job == "training-report"] == [
        "training-report: 0 sent, 0 skipped"
    ]
    async with program.read() as session:
        assert (await session.exec(select(SentNudge))).all() == []
        assert (await session.exec(select(Notification))).all() == []
    assert slack.calls == []


# --- The stand-in refuses what Slack refuses ----------------------------------------------


async def test_the_slack_stand_in_refuses_uploads_slack_would_refuse(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token=VALID_TOKEN, base_url=slack.api_url)

    async def error_of(method: str, **params: Any) -> str:
        with pytest.raises(SlackApiError) as refused:
            await client.api_call(method, params=params)
        return str(refused.value.response["error"])

    assert await error_of("files.getUploadURLExternal", filename="a.png", length=0) == (
        "missing_argument"
    )
    assert await error_of("files.getUploadURLExternal", length=10) == "invalid_arguments"
    assert await error_of("files.getUploadURLExternal", filename="a.png") == "invalid_arguments"
    ticket = await client.files_getUploadURLExternal(filename="a.png", length=3)
    never_uploaded = json.dumps([{"id": ticket["file_id"], "title": "A"}])
    assert await error_of("files.completeUploadExternal", files=never_uploaded) == (
        "file_not_found"
    )
    unknown = json.dumps([{"id": "F0NOSUCH", "title": "A"}])
    assert await error_of("files.completeUploadExternal", files=unknown) == "file_not_found"
    assert await error_of("files.completeUploadExternal", files="[]") == "invalid_arguments"
    done = await client.files_upload_v2(
        channel="C0SOMEWHERE", file=b"abc", filename="a.png", title="A", initial_comment="hi"
    )
    assert done["files"] == [{"id": done["file"]["id"], "title": "A"}]
    assert [m["files"][0]["name"] for m in slack.history["C0SOMEWHERE"]] == ["a.png"]
    assert await error_of(
        "files.completeUploadExternal",
        files=json.dumps([{"id": done["file"]["id"]}]),
        channel_id="not-a-channel",
    ) == ("invalid_channel")
