"""The `partnerbot` command line, run as a user would run it (a real subprocess)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.clock import fixed_clock
from bot.demo.net import free_port

PARTNERBOT = str(Path(sys.executable).with_name("partnerbot"))
CSV = (
    "partner,type,tier,region,domains,name,email,role,slack_user_id\n"
    "Acme Channel,reseller,gold,emea,acme.example,Ann Able,ann@acme.example,partner,U0ANN\n"
    ",,,,,Mo Manager,mo@vendor.example,manager,\n"
)


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARTNERBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_import_then_manage_users_then_verify_the_audit_trail(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "partners.csv").write_text(CSV)
    imported = run(env, tmp_path, "partners", "import", "partners.csv")
    assert imported.returncode == 0, imported.stderr
    assert "1 partner(s) created" in imported.stdout and "2 people created" in imported.stdout
    again = run(env, tmp_path, "partners", "import", "partners.csv")
    assert "0 people created, 0 updated, 2 unchanged" in again.stdout

    added = run(
        env,
        tmp_path,
        "users",
        "add",
        "--name",
        "Bo Bell",
        "--email",
        "bo@acme.example",
        "--role",
        "partner",
        "--partner",
        "Acme Channel",
    )
    assert added.returncode == 0, added.stderr
    assert run(env, tmp_path, "users", "revoke", "ann@acme.example").returncode == 0
    listed = json.loads(run(env, tmp_path, "users", "list", "--json").stdout)
    by_email = {row["email"]: row for row in listed}
    assert set(by_email) == {"ann@acme.example", "bo@acme.example", "mo@vendor.example"}
    assert by_email["ann@acme.example"]["revoked_at"] is not None
    assert by_email["bo@acme.example"]["partner"] == "Acme Channel"

    verified = run(env, tmp_path, "audit", "verify")
    assert verified.returncode == 0 and "5 event(s) verified" in verified.stdout

    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.execute("UPDATE audit_event SET actor = 'someone-else' WHERE seq = 2")
    tampered = run(env, tmp_path, "audit", "verify")
    assert tampered.returncode == 1
    assert "event 2: content was changed" in tampered.stderr


def test_a_bad_import_file_names_file_line_and_field_and_imports_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "bad.csv").write_text(CSV + "Beta,reseller,,,beta.example,Bea,bea@,partner,\n")
    result = run(env, tmp_path, "partners", "import", "bad.csv")
    assert result.returncode == 1
    assert "bad.csv:4: email: not a valid email address ('bea@')" in result.stderr
    assert "nothing was imported" in result.stderr
    assert json.loads(run(env, tmp_path, "users", "list", "--json").stdout) == []


def test_an_invalid_setting_is_named_without_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(env | {"PARTNERBOT_PROTECTION_DAYS": "120"}, tmp_path, "db", "upgrade")
    assert result.returncode == 2
    assert "PARTNERBOT_PROTECTION_DAYS" in result.stderr and "90" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_secret_is_never_echoed_in_a_config_error(env: dict[str, str], tmp_path: Path) -> None:
    result = run(
        env | {"PARTNERBOT_CRM": "sap", "PARTNERBOT_SLACK_BOT_TOKEN": "xoxb-very-secret"},
        tmp_path,
        "db",
        "upgrade",
    )
    assert result.returncode == 2 and "PARTNERBOT_CRM" in result.stderr
    assert "xoxb-very-secret" not in result.stderr


def test_serve_without_slack_credentials_serves_health_and_says_what_to_set(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [PARTNERBOT, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200
        assert health.json() == {
            "version": "0.1.0",
            "slack": False,
            "status": "ok",
            "database": "ok",
        }
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "PARTNERBOT_SLACK_BOT_TOKEN" in stderr and "Traceback" not in stderr


def test_the_worker_starts_logs_and_stops_cleanly_on_sigterm(
    env: dict[str, str], tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [PARTNERBOT, "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "worker started" in line or not line:
            break
    assert any("worker started" in line for line in lines), lines
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "received SIGTERM" in rest and "worker stopped" in rest


async def test_deals_list_shows_registrations_without_pricing(
    env: dict[str, str], tmp_path: Path
) -> None:
    from store.db import Database
    from tests.harness.data import add_registrations

    (tmp_path / "partners.csv").write_text(CSV)
    assert run(env, tmp_path, "partners", "import", "partners.csv").returncode == 0
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    async with db.session() as session:
        await add_registrations(session, "Acme Channel", 3)
    await db.dispose()
    listed = json.loads(run(env, tmp_path, "deals", "list", "--json").stdout)
    assert [row["customer"] for row in listed] == [
        "Acme Customer 2",
        "Acme Customer 1",
        "Acme Customer 0",
    ]
    assert listed[0]["partner"] == "Acme Channel" and listed[0]["status"] == "pending"
    assert "125000" not in json.dumps(listed)


async def test_outbox_and_local_crm_timeline_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    from datetime import timedelta

    from bot.domain import outbox
    from crm.local import LocalCrm
    from store.db import Database
    from tests.conftest import PROGRAM, seed
    from tests.domain.test_decisions import approve, person
    from tests.domain.test_registration import NOW, register

    assert run(env, tmp_path, "db", "upgrade").returncode == 0
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    await seed(db, PROGRAM)
    deal = (await register(db, "nora@northwind.example")).deal
    await approve(db, await person(db, "mia@vendor.example"), deal.id or 0)
    pending = json.loads(run(env, tmp_path, "outbox", "list", "--json").stdout)
    assert [(row["kind"], row["status"]) for row in pending] == [
        ("upsert_deal", "pending"),
        ("add_note", "pending"),
    ]
    await outbox.deliver_due(
        db, LocalCrm(db), worker="test", clock=fixed_clock(NOW + timedelta(seconds=1))
    )
    await db.dispose()
    notes = json.loads(
        run(env, tmp_path, "crm", "timeline", "--deal", str(deal.id), "--json").stdout
    )
    assert len(notes) == 1 and "Approved by Mia Manager" in notes[0]["text"]
    by_partner = json.loads(
        run(env, tmp_path, "crm", "timeline", "--partner", "Northwind Resellers", "--json").stdout
    )
    assert by_partner == notes


def test_a_crm_without_its_credentials_stops_the_worker_with_a_clear_message(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(env | {"PARTNERBOT_CRM": "hubspot"}, tmp_path, "worker")
    assert result.returncode == 2
    assert "PARTNERBOT_HUBSPOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


async def test_mail_ingest_speaks_to_an_mta_and_files_a_maildir(
    env: dict[str, str], tmp_path: Path
) -> None:
    from store.db import Database
    from tests.conftest import PROGRAM, seed
    from tests.mail.world import SECRET, build_world, reply

    env = env | {
        "PARTNERBOT_SECRET_KEY": SECRET,
        "PARTNERBOT_REPLY_DOMAIN": "reply.vendor.example",
        "PARTNERBOT_MAIL_FROM": "partnerbot <bot@vendor.example>",
    }
    assert run(env, tmp_path, "db", "upgrade").returncode == 0
    db = Database(env["PARTNERBOT_DATABASE_URL"])
    await seed(db, PROGRAM)
    world = await build_world(db)
    ack = await reply(world, db, "Noted for our team.")
    comment = await reply(world, db, "They signed the NDA.", subject="DEAL")
    await db.dispose()
    stranger = b"From: someone@elsewhere.example\r\nTo: bot@reply.vendor.example\r\n\r\nHi\r\n"

    def pipe(raw: bytes, run_env: dict[str, str] = env) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [PARTNERBOT, "mail", "ingest"],
            input=raw,
            env=run_env,
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        )

    first, again, refused = pipe(ack), pipe(ack), pipe(stranger)
    assert (first.returncode, first.stdout.split()[0]) == (0, b"acted"), first.stderr
    assert (again.returncode, again.stdout.split()[0]) == (0, b"duplicate")
    assert (refused.returncode, refused.stdout.split()[0]) == (0, b"rejected")
    # The store cannot be reached: EX_TEMPFAIL, so the MTA keeps the message and retries.
    down = pipe(comment, env | {"PARTNERBOT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"})
    assert down.returncode == 75

    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.M1.host").write_bytes(comment)
    (maildir / "new" / "2.M2.host").write_bytes(ack)
    filed = run(env, tmp_path, "mail", "ingest", "--maildir", str(maildir))
    assert filed.returncode == 0, filed.stderr
    assert "acted" in filed.stdout and "duplicate" in filed.stdout
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == ["1.M1.host:2,S", "2.M2.host:2,S"]
    assert list((maildir / "new").iterdir()) == []
    rejected = json.loads(run(env, tmp_path, "mail", "rejected", "--json").stdout)
    assert [(r["from_address"], r["reason"]) for r in rejected] == [
        ("someone@elsewhere.example", "unknown_sender")
    ]
