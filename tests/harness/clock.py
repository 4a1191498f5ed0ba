"""The tests' fixed moment: domain calls are dated by it, never by the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
