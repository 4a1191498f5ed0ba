"""A local stand-in for a Salesforce org's REST API, driven through simple-salesforce.

simple-salesforce builds `https://{instance}` URLs, so the stand-in serves TLS with a
certificate from a test CA (trustme); the adapter trusts that CA through
PARTNERBOT_SALESFORCE_CA_BUNDLE. It speaks Salesforce's wire format on its real paths:
the OAuth client-credentials token endpoint, SOQL `query/` (a small SOQL subset: field
lists, COUNT(), WHERE with AND/OR/parentheses, =, !=, <, <=, >, >=, IN, LIKE, ORDER BY,
LIMIT) answered in batches continued through `nextRecordsUrl`, sObject Collections upsert by
an External ID field (≤ 200, `allOrNone`), update and delete. Errors are Salesforce's JSON
(`[{"message", "errorCode"}]`, per-record `statusCode`). Every answer carries
`Sforce-Limit-Info`; past the org's API limit it answers 403 REQUEST_LIMIT_EXCEEDED. Tests
script outages, 5xx, limit storms, expired sessions, slow answers and refused records, and
set the org up: single- or multi-currency, records deleted to the recycle bin, contacts that
cannot be deleted.

What it refuses, and where Salesforce documents it:
- Per-record status codes in a Collections answer (`{"success": false, "errors":
  [{"statusCode", "message", "fields"}]}`; the request itself is 200 when well formed):
  https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html
  https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-delete.html
  The codes (StatusCode, https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm):
  - REQUIRED_FIELD_MISSING [StageName]: an upsert by External ID that matches no live record
    creates one, so it needs every required field (Opportunity: Name, StageName, CloseDate).
    A record in the recycle bin is not matched ("If the external ID isn't matched, then a
    new record is created", dome-upsert.html).
  - ENTITY_IS_DELETED: a Task whose WhatId/WhoId is in the recycle bin, an update or a
    delete of a record in the recycle bin.
  - INVALID_CROSS_REFERENCE_KEY: a WhatId/WhoId, or an update's Id, that names no record
    (hard-deleted, purged from the recycle bin, or never there). A record addressed in a URL
    (`sobjects/{type}/{id}`) that does not exist is 404 NOT_FOUND "The requested resource
    does not exist".
  - STRING_TOO_LONG: text longer than its field (Text is 255 unless set shorter; Long Text
    Area up to 131,072; Task.Description 32,000).
  - CurrencyIsoCode names a currency the org does not have active:
    INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST ("{Object} Currency: invalid currency code: X",
    fields [CurrencyIsoCode]) — CurrencyIsoCode is a restricted picklist of the active
    CurrencyType codes (CurrencyType's IsoCode: "Restricted picklist"; IsActive: "Inactive
    currency types do not appear in picklists"). Salesforce's documentation does not print
    the exact answer; the adapter treats FIELD_INTEGRITY_EXCEPTION on CurrencyIsoCode alike.
  - DELETE_FAILED: a record Salesforce will not delete (e.g. a Contact associated with a
    case); the other ids of the request are deleted (allOrNone=false).
- Whole-request errors (https://developer.salesforce.com/docs/platform/api-rest/guide/errorcodes.html):
  401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED, 400 INVALID_FIELD ("No such column
  'CurrencyIsoCode' on sobject of type Opportunity": the field exists only in
  multi-currency orgs), INVALID_TYPE (CurrencyType: "not available in single-currency
  organizations"), MALFORMED_QUERY, INVALID_QUERY_LOCATOR, 404 NOT_FOUND, 503 (server
  unavailable: "too many requests in a short time" or maintenance) — on every call,
  queries and query locators too.
- API limits (a rolling 24-hour total, and concurrent long-running requests):
  https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.harness.standin import Fault, ThreadedStandIn

CLIENT_ID = "3MVG9-partnerbot-test"
CLIENT_SECRET = "sf-secret-test"
MAX_COLLECTION = 200
# Query batches: "up to 2,000 records can be returned at a time … the returned batch can
# include fewer records" (Query); `Sforce-Query-Options: batchSize=` takes 200 to 2,000
# (Query Options Header). The rest is read with the query locator in `nextRecordsUrl`.
# https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html
# https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query-more-results.html
# https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm
QUERY_BATCH, MIN_QUERY_BATCH = 2_000, 200

# The fields each object has (a typo in the adapter is INVALID_FIELD, as in a real org).
FIELDS: dict[str, set[str]] = {
    "Account": {
        "Id",
        "Name",
        "Website",
        "SystemModstamp",
        "Partnerbot_Owner_Kind__c",
        "Partnerbot_Incumbent_Partner__c",
        "Partnerbot_Partner_Tier__c",
        "Partnerbot_Certifications__c",
        "Partnerbot_Next_Certification_Expiry__c",
    },
    "Opportunity": {
        "Id",
        "Name",
        "StageName",
        "CloseDate",
        "Amount",
        "SystemModstamp",
        "Partnerbot_Deal_Id__c",
        "Partnerbot_Customer_Domain__c",
        "Partnerbot_Partner__c",
        "Partnerbot_Registration_Status__c",
        "Partnerbot_Motion__c",
        "Partnerbot_Protection_Expires__c",
        "Partnerbot_Amount__c",
        "Partnerbot_Currency__c",
    },
    "Task": {
        "Id",
        "Subject",
        "Description",
        "ActivityDate",
        "Status",
        "WhatId",
        "WhoId",
        "SystemModstamp",
        "Partnerbot_Key__c",
    },
    "Contact": {"Id", "Email", "FirstName", "LastName", "SystemModstamp"},
    # The org itself: its currency when multi-currency is off.
    # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_organization.htm
    "Organization": {"Id", "Name", "DefaultCurrencyIsoCode"},
    # "This object is not available in single-currency organizations"; IsoCode is a
    # restricted picklist, IsActive says whether records may use the currency.
    # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_currencytype.htm
    "CurrencyType": {"Id", "IsoCode", "IsActive", "IsCorporate", "ConversionRate"},
}
MULTI_CURRENCY_ONLY = {"CurrencyType"}
# Multi-currency orgs add CurrencyIsoCode to every object with currency fields.
CURRENCY_FIELD_ON = {"Account", "Opportunity", "Contact"}
EXTERNAL_IDS = {"Opportunity": {"Partnerbot_Deal_Id__c"}, "Task": {"Partnerbot_Key__c"}}
REQUIRED = {"Opportunity": ["Name", "StageName", "CloseDate"], "Contact": ["LastName"]}
PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
    "Task": "00T",
    "Organization": "00D",
    "CurrencyType": "01L",
}
# Field lengths (Text is 255 unless set; Long Text Area up to 131,072). The README's field
# list is the contract: Partnerbot_Certifications__c is a Long Text Area(32768).
# https://help.salesforce.com/s/articleView?id=sf.custom_field_types.htm
TEXT_LENGTH = 255
LENGTHS = {
    ("Opportunity", "Name"): 120,
    ("Opportunity", "Partnerbot_Currency__c"): 3,
    ("Task", "Description"): 32_000,
    ("Account", "Partnerbot_Certifications__c"): 32_768,
    ("Contact", "Email"): 80,
}


def _errors(status: int, code: str, message: str) -> web.Response:
    return web.json_response([{"message": message, "errorCode": code}], status=status)


def _failure(code: str, message: str, fields: list[str]) -> dict[str, Any]:
    """One record's failure in a Collections answer."""
    return {
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": fields}],
    }


