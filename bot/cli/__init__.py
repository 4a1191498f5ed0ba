"""The `partnerbot` command line: one module per command group, over the domain services."""

from __future__ import annotations

from bot.cli import (  # noqa: F401  (each registers its commands)
    announce,
    audit,
    crm,
    demo,
    mail,
    people,
    program,
    report,
    run,
    training,
)
from bot.cli.base import app


def main() -> None:
    """Console-script entry point."""
    app()
