"""`report sla`: what waits for a decision, and the approval SLA's breaches; `report training`:
training reach by partner type, tier and region, and what certification does for registrations."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from bot.charts import render_png
from bot.cli.base import (
    JsonOption,
    err,
    group,
    in_session,
    out,
    print_json,
    settings_or_exit,
)
from bot.clock import parse_instant, system_clock
from bot.domain.reports import SlaReport, sla_report
from bot.domain.training_report import DIMENSIONS, TrainingReport, training_report

report_app = group("report", "Reports for the partner team.")


@report_app.command("sla")
def report_sla(
    days: Annotated[int, typer.Option(min=1, max=365, help="Breaches of the last DAYS.")] = 30,
    at: Annotated[str | None, typer.Option(help="As of this ISO-8601 time (default: now).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Registrations waiting for a decision (breached first, with their age) and the SLA
    breaches of the last 30 days with the time to decision."""
    settings = settings_or_exit()
    try:
        now = parse_instant(at) if at else system_clock()
    except ValueError as exc:
        err.print(f"partnerbot: --at: {exc}", highlight=False)
        raise typer.Exit(2) from None

    async def work(session: Any) -> SlaReport:
        return await sla_report(session, now=now, days=days)

    report = in_session(settings, work)
    if as_json:
        print_json(
            {
                "at": report.at,
                "pending": [asdict(item) for item in report.pending],
                "breaches": [asdict(item) for item in report.breaches],
            }
        )
        return
    waiting = Table("id", "customer", "partner", "status", "age (h)", "due", "breached")
    for item in report.pending:
        due = item.sla_due_at.strftime("%Y-%m-%d %H:%M") if item.sla_due_at else ""
        waiting.add_row(
            str(item.deal_id),
            item.customer,
            item.partner,
            item.status,
            f"{item.age_hours:.0f}",
            due,
            "yes" if item.breached else "",
        )
    out.print(f"Waiting for a decision ({len(report.pending)}):")
    out.print(waiting)
    breaches = Table("id", "customer", "partner", "due", "decided", "hours to decision", "late (h)")
    for breach in report.breaches:
        breaches.add_row(
            str(breach.deal_id),
            breach.customer,
            breach.partner,
            breach.sla_due_at.strftime("%Y-%m-%d %H:%M"),
            breach.decided_at.strftime("%Y-%m-%d %H:%M") if breach.decided_at else "waiting",
            f"{breach.hours_to_decision:.0f}" if breach.hours_to_decision is not None else "",
            f"{breach.hours_late:.0f}",
        )
    out.print(f"SLA breaches in the last {report.days} days ({len(report.breaches)}):")
    out.print(breaches)


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}%"


def _print_training(report: TrainingReport) -> None:
    reach = Table(
        "group", "people", "completed", "completion", "partners", "certified", "certification"
    )
    rows = [("all partners", report.overall)] + [
        (f"{name}: {rates.group or '(none)'}", rates)
        for name in DIMENSIONS
        for rates in report.groups[name]
    ]
    for label, rates in rows:
        reach.add_row(
            escape(label),
            str(rates.people),
            str(rates.completed),
            _rate(rates.completion_percent),
            str(rates.partners),
            str(rates.certified),
            _rate(rates.certification_percent),
        )
    out.print(f"Training reach as of {report.at.isoformat(timespec='minutes')}:")
    out.print(reach)
    sides = Table(
        "side", "partners", "registrations", "decided", "approved", "approval", "approved value",
        "median hours to decision",
    )  # fmt: skip
    for label, side in (("certified", report.certified), ("uncertified", report.uncertified)):
        hours = side.median_hours_to_decision
        sides.add_row(
            label,
            str(side.partners),
            str(side.registrations),
            str(side.decided),
            str(side.approved),
            _rate(side.approval_percent),
            ", ".join(f"{cur} {value:,.2f}" for cur, value in side.approved_value.items()),
            "" if hours is None else f"{hours:g}",
        )
    out.print("Registrations of certified and uncertified partners:")
    out.print(sides)
    days = report.first_deal_median_days
    out.print(
        "First certification to first approved deal: "
        + (
            f"median {days:g} days ({report.first_deal_partners} partners)"
            if days is not None
            else "no partner yet"
        ),
        highlight=False,
    )


@report_app.command("training")
def report_training(
    png: Annotated[
        Path | None, typer.Option("--png", help="Also draw the report as a PNG chart to FILE.")
    ] = None,
    at: Annotated[str | None, typer.Option(help="As of this ISO-8601 time (default: now).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Training completion and certification rates by partner type, tier and region, and how
    certified partners' registrations fare against uncertified partners'."""
    settings = settings_or_exit()
    try:
        now = parse_instant(at) if at else system_clock()
    except ValueError as exc:
        err.print(f"partnerbot: --at: {exc}", highlight=False)
        raise typer.Exit(2) from None
    if png is not None and not png.parent.is_dir():
        err.print(f"partnerbot: --png: no such directory: {png.parent}", highlight=False)
        raise typer.Exit(2)

    async def work(session: Any) -> TrainingReport:
        return await training_report(session, now=now)

    report = in_session(settings, work)
    if png is not None:
        try:
            png.write_bytes(render_png(report))
        except OSError as exc:
            err.print(f"partnerbot: --png: {exc}", highlight=False)
            raise typer.Exit(1) from None
    if as_json:
        print_json(report.to_json())
        return
    _print_training(report)
    if png is not None:
        out.print(f"Chart written to {png}", highlight=False)
