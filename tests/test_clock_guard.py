"""Time is an input: code below the edges never reads the wall clock, and no row is dated by
anything but its caller's `now`."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlmodel import SQLModel

from store.types import UtcDateTime

ROOT = Path(__file__).resolve().parents[1]
# Below the edges: these take `now` (or a Clock) from their caller. The edges (handlers, CLI,
# the worker's loops) and bot/clock.py itself may ask the clock.
GUARDED = ["bot/domain", "bot/mail", "bot/scheduler", "store", "crm"]
CLOCK_ATTRIBUTES = {"now", "utcnow", "today", "time", "time_ns"}
CLOCK_OWNERS = {"datetime", "date", "time"}
EDGE_CLOCKS = {"system_clock", "utcnow"}


def _wall_clock_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for node in ast.walk(tree):
        where = f"{shown}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if node.func.attr in CLOCK_ATTRIBUTES and owner_name in CLOCK_OWNERS:
                found.append(f"{where}: {owner_name}.{node.func.attr}()")
            if node.func.attr == "now" and owner_name == "func":
                found.append(f"{where}: SQL func.now()")
        if isinstance(node, ast.Name) and node.id in EDGE_CLOCKS:
            found.append(f"{where}: {node.id}")
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in EDGE_CLOCKS:
                    found.append(f"{where}: imports {alias.name}")
    return found


def test_no_code_below_the_edges_reads_the_wall_clock() -> None:
    files = [path for folder in GUARDED for path in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 30  # the guard is looking at the real tree
    reads = [read for path in files for read in _wall_clock_reads(path)]
    assert reads == [], "pass `now` (or a Clock) in from the caller instead:\n" + "\n".join(reads)


def test_the_guard_sees_every_way_of_reading_the_clock(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import time\nfrom datetime import UTC, date, datetime\n"
        "from bot.clock import system_clock\n"
        "a = datetime.now(UTC)\nb = date.today()\nc = time.time()\nd = datetime.utcnow()\n"
        "e = system_clock()\n"
    )
    assert len(_wall_clock_reads(sample)) == 6


def test_no_timestamp_column_dates_itself() -> None:
    """Every timestamp is written by the code that was given `now`: no Python default, no
    server default that would stamp the wall clock behind the caller's back."""
    stamped_by_default = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, UtcDateTime)
        and (column.default is not None or column.server_default is not None)
    ]
    assert stamped_by_default == []
