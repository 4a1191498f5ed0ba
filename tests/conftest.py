"""Shared fixtures: real databases (SQLite and PostgreSQL), the Slack stand-in, the app
served in-process and over real HTTP, Dovecot and an SMTP server."""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import trustme
import uvicorn
from sqlalchemy import text

from bot.app import PartnerBot, build_app
from bot.demo.net import free_port
from bot.demo.slack_requests import SIGNING_SECRET, SlackSender
from bot.demo.slack_standin import VALID_TOKEN, SlackStandIn
from bot.demo.smtp import SmtpServer
from bot.domain import audit, partner_import
from bot.settings import Settings, load_settings
from store.db import Database
from store.migrate import upgrade
from store.models import SQLModel
from tests.harness.clock import NOW
from tests.harness.dovecot import DovecotServer, dovecot_binary
from tests.harness.hubspot_standin import HubSpotStandIn
from tests.harness.postgres import PostgresServer
from tests.harness.salesforce_standin import SalesforceStandIn

IN_CI = bool(os.environ.get("CI"))


class LocalCA(NamedTuple):
    ca: trustme.CA
    bundle: str  # the CA certificate (PEM) a client trusts


def _unavailable(what: str, why: object) -> None:
    """In CI a missing real server is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable: {why}")
    pytest.skip(f"{what} unavailable: {why}")


# --- Slack stand-in ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def slack_server() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def slack(slack_server: SlackStandIn) -> SlackStandIn:
    """The Slack stand-in, emptied of calls, users and faults."""
    slack_server.reset()
    return slack_server


@pytest.fixture(scope="session")
def hubspot_server() -> Iterator[HubSpotStandIn]:
    server = HubSpotStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def hubspot(hubspot_server: HubSpotStandIn) -> HubSpotStandIn:
    """The HubSpot stand-in, emptied of objects, requests and faults: a USD portal that also
    takes EUR (the test registrations' currency)."""
    hubspot_server.reset(currencies=("USD", "EUR"))
    return hubspot_server


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    """A certificate authority for stand-ins that must speak TLS, and its bundle on disk."""
    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return LocalCA(ca, str(bundle))


@pytest.fixture(scope="session")
def salesforce_server(test_ca: LocalCA) -> Iterator[SalesforceStandIn]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.ca.issue_cert("127.0.0.1").configure_cert(context)
    server = SalesforceStandIn(context).start()
    yield server
    server.stop()


@pytest.fixture
def salesforce(salesforce_server: SalesforceStandIn) -> SalesforceStandIn:
    """The Salesforce stand-in, emptied of records, sessions and faults."""
    salesforce_server.reset()
    return salesforce_server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment for running the `partnerbot` command on a fresh SQLite database."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")}
    return clean | {"PARTNERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "COLUMNS": "200"}


# --- Databases --------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    db = Database(f"sqlite:///{path}")
    await upgrade(db)
    await db.dispose()
    return path


@pytest.fixture(scope="session")
async def pg_server() -> AsyncIterator[PostgresServer]:
    try:
        server = await PostgresServer().start()
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def pg_url(pg_server: PostgresServer) -> str:
    """A database of this test run's own, migrated once."""
    url = await pg_server.create_database()
    db = Database(url)
    await upgrade(db)
    await db.dispose()
    return url


async def _empty_postgres(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"),
            {"h": audit.GENESIS_HASH},
        )


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Database]:
    """An empty, migrated SQLite database."""
    path = tmp_path / "partnerbot.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    await database.dispose()


@pytest.fixture
async def postgres_db(pg_url: str) -> AsyncIterator[Database]:
    """An empty, migrated PostgreSQL database (this run's own, emptied before each test)."""
    database = Database(pg_url)
    await _empty_postgres(database)
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """An empty, migrated database: each test using it runs on SQLite and on PostgreSQL."""
    # A sync fixture, so pytest-asyncio can set up the async one it picks.
    fixture = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    database: Database = request.getfixturevalue(fixture)
    return database


# --- Program data, through the real import service ------------------------------------


async def seed(
    db: Database, rows: list[dict[str, str]], *, now: datetime = NOW
) -> partner_import.ImportReport:
    """Import partner/person rows (the import file's fields) through the real service."""
    import_rows = [
        partner_import.ImportRow(line, dict(row)) for line, row in enumerate(rows, start=2)
    ]
    specs, people = partner_import.validate("seed", import_rows)
    async with db.session() as session:
        return await partner_import.import_partners(
            session, "seed", specs, people, actor=audit.Actor.system("test"), now=now
        )


PROGRAM = [
    {
        "partner": "Northwind Resellers",
        "type": "reseller",
        "tier": "gold",
        "region": "emea",
        "domains": "northwind.example",
        "name": "Nora North",
        "email": "nora@northwind.example",
        "role": "partner",
        "slack_user_id": "U0NORA",
    },
    {
        "partner": "Southpaw Referrals",
        "type": "referral",
        "tier": "silver",
        "region": "amer",
        "domains": "southpaw.example",
        "name": "Sam South",
        "email": "sam@southpaw.example",
        "role": "partner",
        "slack_user_id": "U0SAM",
    },
    {
        "partner": "",
        "type": "",
        "tier": "",
        "region": "",
        "domains": "",
        "name": "Mia Manager",
        "email": "mia@vendor.example",
        "role": "manager",
        "slack_user_id": "U0MIA",
    },
]


@pytest.fixture
async def program(db: Database) -> Database:
    """Two partner companies with one user each, and a channel manager."""
    await seed(db, PROGRAM)
    return db


# --- The app ----------------------------------------------------------------------------


def make_settings(db: Database, slack: SlackStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "slack_bot_token": VALID_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "products": "Core,Analytics",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
async def bot(program: Database, slack: SlackStandIn) -> AsyncIterator[PartnerBot]:
    """partnerbot on the test database and the Slack stand-in."""
    app = build_app(make_settings(program, slack), db=program)
    await app.start()
    yield app
    await app.services.tasks.drain()
    await app.services.slack_http.close()


@pytest.fixture
async def sender(bot: PartnerBot, slack: SlackStandIn) -> AsyncIterator[SlackSender]:
    """Signed Slack requests into the app in-process (httpx ASGI transport)."""
    transport = httpx.ASGITransport(app=bot.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://partnerbot.test") as client:
        yield SlackSender(client, response_url=slack.response_url())


async def serve_over_http(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """Serve an ASGI app with uvicorn on a loopback port; return (server, task, base URL)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{port}"


@pytest.fixture
async def http_sender(program: Database, slack: SlackStandIn) -> AsyncIterator[SlackSender]:
    """Signed Slack requests over real HTTP to partnerbot served by uvicorn."""
    app = build_app(make_settings(program, slack), db=program)
    server, task, base_url = await serve_over_http(app.asgi)
    async with httpx.AsyncClient(base_url=base_url) as client:
        yield SlackSender(client, response_url=slack.response_url())
    server.should_exit = True
    await task
    await app.services.tasks.drain()


# --- Mail servers -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A real Dovecot IMAP server on loopback."""
    if dovecot_binary() is None:
        _unavailable("Dovecot", "not installed (apt-get install dovecot-imapd)")
    server = DovecotServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback requiring AUTH."""
    server = SmtpServer().start()
    yield server
    server.stop()
