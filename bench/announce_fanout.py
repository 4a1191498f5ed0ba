"""An announcement's fan-out: 2,000 recipients (1,500 on Slack, 500 by email), delivered by
real `partnerbot worker` processes to the Slack stand-in — which enforces the limits Slack
documents (chat.postMessage: 1 message a second per channel and a workspace-wide cap, here
`--slack-per-minute`; Tier 3 methods 50 a minute; 429 with Retry-After beyond) — and to a
real SMTP server (aiosmtpd).

Two runs: one worker start to finish; then a second announcement whose worker is killed
(SIGKILL) half-way and started again. Each prints the Slack wall time against the minimum the
limits allow, email throughput over its one connection, and what the people got: nothing
lost, nothing twice (keys of Slack messages as stored in the channels, Message-IDs received).

    .venv/bin/python bench/announce_fanout.py [--slack 1500] [--email 500] [--slack-per-minute 300]

Targets (issue #13): Slack within 15 % of the minimum; email >= 100 messages/s; zero lost and
zero duplicated, also when the worker is killed half-way.
"""

from __future__ import annotations

import argparse
import email
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.demo.slack_standin import VALID_TOKEN, SlackStandIn  # noqa: E402
from bot.demo.smtp import SmtpServer  # noqa: E402

PARTNERBOT = str(Path(sys.executable).with_name("partnerbot"))
TIERS = {
    "chat.update": 50,
    "conversations.history": 50,
    "conversations.open": 50,
    "users.info": 100,
}


def program(slack: int, mail: int) -> str:
    rows = ["partner,type,tier,region,domains,name,email,role,slack_user_id"]
    rows.append(",,,,,Mia Manager,mia@vendor.example,manager,U0MIA")
    for n in range(slack + mail):
        company = n // 20
        slack_id = f"U{n:07d}" if n < slack else ""
        rows.append(
            f"Partner {company},reseller,gold,emea,p{company}.example,Person {n},"
            f"u{n}@p{company}.example,partner,{slack_id}"
        )
    return "\n".join(rows) + "\n"


