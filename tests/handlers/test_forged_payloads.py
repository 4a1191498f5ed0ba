"""Property: no forged, malformed or oversized payload of any action or view type, signed or
not, gets a 5xx, changes anything, or goes unaudited when it is refused.

Hypothesis draws the attacks; the app runs on an event loop of its own in a thread (its
database pool and HTTP session live there), and each example is sent through the signed
HTTP surface in-process.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import PartnerBot, build_app
from bot.demo.slack_requests import SlackSender
from bot.demo.slack_standin import SlackStandIn
from bot.ids import ActionId, ViewId
from store.db import Database
from tests.conftest import PROGRAM, make_settings, seed
from tests.handlers.test_registration_flow import form
from tests.handlers.test_security import refusals, state

T = TypeVar("T")
DESK = "C0DEALDESK"
FORM = "application/x-www-form-urlencoded"


class LoopThread:
    """An event loop in a thread: the app lives there; the test submits coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class World:
    db: Database
    app: PartnerBot
    client: httpx.AsyncClient
    sender: SlackSender
    deal_id: int  # Nora's registration, with a question from Mia waiting


async def build_world(path: Path, slack: SlackStandIn) -> World:
    db = Database(f"sqlite:///{path}")
    await seed(db, PROGRAM)
    app = build_app(make_settings(db, slack, deal_desk_channel=DESK), db=db)
    await app.start()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app.asgi), base_url="http://partnerbot.test"
    )
    sender = SlackSender(client, response_url=slack.response_url())
    answer = await sender.submit_view("register_deal", form(), user="U0NORA", view_id="V1")
    assert answer.status_code == 200
    await app.services.tasks.drain()
    deal_id = 1
    metadata = json.dumps({"deal_id": deal_id, "channel": DESK, "ts": "1.0"})
    question = {"question": {"value": {"type": "plain_text_input", "value": "Budget?"}}}
    await sender.submit_view("request_info", question, user="U0MIA", private_metadata=metadata)
    await app.services.tasks.drain()
    return World(db, app, client, sender, deal_id)


# --- The attacks -------------------------------------------------------------------------

MANAGER_ACTIONS = [
    ActionId.APPROVE,
    ActionId.DECLINE,
    ActionId.REQUEST_INFO,
    ActionId.APPROVE_EXTENSION,
    ActionId.DECLINE_EXTENSION,
    ActionId.OPEN_DEAL,
    ActionId.NOT_SAME_CUSTOMER,
    ActionId.SAME_CUSTOMER,
]
# No training module is offered to anyone in this world: any module id is someone else's.
PARTNER_ACTIONS = [
    ActionId.ANSWER,
    ActionId.WITHDRAW,
    ActionId.REQUEST_EXTENSION,
    ActionId.START_TRAINING,
]
MANAGER_VIEWS = [
    ViewId.DECLINE_DEAL,
    ViewId.REQUEST_INFO,
    ViewId.NOT_SAME_CUSTOMER,
    ViewId.SAME_CUSTOMER,
]
PARTNER_VIEWS = [ViewId.ANSWER, ViewId.REQUEST_EXTENSION, ViewId.TRAINING]

ids = st.one_of(
    st.just("1"),  # Nora's deal: exists, not Sam's
    st.sampled_from(["\u0661", "\u00b2", "1e3", "-1", "0", "", "99999999999", " 1", "0x1"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=50),
)
junk = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="<>&!|@#*_~`", max_size=40),
    st.integers(1, 40_000).map(lambda n: "x" * n),  # far beyond every field's limit
)
metadata = st.one_of(
    st.just(json.dumps({"deal_id": 1})),
    ids.map(lambda v: json.dumps({"deal_id": v})),
    st.text(max_size=100),
    st.just('{"deal_id": 1, "deal_id": 2}'),
    st.just("[" * 5000 + "]" * 5000),
)
strangers = st.sampled_from(["U0STRANGER", "U0NOBODY"])


@dataclass
class Attack:
    payload: dict[str, Any]
    refused: bool  # must leave exactly one access.denied event


def _user(user: str, team: str = "T0TEST") -> dict[str, Any]:
    return {"id": user, "username": "x", "name": "x", "team_id": team}


