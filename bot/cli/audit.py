"""`audit verify`: the hash chain of the audit log."""

from __future__ import annotations

import typer

from bot.cli.base import (
    JsonOption,
    err,
    group,
    in_session,
    out,
    print_json,
    settings_or_exit,
)
from bot.domain import audit

audit_app = group("audit", "The audit log.")


@audit_app.command("verify")
def audit_verify(as_json: JsonOption = False) -> None:
    """Check the audit log's hash chain; exit 1 if any event was edited, inserted or deleted."""
    settings = settings_or_exit()
    report = in_session(settings, audit.verify)
    if as_json:
        print_json({"ok": report.ok, "checked": report.checked, "problems": report.problems})
    elif report.ok:
        out.print(f"Audit log intact: {report.checked} event(s) verified.")
    else:
        err.print(f"[red]Audit log tampered with ({len(report.problems)} problem(s)):[/red]")
        for problem in report.problems:
            err.print(f"  {problem}", highlight=False, markup=False)
    if not report.ok:
        raise typer.Exit(1)
