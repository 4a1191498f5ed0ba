"""The worker's delivery of queued notifications: Slack DMs, channel posts and emails.

Due messages are claimed (several workers side by side on PostgreSQL), rendered by
`bot/notices.py` and sent through the same senders as everything else (`bot/notify.py`,
the mail `Outbox`). A message to a person waits for their working hours when it asks to;
Slack's 429s are honoured; a transient failure is retried with backoff, a refusal for good
is kept with Slack's or the mail server's answer.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlmodel import col, select

from bot import notices
from bot.context import Services
from bot.domain import hours, notifications
from bot.domain.access import SlackDirectory
from bot.domain.outbox import backoff
from bot.mail.outbound import Outbox, Outgoing, sender_parts
from store.models import Notification, OutboundEmail, Person

log = logging.getLogger(__name__)

METADATA_EVENT = "partnerbot_notification"  # Slack message metadata: our message's key
# Slack errors that trying again will not fix.
PERMANENT = {
    "channel_not_found",
    "user_not_found",
    "not_in_channel",
    "is_archived",
    "account_inactive",
    "user_disabled",
    "cannot_dm_bot",
    "invalid_blocks",
    "invalid_arguments",
    "msg_too_long",
    "no_text",
    "restricted_action",
}


@dataclass
class DeliveryReport:
    """What one round of delivery did."""

    sent: int = 0
    held: int = 0
    retried: int = 0
    failed: int = 0

    def summary(self) -> str:
        """One line for logs and `worker --once`."""
        return (
            f"notifications: {self.sent} sent, {self.held} held for working hours,"
            f" {self.retried} to retry, {self.failed} failed"
        )


class Delivery:
    """Delivers due notifications, one round at a time."""

    def __init__(
        self,
        services: Services,
        mail: Outbox | None,
        *,
        worker: str,
        directory: SlackDirectory | None = None,
    ) -> None:
        self.services, self.mail, self.worker = services, mail, worker
        self.directory = directory or services.directory
        self.window = hours.parse_window(services.settings.quiet_hours)

    async def deliver_due(self, now: datetime, *, limit: int = 200) -> DeliveryReport:
        """Claim and deliver what is due at `now`."""
        report = DeliveryReport()
        db = self.services.db
        rows = await notifications.claim_due(db, worker=self.worker, now=now, limit=limit)
        people = await self._people([row.person_id for row in rows if row.person_id])
        for row in rows:
            try:
                await self._deliver(row, people.get(row.person_id or 0), now, report)
            except Exception as exc:  # one message never stops the others
                log.exception("notification %s could not be delivered", row.id)
                report.retried += 1
                await notifications.retry_later(
                    db, row, now=now, wait=backoff(row.attempts + 1), error=repr(exc)
                )
        return report

    async def _people(self, ids: list[int]) -> dict[int, Person]:
        if not ids:
            return {}
        async with self.services.db.read() as session:
            found = await session.exec(select(Person).where(col(Person.id).in_(set(ids))))
            return {person.id or 0: person for person in found.all()}

    async def _deliver(
        self, row: Notification, person: Person | None, now: datetime, report: DeliveryReport
    ) -> None:
        db = self.services.db
        target = row.slack_channel or (person.slack_user_id if person else None)
        if (
            row.claimed_by is not None  # an earlier attempt died mid-way: settle it first
            and row.via == "slack"
            and target
            and self.services.settings.slack_configured
            and await self._already_posted(target, row)
        ):
            report.sent += 1
            attempted = (row.claimed_until or now) - timedelta(seconds=notifications.CLAIM_SECONDS)
            await notifications.sent(db, row.id or 0, now=attempted, slack_channel=target)
            return
        if row.person_id is not None and (person is None or person.revoked_at is not None):
            report.failed += 1
            await notifications.failed(
                db, row.id or 0, now=now, error="the recipient has no access"
            )
            return
        if row.held and person is not None:
            later = hours.next_working_moment(now, await self._zone(person), self.window)
            if later is not None:
                report.held += 1
                await notifications.hold(db, row.id or 0, now=now, until=later)
                return
        notice = notices.render(row.kind, row.payload)
        if row.via == "email":
            await self._email(row, person, notice, now, report)
        else:
            await self._slack(row, person, notice, now, report)

    async def _zone(self, person: Person) -> str | None:
        """The person's time zone, asked of Slack once and kept."""
        if person.time_zone is not None or not person.slack_user_id:
            return person.time_zone
        profile = await self.directory.profile(person.slack_user_id)
        person.time_zone = (profile.time_zone if profile else None) or ""
        async with self.services.db.session() as session:
            stored = await session.get(Person, person.id)
            if stored is not None:
                stored.time_zone = person.time_zone
                session.add(stored)
        return person.time_zone

    async def _slack(
        self,
        row: Notification,
        person: Person | None,
        notice: notices.Notice,
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        db = self.services.db
        target = row.slack_channel or (person.slack_user_id if person else None)
        if not self.services.settings.slack_configured or not target:
            report.failed += 1
            why = "Slack is not configured" if target else "no Slack channel or account"
            await notifications.failed(db, row.id or 0, now=now, error=why)
            return
        client = self.services.slack_http.client
        await self.services.slack_http.pacer.before_post(target)
        try:
            response = await client.chat_postMessage(
                channel=target,
                text=notice.text,
                blocks=notice.blocks or None,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": row.key}},
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in PERMANENT:
                report.failed += 1
                await notifications.failed(db, row.id or 0, now=now, error=f"Slack: {error}")
                return
            retry_after = exc.response.headers.get("Retry-After") if exc.response.headers else None
            if retry_after:
                self.services.slack_http.pacer.rate_limited(float(retry_after))
            wait = (
                timedelta(seconds=float(retry_after)) if retry_after else backoff(row.attempts + 1)
            )
            report.retried += 1
            await notifications.retry_later(db, row, now=now, wait=wait, error=f"Slack: {error}")
            return
        report.sent += 1
        await notifications.sent(
            db,
            row.id or 0,
            now=now,
            slack_channel=str(response.get("channel") or target),
            slack_ts=str(response.get("ts") or ""),
        )

    async def _already_posted(self, target: str, row: Notification) -> bool:
        """An earlier attempt claimed this message and died: did it post before dying? Our
        messages carry their key in Slack's message metadata, so look through what the
        channel received since that attempt began."""
        client = self.services.slack_http.client
        channel = target
        if target[:1] in ("U", "W"):
            channel = (await client.conversations_open(users=target))["channel"]["id"]
        began = (row.claimed_until or row.next_attempt_at) - timedelta(
            seconds=notifications.CLAIM_SECONDS + 60
        )
        cursor = None
        while True:
            page = await client.conversations_history(
                channel=channel,
                oldest=f"{began.timestamp():.6f}",
                limit=200,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("key") == row.key:
                    log.info("notification %s was posted before a crash; not again", row.id)
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return False

    def _message_id(self, row: Notification) -> str:
        """The same Message-ID for every attempt at one notification: a resend after a crash
        in the middle of the SMTP exchange is recognisable as the same message."""
        _name, address = sender_parts(self.services.settings)
        domain = self.services.settings.reply_domain or address.rpartition("@")[2] or "localhost"
        digest = hashlib.sha256(row.key.encode()).hexdigest()[:24]
        return f"<n{row.id}.{digest}@{domain}>"

    async def _already_mailed(self, message_id: str) -> bool:
        """Did an earlier, interrupted attempt finish sending this email?"""
        async with self.services.db.read() as session:
            sent = await session.exec(
                select(OutboundEmail.status).where(OutboundEmail.message_id == message_id)
            )
            return sent.first() == "sent"

    async def _email(
        self,
        row: Notification,
        person: Person | None,
        notice: notices.Notice,
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        db = self.services.db
        why = (
            "no recipient"
            if person is None
            else "email is not configured (PARTNERBOT_SMTP_HOST, PARTNERBOT_MAIL_FROM)"
            if self.mail is None
            else f"{person.email} is bouncing"
            if person.email_bouncing_since is not None
            else "this notice has no email form"
            if notice.email is None
            else None
        )
        if why is not None or person is None or self.mail is None or notice.email is None:
            report.failed += 1
            await notifications.failed(db, row.id or 0, now=now, error=why or "not sendable")
            return
        email, message_id = notice.email, self._message_id(row)
        if row.claimed_by is not None and await self._already_mailed(message_id):
            report.sent += 1
            await notifications.sent(db, row.id or 0, now=now)
            return
        stored = await self.mail.send(
            Outgoing(
                person,
                email.template,
                email.context,
                email.subject_kind,
                email.subject_id,
                message_id=message_id,
            ),
            now=now,
        )
        if stored.status == "sent":
            report.sent += 1
            await notifications.sent(db, row.id or 0, now=now)
        else:
            report.failed += 1
            await notifications.failed(db, row.id or 0, now=now, error=stored.error or "refused")
