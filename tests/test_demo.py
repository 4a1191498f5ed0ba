"""`partnerbot demo` tells the whole story, passes every step, and stops at the first that
does not hold — so it is also a smoke test of the product over its public surface."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo.story import Event, StepFailed, Story

PARTNERBOT = str(Path(sys.executable).with_name("partnerbot"))


def test_the_demo_tells_the_whole_story_and_every_step_passes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERBOT_")}
    kept = tmp_path / "kept"
    done = subprocess.run(
        [PARTNERBOT, "demo", "--json", "--keep", str(kept)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    story = json.loads(done.stdout)
    assert story["ok"] is True and story["seconds"] < 60
    assert [s["ok"] for s in story["steps"]] == [True] * 7
    seen = "\n".join(e["text"] for e in story["events"])
    for moment in (
        "Potential conflict",  # the second partner's verdict
        "Approved",  # the manager's decision, on the card and in /deals
        "Acknowledged on",  # the DM updated in place
        "🔔 Please acknowledge Rules of engagement",  # the reminder to the partner who did not acknowledge
        "1. When does a deal's protection start?",  # the quiz by email
        "You passed Deal registration 101",  # graded from the email reply
        "Audit log intact",
    ):
        assert moment in seen, moment
    kinds = {e["kind"] for e in story["events"]}
    assert {"slack", "view", "email", "cli", "note"} <= kinds
    # --keep leaves what was made, to explore with the CLI.
    assert (kept / "partnerbot.db").exists() and list((kept / "mail").glob("*.eml"))


async def test_a_step_that_does_not_hold_stops_the_demo_and_says_what_happened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Story) -> None:
        raise StepFailed("the card to be updated", "nothing")

    monkeypatch.setattr(Story, "approve", broken)
    events: list[Event] = []
    results = await Story(tmp_path, events.append).run()
    assert [(r.number, r.ok) for r in results] == [(1, True), (2, True), (3, False)]
    assert results[-1].problem == "expected the card to be updated; got nothing"
    assert "PARTNERBOT_SLACK_API_URL" not in os.environ  # the demo's settings are gone
