"""A local stand-in for HubSpot's CRM v3/v4 and settings APIs, driven through hubspot-api-client.

It speaks HubSpot's wire format on its real paths and refuses what HubSpot refuses (each rule
cites the documentation it follows):
- `/crm/v3/objects/{type}/batch/upsert` keyed by a unique-value property; notes have none
  (HubSpot offers unique values on contacts, companies, deals, tickets and custom objects
  only — https://knowledge.hubspot.com/properties/set-validation-rules-for-properties,
  https://developers.hubspot.com/changelog/unique-properties-for-contacts), so an
  upsert of notes is answered 400 "Unable to perform update/upsert by non-unique 0-46
  property …", as HubSpot answers it.
- `batch/create` with associations inline (notes: `hs_timestamp` required, `hs_note_body` at
  most 65,536 characters — https://developers.hubspot.com/docs/api/crm/notes), `batch/read`,
  `batch/update`, single create (409 on a duplicate unique value), contacts `gdpr-delete`.
- Deals: `deal_currency_code` must be one of the portal's currencies — the company currency
  and the additional ones with exchange rates
  (https://developers.hubspot.com/docs/api-reference/latest/account/settings/multicurrency/guide)
  — answered `"EUR" is not a part of the current effective currency codes for portal …`, as
  HubSpot has answered since mid-2023; `pipeline` and `dealstage` must be internal ids of the
  portal's pipelines, and a deal created without a pipeline goes to the default one
  (https://developers.hubspot.com/docs/api/crm/deals#create-deals, and "on accounts with
  multiple pipelines … you'll also need to set the pipeline property",
  https://developers.hubspot.com/docs/methods/pipelines/pipelines_overview).
- Dropdown (enumeration) properties take only their options' internal values, refused with
  `INVALID_OPTION` otherwise (https://developers.hubspot.com/docs/api/crm/properties): the
  portal is set up as the README's HubSpot section says (`DROPDOWNS`).
- `search` (filters EQ/NEQ/GT/GTE/LT/LTE/IN/NOT_IN, at most 5 filter groups, 10 filters a
  group and 25 in all — https://developers.hubspot.com/changelog/breaking-change-expanded-
  filtering-capabilities-and-error-messaging-in-hubspots-search-api —, one sort, `after`
  paging, 200 a page, 10,000 results a query), limited to 5 requests per second per account
  (https://developers.hubspot.com/docs/api/crm/search, "Limitations") and answered 429 `You
  have reached your secondly limit.` (policy SECONDLY) past it; the search index can be made
  to lag (`hide_from_search` puts a record in `unsearchable`), as HubSpot's does.
- `/crm/v4/associations/{from}/{to}/batch/create` (HubSpot-defined type ids checked) and
  `/crm/v4/objects/{type}/{id}/associations/{to}` (500 a page).
- `/crm/v3/pipelines/deals` and the currencies settings API
  (https://developers.hubspot.com/docs/api/settings/currencies: `company-currency`,
  `exchange-rates/current`).
Errors are HubSpot's JSON (`status`, `message`, `category`, `context`), batches answer 207
with per-record errors, and every answer carries the `X-HubSpot-RateLimit-*` headers; past
the ten-second limit it answers 429 with Retry-After. Tests script outages, 5xx, 429 storms,
slow answers (the request is carried out after the delay), answers lost after the request was
carried out (`lose_answer`) and refused records.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiohttp import web

from tests.harness.standin import Fault, RollingWindow, ThreadedStandIn

VALID_TOKEN = "pat-test-hubspot"
PORTAL_ID = 24_681_357

# The unique-value property each object type is keyed by ("hasUniqueValue": true).
UNIQUE = {
    "deals": "partnerbot_deal_id",
    "contacts": "email",
    "companies": "partnerbot_company_key",
}
OBJECT_TYPES = ("deals", "contacts", "companies", "notes")
TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "notes": "0-46"}
# HubSpot-defined association type ids (docs: "Associations v4, association type IDs").
ASSOCIATION_TYPES = {
    ("notes", "deals"): 214,
    ("notes", "companies"): 190,
    ("notes", "contacts"): 202,
}
# Dropdown properties as the README asks an admin to create them: (object, name) -> options.
DROPDOWNS = {
    "deals": {
        "partnerbot_registration_status": [
            "pending",
            "info_requested",
            "approved",
            "declined",
            "withdrawn",
            "expired",
        ],
        "partnerbot_motion": ["resale", "referral", "co-sell"],
    },
    "companies": {"partnerbot_owner_kind": ["direct", "partner", "none"]},
}
MAX_BATCH = 100
SEARCH_CAP = 10_000
SEARCH_PER_SECOND = 5
NOTE_BODY_MAX = 65_536
CURRENCIES = "/settings/currencies/2026-03"
LOSE_ANSWER = web.RequestKey("lose_answer", int)  # the 5xx a carried-out request is answered
# A new portal's one deal pipeline ("default") and its stages, as HubSpot creates them.
DEFAULT_PIPELINE = {
    "id": "default",
    "label": "Sales Pipeline",
    "stages": [
        ("appointmentscheduled", "Appointment Scheduled"),
        ("qualifiedtobuy", "Qualified To Buy"),
        ("presentationscheduled", "Presentation Scheduled"),
        ("decisionmakerboughtin", "Decision Maker Bought-In"),
        ("contractsent", "Contract Sent"),
        ("closedwon", "Closed Won"),
        ("closedlost", "Closed Lost"),
    ],
}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, category: str, message: str, **extra: Any) -> web.Response:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return web.json_response(body, status=status)


@dataclass
class PathFault(Fault):
    """A fault for requests whose path contains `path`, after `skip` of them went through."""

    path: str = ""
    skip: int = 0


@dataclass
class HubSpotObject:
    id: str
    properties: dict[str, str]
    created_at: str = field(default_factory=_now_iso)
    updated_at: str = field(default_factory=_now_iso)
    modified_ms: int = 0

    def as_json(self, *, new: bool | None = None) -> dict[str, Any]:
        properties = {
            **self.properties,
            "hs_object_id": self.id,
            "hs_lastmodifieddate": str(self.modified_ms),
        }
        body: dict[str, Any] = {
            "id": self.id,
            "properties": properties,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
        }
        if new is not None:
            body["new"] = new
        return body


class HubSpotStandIn(ThreadedStandIn):
    """Start with `start()`; give the client `host=standin.url`; inspect `objects`."""

    thread_name = "hubspot-standin"

    def __init__(self, *, token: str = VALID_TOKEN, limit_per_10s: int | None = None) -> None:
        super().__init__()
        self.token = token
        self.reset(limit_per_10s=limit_per_10s)

    def add_routes(self, app: web.Application) -> None:
        """HubSpot's CRM and settings paths."""
        app.router.add_post("/crm/v3/objects/{type}/batch/upsert", self._batch_upsert)
        app.router.add_post("/crm/v3/objects/{type}/batch/create", self._batch_create)
        app.router.add_post("/crm/v3/objects/{type}/batch/read", self._batch_read)
        app.router.add_post("/crm/v3/objects/{type}/batch/update", self._batch_update)
        app.router.add_post("/crm/v3/objects/contacts/gdpr-delete", self._gdpr_delete)
        app.router.add_post("/crm/v3/objects/{type}/search", self._search)
        app.router.add_post("/crm/v3/objects/{type}", self._create)
        app.router.add_post(
            "/crm/v4/associations/{from_type}/{to_type}/batch/create", self._associate
        )
        app.router.add_get(
            "/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}", self._associations
        )
        app.router.add_get("/crm/v3/pipelines/{type}", self._pipelines)
        app.router.add_get(f"{CURRENCIES}/company-currency", self._company_currency)
        app.router.add_get(f"{CURRENCIES}/exchange-rates/current", self._exchange_rates)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        app.middlewares.append(self._answer_lost)

    @web.middleware
    async def _answer_lost(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """A request carried out whose answer never reaches the client (`lose_answer`)."""
        response = await handler(request)
        if (status := request.get(LOSE_ANSWER)) is not None:
            return _error(status, "INTERNAL_ERROR", "upstream timed out (scripted lost answer)")
        return response

    @property
    def url(self) -> str:
        """The host to give hubspot-api-client (PARTNERBOT_HUBSPOT_API_URL)."""
        return f"http://127.0.0.1:{self.port}"

    # --- test controls ----------------------------------------------------------------

    def reset(
        self,
        *,
        limit_per_10s: int | None = None,
        window_seconds: float = 10.0,
        currencies: tuple[str, ...] = ("USD",),
    ) -> None:
        """Forget every object, request and fault; a portal whose company currency is the
        first of `currencies` (the others have exchange rates) and with one deal pipeline."""
        with self.lock:
            self.objects: dict[str, dict[str, HubSpotObject]] = {t: {} for t in OBJECT_TYPES}
            self._unique: dict[str, dict[str, HubSpotObject]] = {t: {} for t in UNIQUE}
            self.associations: set[tuple[str, str, str, str, int]] = set()
            self.requests: Counter[str] = Counter()  # "POST /crm/v3/..." -> count
            self.rate_limited = 0
            self.search_limited = 0
            self.refuse_values: set[str] = set()  # a record with any of these values: refused
            self.currencies = [c.upper() for c in currencies]
            self.pipelines: list[dict[str, Any]] = [json.loads(json.dumps(DEFAULT_PIPELINE))]
            self.unsearchable: set[str] = set()  # ids the search index has not caught up with
            self._faults: list[PathFault] = []
            self.window = RollingWindow(limit_per_10s, window_seconds)
            self.search_window = RollingWindow(SEARCH_PER_SECOND, 1.0)
            self._ids = itertools.count(1001)
            self.clock_ms = 1_700_000_000_000

    def fail(self, status: int = 503, *, times: int = 1, path: str = "", skip: int = 0) -> None:
        """Answer the next `times` requests (to paths containing `path`, after `skip` of
        them) with a 5xx (or any status)."""
        self._faults.append(PathFault("error", status, times, path=path, skip=skip))

    def down(self) -> None:
        """Answer every request 503 until `up()`."""
        self._faults.insert(0, PathFault("error", 503, 10**9))

    def up(self) -> None:
        """End an outage."""
        self._faults = [f for f in self._faults if f.remaining < 10**8]

    def rate_limit(self, *, times: int, retry_after: int = 1) -> None:
        """Answer the next `times` requests 429, as when another app shares the portal."""
        self._faults.append(PathFault("rate_limit", retry_after, times))

    def slow(self, seconds: float, *, times: int = 1, path: str = "") -> None:
        """Delay the next `times` answers (the request is carried out after the delay)."""
        self._faults.append(PathFault("slow", seconds, times, path=path))

    def lose_answer(self, status: int = 504, *, times: int = 1, path: str = "") -> None:
        """Carry out the next `times` requests (to paths containing `path`) but answer them
        with a 5xx, as a gateway that timed out after HubSpot acted does."""
        self._faults.append(PathFault("lost", status, times, path=path))

    def advance(self, *, seconds: float) -> None:
        """Let time pass for last-modified stamps."""
        with self.lock:
            self.clock_ms += int(seconds * 1000)

    def add_pipeline(self, pipeline_id: str, label: str, stages: list[tuple[str, str]]) -> None:
        """Another deal pipeline (Sales Hub Starter and up)."""
        with self.lock:
            self.pipelines.append({"id": pipeline_id, "label": label, "stages": stages})

    def add_company(self, domain: str, name: str, **properties: str) -> HubSpotObject:
        """A company already in the CRM (as a sales rep would have created it)."""
        with self.lock:
            return self._put("companies", {"domain": domain, "name": name, **properties})

    def touch(self, obj: HubSpotObject, **properties: str) -> None:
        """A rep edits a record."""
        with self.lock:
            self._touch(obj, properties)

    def find(self, object_type: str, prop: str, value: str) -> list[HubSpotObject]:
        """Objects of a type whose property has a value (by index for the unique property)."""
        if prop == UNIQUE.get(object_type):
            found = self._unique[object_type].get(value)
            return [found] if found is not None else []
        return [o for o in self.objects[object_type].values() if o.properties.get(prop) == value]

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """The ids a record is associated with."""
        return [a[3] for a in self.associations if a[:3] == (from_type, from_id, to_type)]

    def calls(self, path_part: str) -> int:
        """How many requests went to paths containing `path_part`."""
        return sum(n for key, n in self.requests.items() if path_part in key)

    # --- plumbing ---------------------------------------------------------------------

    def _tick(self) -> int:
        self.clock_ms += 1
        return self.clock_ms

    def _put(self, object_type: str, properties: dict[str, str]) -> HubSpotObject:
        obj = HubSpotObject(str(next(self._ids)), dict(properties), modified_ms=self._tick())
        self.objects[object_type][obj.id] = obj
        if object_type in UNIQUE and (key := properties.get(UNIQUE[object_type])) is not None:
            self._unique[object_type][key] = obj
        return obj

    def _touch(self, obj: HubSpotObject, properties: dict[str, str]) -> None:
        obj.properties.update(properties)
        obj.updated_at, obj.modified_ms = _now_iso(), self._tick()

    def _headers(self, remaining: int) -> dict[str, str]:
        limit = self.window.limit or 1_000_000
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.window.seconds * 1000)),
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Daily": "1000000",
            "X-HubSpot-RateLimit-Daily-Remaining": "999000",
        }

    def _next_fault(self, path: str) -> PathFault | None:
        with self.lock:
            for fault in self._faults:
                if fault.path not in path:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _gate(self, request: web.Request) -> web.Response | int:
        """Authentication, scripted faults and the rate limits; the remaining budget or an
        answer."""
        self.requests[f"{request.method} {request.path}"] += 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            )
        fault = self._next_fault(request.path)
        if fault is not None and fault.kind == "slow":
            await request.read()  # HubSpot has the whole request, whoever stops waiting
            await asyncio.sleep(fault.value)
        if fault is not None and fault.kind == "error":
            return _error(fault.value, "INTERNAL_ERROR", "internal error (scripted outage)")
        if fault is not None and fault.kind == "lost":
            request[LOSE_ANSWER] = fault.value
        with self.lock:
            admitted, remaining = self.window.take()
            retry_after = self.window.retry_after()
            searched = True
            if admitted and request.path.endswith("/search"):
                searched, _left = self.search_window.take()
        if not searched:  # the search API's own limit: 5 per second per account
            self.search_limited += 1
            return _error(
                429,
                "RATE_LIMITS",
                "You have reached your secondly limit.",
                errorType="RATE_LIMIT",
                policyName="SECONDLY",
                groupName="publicapi:crm-search-secondly",
            )
        if fault is not None and fault.kind == "rate_limit":
            admitted, retry_after = False, float(fault.value)
        if not admitted:
            self.rate_limited += 1
            response = _error(
                429,
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            )
            response.headers.update(self._headers(0))
            response.headers["Retry-After"] = str(max(1, round(retry_after + 0.5)))
            return response
        return remaining

    async def _json(self, request: web.Request) -> Any:
        try:
            return json.loads(await request.read())
        except ValueError:
            return None

    def _answer(self, body: Any, status: int, remaining: int) -> web.Response:
        return web.json_response(body, status=status, headers=self._headers(remaining))

    def _batch_answer(
        self, results: list[dict[str, Any]], errors: list[dict[str, Any]], remaining: int, ok: int
    ) -> web.Response:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": _now_iso(),
            "completedAt": _now_iso(),
        }
        if errors:
            body["errors"], body["numErrors"] = errors, len(errors)
        return self._answer(body, 207 if errors else ok, remaining)

    @staticmethod
    def _record_error(category: str, message: str, trace: str | None) -> dict[str, Any]:
        context = {"objectWriteTraceId": [trace]} if trace else {}
        return {
            "status": "error",
            "category": category,
            "message": message,
            "context": context,
            "errors": [],
            "links": {},
        }

    async def _open_batch(
        self, request: web.Request
    ) -> web.Response | tuple[str, dict[str, Any], int]:
        """Gate a batch request and check its shape: (object type, body, remaining budget)."""
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        object_type, body = request.match_info["type"], await self._json(request)
        if object_type not in OBJECT_TYPES:
            return _error(404, "OBJECT_NOT_FOUND", f"Unknown object type {object_type}")
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        if len(body["inputs"]) > MAX_BATCH:
            return _error(
                400, "VALIDATION_ERROR", f"Batch input is limited to {MAX_BATCH} inputs per request"
            )
        return object_type, body, gate

    def _invalid(self, object_type: str, properties: dict[str, str], *, new: bool) -> str | None:
        """Why HubSpot would refuse these property values (None: it takes them)."""
        if self.refuse_values & set(properties.values()):
            return "Property values were not valid"
        for name, options in DROPDOWNS.get(object_type, {}).items():
            if (value := properties.get(name)) not in (None, "") and value not in options:
                return _invalid_option(name, str(value), options)
        if object_type != "deals":
            return None
        code = properties.get("deal_currency_code")
        if code is not None and code not in self.currencies:
            return (
                f'"{code}" is not a part of the current effective currency codes for portal'
                f" {PORTAL_ID}: {self.currencies}"
            )
        pipeline_id = properties.get("pipeline", "default" if new else None)
        if pipeline_id is None:
            return None
        pipeline = next((p for p in self.pipelines if p["id"] == pipeline_id), None)
        if pipeline is None:
            return _invalid_option("pipeline", pipeline_id, [p["id"] for p in self.pipelines])
        stages = [sid for sid, _label in pipeline["stages"]]
        if "dealstage" in properties and properties["dealstage"] not in stages:
            return _invalid_option("dealstage", properties["dealstage"], stages)
        return None

    # --- handlers ---------------------------------------------------------------------

    async def _batch_upsert(self, request: web.Request) -> web.Response:
        opened = await self._open_batch(request)
        if isinstance(opened, web.Response):
            return opened
        object_type, body, gate = opened
        results, errors = [], []
        with self.lock:
            for item in body["inputs"]:
                prop, key = item.get("idProperty"), str(item.get("id", ""))
                properties = {k: str(v) for k, v in (item.get("properties") or {}).items()}
                trace = item.get("objectWriteTraceId")
                if prop != UNIQUE.get(object_type):
                    return _error(
                        400,
                        "VALIDATION_ERROR",
                        f"Unable to perform update/upsert by non-unique {TYPE_IDS[object_type]}"
                        f" property {prop}",
                    )
                existing = self.find(object_type, prop, key)
                if problem := self._invalid(object_type, properties, new=not existing):
                    errors.append(self._record_error("VALIDATION_ERROR", problem, trace))
                    continue
                if existing:
                    self._touch(existing[0], properties)
                    results.append(existing[0].as_json(new=False))
                else:
                    default = {"pipeline": "default"} if object_type == "deals" else {}
                    obj = self._put(object_type, {**default, **properties, prop: key})
                    results.append(obj.as_json(new=True))
        return self._batch_answer(results, errors, gate, 200)

    async def _batch_create(self, request: web.Request) -> web.Response:
        opened = await self._open_batch(request)
        if isinstance(opened, web.Response):
            return opened
        object_type, body, gate = opened
        results, errors = [], []
        with self.lock:
            for item in body["inputs"]:
                properties = {k: str(v) for k, v in (item.get("properties") or {}).items()}
                trace = item.get("objectWriteTraceId")
                if object_type == "notes":
                    if "hs_timestamp" not in properties:
                        return _error(400, "VALIDATION_ERROR", "hs_timestamp is required")
                    if len(properties.get("hs_note_body", "")) > NOTE_BODY_MAX:
                        return _error(
                            400,
                            "VALIDATION_ERROR",
                            f"hs_note_body is limited to {NOTE_BODY_MAX} characters",
                        )
                links = []
                for association in item.get("associations") or []:
                    to_id = str(association["to"]["id"])
                    types = association.get("types") or []
                    to_type = next(
                        (
                            pair[1]
                            for pair, type_id in ASSOCIATION_TYPES.items()
                            if pair[0] == object_type
                            and [t.get("associationTypeId") for t in types] == [type_id]
                            and all(
                                t.get("associationCategory") == "HUBSPOT_DEFINED" for t in types
                            )
                        ),
                        None,
                    )
                    if to_type is None:
                        return _error(400, "VALIDATION_ERROR", f"invalid association types {types}")
                    links.append((to_type, to_id, types[0]["associationTypeId"]))
                missing = [(t, i) for t, i, _ in links if i not in self.objects[t]]
                if missing:
                    errors.append(
                        self._record_error(
                            "VALIDATION_ERROR",
                            f"One or more associations are invalid: no {missing[0][0]}"
                            f" with ID {missing[0][1]}",
                            trace,
                        )
                    )
                    continue
                if problem := self._invalid(object_type, properties, new=True):
                    errors.append(self._record_error("VALIDATION_ERROR", problem, trace))
                    continue
                obj = self._put(object_type, properties)
                for to_type, to_id, type_id in links:
                    self.associations.add((object_type, obj.id, to_type, to_id, type_id))
                results.append(obj.as_json())
        return self._batch_answer(results, errors, gate, 201)

    async def _batch_read(self, request: web.Request) -> web.Response:
        opened = await self._open_batch(request)
        if isinstance(opened, web.Response):
            return opened
        object_type, body, gate = opened
        prop = body.get("idProperty") or "hs_object_id"
        wanted = body.get("properties") or []
        results, missing = [], []
        with self.lock:
            for item in body["inputs"]:
                key = str(item.get("id"))
                if prop == "hs_object_id":
                    found = (
                        [self.objects[object_type][key]] if key in self.objects[object_type] else []
                    )
                else:
                    found = self.find(object_type, prop, key)
                if found:
                    results.append(_shown(found[0], wanted))
                else:
                    missing.append(key)
        errors = []
        if missing:
            error = self._record_error("OBJECT_NOT_FOUND", "Could not get some objects", None)
            error["context"] = {"ids": missing}
            errors.append(error)
        return self._batch_answer(results, errors, gate, 200)

    async def _batch_update(self, request: web.Request) -> web.Response:
        opened = await self._open_batch(request)
        if isinstance(opened, web.Response):
            return opened
        object_type, body, gate = opened
        results, errors = [], []
        with self.lock:
            for item in body["inputs"]:
                obj = self.objects[object_type].get(str(item.get("id")))
                trace = item.get("objectWriteTraceId")
                properties = {k: str(v) for k, v in (item.get("properties") or {}).items()}
                if obj is None:
                    errors.append(self._record_error("OBJECT_NOT_FOUND", "Not found", trace))
                    continue
                if problem := self._invalid(object_type, properties, new=False):
                    errors.append(self._record_error("VALIDATION_ERROR", problem, trace))
                    continue
                self._touch(obj, properties)
                results.append(obj.as_json())
        return self._batch_answer(results, errors, gate, 200)

    async def _create(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        object_type, body = request.match_info["type"], await self._json(request)
        if object_type not in OBJECT_TYPES or not isinstance(body, dict):
            return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        properties = {k: str(v) for k, v in (body.get("properties") or {}).items()}
        with self.lock:
            unique = UNIQUE.get(object_type, "")
            if unique in properties and (
                found := self.find(object_type, unique, properties[unique])
            ):
                return _error(
                    409,
                    "CONFLICT",
                    f"Object with unique property value already exists. Existing ID: {found[0].id}",
                )
            if problem := self._invalid(object_type, properties, new=True):
                return _error(400, "VALIDATION_ERROR", problem)
            obj = self._put(object_type, properties)
        return self._answer(obj.as_json(), 201, gate)

    async def _search(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        object_type, body = request.match_info["type"], await self._json(request) or {}
        groups = body.get("filterGroups") or []
        filters = [f for g in groups for f in g.get("filters") or []]
        if len(groups) > 5 or len(filters) > 25 or any(len(g["filters"]) > 10 for g in groups):
            return _error(
                400, "VALIDATION_ERROR", "Too many filters: at most 5 groups, 10 a group, 25"
            )
        if len(body.get("sorts") or []) > 1:
            return _error(400, "VALIDATION_ERROR", "Only one sort is supported")
        limit = int(body.get("limit", 10))
        if limit > 200:
            return _error(400, "VALIDATION_ERROR", "limit must be at most 200")
        after = int(body.get("after") or 0)
        if after + limit > SEARCH_CAP:
            return _error(400, "VALIDATION_ERROR", "Search results are limited to 10,000")
        with self.lock:
            hits = [
                o
                for o in self.objects.get(object_type, {}).values()
                if o.id not in self.unsearchable and _matches(o, groups)
            ]
        for sort in body.get("sorts") or []:
            prop, descending = sort["propertyName"], sort.get("direction") == "DESCENDING"
            hits.sort(key=partial(_sort_key, prop=prop), reverse=descending)
        page = hits[after : after + limit]
        results = [_shown(obj, body.get("properties") or []) for obj in page]
        answer: dict[str, Any] = {"total": len(hits), "results": results}
        if after + limit < len(hits):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return self._answer(answer, 200, gate)

    def hide_from_search(self, obj: HubSpotObject) -> None:
        """The search index has not caught up with this record's last change yet."""
        with self.lock:
            self.unsearchable.add(obj.id)

    def index_caught_up(self) -> None:
        """Every record is searchable again."""
        with self.lock:
            self.unsearchable.clear()

    async def _associate(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        pair = (request.match_info["from_type"], request.match_info["to_type"])
        body = await self._json(request)
        if not isinstance(body, dict) or len(body.get("inputs") or []) > MAX_BATCH:
            return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        results, errors = [], []
        with self.lock:
            for item in body["inputs"]:
                from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
                type_ids = [t["associationTypeId"] for t in item.get("types") or []]
                if type_ids != [ASSOCIATION_TYPES.get(pair)]:
                    return _error(
                        400, "VALIDATION_ERROR", f"invalid association type {type_ids} for {pair}"
                    )
                if from_id not in self.objects[pair[0]] or to_id not in self.objects[pair[1]]:
                    errors.append(
                        self._record_error(
                            "OBJECT_NOT_FOUND", f"No {pair[1]} with ID {to_id}", None
                        )
                    )
                    continue
                self.associations.add((pair[0], from_id, pair[1], to_id, type_ids[0]))
                results.append(
                    {
                        "fromObjectTypeId": TYPE_IDS[pair[0]],
                        "fromObjectId": int(from_id),
                        "toObjectTypeId": TYPE_IDS[pair[1]],
                        "toObjectId": int(to_id),
                        "labels": [],
                    }
                )
        return self._batch_answer(results, errors, gate, 201)

    async def _associations(self, request: web.Request) -> web.Response:
        """A record's associations to one type, 500 a page, both directions counted."""
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        from_type, from_id = request.match_info["from_type"], request.match_info["from_id"]
        to_type = request.match_info["to_type"]
        limit = min(int(request.query.get("limit", 500)), 500)
        after = int(request.query.get("after") or 0)
        with self.lock:
            linked = sorted(
                {
                    (int(a[1] if a[2] == from_type else a[3]), a[4])
                    for a in self.associations
                    if (a[0], a[2]) in ((from_type, to_type), (to_type, from_type))
                    and (a[1] if a[0] == from_type else a[3]) == from_id
                }
            )
        page = linked[after : after + limit]
        answer: dict[str, Any] = {
            "results": [
                {
                    "toObjectId": object_id,
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}
                    ],
                }
                for object_id, type_id in page
            ]
        }
        if after + limit < len(linked):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return self._answer(answer, 200, gate)

    async def _pipelines(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        if request.match_info["type"] != "deals":
            return _error(404, "OBJECT_NOT_FOUND", "No pipelines for this object type")
        stamp = "2024-01-01T00:00:00.000Z"
        results = [
            {
                "id": p["id"],
                "label": p["label"],
                "displayOrder": order,
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "stages": [
                    {
                        "id": sid,
                        "label": label,
                        "displayOrder": n,
                        "archived": False,
                        "metadata": {"isClosed": str(sid.startswith("closed")).lower()},
                        "createdAt": stamp,
                        "updatedAt": stamp,
                        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                    }
                    for n, (sid, label) in enumerate(p["stages"])
                ],
            }
            for order, p in enumerate(self.pipelines)
        ]
        return self._answer({"results": results}, 200, gate)

    async def _company_currency(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        body = {"id": self.currencies[0], "createdAt": "2024-01-01T00:00:00Z"}
        return self._answer(body, 200, gate)

    async def _exchange_rates(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        home, stamp = self.currencies[0], "2024-01-01T00:00:00Z"
        results = [
            {
                "id": str(n),
                "fromCurrencyCode": code,
                "toCurrencyCode": home,
                "conversionRate": 1.1,
                "visibleInUI": True,
                "effectiveAt": stamp,
                "createdAt": stamp,
                "updatedAt": stamp,
            }
            for n, code in enumerate(self.currencies[1:], start=1)
        ]
        return self._answer({"results": results}, 200, gate)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.requests[f"{request.method} {request.path} (unknown)"] += 1
        return _error(404, "OBJECT_NOT_FOUND", f"No route for {request.method} {request.path}")

    async def _gdpr_delete(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        body = await self._json(request) or {}
        prop = body.get("idProperty") or "hs_object_id"
        with self.lock:
            contacts = self.objects["contacts"]
            found = (
                [contacts[body["objectId"]]]
                if prop == "hs_object_id" and body.get("objectId") in contacts
                else self.find("contacts", prop, str(body.get("objectId")))
            )
            if not found:
                return _error(404, "OBJECT_NOT_FOUND", "Object not found")
            for obj in found:
                del contacts[obj.id]
                self._unique["contacts"].pop(obj.properties.get("email", ""), None)
        return web.Response(status=204, headers=self._headers(gate))


def _invalid_option(name: str, value: str, allowed: list[str]) -> str:
    detail = {
        "isValid": False,
        "message": f"{value} was not one of the allowed options: {allowed}",
        "error": "INVALID_OPTION",
        "name": name,
    }
    return f"Property values were not valid: {json.dumps([detail])}"


def _shown(obj: HubSpotObject, wanted: list[str]) -> dict[str, Any]:
    shown = obj.as_json()
    if wanted:
        shown["properties"] = {
            k: v for k, v in shown["properties"].items() if k in wanted or k == "hs_object_id"
        }
    return shown


def _sort_key(obj: HubSpotObject, prop: str) -> tuple[int, Any]:
    """Numbers (timestamps, ids) in numeric order, then text."""
    value = obj.as_json()["properties"].get(prop, "")
    return (0, int(value)) if str(value).isdigit() else (1, value)


def _compare(obj: HubSpotObject, f: dict[str, Any]) -> bool:
    value = obj.as_json()["properties"].get(f["propertyName"])
    op, wanted = f["operator"], f.get("value")
    if op == "EQ":
        return value is not None and str(value).lower() == str(wanted).lower()
    if op == "NEQ":
        return value is None or str(value).lower() != str(wanted).lower()
    if op == "IN":
        return value is not None and value in (f.get("values") or [])
    if op == "NOT_IN":
        return value is None or value not in (f.get("values") or [])
    if op in ("GT", "GTE", "LT", "LTE"):
        if value is None:
            return False
        left, right = _sort_key(obj, prop=f["propertyName"])[1], int(str(wanted))
        return {
            "GT": left > right,
            "GTE": left >= right,
            "LT": left < right,
            "LTE": left <= right,
        }[op]
    return False


def _matches(obj: HubSpotObject, groups: list[dict[str, Any]]) -> bool:
    if not groups:
        return True
    return any(all(_compare(obj, f) for f in group.get("filters") or []) for group in groups)
