"""A local stand-in for HubSpot's CRM v3/v4 API, driven through hubspot-api-client.

It speaks HubSpot's wire format on its real paths: `/crm/v3/objects/{type}/batch/upsert`
(keyed by a unique property), `batch/read`, `batch/update`, single create (409 on a
duplicate unique value), `search` (filters, sorts, `after` paging, 10,000-result cap),
`/crm/v4/associations/{from}/{to}/batch/create` (HubSpot-defined type ids checked) and
contacts `gdpr-delete`. Errors are HubSpot's JSON (`status`, `message`, `category`,
`context`), batches answer 207 with per-record errors, and every answer carries the
`X-HubSpot-RateLimit-*` headers; past the ten-second limit it answers 429 with
Retry-After. Tests script outages, 5xx, 429 storms, slow answers and refused records.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.harness.standin import Fault, RollingWindow, ThreadedStandIn

VALID_TOKEN = "pat-test-hubspot"

# The unique property each object type is keyed by (HubSpot: "hasUniqueValue": true).
UNIQUE = {
    "deals": "partnerbot_deal_id",
    "notes": "partnerbot_note_key",
    "contacts": "email",
    "companies": "partnerbot_company_key",
}
# HubSpot-defined association type ids (docs: "Associations v4, association type IDs").
ASSOCIATION_TYPES = {
    ("notes", "deals"): 214,
    ("notes", "companies"): 190,
    ("notes", "contacts"): 202,
}
MAX_BATCH = 100
SEARCH_CAP = 10_000


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
        self.window = RollingWindow(limit_per_10s, 10.0)
        self.objects: dict[str, dict[str, HubSpotObject]] = {t: {} for t in UNIQUE}
        self._unique: dict[str, dict[str, HubSpotObject]] = {t: {} for t in UNIQUE}
        self.associations: set[tuple[str, str, str, str, int]] = set()
        self.requests: Counter[str] = Counter()  # "POST /crm/v3/..." -> count
        self.rate_limited = 0
        self.refuse_values: set[str] = set()  # a record with any of these values gets an error
        self._faults: list[Fault] = []
        self._ids = itertools.count(1001)
        self._clock = itertools.count(1_700_000_000_000)

    def add_routes(self, app: web.Application) -> None:
        """HubSpot's CRM paths."""
        app.router.add_post("/crm/v3/objects/{type}/batch/upsert", self._batch_upsert)
        app.router.add_post("/crm/v3/objects/{type}/batch/read", self._batch_read)
        app.router.add_post("/crm/v3/objects/{type}/batch/update", self._batch_update)
        app.router.add_post("/crm/v3/objects/contacts/gdpr-delete", self._gdpr_delete)
        app.router.add_post("/crm/v3/objects/{type}/search", self._search)
        app.router.add_post("/crm/v3/objects/{type}", self._create)
        app.router.add_post(
            "/crm/v4/associations/{from_type}/{to_type}/batch/create", self._associate
        )
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    @property
    def url(self) -> str:
        """The host to give hubspot-api-client (PARTNERBOT_HUBSPOT_API_URL)."""
        return f"http://127.0.0.1:{self.port}"

    # --- test controls ----------------------------------------------------------------

    def reset(self, *, limit_per_10s: int | None = None) -> None:
        """Forget every object, request and fault."""
        with self.lock:
            self.objects = {t: {} for t in UNIQUE}
            self._unique = {t: {} for t in UNIQUE}
            self.associations.clear()
            self.requests.clear()
            self.rate_limited = 0
            self.refuse_values.clear()
            self._faults.clear()
            self.window = RollingWindow(limit_per_10s, 10.0)

    def fail(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next `times` requests with a 5xx (or any status)."""
        self._faults.append(Fault("error", status, times))

    def down(self) -> None:
        """Answer every request 503 until `up()`."""
        self._faults.insert(0, Fault("error", 503, 10**9))

    def up(self) -> None:
        """End an outage."""
        self._faults = [f for f in self._faults if f.remaining < 10**8]

    def rate_limit(self, *, times: int, retry_after: int = 1) -> None:
        """Answer the next `times` requests 429, as when another app shares the portal."""
        self._faults.append(Fault("rate_limit", retry_after, times))

    def slow(self, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` answers."""
        self._faults.append(Fault("slow", seconds, times))

    def add_company(self, domain: str, name: str, **properties: str) -> HubSpotObject:
        """A company already in the CRM (as a sales rep would have created it)."""
        with self.lock:
            return self._put("companies", {"domain": domain, "name": name, **properties})

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

    def _put(self, object_type: str, properties: dict[str, str]) -> HubSpotObject:
        obj = HubSpotObject(str(next(self._ids)), dict(properties), modified_ms=next(self._clock))
        self.objects[object_type][obj.id] = obj
        if (key := properties.get(UNIQUE[object_type])) is not None:
            self._unique[object_type][key] = obj
        return obj

    def _touch(self, obj: HubSpotObject, properties: dict[str, str]) -> None:
        obj.properties.update(properties)
        obj.updated_at, obj.modified_ms = _now_iso(), next(self._clock)

    def _headers(self, remaining: int) -> dict[str, str]:
        limit = self.window.limit or 1_000_000
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Daily": "1000000",
            "X-HubSpot-RateLimit-Daily-Remaining": "999000",
        }

    async def _gate(self, request: web.Request) -> web.Response | int:
        """Authentication, scripted faults and the rate limit; the remaining budget or an answer."""
        self.requests[f"{request.method} {request.path}"] += 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            )
        fault = None
        with self.lock:
            if self._faults:
                fault = self._faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(0)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.value)
        if fault is not None and fault.kind == "error":
            return _error(fault.value, "INTERNAL_ERROR", "internal error (scripted outage)")
        with self.lock:
            admitted, remaining = self.window.take()
            retry_after = self.window.retry_after()
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
        if object_type not in UNIQUE:
            return _error(404, "OBJECT_NOT_FOUND", f"Unknown object type {object_type}")
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        if len(body["inputs"]) > MAX_BATCH:
            return _error(
                400, "VALIDATION_ERROR", f"Batch input is limited to {MAX_BATCH} inputs per request"
            )
        return object_type, body, gate

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
                if prop != UNIQUE[object_type]:
                    return _error(
                        400,
                        "VALIDATION_ERROR",
                        f"idProperty {prop} is not a unique property of {object_type}",
                    )
                if self.refuse_values & set(properties.values()):
                    errors.append(
                        self._record_error(
                            "VALIDATION_ERROR", "Property values were not valid", trace
                        )
                    )
                    continue
                existing = self.find(object_type, prop, key)
                if existing:
                    self._touch(existing[0], properties)
                    results.append(existing[0].as_json(new=False))
                else:
                    obj = self._put(object_type, {**properties, prop: key})
                    results.append(obj.as_json(new=True))
        return self._batch_answer(results, errors, gate, 200)

    async def _batch_read(self, request: web.Request) -> web.Response:
        opened = await self._open_batch(request)
        if isinstance(opened, web.Response):
            return opened
        object_type, body, gate = opened
        prop = body.get("idProperty") or "hs_object_id"
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
                    results.append(found[0].as_json())
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
                if obj is None:
                    errors.append(self._record_error("OBJECT_NOT_FOUND", "Not found", trace))
                    continue
                self._touch(obj, {k: str(v) for k, v in (item.get("properties") or {}).items()})
                results.append(obj.as_json())
        return self._batch_answer(results, errors, gate, 200)

    async def _create(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        object_type, body = request.match_info["type"], await self._json(request)
        if object_type not in UNIQUE or not isinstance(body, dict):
            return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
        properties = {k: str(v) for k, v in (body.get("properties") or {}).items()}
        with self.lock:
            unique = UNIQUE[object_type]
            if unique in properties and (
                found := self.find(object_type, unique, properties[unique])
            ):
                return _error(
                    409,
                    "CONFLICT",
                    f"Object with unique property value already exists. Existing ID: {found[0].id}",
                )
            obj = self._put(object_type, properties)
        return self._answer(obj.as_json(), 201, gate)

    async def _search(self, request: web.Request) -> web.Response:
        gate = await self._gate(request)
        if isinstance(gate, web.Response):
            return gate
        object_type, body = request.match_info["type"], await self._json(request) or {}
        limit = min(int(body.get("limit", 10)), 200)
        after = int(body.get("after") or 0)
        if after + limit > SEARCH_CAP:
            return _error(400, "VALIDATION_ERROR", "Search results are limited to 10,000")
        with self.lock:
            hits = [o for o in self.objects.get(object_type, {}).values() if _matches(o, body)]
        for sort in reversed(body.get("sorts") or []):
            prop = sort["propertyName"]
            hits.sort(
                key=lambda o, p=prop: _sort_key(o, p), reverse=sort.get("direction") == "DESCENDING"
            )
        page = hits[after : after + limit]
        wanted = body.get("properties") or []
        results = []
        for obj in page:
            shown = obj.as_json()
            if wanted:
                shown["properties"] = {
                    k: v
                    for k, v in shown["properties"].items()
                    if k in wanted or k == "hs_object_id"
                }
            results.append(shown)
        answer: dict[str, Any] = {"total": len(hits), "results": results}
        if after + limit < len(hits):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return self._answer(answer, 200, gate)

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
                        "fromObjectTypeId": "0-46",
                        "fromObjectId": int(from_id),
                        "toObjectTypeId": "0-3",
                        "toObjectId": int(to_id),
                        "labels": [],
                    }
                )
        return self._batch_answer(results, errors, gate, 201)

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


def _sort_key(obj: HubSpotObject, prop: str) -> tuple[int, Any]:
    value = obj.as_json()["properties"].get(prop, "")
    return (0, int(value)) if str(value).isdigit() else (1, value)


def _matches(obj: HubSpotObject, body: dict[str, Any]) -> bool:
    groups = body.get("filterGroups") or []
    if not groups:
        return True
    properties = obj.as_json()["properties"]
    for group in groups:
        ok = True
        for f in group.get("filters") or []:
            value, wanted, op = properties.get(f["propertyName"]), f.get("value"), f["operator"]
            if op == "EQ":
                ok = ok and value is not None and str(value).lower() == str(wanted).lower()
            elif op == "IN":
                ok = ok and value is not None and value in (f.get("values") or [])
            elif op in ("GT", "GTE"):
                if value is None:
                    ok = False
                else:
                    left, right = _sort_key(obj, f["propertyName"])[1], int(str(wanted))
                    ok = ok and (left > right if op == "GT" else left >= right)
            else:
                ok = False
        if ok:
            return True
    return False
