"""The demo's story, driven through the public surface only: `partnerbot serve` in its own
process receiving signed Slack requests over HTTP, the CLI (`partners import`, `program
load`, `training load|invite`, `worker --once [--at]`, `mail ingest` fed a raw email on
stdin, `crm timeline`, `audit verify`), a Slack Web API stand-in that records what the bot
sent, and an SMTP server that keeps what it mailed.

Each step checks what a person would notice; a step that does not hold stops the demo with
what was expected and what happened (so CI runs it as a smoke test).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import httpx
import typer

from bot.demo import render
from bot.demo.net import free_port
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import TEAM_ID, VALID_TOKEN, SlackCall, SlackStandIn
from bot.demo.smtp import SmtpServer
from bot.domain.conflicts import RULE_EXPLANATIONS, Rule

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DESK = "C0DEALDESK"
PEOPLE = {
    "U0MIA": "Mia (channel manager)",
    "U0NORA": "Nora (Northwind Resellers)",
    "U0SAM": "Sam (Southpaw Referrals)",
    DESK: "#deal-desk",
}
QUIZ = "1b 2c 3b 4b 5b"  # deal-registration-101's answers, as a partner writes them
QUIZ_CHOICES = {1: 2, 2: 3, 3: 2, 4: 2, 5: 2}


class StepFailed(Exception):
    """A step did not do what it should: the step, what was expected, what happened."""

    def __init__(self, expected: str, got: object) -> None:
        super().__init__(expected)
        self.expected, self.got = expected, got


def expect(condition: object, expected: str, got: object = "") -> None:
    """Stop the demo unless `condition` holds."""
    if not condition:
        raise StepFailed(expected, got)


@dataclass
class Event:
    """One thing someone saw: a Slack message or view, an email, a command's output."""

    step: int
    kind: str  # slack|view|email|cli|note
    who: str
    lines: list[str]
    raw: Any = None


@dataclass
class StepResult:
    """How a step went."""

    number: int
    title: str
    seconds: float
    ok: bool
    problem: str = ""


@dataclass
class World:
    """The running pieces and what the story learned on the way."""

    workdir: Path
    env: dict[str, str]
    slack: SlackStandIn
    smtp: SmtpServer
    sender: SlackSender | None = None
    server: subprocess.Popen[bytes] | None = None
    base_url: str = ""
    seen_calls: int = 0
    seen_mail: int = 0
    facts: dict[str, Any] = field(default_factory=dict)


Show = Callable[[Event], None]