def environment(db: Path, slack: SlackStandIn, smtp: SmtpServer, per_minute: int) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")}
    return clean | {
        "PARTNERBOT_DATABASE_URL": f"sqlite:///{db}",
        "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
        "PARTNERBOT_SLACK_SIGNING_SECRET": "bench",
        "PARTNERBOT_SLACK_API_URL": slack.api_url,
        "PARTNERBOT_SLACK_MESSAGES_PER_MINUTE": str(per_minute),
        "PARTNERBOT_SMTP_HOST": smtp.host,
        "PARTNERBOT_SMTP_PORT": str(smtp.port),
        "PARTNERBOT_SMTP_USER": smtp.user,
        "PARTNERBOT_SMTP_PASSWORD": smtp.password,
        "PARTNERBOT_SMTP_SECURITY": "plain",
        "PARTNERBOT_MAIL_FROM": "partnerbot <bot@vendor.example>",
        "PARTNERBOT_REPLY_DOMAIN": "reply.vendor.example",
        "PARTNERBOT_SECRET_KEY": "bench-secret",
        "PARTNERBOT_QUIET_HOURS": "none",
        "PARTNERBOT_SCHEDULER_SECONDS": "3600",
        "PARTNERBOT_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [PARTNERBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise SystemExit(f"partnerbot {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def states(db: Path, announcement: int) -> Counter[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT via || ':' || status, count(*) FROM notification"
            " WHERE subject_kind = 'announcement' AND subject_id = ? AND kind = 'announcement'"
            " GROUP BY via, status",
            (announcement,),
        ).fetchall()
    return Counter({key: count for key, count in rows})


def worker(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PARTNERBOT, "worker"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def fan_out(
    env: dict[str, str], cwd: Path, db: Path, slack: SlackStandIn, smtp: SmtpServer,
    args: argparse.Namespace, *, kill_half_way: bool,
) -> None:  # fmt: skip
    slack.reset()
    slack.enforce_post_limits(per_channel_seconds=1.0, per_minute=args.slack_per_minute)
    slack.enforce_tiers(TIERS)
    smtp.clear()
    (cwd / "body.txt").write_text(
        "*Q3 rules of engagement*: register before the first demo.\n\nThank you."
    )
    announcement = int(
        run(
            env,
            cwd,
            "announce",
            "--title",
            "Q3 rules",
            "--body-file",
            "body.txt",
            "--via",
            "slack",
            "--ack-required",
            "--as",
            "mia@vendor.example",
        ).split()[0]
    )
    total = args.slack + args.email
    started = time.monotonic()
    process = worker(env, cwd)
    killed = False
    slack_done = email_done = None
    try:
        while True:
            time.sleep(0.5)
            now = states(db, announcement)
            sent = now["slack:sent"] + now["email:sent"]
            if kill_half_way and not killed and sent >= total // 2:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                killed = True
                print(f"    killed the worker (SIGKILL) after {sent} of {total}; starting it again")
                process = worker(env, cwd)
            if email_done is None and now["email:sent"] + now["email:failed"] >= args.email:
                email_done = time.monotonic() - started
            if slack_done is None and now["slack:sent"] + now["slack:failed"] >= args.slack:
                slack_done = time.monotonic() - started
            if slack_done is not None and email_done is not None:
                break
            if time.monotonic() - started > 3600:
                raise SystemExit(f"not done in an hour: {now}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    final = states(db, announcement)
    keys = Counter(
        m["metadata"]["event_payload"]["key"]
        for messages in slack.history.values()
        for m in messages
        if isinstance(m.get("metadata"), dict)
        and str(m["metadata"]["event_payload"]["key"]).startswith(f"announcement:{announcement}:")
    )
    received = smtp.received
    ids = Counter(email.message_from_bytes(r.data)["Message-ID"] for r in received)
    slack_posts = len(slack.calls_to("chat.postMessage"))
    minimum = max(args.slack - args.slack_per_minute, 0) / args.slack_per_minute * 60
    mail_span = (
        (max(r.at for r in received) - min(r.at for r in received)) if len(received) > 1 else 0.0
    )
    print(f"    states: {dict(final)}")
    over = f" ({(slack_done or 0) / minimum - 1:+.1%} over)" if minimum else ""
    print(
        f"    Slack: {len(keys)} people got it ({sum(keys.values()) - len(keys)} twice) in"
        f" {slack_done:.1f} s; the limits allow >= {minimum:.1f} s{over}"
    )
    print(
        f"    chat.postMessage calls: {slack_posts} (429s among them: {slack_posts - sum(keys.values())})"
    )
    print(
        f"    email: {len(ids)} people got it ({sum(ids.values()) - len(ids)} twice);"
        f" {len(received)} messages in {mail_span:.2f} s between the first and the last ="
        f" {len(received) / mail_span if mail_span else 0:.0f} messages/s over"
        f" {smtp.connections} connection(s); all done {email_done:.1f} s after the worker started"
    )
    lost = total - len(keys) - len(ids)
    print(
        f"    lost: {lost}; duplicated: {sum(keys.values()) - len(keys) + sum(ids.values()) - len(ids)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slack", type=int, default=1500)
    parser.add_argument("--email", type=int, default=500)
    parser.add_argument("--slack-per-minute", type=int, default=300)
    args = parser.parse_args()
    slack = SlackStandIn().start()
    smtp = SmtpServer().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cwd, db = Path(tmp), Path(tmp) / "fanout.db"
            env = environment(db, slack, smtp, args.slack_per_minute)
            (cwd / "program.csv").write_text(program(args.slack, args.email))
            run(env, cwd, "partners", "import", "program.csv")
            print(
                f"{args.slack} people on Slack, {args.email} by email; Slack cap {args.slack_per_minute}/min"
            )
            print("  run 1: one worker, start to finish")
            fan_out(env, cwd, db, slack, smtp, args, kill_half_way=False)
            print("  run 2: the worker killed half-way and started again")
            fan_out(env, cwd, db, slack, smtp, args, kill_half_way=True)
    finally:
        slack.stop()
        smtp.stop()


if __name__ == "__main__":
    main()
