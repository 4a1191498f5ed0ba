"""The worker's delivery of queued notifications: Slack DMs, channel posts and emails.

Due messages are claimed (several workers side by side on PostgreSQL), rendered by
`bot/notices.py` and sent through the same senders as everything else (`bot/notify.py`,
the mail `Outbox`). A message to a person waits for their working hours when it asks to;
Slack's 429s are honoured; a transient failure is retried with backoff, a refusal for good
is kept with Slack's or the mail server's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlmodel import col, select

from bot import charts, notices
from bot.context import Services
from bot.domain import hours, notifications, publishing
from bot.domain.access import SlackDirectory
from bot.domain.outbox import backoff
from bot.domain.publishing import SUBJECT
from bot.domain.training_report import NOTIFICATION_KIND as REPORT_KIND
from bot.domain.training_report import TrainingReport
from bot.mail.outbound import Outbox, Outgoing, sender_parts
from bot.views import announcements as announcement_views
from bot.views import training as training_views
from bot.views.announcements import announcement_facts
from store.models import (
    Acknowledgement,
    Announcement,
    Notification,
    NotificationStatus,
    OutboundEmail,
    Person,
    TrainingAttempt,
    TrainingModule,
)

log = logging.getLogger(__name__)

MODULE_KINDS = ("training.invite", "training.recertify")  # carry the module's content and quiz
PER_CHANNEL_ROUND = 40  # messages to one Slack channel in one round (~40 s at Slack's pace)
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
# What files.getUploadURLExternal and files.completeUploadExternal refuse for good, besides
# the above (https://docs.slack.dev/reference/methods/files.completeUploadExternal).
UPLOAD_PERMANENT = PERMANENT | {
    "invalid_channel",
    "posting_to_channel_denied",
    "file_uploads_disabled",
    "file_upload_size_restricted",
    "storage_limit_reached",
    "missing_argument",
    "alt_txt_too_large",
    "access_denied",
    "no_permission",
    "missing_scope",
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

    async def deliver_due(
        self, now: datetime, *, limit: int = 500, via: str | None = None
    ) -> DeliveryReport:
        """Claim and deliver what is due at `now`: each Slack channel's messages in turn (1 a
        second, Slack's pace per channel) while other channels and the emails (over one SMTP
        connection) go side by side. A round takes at most PER_CHANNEL_ROUND messages a
        channel and a minute's worth of Slack's workspace pace, so it ends well inside its
        claim; the rest are released for the next round."""
        report = DeliveryReport()
        db = self.services.db
        rows = await notifications.claim_due(db, worker=self.worker, now=now, limit=limit, via=via)
        if not rows:
            return report
        people = await self._people([row.person_id for row in rows if row.person_id])
        rows = await self._with_subjects(rows)
        lanes: dict[str, list[Notification]] = {}
        later: list[Notification] = []
        for row in rows:
            person = people.get(row.person_id or 0)
            lane = (
                "email"
                if row.via == "email"
                else row.slack_channel
                or (person.slack_user_id if person and person.slack_user_id else "?")
            )
            lanes.setdefault(lane, []).append(row)
        budget = self.services.settings.slack_messages_per_minute  # a minute of Slack a round
        for name in [lane for lane in lanes if lane != "email"]:
            keep = lanes[name][: min(PER_CHANNEL_ROUND, budget)]
            budget -= len(keep)
            later += lanes[name][len(keep) :]
            lanes[name] = keep
        if later:
            await notifications.release(db, later)

        async def lane_of(queue: list[Notification]) -> None:
            if queue and queue[0].via == "email":
                await self._emails(queue, people, now, report)
                return
            for row in queue:
                try:
                    await self._deliver(row, people.get(row.person_id or 0), now, report)
                except Exception as exc:  # one message never stops the others
                    log.exception("notification %s could not be delivered", row.id)
                    report.retried += 1
                    await notifications.retry_later(
                        db, row, now=now, wait=backoff(row.attempts + 1), error=repr(exc)
                    )

        await asyncio.gather(*(lane_of(queue) for queue in lanes.values()))
        await self._progress({row.subject_id for row in rows if row.subject_kind == SUBJECT})
        return report

    async def _with_subjects(self, rows: list[Notification]) -> list[Notification]:
        """Announcements' and modules' text is read once per round, not copied into every
        notification."""
        ids = {row.subject_id for row in rows if row.subject_kind == SUBJECT and row.subject_id}
        modules = {
            row.subject_id
            for row in rows
            if row.kind in MODULE_KINDS and row.subject_kind == training_views.SUBJECT
        }
        if not ids and not modules:
            return rows
        async with self.services.db.read() as session:
            found = await session.exec(
                select(Announcement, Person.name)
                .join(Person, col(Person.id) == col(Announcement.published_by_id))
                .where(col(Announcement.id).in_(ids))
            )
            texts = {a.id: (a, name) for a, name in found.all()}
            taught = await session.exec(
                select(TrainingModule).where(col(TrainingModule.id).in_(modules))
            )
            facts = {module.id: training_views.module_facts(module) for module in taught.all()}
        for row in rows:
            text = texts.get(row.subject_id) if row.subject_kind == SUBJECT else None
            if text is not None:
                row.payload = row.payload | announcement_facts(*text)
            if row.kind in MODULE_KINDS and row.subject_id in facts:
                row.payload = facts[row.subject_id] | row.payload
        return rows

    async def _progress(self, announcement_ids: set[int | None]) -> None:
        """Update each publisher's confirmation message: delivered so far, then a summary."""
        client = self.services.slack_http.client
        for announcement_id in announcement_ids:
            if not announcement_id or not self.services.settings.slack_configured:
                continue
            async with self.services.db.read() as session:
                announcement = await session.get(Announcement, announcement_id)
                if announcement is None or not announcement.status_ts:
                    continue
                channel = announcement.status_channel or ""
                done = await publishing.progress(session, announcement_id)
            text, blocks = announcement_views.progress_message(announcement, done)
            try:
                await client.chat_update(
                    channel=channel,
                    ts=announcement.status_ts,
                    text=text,
                    blocks=blocks,
                )
            except SlackApiError as exc:
                log.warning(
                    "could not update announcement %s's progress: %s",
                    announcement_id,
                    exc.response.get("error"),
                )

    async def _people(self, ids: list[int]) -> dict[int, Person]:
        if not ids:
            return {}
        async with self.services.db.read() as session:
            found = await session.exec(select(Person).where(col(Person.id).in_(set(ids))))
            return {person.id or 0: person for person in found.all()}

    async def _deliver(
        self, row: Notification, person: Person | None, now: datetime, report: DeliveryReport
    ) -> None:
        if row.kind == REPORT_KIND:  # a chart to upload, not a message to post
            await self._upload_report(row, now, report)
            return
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
        if person is not None and await self._done_meanwhile(row, person):
            await notifications.settle(
                db, row.id or 0, now=now, status=NotificationStatus.CANCELLED
            )
            return
        if row.held and person is not None:
            later = hours.next_working_moment(now, await self._zone(person), self.window)
            if later is not None:
                report.held += 1
                await notifications.hold(db, row.id or 0, now=now, until=later)
                return
        notice = notices.render(row.kind, row.payload)
        await self._slack(row, person, notice, now, report)

    async def _done_meanwhile(self, row: Notification, person: Person) -> bool:
        """What the message asks for was done since it was queued (a reminder's recipient
        acknowledged; an invited or reminded person passed the module): it stays unsent."""
        if row.kind == "announcement.reminder":
            query = select(Acknowledgement.id).where(
                Acknowledgement.announcement_id == row.subject_id,
                Acknowledgement.person_id == person.id,
            )
        elif row.kind in ("training.invite", "training.recertify"):
            query = select(TrainingAttempt.id).where(
                TrainingAttempt.module_id == row.subject_id,
                TrainingAttempt.person_id == person.id,
                col(TrainingAttempt.passed).is_(True),
                col(TrainingAttempt.completed_at) >= row.created_at,
            )
        else:
            return False
        async with self.services.db.read() as session:
            return (await session.exec(query)).first() is not None

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
            await self._refused(row, exc, now, report, PERMANENT)
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
        # It cannot have been posted before it fell due (a failed post moves `next_attempt_at`
        # on, a post that may have gone through never does), however many attempts died since.
        began = row.next_attempt_at - timedelta(seconds=60)
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

    async def _upload_report(
        self, row: Notification, now: datetime, report: DeliveryReport
    ) -> None:
        """The training report as a chart in its channel (files upload v2), once: a retry
        first looks for the file in the channel, in case an earlier attempt shared it and then
        died, or Slack failed after sharing it, before this was recorded."""
        db = self.services.db
        channel = row.slack_channel
        if not self.services.settings.slack_configured or not channel:
            report.failed += 1
            why = "Slack is not configured" if channel else "no Slack channel"
            await notifications.failed(db, row.id or 0, now=now, error=why)
            return
        training = TrainingReport.from_json(row.payload)
        name = charts.filename(training)
        client = self.services.slack_http.client
        try:
            if row.claimed_by is not None or row.attempts:
                ts = await self._already_uploaded(channel, row, name)
                if ts is not None:
                    report.sent += 1
                    await notifications.sent(
                        db, row.id or 0, now=now, slack_channel=channel, slack_ts=ts
                    )
                    return
            png = await asyncio.to_thread(charts.render_png, training)
            summary = charts.caption(training)
            await self.services.slack_http.pacer.before_post(channel)
            await client.files_upload_v2(
                channel=channel,
                file=png,
                filename=name,
                title=charts.title(training),
                initial_comment=summary,
                alt_txt=summary[:1000],  # Slack's limit for alt_txt
            )
        except SlackApiError as exc:
            await self._refused(row, exc, now, report, UPLOAD_PERMANENT)
            return
        except SlackRequestError as exc:  # the upload URL did not take the bytes
            report.retried += 1
            await notifications.retry_later(
                db, row, now=now, wait=backoff(row.attempts + 1), error=f"Slack upload: {exc}"
            )
            return
        report.sent += 1
        await notifications.sent(db, row.id or 0, now=now, slack_channel=channel)

    async def _refused(
        self,
        row: Notification,
        exc: SlackApiError,
        now: datetime,
        report: DeliveryReport,
        permanent: Collection[str],
    ) -> None:
        """Slack refused a post or an upload: for good (`permanent` errors), or to try again
        (after Retry-After, which also pauses every post)."""
        db = self.services.db
        error = str(exc.response.get("error") or exc.response.status_code)
        if error in permanent:
            report.failed += 1
            await notifications.failed(db, row.id or 0, now=now, error=f"Slack: {error}")
            return
        retry_after = exc.response.headers.get("Retry-After") if exc.response.headers else None
        if retry_after:
            self.services.slack_http.pacer.rate_limited(float(retry_after))
        wait = timedelta(seconds=float(retry_after)) if retry_after else backoff(row.attempts + 1)
        report.retried += 1
        await notifications.retry_later(db, row, now=now, wait=wait, error=f"Slack: {error}")

    async def _already_uploaded(self, channel: str, row: Notification, name: str) -> str | None:
        """The ts of a message in the channel carrying a file of this name since the report
        was queued (our file names are one per ISO week), or None."""
        client = self.services.slack_http.client
        oldest = row.created_at - timedelta(minutes=5)
        cursor = None
        while True:
            page = await client.conversations_history(
                channel=channel, oldest=f"{oldest.timestamp():.6f}", limit=200, cursor=cursor
            )
            for message in page.get("messages") or []:
                if any(file.get("name") == name for file in message.get("files") or []):
                    log.info("notification %s was uploaded before; not again", row.id)
                    return str(message.get("ts") or "")
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None

    def _message_id(self, row: Notification) -> str:
        """The same Message-ID for every attempt at one notification: a resend after a crash
        in the middle of the SMTP exchange is recognisable as the same message."""
        _name, address = sender_parts(self.services.settings)
        domain = self.services.settings.reply_domain or address.rpartition("@")[2] or "localhost"
        digest = hashlib.sha256(row.key.encode()).hexdigest()[:24]
        return f"<n{row.id}.{digest}@{domain}>"

    async def _already_mailed(self, message_ids: list[str]) -> set[str]:
        """Which of these emails an earlier, interrupted attempt finished sending."""
        if not message_ids:
            return set()
        async with self.services.db.read() as session:
            sent = await session.exec(
                select(OutboundEmail.message_id).where(
                    col(OutboundEmail.message_id).in_(message_ids), OutboundEmail.status == "sent"
                )
            )
            return set(sent.all())

    async def _emails(
        self,
        rows: list[Notification],
        people: dict[int, Person],
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        """The email lane: checks and holds one by one, then every sendable message composed,
        recorded and sent over the one SMTP connection as a batch."""
        db = self.services.db
        ready: list[tuple[Notification, Outgoing]] = []
        for row in rows:
            person = people.get(row.person_id or 0)
            try:
                outgoing = await self._email_of(row, person, now, report)
            except Exception as exc:  # one message never stops the others
                log.exception("notification %s could not be prepared", row.id)
                report.retried += 1
                await notifications.retry_later(
                    db, row, now=now, wait=backoff(row.attempts + 1), error=repr(exc)
                )
                continue
            if outgoing is not None:
                ready.append((row, outgoing))
        if not ready:
            return
        done = await self._already_mailed(
            [o.message_id or "" for row, o in ready if row.claimed_by is not None]
        )
        fresh = [(row, o) for row, o in ready if o.message_id not in done]
        stored = await self.mail.send_many([o for _, o in fresh], now=now) if self.mail else []
        sent = [row.id or 0 for row, o in ready if o.message_id in done]
        for (row, _outgoing), record in zip(fresh, stored, strict=True):
            if record.status == "sent":
                sent.append(row.id or 0)
            else:
                report.failed += 1
                await notifications.failed(
                    db, row.id or 0, now=now, error=record.error or "refused"
                )
        report.sent += len(sent)
        await notifications.sent_many(db, sent, now=now)

    async def _email_of(
        self, row: Notification, person: Person | None, now: datetime, report: DeliveryReport
    ) -> Outgoing | None:
        """The email to send for a row, or None when it was settled otherwise (held for
        working hours, no longer needed, or impossible — and why)."""
        db = self.services.db
        if person is None or person.revoked_at is not None:
            report.failed += 1
            await notifications.failed(
                db, row.id or 0, now=now, error="the recipient has no access"
            )
            return None
        if await self._done_meanwhile(row, person):
            await notifications.settle(
                db, row.id or 0, now=now, status=NotificationStatus.CANCELLED
            )
            return None
        if row.held:
            later = hours.next_working_moment(now, await self._zone(person), self.window)
            if later is not None:
                report.held += 1
                await notifications.hold(db, row.id or 0, now=now, until=later)
                return None
        notice = notices.render(row.kind, row.payload)
        why = (
            "email is not configured (PARTNERBOT_SMTP_HOST, PARTNERBOT_MAIL_FROM)"
            if self.mail is None
            else f"{person.email} is bouncing"
            if person.email_bouncing_since is not None
            else "this notice has no email form"
            if notice.email is None
            else None
        )
        if why is not None or notice.email is None:
            report.failed += 1
            await notifications.failed(db, row.id or 0, now=now, error=why or "not sendable")
            return None
        email = notice.email
        return Outgoing(
            person,
            email.template,
            email.context,
            email.subject_kind,
            email.subject_id,
            message_id=self._message_id(row),
        )