def _stamp(at: datetime) -> str:
    """Salesforce's datetime format; SystemModstamp has whole seconds."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class SObject:
    type: str
    id: str
    fields: dict[str, Any] = field(default_factory=dict)

    def as_json(self, wanted: list[str], version: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "attributes": {
                "type": self.type,
                "url": f"/services/data/v{version}/sobjects/{self.type}/{self.id}",
            }
        }
        for name in wanted:
            body[name] = self.id if name == "Id" else self.fields.get(name)
        return body


class SalesforceStandIn(ThreadedStandIn):
    """Start with `start()`; point the adapter at `login_url`; inspect `records`.

    With `my_domain=False` it answers as Salesforce's shared login host
    (login.salesforce.com) does: the client-credentials flow is refused there, it works only
    on the org's My Domain (https://help.salesforce.com/s/articleView?id=000886201&type=1).
    """

    thread_name = "salesforce-standin"

    def __init__(
        self, ssl_context: Any, *, api_limit: int = 1_000_000, my_domain: bool = True
    ) -> None:
        super().__init__(ssl_context=ssl_context)
        self.client_secret = CLIENT_SECRET
        self.api_limit = api_limit
        self.reset()
        self.my_domain = my_domain

    def add_routes(self, app: web.Application) -> None:
        """Salesforce's paths."""
        app.router.add_post("/services/oauth2/token", self._token)
        data = "/services/data/v{version:[0-9]+\\.[0-9]}"
        app.router.add_get(data + "/query/", self._query)
        app.router.add_get(data + "/query", self._query)
        app.router.add_get(data + "/query/{locator}", self._query_more)
        app.router.add_get(data + "/sobjects/{type}/{id}", self._retrieve)
        app.router.add_patch(data + "/composite/sobjects/{type}/{field}", self._upsert)
        app.router.add_patch(data + "/composite/sobjects", self._update)
        app.router.add_delete(data + "/composite/sobjects", self._delete_records)
        app.router.add_route("*", "/{tail:.*}", self._unknown)

    @property
    def login_url(self) -> str:
        """The org's My Domain URL (PARTNERBOT_SALESFORCE_LOGIN_URL)."""
        return f"https://127.0.0.1:{self.port}"

    # --- test controls ----------------------------------------------------------------

    def reset(self) -> None:
        """Forget every record, session, request and fault; a multi-currency org (USD
        corporate, EUR active) again."""
        with self.lock:
            self.records: dict[str, dict[str, SObject]] = {t: {} for t in FIELDS}
            self.recycle_bin: dict[str, SObject] = {}
            self._external: dict[tuple[str, str, str], SObject] = {}
            self.sessions: set[str] = set()
            self.tokens_issued = 0
            self.requests: Counter[str] = Counter()
            self.api_used = 0
            self.limit_refusals = 0
            self.refuse_values: set[str] = set()
            self.undeletable: set[str] = set()
            self.purged: set[str] = set()
            self.lengths: dict[tuple[str, str], int] = dict(LENGTHS)
            self.queries: list[str] = []
            self.query_batch = QUERY_BATCH
            self.my_domain = True
            self._path_faults: list[tuple[str, Fault, list[int]]] = []
            self._cursors: dict[str, list[dict[str, Any]]] = {}
            self._faults: list[Fault] = []
            self._ids = itertools.count(1)
            self.client_secret = CLIENT_SECRET
            self.clock_offset = timedelta(0)
            self.multi_currency = True
            self._insert("Organization", {"Name": "Stand-in Org", "DefaultCurrencyIsoCode": "USD"})
        self.use_currencies(active={"USD", "EUR"}, corporate="USD")

    def use_currencies(
        self, *, active: Collection[str], inactive: Collection[str] = (), corporate: str
    ) -> None:
        """Make this a multi-currency org with these active and inactive currencies (the
        corporate currency is always active)."""
        with self.lock:
            self.multi_currency = True
            self.records["CurrencyType"].clear()
            for code in sorted({*active, *inactive, corporate}):
                self._insert(
                    "CurrencyType",
                    {
                        "IsoCode": code,
                        "IsActive": code in active or code == corporate,
                        "IsCorporate": code == corporate,
                        "ConversionRate": 1.0,
                    },
                )

    def single_currency(self, code: str) -> None:
        """Make this a single-currency org (multi-currency never enabled) using `code`."""
        with self.lock:
            self.multi_currency = False
            self.records["CurrencyType"].clear()
            for org in self.records["Organization"].values():
                org.fields["DefaultCurrencyIsoCode"] = code

    def fail(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next `times` API requests with a 5xx (or any status)."""
        self._faults.append(Fault("error", status, times))

    def fail_on(self, path_part: str, status: int = 503, *, times: int = 1, after: int = 0) -> None:
        """Answer `times` API requests whose path contains `path_part` (e.g. a query
        locator's `query/01g`) with a 5xx, once `after` such requests went through; other
        requests go through."""
        with self.lock:
            self._path_faults.append((path_part, Fault("error", status, times), [after]))

    def limit_on(self, path_part: str, *, times: int = 1, concurrent: bool = False) -> None:
        """Answer the next `times` requests whose path contains `path_part` 403
        REQUEST_LIMIT_EXCEEDED (see `request_limit`)."""
        kind = "ConcurrentPerOrgLongTxn" if concurrent else "TotalRequests"
        with self.lock:
            self._path_faults.append((path_part, Fault("limit", kind, times), [0]))

    def down(self) -> None:
        """Answer every request (the token endpoint too) 503 until `up()`."""
        self._faults.insert(0, Fault("error", 503, 10**9))

    def up(self) -> None:
        """End an outage."""
        self._faults = [f for f in self._faults if f.remaining < 10**8]

    def request_limit(self, *, times: int, concurrent: bool = False) -> None:
        """Answer the next `times` API requests 403 REQUEST_LIMIT_EXCEEDED: the org's rolling
        24-hour total is spent, or (`concurrent`) too many long-running requests are open."""
        kind = "ConcurrentPerOrgLongTxn" if concurrent else "TotalRequests"
        self._faults.append(Fault("limit", kind, times))

    def slow(self, seconds: float, *, times: int = 1) -> None:
        """Delay the next `times` answers."""
        self._faults.append(Fault("slow", seconds, times))

    def advance(self, **delta: float) -> None:
        """Move the org's clock on (`advance(minutes=10)`)."""
        self.clock_offset += timedelta(**delta)

    def now(self) -> datetime:
        """The org's clock."""
        return datetime.now(UTC) + self.clock_offset

    def reject_sessions(self, *, times: int) -> None:
        """Answer the next `times` API requests 401, even with a fresh session."""
        self._faults.append(Fault("expired", None, times))

    def expire_sessions(self) -> None:
        """Every issued access token stops working (a session timeout, a revoked app)."""
        with self.lock:
            self.sessions.clear()

    def add(self, object_type: str, **fields: Any) -> SObject:
        """A record already in the org (as a sales rep would have created it)."""
        with self.lock:
            return self._insert(object_type, fields)

    def touch(self, record: SObject, **fields: Any) -> None:
        """A rep edits a record."""
        with self.lock:
            record.fields.update(fields)
            record.fields["SystemModstamp"] = _stamp(self.now())

    def delete(self, record: SObject) -> None:
        """A rep deletes a record: it goes to the recycle bin with its activities."""
        with self.lock:
            self._to_recycle_bin(record.id)

    def purge(self, record: SObject) -> None:
        """Empty it from the recycle bin (or a hard delete): its Id names nothing any more."""
        with self.lock:
            if record.id in self.records[record.type]:
                self._to_recycle_bin(record.id)
            for record_id in [record.id] + [
                t.id
                for t in self.recycle_bin.values()
                if record.id in (t.fields.get("WhatId"), t.fields.get("WhoId"))
            ]:
                self.recycle_bin.pop(record_id, None)
                self.purged.add(record_id)

    def field_length(self, object_type: str, name: str, length: int) -> None:
        """Give a text field another length (an org set up with Text(255) where the README
        now asks for a Long Text Area)."""
        self.lengths[(object_type, name)] = length

    def tasks_on(self, record: SObject) -> list[SObject]:
        """The live Tasks on a record (WhatId or WhoId)."""
        return [
            t
            for t in self.records["Task"].values()
            if record.id in (t.fields.get("WhatId"), t.fields.get("WhoId"))
        ]

    def find(self, object_type: str, name: str, value: Any) -> list[SObject]:
        """Records of a type whose field has a value (not those in the recycle bin)."""
        if (object_type, name, str(value)) in self._external:
            return [self._external[(object_type, name, str(value))]]
        return [r for r in self.records[object_type].values() if r.fields.get(name) == value]

    def calls(self, path_part: str) -> int:
        """How many requests went to paths containing `path_part`."""
        return sum(n for key, n in self.requests.items() if path_part in key)

    # --- plumbing ---------------------------------------------------------------------

    def fields_of(self, object_type: str) -> set[str] | None:
        """The fields of an object in this org (None: the org has no such object)."""
        if object_type not in FIELDS or (
            object_type in MULTI_CURRENCY_ONLY and not self.multi_currency
        ):
            return None
        if self.multi_currency and object_type in CURRENCY_FIELD_ON:
            return FIELDS[object_type] | {"CurrencyIsoCode"}
        return FIELDS[object_type]

    def _corporate_currency(self) -> str:
        return next(
            (
                str(c.fields["IsoCode"])
                for c in self.records["CurrencyType"].values()
                if c.fields.get("IsCorporate")
            ),
            "USD",
        )

    def _insert(self, object_type: str, fields: dict[str, Any]) -> SObject:
        record_id = f"{PREFIX[object_type]}{next(self._ids):012d}AAA"
        record = SObject(object_type, record_id, dict(fields))
        record.fields["SystemModstamp"] = _stamp(self.now())
        if self.multi_currency and object_type in CURRENCY_FIELD_ON:
            # A record's currency defaults to its creator's (here: the corporate currency).
            record.fields.setdefault("CurrencyIsoCode", self._corporate_currency())
        self.records[object_type][record_id] = record
        for name in EXTERNAL_IDS.get(object_type, ()):
            if fields.get(name) is not None:
                self._external[(object_type, name, str(fields[name]))] = record
        return record

    def _to_recycle_bin(self, record_id: str) -> None:
        """To the recycle bin; an upsert by External ID no longer matches it, and the
        activities on it go with it."""
        owner = next(t for t, rows in self.records.items() if record_id in rows)
        record = self.records[owner].pop(record_id)
        self.recycle_bin[record_id] = record
        for name in EXTERNAL_IDS.get(owner, ()):
            self._external.pop((owner, name, str(record.fields.get(name))), None)
        for task in list(self.records["Task"].values()):
            if record_id in (task.fields.get("WhatId"), task.fields.get("WhoId")):
                self._to_recycle_bin(task.id)

    def _limit_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_limit}"}

    async def _next_fault(self) -> Fault | None:
        fault = None
        with self.lock:
            if self._faults:
                fault = self._faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(0)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.value)
            return None
        return fault

    def _path_fault(self, path: str) -> Fault | None:
        with self.lock:
            for entry in self._path_faults:
                part, fault, skip = entry
                if part not in path:
                    continue
                if skip[0] > 0:  # not yet: this one goes through
                    skip[0] -= 1
                    return None
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._path_faults.remove(entry)
                return fault
        return None

    async def _gate(self, request: web.Request) -> web.Response | None:
        """Session, scripted faults and the org's API limit; an answer when refused."""
        self.requests[f"{request.method} {request.path}"] += 1
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.sessions:
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        fault = self._path_fault(request.path) or await self._next_fault()
        if fault is not None and fault.kind == "error":
            return _errors(fault.value, "SERVER_UNAVAILABLE", "Service unavailable (scripted)")
        if fault is not None and fault.kind == "expired":
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self.lock:
            over = self.api_used >= self.api_limit
            if not over:
                self.api_used += 1
        if over or (fault is not None and fault.kind == "limit"):
            self.limit_refusals += 1
            kind = fault.value if fault is not None and fault.kind == "limit" else "TotalRequests"
            return _errors(403, "REQUEST_LIMIT_EXCEEDED", f"{kind} Limit exceeded.")
        return None

    def _answer(self, body: Any, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, headers=self._limit_header())

    async def _collection(
        self, request: web.Request, object_type: str
    ) -> web.Response | list[dict[str, Any]]:
        """The `records` of a collections request, checked; or the whole-request error."""
        try:
            body = await request.json()
        except ValueError:
            return _errors(400, "JSON_PARSER_ERROR", "Unexpected character in request body")
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return _errors(400, "INVALID_FIELD", "records is required")
        if len(records) > MAX_COLLECTION:
            return _errors(
                400,
                "EXCEEDED_ID_LIMIT",
                "Record limit reached. Cannot submit more than 200 records into this call",
            )
        if body.get("allOrNone") is not False:
            return _errors(400, "INVALID_FIELD", "the stand-in only models allOrNone=false")
        for record in records:
            kind = (record.get("attributes") or {}).get("type") or object_type
            known = self.fields_of(kind)
            if known is None:
                return _errors(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
            unknown = set(record) - known - {"attributes", "id"}
            if unknown:
                name = sorted(unknown)[0]
                return _errors(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {kind}"
                )
        return records

    def _invalid(self, object_type: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """A record's values Salesforce refuses: a scripted validation rule, text longer
        than its field, a currency the org does not have active."""
        if self.refuse_values & {str(v) for v in fields.values()}:
            return _failure(
                "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Partner is not a valid partner account", []
            )
        for name, value in fields.items():
            limit = self.lengths.get((object_type, name), TEXT_LENGTH)
            if isinstance(value, str) and len(value) > limit:
                return _failure(
                    "STRING_TOO_LONG",
                    f"{name}: data value too large: {value[:40]}... (max length={limit})",
                    [name],
                )
        code = fields.get("CurrencyIsoCode")
        if "CurrencyIsoCode" in fields and code not in self._active_currencies():
            return _failure(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{object_type} Currency: invalid currency code: {code}",
                ["CurrencyIsoCode"],
            )
        return None

    def _active_currencies(self) -> set[str]:
        return {
            str(c.fields["IsoCode"])
            for c in self.records["CurrencyType"].values()
            if c.fields.get("IsActive")
        }

    def _absent(self, record_id: str, field_name: str | None) -> dict[str, Any]:
        """A record that is not live: in the recycle bin (or deleted for good, for a delete)
        it is ENTITY_IS_DELETED, otherwise its Id names nothing."""
        fields = [field_name] if field_name else []
        if record_id in self.recycle_bin or (field_name is None and record_id in self.purged):
            return _failure("ENTITY_IS_DELETED", "entity is deleted", fields)
        return _failure(
            "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {record_id}", fields
        )

    def _cross_reference(self, record: dict[str, Any]) -> dict[str, Any] | None:
        for name in ("WhatId", "WhoId"):
            value = record.get(name)
            if value and not any(value in self.records[t] for t in self.records):
                return self._absent(str(value), name)
        return None

    # --- handlers ---------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        self.requests[f"{request.method} {request.path}"] += 1
        if self._faults and self._faults[0].remaining >= 10**8:  # only an outage reaches login
            return web.Response(status=503, text="Service Unavailable")
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
                status=400,
            )
        if not self.my_domain:  # login.salesforce.com / test.salesforce.com
            return web.json_response(
                {
                    "error": "invalid_grant",
                    "error_description": "request not supported on this domain",
                },
                status=400,
            )
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self.client_secret:
            return web.json_response(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status=400,
            )
        token = f"00D000000000001!{secrets.token_urlsafe(24)}"
        with self.lock:
            self.sessions.add(token)
            self.tokens_issued += 1
        return web.json_response(
            {
                "access_token": token,
                "instance_url": self.login_url,
                "id": f"{self.login_url}/id/00D000000000001/005000000000001",
                "token_type": "Bearer",
                "issued_at": str(int(datetime.now(UTC).timestamp() * 1000)),
                "signature": secrets.token_urlsafe(16),
            }
        )

    def _batch_size(self, request: web.Request) -> int:
        options = request.headers.get("Sforce-Query-Options", "")
        asked = re.search(r"batchSize=(\d+)", options)
        size = min(max(int(asked.group(1)), MIN_QUERY_BATCH), QUERY_BATCH) if asked else QUERY_BATCH
        return max(1, min(size, self.query_batch))  # the org may return fewer

    def _batch(
        self, rows: list[dict[str, Any]], start: int, size: int, version: str
    ) -> dict[str, Any]:
        """One batch of a query's result; a query locator for the rest, if any is left."""
        end = start + size
        answer: dict[str, Any] = {
            "totalSize": len(rows),
            "done": end >= len(rows),
            "records": rows[start:end],
        }
        if end < len(rows):
            locator = f"01g{secrets.token_hex(6).upper()}"
            with self.lock:
                self._cursors[locator] = rows
            answer["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        return answer

    async def _query(self, request: web.Request) -> web.Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        try:
            query = parse_soql(request.query.get("q", ""))
        except SoqlError as exc:
            return _errors(400, "MALFORMED_QUERY", str(exc))
        known = self.fields_of(query.object)
        if known is None:
            return _errors(400, "INVALID_TYPE", f"sObject type '{query.object}' is not supported.")
        named = set(query.fields) | query.where_fields() | {f for f, _ in query.order}
        if unknown := named - known:
            return _errors(
                400,
                "INVALID_FIELD",
                f"No such column '{sorted(unknown)[0]}' on entity '{query.object}'.",
            )
        with self.lock:
            self.queries.append(request.query.get("q", ""))
            rows = [r for r in self.records[query.object].values() if query.matches(r)]
        for name, descending in reversed(query.order):
            rows.sort(key=lambda r, n=name: _sort_key(_value(r, n)), reverse=descending)
        if query.limit is not None:
            rows = rows[: query.limit]
        version = request.match_info["version"]
        if query.count:
            return self._answer({"totalSize": len(rows), "done": True, "records": []})
        records = [r.as_json(query.fields, version) for r in rows]
        return self._answer(self._batch(records, 0, self._batch_size(request), version))

    async def _query_more(self, request: web.Request) -> web.Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        locator, _, start = request.match_info["locator"].rpartition("-")
        with self.lock:
            rows = self._cursors.get(locator)
        if rows is None or not start.isdigit():
            return _errors(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        version = request.match_info["version"]
        return self._answer(self._batch(rows, int(start), self._batch_size(request), version))

    async def _upsert(self, request: web.Request) -> web.Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        object_type, key = request.match_info["type"], request.match_info["field"]
        if key not in EXTERNAL_IDS.get(object_type, set()):
            return _errors(
                400, "INVALID_FIELD", f"Field {key} is not an External ID or indexed field"
            )
        records = await self._collection(request, object_type)
        if isinstance(records, web.Response):
            return records
        results: list[dict[str, Any]] = []
        with self.lock:
            for record in records:
                fields = {k: v for k, v in record.items() if k not in ("attributes", "id")}
                value = fields.get(key)
                failure = self._invalid(object_type, fields) or self._cross_reference(fields)
                if value in (None, ""):
                    failure = _failure("MISSING_ARGUMENT", f"{key} not specified", [key])
                if failure:
                    results.append(failure)
                    continue
                # Only a live record matches: one in the recycle bin does not, so the upsert
                # creates a new record (and needs every required field).
                # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
                existing = self._external.get((object_type, key, str(value)))
                if existing is not None:
                    existing.fields.update(fields)
                    existing.fields["SystemModstamp"] = _stamp(self.now())
                    results.append(
                        {"id": existing.id, "success": True, "errors": [], "created": False}
                    )
                    continue
                missing = [f for f in REQUIRED.get(object_type, []) if fields.get(f) in (None, "")]
                if missing:
                    results.append(
                        _failure(
                            "REQUIRED_FIELD_MISSING",
                            f"Required fields are missing: [{', '.join(missing)}]",
                            missing,
                        )
                    )
                    continue
                created = self._insert(object_type, fields)
                results.append({"id": created.id, "success": True, "errors": [], "created": True})
        return self._answer(results)

    async def _update(self, request: web.Request) -> web.Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        records = await self._collection(request, "")
        if isinstance(records, web.Response):
            return records
        results: list[dict[str, Any]] = []
        with self.lock:
            for record in records:
                object_type = record["attributes"]["type"]
                target = self.records[object_type].get(str(record.get("id")))
                if target is None:
                    results.append(self._absent(str(record.get("id")), "Id"))
                    continue
                fields = {k: v for k, v in record.items() if k not in ("attributes", "id")}
                if failure := self._invalid(object_type, fields):
                    results.append(failure)
                    continue
                target.fields.update(fields)
                target.fields["SystemModstamp"] = _stamp(self.now())
                results.append({"id": target.id, "success": True, "errors": []})
        return self._answer(results)

    async def _delete_records(self, request: web.Request) -> web.Response:
        """Collections delete: one DeleteResult per id, in order.
        https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-delete.html
        """
        if (refused := await self._gate(request)) is not None:
            return refused
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if len(ids) > MAX_COLLECTION:
            return _errors(400, "EXCEEDED_ID_LIMIT", "Cannot delete more than 200 records")
        results: list[dict[str, Any]] = []
        with self.lock:
            for record_id in ids:
                if not any(record_id in rows for rows in self.records.values()):
                    results.append({"id": record_id, **self._absent(record_id, None)})
                    continue
                if record_id in self.undeletable:
                    message = (
                        "Your attempt to delete this record could not be completed because it"
                        " is associated with the following cases: 00001026"
                    )
                    results.append({"id": record_id, **_failure("DELETE_FAILED", message, [])})
                    continue
                self._to_recycle_bin(record_id)
                results.append({"id": record_id, "success": True, "errors": []})
        return self._answer(results)

    async def _retrieve(self, request: web.Request) -> web.Response:
        """sObject Rows: one record by Id; 404 NOT_FOUND when it is not there (deleted)."""
        if (refused := await self._gate(request)) is not None:
            return refused
        object_type, record_id = request.match_info["type"], request.match_info["id"]
        known = self.fields_of(object_type)
        if known is None:
            return _errors(404, "NOT_FOUND", "The requested resource does not exist")
        with self.lock:
            record = self.records[object_type].get(record_id)
        if record is None:
            return _errors(404, "NOT_FOUND", "The requested resource does not exist")
        version = request.match_info["version"]
        return self._answer(record.as_json(sorted(known), version))

    async def _unknown(self, request: web.Request) -> web.Response:
        self.requests[f"{request.method} {request.path} (unknown)"] += 1
        return _errors(404, "NOT_FOUND", "The requested resource does not exist")


# --- a small SOQL subset ------------------------------------------------------------------


class SoqlError(ValueError):
    """A query the stand-in (or Salesforce) cannot parse."""


TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<datetime>\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d))"
    r"|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][\w.]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise SoqlError(f"unexpected token at: {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _literal(kind: str, raw: str) -> Any:
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    if kind == "datetime":
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if kind == "number":
        return float(raw)
    if raw.lower() == "null":
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise SoqlError(f"unexpected value {raw!r}")


def _value(record: SObject, name: str) -> Any:
    return record.id if name == "Id" else record.fields.get(name)


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT.*", value):
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    return value


def _folded(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is None, "" if value is None else _comparable(value))


@dataclass
class Soql:
    object: str
    fields: list[str]
    count: bool
    where: Any  # nested tuples: ("and"|"or", left, right) or (op, field, value)
    order: list[tuple[str, bool]]
    limit: int | None

    def where_fields(self) -> set[str]:
        def walk(node: Any) -> set[str]:
            if node is None:
                return set()
            if node[0] in ("and", "or"):
                return walk(node[1]) | walk(node[2])
            return {node[1]}

        return walk(self.where)

    def matches(self, record: SObject) -> bool:
        return self.where is None or _evaluate(self.where, record)


def _evaluate(node: Any, record: SObject) -> bool:
    op = node[0]
    if op == "and":
        return _evaluate(node[1], record) and _evaluate(node[2], record)
    if op == "or":
        return _evaluate(node[1], record) or _evaluate(node[2], record)
    actual, wanted = _value(record, node[1]), node[2]
    if op == "in":  # text comparisons in SOQL ignore case
        return _folded(actual) in [_folded(w) for w in wanted]
    if op == "like":
        pattern = re.escape(str(wanted).lower()).replace("%", ".*").replace("_", ".")
        return actual is not None and re.fullmatch(pattern, str(actual).lower()) is not None
    if actual is None or wanted is None:
        return (op == "=") == (actual is wanted) if op in ("=", "!=") else False
    if op in ("=", "!=") and isinstance(wanted, str):
        return (_folded(actual) == _folded(wanted)) == (op == "=")
    left, right = _comparable(actual), wanted
    if isinstance(right, float) and not isinstance(left, float):
        left = float(left)
    return {
        "=": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def parse_soql(text: str) -> Soql:
    """Parse `SELECT … FROM … [WHERE …] [ORDER BY …] [LIMIT n]`."""
    tokens = _tokens(text)
    position = 0

    def peek(word: str | None = None) -> bool:
        if position >= len(tokens):
            return False
        return word is None or tokens[position][1].upper() == word

    def take(word: str | None = None) -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens) or (word is not None and tokens[position][1].upper() != word):
            found = tokens[position][1] if position < len(tokens) else "end of query"
            raise SoqlError(f"unexpected token: '{found}'" + (f", expected {word}" if word else ""))
        position += 1
        return tokens[position - 1]

    take("SELECT")
    fields, count = [], False
    if peek("COUNT"):
        take(), take("("), take(")")
        count = True
    else:
        fields.append(take()[1])
        while peek(","):
            take(",")
            fields.append(take()[1])
    take("FROM")
    object_type = take()[1]

    def condition() -> Any:
        node = conjunction()
        while peek("OR"):
            take()
            node = ("or", node, conjunction())
        return node

    def conjunction() -> Any:
        node = factor()
        while peek("AND"):
            take()
            node = ("and", node, factor())
        return node

    def factor() -> Any:
        if peek("("):
            take("(")
            node = condition()
            take(")")
            return node
        name = take()[1]
        op = take()[1].lower()
        if op == "in":
            take("(")
            values = [_literal(*take())]
            while peek(","):
                take(",")
                values.append(_literal(*take()))
            take(")")
            return ("in", name, values)
        if op not in ("=", "!=", "<", "<=", ">", ">=", "like"):
            raise SoqlError(f"unexpected operator {op!r}")
        return (op, name, _literal(*take()))

    where = None
    if peek("WHERE"):
        take()
        where = condition()
    order: list[tuple[str, bool]] = []
    if peek("ORDER"):
        take(), take("BY")
        while True:
            name = take()[1]
            descending = False
            if peek("ASC") or peek("DESC"):
                descending = take()[1].upper() == "DESC"
            order.append((name, descending))
            if not peek(","):
                break
            take(",")
    limit = None
    if peek("LIMIT"):
        take()
        limit = int(take()[1])
    if position != len(tokens):
        raise SoqlError(f"unexpected token: '{tokens[position][1]}'")
    return Soql(object_type, fields, count, where, order, limit)
