"""The weekly training report: from Monday 09:00 UTC, once per ISO week, the report as of that
run goes to PARTNERBOT_REPORT_CHANNEL (the worker uploads it there as a chart)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.domain.notifications import Message
from bot.domain.training_report import NOTIFICATION_KIND, training_report
from bot.scheduler.jobs import JobContext, JobReport, Nudge, job, recorded, send_nudges

KIND = NOTIFICATION_KIND
SUBJECT = "program"  # one report for the whole program
POST_AT = time(9, 0)  # on Monday, UTC


def week_of(now: datetime) -> tuple[str, datetime]:
    """The ISO week `now` falls in (`2026-W48`) and when that week's report is due."""
    year, week, _ = now.astimezone(UTC).isocalendar()
    monday = datetime.fromisocalendar(year, week, 1)
    return f"{year}-W{week:02d}", datetime.combine(monday.date(), POST_AT, tzinfo=UTC)


@job("training-report")
async def weekly_training_report(ctx: JobContext, now: datetime) -> JobReport:
    """Queue this week's training report for the report channel once it is due (nothing when
    no channel is set); a week the worker was down for entirely is not made up later."""
    report = JobReport("training-report")
    channel = ctx.settings.report_channel
    week, due = week_of(now)
    if not channel or now < due:
        return report
    nudge = Nudge(KIND, SUBJECT, week)
    async with ctx.read() as session:
        if nudge.key in await recorded(session, [nudge]):
            return report  # this week's is out: no need to compute it again every cycle
        figures = await training_report(session, now=now)
    message = Message(KIND, f"{KIND}:{week}", figures.to_json(), channel=channel, hold=False)
    await send_nudges(ctx.db, [Nudge(KIND, SUBJECT, week, [message])], report, now)
    return report