class Story:
    """Runs the steps in order, showing each event as it happens."""

    def __init__(self, workdir: Path, show: Show) -> None:
        self.workdir, self.show = workdir, show
        self.results: list[StepResult] = []
        self.step = 0
        self.world: World | None = None

    # --- what people saw ------------------------------------------------------------------

    def note(self, text: str) -> None:
        """The narrator."""
        self.show(Event(self.step, "note", "", [text]))

    def _who(self, call: SlackCall) -> str:
        params = call.params
        channel = str(params.get("channel") or params.get("user_id") or "")
        if channel.startswith("D"):  # the app's DM with a user
            channel = "U" + channel[1:]
        return PEOPLE.get(channel, channel or "?")

    def slack_since(self, *, quiet: tuple[str, ...] = ()) -> list[SlackCall]:
        """Show what the bot sent to Slack since the last look (messages, modals, the Home
        tab, answers to response URLs); return those calls."""
        world = self._world
        calls = world.slack.calls[world.seen_calls :]
        world.seen_calls += len(calls)
        last = ""
        for call in calls:
            method = call.method
            if method in quiet:
                continue
            shown = json.dumps(call.params.get("blocks"), sort_keys=True)
            if method == "chat.postMessage" and shown == last:
                self.note(f"The same message also went to {self._who(call)}.")
                continue
            last = shown if method == "chat.postMessage" else ""
            if method in ("chat.postMessage", "chat.postEphemeral"):
                self.show(
                    Event(
                        self.step,
                        "slack",
                        f"Slack → {self._who(call)}",
                        render.message(call.params),
                        call.params,
                    )
                )
            elif method == "chat.update":
                self.show(
                    Event(
                        self.step,
                        "slack",
                        f"Slack (updated) → {self._who(call)}",
                        render.message(call.params),
                        call.params,
                    )
                )
            elif method in ("views.open", "views.update", "views.push"):
                view = call.params.get("view") or {}
                self.show(Event(self.step, "view", "Slack modal", render.view(view), view))
            elif method == "response_url":
                self.show(
                    Event(
                        self.step,
                        "slack",
                        "Slack (reply in place)",
                        render.message(call.params),
                        call.params,
                    )
                )
        return calls

    def mail_since(self) -> list[bytes]:
        """Show what was mailed since the last look; return the raw messages."""
        world = self._world
        received = world.smtp.received[world.seen_mail :]
        world.seen_mail += len(received)
        for mail in received:
            self.show(
                Event(
                    self.step,
                    "email",
                    f"Email → {', '.join(mail.rcpt_tos)}",
                    render.mail(mail.data),
                    mail.data.decode("utf-8", "replace"),
                )
            )
        return [mail.data for mail in received]

    def answer(self, who: str, response: httpx.Response) -> dict[str, Any]:
        """Show the bot's direct answer to a request (an ephemeral reply or a modal)."""
        expect(
            response.status_code == 200,
            "Slack's request answered with 200",
            f"{response.status_code} {response.text[:200]}",
        )
        body: dict[str, Any] = response.json() if response.content else {}
        if body.get("view"):
            self.show(Event(self.step, "view", who, render.view(body["view"]), body))
        elif body.get("blocks") or body.get("text"):
            self.show(Event(self.step, "slack", who, render.message(body), body))
        elif body.get("errors"):
            lines = [
                f"[red]{render.escape(k)}: {render.escape(v)}[/red]"
                for k, v in body["errors"].items()
            ]
            self.show(Event(self.step, "view", f"{who} (inline errors)", lines, body))
        return body

    @property
    def _world(self) -> World:
        assert self.world is not None
        return self.world

    # --- the CLI, in this process -----------------------------------------------------------

    async def cli(self, *args: str, stdin: bytes | None = None, show: bool = True) -> str:
        """Run a `partnerbot` command (the same code as the console script) and show what it
        printed; stop the demo if it fails."""
        output, logged, code = await asyncio.to_thread(_run_cli, list(args), stdin)
        if show:
            lines = [f"[dim]$ partnerbot {render.escape(' '.join(args))}[/dim]"]
            lines += [render.escape(line) for line in output.rstrip().splitlines()]
            self.show(Event(self.step, "cli", "Command line", lines, output))
        expect(
            code == 0, f"`partnerbot {' '.join(args)}` exits 0", f"exit {code}: {output}{logged}"
        )
        return output

    # --- running --------------------------------------------------------------------------

    async def run(self) -> list[StepResult]:
        """Every step in order; stop at the first that fails."""
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("Set up: the program, the catalogue and the partners", self.setup),
            ("A deal registered in Slack, and a conflict caught", self.register),
            ("The channel manager approves from the card", self.approve),
            ("An announcement, acknowledged by button and by email", self.announce),
            ("Training in Slack and by email unlocks a product", self.train),
            ("Time passes: reminders, an escalation, an expiry", self.time_passes),
            ("The CRM's timeline, and the audit trail", self.crm_and_audit),
        ]
        with self._stand_ins():
            try:
                for number, (title, step) in enumerate(steps, start=1):
                    self.step = number
                    self.show(Event(number, "step", title, []))
                    started = time.monotonic()
                    try:
                        await step()
                    except StepFailed as exc:
                        problem = f"expected {exc.expected}; got {exc.got}"
                        self.results.append(
                            StepResult(number, title, time.monotonic() - started, False, problem)
                        )
                        break
                    self.results.append(StepResult(number, title, time.monotonic() - started, True))
            finally:
                await self._stop_server()
        return self.results

    @contextlib.contextmanager
    def _stand_ins(self) -> Iterator[None]:
        # The local SMTP server asks for AUTH over plain TCP on loopback: say nothing of it.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        slack, smtp = SlackStandIn().start(), SmtpServer().start()
        for user, email, name in (
            ("U0MIA", "mia@vendor.example", "Mia Manager"),
            ("U0NORA", "nora@northwind.example", "Nora North"),
            ("U0SAM", "sam@southpaw.example", "Sam South"),
        ):
            slack.add_user(user, email, name=name, tz="UTC")
        database = self.workdir / "partnerbot.db"
        env = {
            "PARTNERBOT_DATABASE_URL": f"sqlite:///{database}",
            "PARTNERBOT_CRM": "local",
            "PARTNERBOT_SLACK_BOT_TOKEN": VALID_TOKEN,
            "PARTNERBOT_SLACK_SIGNING_SECRET": secrets.token_hex(16),
            "PARTNERBOT_SLACK_API_URL": slack.api_url,
            "PARTNERBOT_DEAL_DESK_CHANNEL": DESK,
            "PARTNERBOT_SMTP_HOST": smtp.host,
            "PARTNERBOT_SMTP_PORT": str(smtp.port),
            "PARTNERBOT_SMTP_USER": smtp.user,
            "PARTNERBOT_SMTP_PASSWORD": smtp.password,
            "PARTNERBOT_SMTP_SECURITY": "plain",
            "PARTNERBOT_MAIL_FROM": "Acme Partner Team <partners@vendor.example>",
            "PARTNERBOT_REPLY_DOMAIN": "reply.vendor.example",
            "PARTNERBOT_SECRET_KEY": secrets.token_hex(16),
            "PARTNERBOT_PRODUCTS": "Core,Analytics,Enterprise",
            "PARTNERBOT_QUIET_HOURS": "none",
            "PARTNERBOT_ACK_REMINDERS": "1d",
            "PARTNERBOT_SLACK_CHANNEL_POST_SECONDS": "0",
            "PARTNERBOT_LOG_LEVEL": "WARNING",
        }
        saved = {k: v for k, v in os.environ.items() if k.startswith("PARTNERBOT_")}
        for key in saved:
            del os.environ[key]
        os.environ.update(env)
        self.world = World(self.workdir, env, slack, smtp)
        try:
            yield
        finally:
            mailbox = self.workdir / "mail"
            mailbox.mkdir(exist_ok=True)
            for number, mail in enumerate(smtp.received, start=1):
                (mailbox / f"{number:03d}.eml").write_bytes(mail.data)
            for key in env:
                os.environ.pop(key, None)
            os.environ.update(saved)
            slack.stop()
            smtp.stop()

    async def _start_server(self) -> None:
        """`partnerbot serve` in its own process, as in production."""
        world = self._world
        port = free_port()
        world.server = subprocess.Popen(  # noqa: S603, ASYNC220  (our interpreter; started once)
            [
                sys.executable,
                "-c",
                "from bot.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            env={**os.environ, **world.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        world.base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(world.base_url + "/healthz")).status_code == 200:
                        return
                if world.server.poll() is not None:
                    break
                await asyncio.sleep(0.05)
        error = world.server.stderr.read().decode() if world.server.stderr else ""
        raise StepFailed("`partnerbot serve` to answer /healthz", error[-2000:] or "no answer")

    async def _stop_server(self) -> None:
        world = self.world
        if world is None or world.server is None:
            return
        world.server.terminate()
        try:
            await asyncio.to_thread(world.server.wait, 10)
        except subprocess.TimeoutExpired:
            world.server.kill()

    async def send(self) -> SlackSender:
        """A client posting signed Slack requests to the served app over HTTP."""
        world = self._world
        if world.sender is None:
            client = httpx.AsyncClient(base_url=world.base_url, timeout=10)
            world.sender = SlackSender(
                client,
                response_url=world.slack.response_url(),
                secret=world.env["PARTNERBOT_SLACK_SIGNING_SECRET"],
            )
        return world.sender

    async def settle(self, seconds: float = 3.0) -> None:
        """Let the served app finish what it does after answering (it posts to Slack)."""
        world, last, quiet = self._world, -1, 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            count = len(world.slack.calls)
            quiet = quiet + 1 if count == last else 0
            if quiet >= 3:
                return
            last = count
            await asyncio.sleep(0.05)

    # --- the steps ------------------------------------------------------------------------

    async def setup(self) -> None:
        await self.cli("partners", "import", str(EXAMPLES / "partners.csv"))
        await self.cli("program", "load", str(EXAMPLES / "program.yaml"))
        await self.cli("training", "load", str(EXAMPLES / "training"))
        await self._start_server()
        self.note("partnerbot serve is running; Slack, SMTP and the CRM are local stand-ins.")

    async def register(self) -> None:
        sender = await self.send()
        now = datetime.now(UTC)
        self.note("Nora (Northwind Resellers) types /register-deal acme.com in Slack.")
        await sender.command("/register-deal", "acme.com", user="U0NORA", team=TEAM_ID)
        await self.settle()
        opened = [c for c in self.slack_since() if c.method == "views.open"]
        expect(opened, "the registration modal to open", "no views.open")
        labels = [
            b["label"]["text"]
            for b in opened[-1].params["view"]["blocks"]
            if b.get("type") == "input"
        ]
        expect("Customer company" in labels, "the modal's contract labels", labels)
        answer = self.answer(
            "What Nora sees",
            await sender.submit_view(
                "register_deal",
                deal_form("Acme Corp", "acme.com", now),
                user="U0NORA",
                view_id="V0NORA1",
            ),
        )
        expect("Registered" in json.dumps(answer), "Nora's registration to be clear", answer)
        await self.settle()
        self.slack_since()
        self.note("Sam (Southpaw Referrals) registers the same customer, spelled differently.")
        answer = self.answer(
            "What Sam sees",
            await sender.submit_view(
                "register_deal",
                deal_form("ACME Corporation", "https://www.acme.com/contact", now),
                user="U0SAM",
                view_id="V0SAM1",
            ),
        )
        expect(
            "Potential conflict" in json.dumps(answer),
            "Sam to be told of a potential conflict",
            answer,
        )
        await self.settle()
        cards = [
            c
            for c in self.slack_since()
            if c.method == "chat.postMessage" and c.params.get("channel") == DESK
        ]
        expect(len(cards) >= 1, "a card for Sam's registration on the deal desk", len(cards))
        card = json.dumps(cards[-1].params.get("blocks"))
        named = [
            text
            for rule, text in RULE_EXPLANATIONS.items()
            if rule != Rule.NO_MATCH and f"`{rule.value}`" in card
        ]
        expect(
            "ACME Corporation" in card and named,
            "the manager's card to name the rule that fired",
            card[:400],
        )

    async def approve(self) -> None:
        sender = await self.send()
        world = self._world
        nora_card = next(
            c
            for c in world.slack.calls
            if c.method == "chat.postMessage"
            and c.params.get("channel") == DESK
            and "Acme Corp" in json.dumps(c.params.get("blocks"))
            and "ACME Corporation" not in json.dumps(c.params.get("blocks"))
        )
        action, deal_id = button(nora_card.params["blocks"], "Approve")
        world.facts["deal_id"] = deal_id
        self.note("Mia clicks Approve on Nora's card.")
        await sender.action(action, deal_id, user="U0MIA", channel=DESK)
        await self.settle()
        calls = self.slack_since()
        expect(
            any("Approved" in json.dumps(c.params) for c in calls),
            "the card and Nora to hear of the approval",
            [c.method for c in calls],
        )
        self.note("Nora runs /deals.")
        answer = self.answer("What Nora sees", await sender.command("/deals", user="U0NORA"))
        expect("Approved" in json.dumps(answer), "/deals to show the approval", answer)

    async def announce(self) -> None:
        sender = await self.send()
        deadline = (datetime.now(UTC) + timedelta(days=2)).date()
        self._world.facts["deadline"] = deadline
        self.note(
            "Mia runs /announce: to resellers, referral partners and distributors, by Slack "
            "(and by email to whoever has no Slack), acknowledgement required."
        )
        await sender.command("/announce", user="U0MIA")
        await self.settle()
        self.slack_since()
        confirm = self.answer(
            "Mia's confirmation step",
            await sender.submit_view("announce", announce_form(deadline.isoformat()), user="U0MIA"),
        )
        expect(confirm.get("response_action") == "update", "a confirmation with the reach", confirm)
        metadata = confirm["view"]["private_metadata"]
        published = await sender.submit_view(
            "announce_confirm", {}, user="U0MIA", private_metadata=metadata
        )
        expect(
            published.json() == {"response_action": "clear"},
            "the announcement published",
            published.text,
        )
        announcement_id = json.loads(metadata)["announcement_id"]
        await self.settle()
        self.slack_since()
        self.note("The worker fans it out (partnerbot worker --once).")
        await self.cli("worker", "--once")
        calls = self.slack_since(quiet=("chat.update",))
        mails = self.mail_since()
        expect(any(c.params.get("channel") == "U0NORA" for c in calls), "Nora's DM", calls)
        expect(mails, "Dee's email (she has no Slack)", "no email")
        self.note("Nora clicks Acknowledge.")
        await sender.action(
            "announcement_ack", str(announcement_id), user="U0NORA", channel="D0NORA"
        )
        await self.settle()
        self.slack_since()
        self.note(
            "Dee replies to the email from her phone; the quoted original and her "
            "signature are stripped before it is recorded."
        )
        reply = email_reply(
            mails[-1],
            "dee@delta.example",
            "Got it — we will register before the first demo from now on.\n\n"
            "Thanks,\nDee\n\n--\nDee Delta | Delta Distribution\n"
            "Sent from my phone",
        )
        output = await self.cli("mail", "ingest", stdin=reply)
        expect("acted" in output, "Dee's reply to acknowledge", output)
        await self.cli("report", "acks", str(announcement_id))
        self.note(
            "A day before the deadline Sam, who has not acknowledged, is reminded "
            "(worker --once --at …; the registrations waiting for a decision get their "
            "approval-SLA reminder at the same time)."
        )
        at = datetime.combine(deadline, datetime.max.time(), UTC) - timedelta(days=1)
        await self.cli("worker", "--once", "--at", at.isoformat())
        calls = self.slack_since(quiet=("chat.update",))
        expect(
            [
                c
                for c in calls
                if c.params.get("channel") == "U0SAM" and "Reminder" in json.dumps(c.params)
            ],
            "a reminder to Sam only",
            [self._who(c) for c in calls],
        )
        expect(
            not [c for c in calls if c.params.get("channel") == "U0NORA"],
            "no reminder to Nora, who acknowledged",
            "one was sent",
        )
        self.mail_since()

    async def train(self) -> None:
        sender = await self.send()
        now = datetime.now(UTC)
        self.note("Nora (gold: gated products need a certification) registers an Enterprise deal.")
        refused = self.answer(
            "What Nora sees",
            await sender.submit_view(
                "register_deal",
                deal_form(
                    "Globex",
                    "globex.example",
                    now,
                    products=["Enterprise"],
                    contact="hank@globex.example",
                ),
                user="U0NORA",
                view_id="V0NORA2",
            ),
        )
        expect(
            refused.get("response_action") == "errors"
            and "Certified Seller" in json.dumps(refused),
            "an inline refusal naming the certification",
            refused,
        )
        await self.settle()
        calls = self.slack_since()
        offers = [c for c in calls if c.params.get("channel") == "U0NORA"]
        expect(offers, "a DM with Start training", calls)
        action, module_id = button(offers[-1].params["blocks"], "Start training")
        self.note("Nora clicks Start training and takes the quiz.")
        await sender.action(action, module_id, user="U0NORA", channel="D0NORA")
        await self.settle()
        opened = [c for c in self.slack_since(quiet=("views.open",)) if c.method == "views.open"]
        expect(opened, "the module's modal", "no views.open")
        modal = opened[-1].params["view"]
        self.show(
            Event(
                self.step,
                "view",
                "The module (first lines)",
                [*render.view(modal)[:14], "[dim]…[/dim]"],
                modal,
            )
        )
        result = self.answer(
            "Nora's result",
            await sender.submit_view(
                "training_page",
                quiz_state(QUIZ_CHOICES),
                user="U0NORA",
                private_metadata=modal["private_metadata"],
                view_id="V0QUIZ1",
            ),
        )
        expect("certified as" in json.dumps(result), "Nora to be certified", result)
        self.note(f"Dee (email only) is invited by email and answers by replying “{QUIZ}”.")
        await self.cli(
            "training",
            "invite",
            "deal-registration-101",
            "--email",
            "dee@delta.example",
            "--via",
            "email",
        )
        await self.cli("worker", "--once", show=False)
        self.slack_since()
        quiz = self.mail_since()
        expect(quiz and b"1. When does a deal" in quiz[-1], "the quiz by email", len(quiz))
        reply = email_reply(quiz[-1], "dee@delta.example", f"{QUIZ}\n\nDee")
        output = await self.cli("mail", "ingest", stdin=reply)
        expect("acted" in output, "Dee's answers to be graded", output)
        await self.cli("worker", "--once", show=False)
        results = self.mail_since()
        expect(results and b"You passed" in results[-1], "Dee's result by email", results)
        self.slack_since()
        self.note("Nora registers the Enterprise deal again: now it goes through.")
        accepted = self.answer(
            "What Nora sees",
            await sender.submit_view(
                "register_deal",
                deal_form(
                    "Globex",
                    "globex.example",
                    now,
                    products=["Enterprise"],
                    contact="hank@globex.example",
                ),
                user="U0NORA",
                view_id="V0NORA3",
            ),
        )
        expect("Registered" in json.dumps(accepted), "the Enterprise deal registered", accepted)
        await self.settle()
        self.slack_since(quiet=("chat.postMessage",))

    async def time_passes(self) -> None:
        start = datetime.now(UTC)
        for label, delta, wanted in (
            (
                "49 hours later: the registrations still waiting are past their approval SLA, "
                "and the deal desk is told",
                timedelta(hours=49),
                "approval-sla-escalations",
            ),
            (
                "83 days later: Nora's protection ends in a week",
                timedelta(days=83, hours=1),
                "protection-expiry-reminders",
            ),
            (
                "90 days later: the protection has ended (Nora and the deal desk are told, the "
                "CRM deal is updated)",
                timedelta(days=90, hours=1),
                "protection-expiry",
            ),
        ):
            self.note(label + ".")
            output = await self.cli("worker", "--once", "--at", (start + delta).isoformat())
            sent = re.search(rf"^\s*{wanted}: (\d+) sent", output, re.MULTILINE)
            expect(sent and int(sent.group(1)) > 0, f"`{wanted}` to send something", output)
            self.slack_since(quiet=("chat.update", "conversations.open"))
            self.mail_since()

    async def crm_and_audit(self) -> None:
        deal_id = self._world.facts["deal_id"]
        await self.cli("crm", "timeline", "--deal", str(deal_id))
        output = await self.cli("crm", "timeline", "--partner", "Northwind Resellers")
        expect(
            "acknowledged" in output and "Certified Seller" in output,
            "the acknowledgement and the certification on Northwind's timeline",
            output,
        )
        output = await self.cli("audit", "verify")
        expect("Audit log intact" in output, "the audit chain intact", output)


# --- Helpers --------------------------------------------------------------------------------


def _run_cli(args: list[str], stdin: bytes | None) -> tuple[str, str, int]:
    """The console script's command in this process (a worker thread): what it printed, its
    logs and warnings, and its exit code."""
    from bot.cli import base as cli_base

    command = typer.main.get_command(cli_base.app)
    printed, logged = io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(logged):
            code = command.main(args, prog_name="partnerbot", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved_stdin
    return printed.getvalue(), logged.getvalue(), int(code or 0)


def button(blocks: list[dict[str, Any]], text: str) -> tuple[str, str]:
    """The action id and value of the button labelled `text`."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button" and element["text"]["text"] == text:
                return str(element["action_id"]), str(element.get("value", ""))
    raise StepFailed(f"a {text!r} button", json.dumps(blocks)[:300])


def deal_form(
    company: str,
    domain: str,
    now: datetime,
    *,
    products: list[str] | None = None,
    contact: str = "jane@acme.com",
) -> dict[str, dict[str, Any]]:
    """The registration modal's state, as Slack submits it."""
    typed = {
        "customer_company": company,
        "customer_domain": domain,
        "contact_name": "Jane Doe",
        "contact_email": contact,
        "estimated_value": "48000",
        "notes": "Two demos done; the budget is approved.",
    }
    state: dict[str, dict[str, Any]] = {
        name: {"value": {"type": "plain_text_input", "value": value}}
        for name, value in typed.items()
    }
    close = (now + timedelta(days=60)).date().isoformat()
    state["expected_close_date"] = {"value": {"type": "datepicker", "selected_date": close}}
    state["currency"] = {"value": {"type": "static_select", "selected_option": {"value": "EUR"}}}
    state["motion"] = {"value": {"type": "static_select", "selected_option": {"value": "resale"}}}
    state["products"] = {
        "value": {
            "type": "multi_static_select",
            "selected_options": [{"value": p} for p in (products or ["Core"])],
        }
    }
    return state


def announce_form(deadline: str) -> dict[str, dict[str, Any]]:
    """The `/announce` modal's state."""

    def picked(kind: str, values: list[str]) -> dict[str, Any]:
        return {"value": {"type": kind, "selected_options": [{"value": v} for v in values]}}

    return {
        "title": {"value": {"type": "plain_text_input", "value": "Rules of engagement, v2"}},
        "message": {
            "value": {
                "type": "plain_text_input",
                "value": (
                    "*Register before the first demo.* From 1 January a registration made "
                    "after the first customer demo is not protected.\n\n"
                    "Questions? Reply to this message."
                ),
            }
        },
        "partner_types": picked("multi_static_select", ["reseller", "referral", "distributor"]),
        "tiers": picked("multi_static_select", []),
        "regions": picked("multi_static_select", []),
        "via": picked("checkboxes", ["slack"]),  # people without Slack get email anyway
        "ack": picked("checkboxes", ["yes"]),
        "deadline": {"value": {"type": "datepicker", "selected_date": deadline}},
        "rules": picked("checkboxes", ["yes"]),
    }


def quiz_state(picks: dict[int, int]) -> dict[str, dict[str, Any]]:
    """A quiz's answers as Slack submits them."""
    return {
        f"q{n}": {"answer": {"type": "radio_buttons", "selected_option": {"value": str(c)}}}
        for n, c in picks.items()
    }


def email_reply(original: bytes, sender: str, text: str) -> bytes:
    """A person's reply to one of our emails, as their client writes it: to the Reply-To,
    threaded, with the original quoted under their text."""
    import email as email_lib
    import email.policy

    parsed = email_lib.message_from_bytes(original, policy=email.policy.default)
    body = parsed.get_body(("plain",))
    quoted = "\n".join("> " + line for line in (body.get_content() if body else "").splitlines())
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = str(parsed["Reply-To"])
    reply["Subject"] = "Re: " + str(parsed["Subject"])
    reply["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    reply["In-Reply-To"] = reply["References"] = str(parsed["Message-ID"])
    reply.set_content(f"{text}\n\nOn {parsed['Date']}, {parsed['From']} wrote:\n{quoted}\n")
    return reply.as_bytes()
