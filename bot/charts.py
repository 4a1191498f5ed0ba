"""The training report as one PNG that reads at a glance (`report training --png`, and the
weekly post to PARTNERBOT_REPORT_CHANNEL).

Rendered headless with matplotlib's Agg canvas through the object-oriented API: a `Figure`
of our own with its own `FigureCanvasAgg`, never pyplot, so no backend has to be chosen, no
display is needed and no figure is left in a global registry. Every image has the same size
(SIZE_INCHES at DPI) whatever the program looks like. matplotlib is imported on the first
drawing (it takes a second or two): the worker and the CLI load it only to draw a chart.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain.training_report import GroupRates, TrainingReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

SIZE_INCHES = (12.0, 7.5)
DPI = 100  # 1200 x 750 pixels
COMPLETION, CERTIFICATION = "#2b6cb0", "#dd8452"
CERTIFIED, UNCERTIFIED = "#2f855a", "#a0aec0"
DIMENSION_LABELS = {"type": "Type", "tier": "Tier", "region": "Region"}


def filename(report: TrainingReport) -> str:
    """The chart's file name: one per ISO week, such as training-report-2026-W48.png."""
    return f"training-report-{report.week}.png"


def title(report: TrainingReport) -> str:
    """The chart's title."""
    return f"Partner training report {report.week}"


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}%" if float(value).is_integer() else f"{value:.1f}%"


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g} h"


def _money(values: dict[str, Decimal]) -> str:
    return ", ".join(f"{cur} {value:,.2f}" for cur, value in values.items()) or "none"


def caption(report: TrainingReport) -> str:
    """The headline figures in a sentence or three (the post's comment, the image's alt text)."""
    overall, held, without = report.overall, report.certified, report.uncertified
    days = report.first_deal_median_days
    first = (
        f"median {days:g} days from a partner's first certification to its first approved"
        f" deal ({report.first_deal_partners} partners)"
        if days is not None
        else "no partner has had a deal approved since certifying yet"
    )
    return (
        f"Training report {report.week}: {_pct(overall.completion_percent)} of partner people"
        f" completed a module ({overall.completed}/{overall.people}),"
        f" {_pct(overall.certification_percent)} of partners are certified"
        f" ({overall.certified}/{overall.partners}).\n"
        f"Approval rate: certified partners {_pct(held.approval_percent)}"
        f" ({held.approved}/{held.decided}), uncertified {_pct(without.approval_percent)}"
        f" ({without.approved}/{without.decided}); median time to decision"
        f" {_hours(held.median_hours_to_decision)} vs {_hours(without.median_hours_to_decision)}.\n"
        f"{first[0].upper()}{first[1:]}."
    )


def render_png(report: TrainingReport) -> bytes:
    """The report drawn as a PNG (SIZE_INCHES at DPI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself: Agg, whatever the process's default backend
    try:
        _draw(figure, report)
        buffer = io.BytesIO()
        # No "Software" stamp: the same report gives the same bytes across matplotlib releases.
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        figure.clear()


def _plain(text: str) -> str:
    """Text as it is: a `$` in a group name must not start matplotlib's math mode."""
    return text.replace("$", r"\$")


def _draw(figure: Figure, report: TrainingReport) -> None:
    when = report.at.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")
    figure.suptitle(f"{title(report)}  ·  as of {when}", fontsize=15, fontweight="bold")
    grid = figure.add_gridspec(2, 2, width_ratios=(1.5, 1), height_ratios=(1, 1))
    _reach(figure.add_subplot(grid[:, 0]), report)
    sides = (report.certified, report.uncertified)
    _sides(
        figure.add_subplot(grid[0, 1]),
        "Registration approval rate",
        [side.approval_percent for side in sides],
        [f"{_pct(s.approval_percent)}  ({s.approved}/{s.decided} decided)" for s in sides],
        xmax=150.0,
        percent=True,
    )
    hours = [side.median_hours_to_decision for side in sides]
    _sides(
        figure.add_subplot(grid[1, 1]),
        "Median hours from registration to decision",
        hours,
        [_hours(h) for h in hours],
        xmax=max([h for h in hours if h], default=1.0) * 1.5,
    )
    # supxlabel, not a free text: the constrained layout makes room for it.
    figure.supxlabel(_plain(_footer(report)), x=0.01, ha="left", fontsize=9, color="#4a5568")


def _footer(report: TrainingReport) -> str:
    days = report.first_deal_median_days
    first = (
        f"First certification → first approved deal: median {days:g} days"
        f" ({report.first_deal_partners} partners)"
        if days is not None
        else "First certification → first approved deal: none yet"
    )
    value = (
        f"Approved value — certified: {_money(report.certified.approved_value)};"
        f" uncertified: {_money(report.uncertified.approved_value)}"
    )
    return f"{first}.   {value}."


def _rows(report: TrainingReport) -> tuple[list[tuple[str, GroupRates]], list[int]]:
    """Every bar's label and figures, and where each block (all, type, tier, region) starts."""
    rows = [("All partners", report.overall)]
    starts = []
    for dimension, label in DIMENSION_LABELS.items():
        starts.append(len(rows))
        for group in report.groups.get(dimension, []):
            rows.append((f"{label}: {group.group or '(none)'}", group))
    return rows, starts


def _reach(axes: Axes, report: TrainingReport) -> None:
    """Completion and certification rate of every group, as paired horizontal bars."""
    from matplotlib.patches import Patch

    rows, starts = _rows(report)
    size = max(6.0, min(10.0, 300 / max(len(rows), 1)))
    height = 0.38
    for index, (_label, group) in enumerate(rows):
        for offset, value, counts, colour in (
            (-height / 2, group.completion_percent, (group.completed, group.people), COMPLETION),
            (
                height / 2,
                group.certification_percent,
                (group.certified, group.partners),
                CERTIFICATION,
            ),
        ):
            axes.barh(index + offset, value or 0, height=height, color=colour)
            axes.text(
                (value or 0) + 1.5,
                index + offset,
                f"{_pct(value)} ({counts[0]}/{counts[1]})",
                va="center",
                fontsize=size - 1,
            )
    for start in starts:
        axes.axhline(start - 0.5, color="#cbd5e0", linewidth=0.8)
    axes.set_yticks(range(len(rows)), [_plain(label) for label, _ in rows], fontsize=size)
    axes.invert_yaxis()
    axes.set_xlim(0, 125)
    axes.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    axes.set_title("Training reach by partner type, tier and region", loc="left", fontsize=12)
    axes.legend(
        handles=[
            Patch(color=COMPLETION, label="People who completed a module"),
            Patch(color=CERTIFICATION, label="Partners holding a certification"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.04),  # under the axis, never over a bar
        ncols=2,
        fontsize=9,
        frameon=False,
    )
    axes.spines[["top", "right"]].set_visible(False)


def _sides(
    axes: Axes,
    heading: str,
    values: Sequence[float | None],
    labels: Sequence[str],
    *,
    xmax: float,
    percent: bool = False,
) -> None:
    """Certified against uncertified partners on one measure (room for labels up to xmax)."""
    names = ["Certified\npartners", "Uncertified\npartners"]
    axes.barh(names, [v or 0 for v in values], color=[CERTIFIED, UNCERTIFIED], height=0.55)
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        axes.text((value or 0) + xmax * 0.015, index, label, va="center", fontsize=10)
    axes.invert_yaxis()
    axes.set_xlim(0, xmax)
    if percent:
        axes.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    axes.set_title(heading, loc="left", fontsize=12)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="y", labelsize=10)