def _click(user: str, action: str, value: str, team: str = "T0TEST") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": _user(user, team),
        "team": {"id": team},
        "trigger_id": "1.t",
        "actions": [{"type": "button", "action_id": action, "block_id": "b", "value": value}],
        "container": {"type": "message", "channel_id": DESK, "message_ts": "1.0"},
        "response_url": "",
    }


def _submit(user: str, view: str, meta: str, text: str, team: str = "T0TEST") -> dict[str, Any]:
    values = {
        block: {"value": {"type": "plain_text_input", "value": text}}
        for block in ("reason", "question", "answer")
    }
    values["days"] = {"value": {"type": "static_select", "selected_option": {"value": text}}}
    return {
        "type": "view_submission",
        "user": _user(user, team),
        "team": {"id": team},
        "view": {
            "id": "V9",
            "type": "modal",
            "callback_id": view,
            "private_metadata": meta,
            "state": {"values": values},
        },
    }


@st.composite
def attacks(draw: st.DrawFn) -> Attack:
    """A request Sam (another company's partner), a stranger or a manager from a foreign
    workspace may not make — or a payload that names nobody."""
    kind = draw(st.sampled_from(["sam-manager", "sam-partner", "stranger", "foreign", "nobody"]))
    if kind == "nobody":
        payload = _click("U0SAM", draw(st.sampled_from(list(ActionId))), draw(ids))
        del payload["user"]
        return Attack(payload, refused=True)
    if kind == "sam-manager":
        actions, views, user, team = MANAGER_ACTIONS, MANAGER_VIEWS, "U0SAM", "T0TEST"
    elif kind == "sam-partner":
        actions, views, user, team = PARTNER_ACTIONS, PARTNER_VIEWS, "U0SAM", "T0TEST"
    elif kind == "foreign":  # Mia's own id, sent from a workspace that is not the vendor's
        actions, views, user, team = MANAGER_ACTIONS, MANAGER_VIEWS, "U0MIA", "T0ELSEWHERE"
    else:
        actions, views = list(ActionId), list(ViewId)
        user, team = draw(strangers), "T0TEST"
    if draw(st.booleans()):
        payload = _click(user, draw(st.sampled_from(actions)), draw(ids), team)
    else:
        payload = _submit(user, draw(st.sampled_from(views)), draw(metadata), draw(junk), team)
    return Attack(payload, refused=True)


def _body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


# --- The property ------------------------------------------------------------------------


def test_no_forged_payload_gets_a_5xx_changes_anything_or_goes_unaudited(
    tmp_path: Path, sqlite_template: Path, slack_server: SlackStandIn
) -> None:
    slack_server.reset()
    shutil.copy(sqlite_template, tmp_path / "forged.db")
    runner = LoopThread()
    world = runner.run(build_world(tmp_path / "forged.db", slack_server))

    async def send(attack: Attack) -> tuple[int, Any, int]:
        before, denied = await state(world.db), len(await refusals(world.db))
        if attack.payload.get("response_url") == "":
            attack.payload["response_url"] = world.sender.response_url
        response = await world.sender.post(_body(attack.payload), content_type=FORM)
        await world.app.services.tasks.drain()
        changed = await state(world.db) != before
        return response.status_code, changed, len(await refusals(world.db)) - denied

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(attack=attacks())
    def property_holds(attack: Attack) -> None:
        status, changed, audited = runner.run(send(attack))
        assert status < 500, attack
        assert not changed, attack
        assert audited == 1, attack

    @settings(max_examples=60, deadline=None, database=None)
    @given(
        raw=st.one_of(
            st.binary(max_size=2000),
            st.text(max_size=2000).map(lambda t: ("payload=" + t).encode("utf-8", "replace")),
            st.text(max_size=500).map(lambda t: json.dumps({"type": t}).encode()),
        ),
        signed=st.booleans(),
    )
    def malformed_bodies_get_4xx(raw: bytes, signed: bool) -> None:
        async def post() -> tuple[int, bool]:
            before = await state(world.db)
            response = await world.sender.post(raw, content_type=FORM, signed=signed)
            await world.app.services.tasks.drain()
            return response.status_code, await state(world.db) != before

        status, changed = runner.run(post())
        assert status < 500 and not changed
        if not signed:
            assert status == 401

    try:
        property_holds()
        malformed_bodies_get_4xx()
    finally:
        runner.run(world.client.aclose())
        runner.run(world.app.aclose())
        runner.stop()
