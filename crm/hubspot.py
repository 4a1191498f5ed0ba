"""The HubSpot adapter (PARTNERBOT_CRM=hubspot), over hubspot-api-client.

- Deals are batch-upserted (≤ 100) keyed by the unique property `partnerbot_deal_id`, so a
  repeat updates the same deal. A deal HubSpot does not hold yet is created in
  PARTNERBOT_HUBSPOT_PIPELINE / _DEAL_STAGE (checked against the portal's pipelines at
  start-up); later writes never move it. `amount` and `deal_currency_code` are set only when
  the portal has the deal's currency (`crm.base.takes_currency`); otherwise the deal's
  timeline says so once, and partnerbot's own amount and currency properties always hold it.
- Notes are batch-created with their association (deal 214, company 190, contact 202) in the
  same request, so a note never exists unattached. HubSpot has no idempotency key for notes
  (notes cannot have unique-value properties), so exactly once is kept here: a note's id is
  remembered in the store (`crm.links`) the moment HubSpot returns it; before a batch is sent
  its notes are marked "sent, outcome unknown"; when an attempt ends without HubSpot's
  answer (a timeout, a reset, a 5xx, a worker killed mid-call) the next attempt reads the
  target record's notes and looks for the marker `pb-<hash of our key>` written at the end of
  each note's body, and sends only the notes it does not find. The retry is held back until
  HubSpot can no longer be acting on the lost request (twice the request timeout).
- Partner companies are found by domain (search) and their partner properties updated.
- The account mirror reads companies by `hs_lastmodifieddate` through the search API, page
  after page by keyset (each page a new query after the last one seen, so the search's
  10,000-result cap never applies); each sync restarts five minutes before the newest change
  it saw, because HubSpot's search index lags writes and can make them searchable out of
  order (the mirror skips what it already holds).
- Every request takes a slot in the portal's request budget first, and every search also
  one in the search budget (HubSpot: 5 per second per account); both are shared by all
  workers on PostgreSQL (`crm.ratelimit`). HubSpot's 429 (with Retry-After) and
  `X-HubSpot-RateLimit-Remaining` pause the budget; searches are retried with backoff.
The SDK is synchronous: each call runs in a worker thread, off the event loop.

Properties to create in HubSpot (Settings → Properties) are listed in the README.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import urllib3
from hubspot import HubSpot
from hubspot.crm import companies, contacts, deals
from hubspot.crm.objects import notes

from crm.base import (
    AccountPage,
    AccountRecord,
    CrmError,
    DealRecord,
    PartnerCompany,
    RateLimited,
    RecordType,
    TimelineNote,
    WriteResult,
    chunks,
    currency_remark,
    takes_currency,
)
from crm.links import Links, Pair
from crm.ratelimit import RequestBudget, budget_for

log = logging.getLogger(__name__)

DEAL_KEY = "partnerbot_deal_id"
NOTE = "note"  # the record type of a note's link in the store
UNCONFIRMED = "?"  # a note's link while HubSpot's answer to its create is unknown
# HubSpot-defined association types from a note (HubSpot docs, "association type IDs").
NOTE_ASSOCIATIONS = {RecordType.DEAL: 214, RecordType.COMPANY: 190, RecordType.CONTACT: 202}
ASSOCIATED_OBJECT = {
    RecordType.DEAL: "deals",
    RecordType.COMPANY: "companies",
    RecordType.CONTACT: "contacts",
}
MAX_BATCH = 100
SEARCH_PAGE = 200  # the search API's largest page
ASSOCIATIONS_PAGE = 500  # associations v4: at most 500 per call
NOTE_BODY_MAX = 65_536  # HubSpot: hs_note_body holds at most 65,536 characters
MARKER = re.compile(r"pb-[0-9a-f]{24}")
MIRROR_OVERLAP_MS = 5 * 60 * 1000  # each sync re-reads the five minutes before the newest seen
MIRROR_SEEN_MAX = 8  # ids at the page boundary the cursor may carry (it holds 200 characters)
SEARCH_RETRIES = 6  # a 429 on search: retried after 0.5, 1, 2, 4, 8 s (and Retry-After)
CURRENCIES_TTL = 3600.0  # seconds the portal's currencies are trusted before asking again
# HubSpot's currencies settings API (docs: "Settings API | Currencies"; scope
# settings.currencies.read): the company currency and the current exchange rates, whose
# `fromCurrencyCode`s are the portal's other currencies.
CURRENCIES_API = "/settings/currencies/2026-03"
# Advisory-lock keys of the shared budgets (7261001-7261003: migrations, mirror, leader).
BUDGET_KEY, SEARCH_BUDGET_KEY = 7261010, 7261011
BUDGET_SLACK = 0.2  # seconds added to each window: a slot freed here is free at HubSpot too
MIRROR_PROPERTIES = [
    "domain",
    "name",
    "partnerbot_owner_kind",
    "partnerbot_incumbent_partner",
    "hs_lastmodifieddate",
]
OWNER_KINDS = {"direct", "partner", "none"}


class HubSpotError(CrmError):
    """HubSpot answered with an error status."""

    def __init__(self, message: str, *, status: int, permanent: bool = False) -> None:
        super().__init__(message, permanent=permanent)
        self.status = status


class OutcomeUnknown(RateLimited):
    """HubSpot may have acted on a request whose answer was lost: look before sending again,
    and not before `retry_after` seconds."""


class HubSpotSetupError(CrmError):
    """The portal does not match the settings (pipeline, stage, scopes): said to the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def hubspot_budgets(
    database_url: str, requests_per_10s: int
) -> tuple[RequestBudget, RequestBudget]:
    """The portal's request budget and its search budget, shared by every worker."""
    return (
        budget_for(
            database_url, key=BUDGET_KEY, requests=requests_per_10s, per_seconds=10 + BUDGET_SLACK
        ),
        budget_for(database_url, key=SEARCH_BUDGET_KEY, requests=5, per_seconds=1 + BUDGET_SLACK),
    )


def _message(exc: Any) -> str:
    """HubSpot's own error message from an ApiException body."""
    try:
        return str(json.loads(exc.body).get("message") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


def _policy(exc: Any) -> str:
    """The rate-limit policy a 429 names (`SECONDLY` for search, `TEN_SECONDLY_ROLLING`)."""
    try:
        return str(json.loads(exc.body).get("policyName") or "")
    except (TypeError, ValueError, AttributeError):
        return ""


def note_marker(key: str) -> str:
    """What a note carries at the end of its body to be recognised by its idempotency key."""
    return "pb-" + hashlib.sha256(key.encode()).hexdigest()[:24]


# --- the portal's pipelines ---------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """A deal pipeline and its stages, (id, label) in display order."""

    id: str
    label: str
    stages: tuple[tuple[str, str], ...]

    def choices(self) -> str:
        """`stage id (label)`, as an error message lists them."""
        return ", ".join(f"{sid} ({label})" for sid, label in self.stages)


@dataclass(frozen=True)
class Placement:
    """Where partnerbot creates deals."""

    pipeline: str
    stage: str


def pipelines_from(data: Any) -> list[Pipeline]:
    """The portal's active deal pipelines from the pipelines API's answer."""
    found = []
    for row in sorted(data.results or [], key=lambda p: (p.display_order or 0, p.label or "")):
        if row.archived:
            continue
        stages = sorted(
            (s for s in row.stages or [] if not s.archived), key=lambda s: s.display_order or 0
        )
        found.append(Pipeline(str(row.id), str(row.label), tuple((s.id, s.label) for s in stages)))
    return found


def choose_placement(
    pipelines: Sequence[Pipeline], pipeline: str | None, stage: str | None
) -> Placement:
    """The pipeline and stage new deals go to; HubSpotSetupError names what is wrong."""
    listed = "; ".join(f"{p.id} ({p.label})" for p in pipelines) or "none"
    if pipeline:
        matches = [p for p in pipelines if pipeline in (p.id, p.label)]
        if not matches:
            raise HubSpotSetupError(
                f"PARTNERBOT_HUBSPOT_PIPELINE={pipeline} is not a deal pipeline of this HubSpot"
                f" portal. Valid values (internal id, label): {listed}."
            )
        chosen = matches[0]
    elif len(pipelines) == 1:
        chosen = pipelines[0]
    else:
        raise HubSpotSetupError(
            f"This HubSpot portal has {len(pipelines)} deal pipelines: set"
            f" PARTNERBOT_HUBSPOT_PIPELINE to the one partner deals go to. Valid values"
            f" (internal id, label): {listed}."
        )
    if not chosen.stages:
        raise HubSpotSetupError(f"The HubSpot pipeline {chosen.id} ({chosen.label}) has no stage.")
    if not stage:
        return Placement(chosen.id, chosen.stages[0][0])
    for sid, label in chosen.stages:
        if stage in (sid, label):
            return Placement(chosen.id, sid)
    raise HubSpotSetupError(
        f"PARTNERBOT_HUBSPOT_DEAL_STAGE={stage} is not a stage of the pipeline {chosen.id}"
        f" ({chosen.label}). Valid values (internal id, label): {chosen.choices()}."
    )


class MemoryLinks:
    """The store's `Links`, kept in memory, for callers without a store (the mirror alone)."""

    def __init__(self) -> None:
        self._ids: dict[Pair, str] = {}

    async def get_many(self, pairs: Collection[Pair]) -> dict[Pair, str]:
        """The known CRM ids of these records."""
        return {pair: self._ids[pair] for pair in pairs if pair in self._ids}

    async def put_many(self, ids: Mapping[Pair, str]) -> None:
        """Remember these CRM ids."""
        self._ids.update(ids)

    async def forget(self, pairs: Collection[Pair]) -> None:
        """Forget these records' ids."""
        for pair in pairs:
            self._ids.pop(pair, None)


class HubSpotCrm:
    """One HubSpot portal, reached with a private-app token."""

    name = "hubspot"
    batch_size = MAX_BATCH

    def __init__(
        self,
        *,
        token: str,
        host: str = "https://api.hubapi.com",
        budget: RequestBudget,
        search_budget: RequestBudget | None = None,
        links: Links | MemoryLinks | None = None,
        timeout: float = 30.0,
        batch_size: int = MAX_BATCH,
        pipeline: str | None = None,
        deal_stage: str | None = None,
        currencies: Collection[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        client = HubSpot(access_token=token, host=host.rstrip("/"))
        crm = client.crm
        self._deals = crm.deals.batch_api
        self._companies, self._company_search = crm.companies.batch_api, crm.companies.search_api
        self._contacts, self._contacts_basic = crm.contacts.batch_api, crm.contacts.basic_api
        self._notes = crm.objects.notes.batch_api
        self._associations = crm.associations.v4.basic_api
        self._pipelines = crm.pipelines.pipelines_api
        self.budget = budget
        self.search_budget = search_budget or RequestBudget(5, 1 + BUDGET_SLACK)
        self._links = links if links is not None else MemoryLinks()
        self.batch_size = min(batch_size, MAX_BATCH)
        self._timeout = timeout
        self._clock = clock
        self._pipeline_setting, self._stage_setting = pipeline, deal_stage
        self._placement: Placement | None = None
        self._fixed_currencies = frozenset(c.upper() for c in currencies) if currencies else None
        self._currencies: tuple[float, frozenset[str]] | None = None  # (fetched at, codes)
        self._settle_at: dict[str, float] = {}  # note key -> when a lost request is surely over

    # --- transport --------------------------------------------------------------------

    async def _call(self, method: Callable[..., Any], *args: Any, search: bool = False) -> Any:
        """One request: budget slots, the SDK in a thread, HubSpot's answer translated."""
        if search:
            await self.search_budget.acquire()
        await self.budget.acquire()
        try:
            data, _status, headers = await asyncio.to_thread(
                method, *args, _request_timeout=self._timeout
            )
        except urllib3.exceptions.HTTPError as exc:  # refused, reset, timed out
            raise CrmError(f"HubSpot unreachable: {exc}") from exc
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status is None:
                raise
            raise self._translate(exc, int(status), search=search) from exc
        remaining = (headers or {}).get("X-HubSpot-RateLimit-Remaining")
        if remaining is not None and remaining.isdigit() and int(remaining) == 0:
            self.budget.pause(1.0)  # another app on the portal used it up: let it drain
        return data

    def _translate(self, exc: Any, status: int, *, search: bool = False) -> CrmError:
        message = f"HubSpot {status}: {_message(exc)}"
        if status == 429:
            headers = exc.headers or {}
            retry = headers.get("Retry-After")
            interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
            seconds = float(retry) if retry else (int(interval) / 1000 if interval else 10.0)
            if search and _policy(exc) == "SECONDLY":  # the search API's own limit
                seconds = float(retry) if retry else 1.0
                self.search_budget.pause(seconds)
            else:
                self.budget.pause(seconds)
            return RateLimited(message, retry_after=seconds)
        if status in (401, 403):
            log.error("%s — check PARTNERBOT_HUBSPOT_TOKEN and the private app's scopes", message)
            return HubSpotError(message, status=status)  # the token's fault: keep retrying
        return HubSpotError(message, status=status, permanent=400 <= status < 500)

    async def _search(self, method: Callable[..., Any], request: Any) -> Any:
        """A search request within the search budget; a 429 is retried with backoff."""
        for attempt in range(SEARCH_RETRIES):
            try:
                return await self._call(method, request, search=True)
            except RateLimited:
                if attempt == SEARCH_RETRIES - 1:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)  # on top of the budget's pause
        raise AssertionError("unreachable")

    @staticmethod
    def _record_errors(data: Any) -> dict[str, CrmError]:
        """Per-record errors of a 207 answer, by the objectWriteTraceId we gave each input."""
        errors: dict[str, CrmError] = {}
        for error in getattr(data, "errors", None) or []:
            permanent = error.category not in ("RATE_LIMITS", "INTERNAL_ERROR")
            for trace in (error.context or {}).get("objectWriteTraceId", []):
                errors[trace] = CrmError(f"HubSpot: {error.message}", permanent=permanent)
        return errors

    # --- the portal: pipelines and currencies ---------------------------------------------

    def _get_json(self, path: str, *, _request_timeout: float | None = None) -> Any:
        """GET an API the SDK has no module for, through the SDK's own client."""
        return self._pipelines.api_client.call_api(
            path,
            "GET",
            header_params={"Accept": "application/json"},
            response_types_map={200: "object"},
            auth_settings=["oauth2"],
            _return_http_data_only=False,
            _request_timeout=_request_timeout,
        )

    @staticmethod
    def _currency_codes(company: Any, rates: Any) -> frozenset[str]:
        home = str((company or {}).get("id") or (company or {}).get("currencyCode") or "")
        codes = {home.upper()} if home else set()
        for rate in (rates or {}).get("results") or []:
            if str(rate.get("toCurrencyCode", home)).upper() == home.upper():
                codes.add(str(rate.get("fromCurrencyCode", "")).upper())
        return frozenset(code for code in codes if code)

    def check_setup(self) -> None:
        """At start-up (blocking): the deal pipeline and stage, and the portal's currencies.
        A wrong setting or a missing scope raises HubSpotSetupError; when HubSpot cannot be
        asked now, the check happens before the first deal is written."""
        try:
            data = self._pipelines.get_all_with_http_info("deals", _request_timeout=self._timeout)
            self._placement = choose_placement(
                pipelines_from(data[0]), self._pipeline_setting, self._stage_setting
            )
            if self._fixed_currencies is None:
                company = self._get_json(
                    f"{CURRENCIES_API}/company-currency", _request_timeout=self._timeout
                )[0]
                rates = self._get_json(
                    f"{CURRENCIES_API}/exchange-rates/current", _request_timeout=self._timeout
                )[0]
                self._currencies = (self._clock(), self._currency_codes(company, rates))
        except HubSpotSetupError:
            raise
        except urllib3.exceptions.HTTPError as exc:
            log.warning("HubSpot unreachable at start-up (%s): settings checked later", exc)
        except Exception as exc:
            status = getattr(exc, "status", None)
            if status is None:
                raise
            if int(status) == 429 or int(status) >= 500:
                log.warning("HubSpot %s at start-up: settings checked later", status)
                return
            raise_setup_error(int(status), _message(exc), pipelines=self._placement is None)

    async def _ensure_placement(self) -> Placement:
        if self._placement is None:
            data = await self._call(self._pipelines.get_all_with_http_info, "deals")
            try:
                self._placement = choose_placement(
                    pipelines_from(data), self._pipeline_setting, self._stage_setting
                )
            except HubSpotSetupError as exc:
                log.error("%s", exc)
                raise CrmError(str(exc)) from exc  # fix the setting and restart: nothing lost
        return self._placement

    async def portal_currencies(self) -> frozenset[str]:
        """The currencies the portal takes: PARTNERBOT_HUBSPOT_CURRENCIES, or HubSpot's
        currencies settings (kept for an hour)."""
        if self._fixed_currencies is not None:
            return self._fixed_currencies
        if self._currencies and self._clock() - self._currencies[0] < CURRENCIES_TTL:
            return self._currencies[1]
        try:
            company = await self._call(self._get_json, f"{CURRENCIES_API}/company-currency")
            rates = await self._call(self._get_json, f"{CURRENCIES_API}/exchange-rates/current")
        except CrmError:
            if self._currencies is None:
                raise
            log.warning("HubSpot currencies unavailable: using those read before")
            return self._currencies[1]
        self._currencies = (self._clock(), self._currency_codes(company, rates))
        return self._currencies[1]

    # --- deals ------------------------------------------------------------------------

    @staticmethod
    def _deal_properties(
        deal: DealRecord, accepted: Collection[str], placement: Placement | None
    ) -> dict[str, str]:
        expires = deal.protection_expires_at
        properties = {
            "dealname": f"{deal.customer} ({deal.partner})"[:250],
            "closedate": deal.close_date.isoformat(),
            "partnerbot_customer_domain": deal.domain,
            "partnerbot_partner": deal.partner,
            "partnerbot_registration_status": deal.status,
            "partnerbot_motion": deal.motion,
            "partnerbot_protection_expires": expires.date().isoformat() if expires else "",
            "partnerbot_amount": str(deal.amount),
            "partnerbot_currency": deal.currency.upper(),
        }
        if takes_currency(deal, accepted):
            properties["amount"] = str(deal.amount)
            properties["deal_currency_code"] = deal.currency.upper()
        if placement is not None:  # a new deal: its pipeline and first stage, never after
            properties["pipeline"], properties["dealstage"] = placement.pipeline, placement.stage
        return properties

    async def upsert_deals(self, deals_: Sequence[DealRecord]) -> list[WriteResult]:
        """Batch upsert keyed by `partnerbot_deal_id`: a repeat updates, never duplicates."""
        placement = await self._ensure_placement()
        accepted = await self.portal_currencies()
        results: list[WriteResult] = []
        for chunk in chunks(deals_, self.batch_size):
            results += await self._upsert_chunk(chunk, placement, accepted)
        return results

    async def _upsert_chunk(
        self, chunk: Sequence[DealRecord], placement: Placement, accepted: frozenset[str]
    ) -> list[WriteResult]:
        ours = [str(deal.deal_id) for deal in chunk]
        known = await self._links.get_many([(RecordType.DEAL, our) for our in ours])
        unknown = [our for our in ours if (RecordType.DEAL, our) not in known]
        existing = await self._read_by(RecordType.DEAL, unknown)
        new = {our for our in unknown if our not in existing}
        inputs = [
            deals.SimplePublicObjectBatchInputUpsert(
                id_property=DEAL_KEY,
                id=our,
                properties=self._deal_properties(deal, accepted, placement if our in new else None),
                object_write_trace_id=str(index),
            )
            for index, (our, deal) in enumerate(zip(ours, chunk, strict=True))
        ]
        data = await self._call(
            self._deals.upsert_with_http_info,
            deals.BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs),
        )
        written = {str(r.properties.get(DEAL_KEY)): r for r in data.results or []}
        # Deleted in HubSpot since we last wrote it: the upsert created it afresh, unplaced.
        recreated = [r for our, r in written.items() if r.new and our not in new]
        if recreated:
            await self._place(recreated, placement)
        await self._links.put_many({(RecordType.DEAL, o): str(r.id) for o, r in written.items()})
        remark_errors = await self._remark_currencies(
            [(deal, written[our]) for our, deal in zip(ours, chunk, strict=True) if our in written],
            accepted,
        )
        errors = self._record_errors(data)
        results = []
        for index, our in enumerate(ours):
            if our in written:
                error = remark_errors.get(our)
                crm_id = str(written[our].id)
                results.append(WriteResult(error=error) if error else WriteResult(crm_id=crm_id))
            else:
                error = errors.get(str(index)) or CrmError("HubSpot did not return the deal")
                results.append(WriteResult(error=error))
        return results

    async def _place(self, rows: Sequence[Any], placement: Placement) -> None:
        log.warning("%s deal(s) were deleted in HubSpot and created again", len(rows))
        await self._call(
            self._deals.update_with_http_info,
            deals.BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    deals.SimplePublicObjectBatchInput(
                        id=str(row.id),
                        properties={"pipeline": placement.pipeline, "dealstage": placement.stage},
                    )
                    for row in rows
                ]
            ),
        )

    async def _remark_currencies(
        self, written: Sequence[tuple[DealRecord, Any]], accepted: frozenset[str]
    ) -> dict[str, CrmError]:
        """Once per deal and currency, the timeline's word that the amount is kept aside; a
        deal's write is done only when its remark is there (dated when HubSpot wrote it)."""
        remarks = [
            TimelineNote(
                record_type=RecordType.DEAL,
                record_id=str(deal.deal_id),
                author="partnerbot",
                text=currency_remark(deal),
                at=row.updated_at or row.created_at,
                idempotency_key=f"deal:{deal.deal_id}:currency:{deal.currency.upper()}",
                subject="Amount kept in partnerbot's fields",
            )
            for deal, row in written
            if not takes_currency(deal, accepted)
        ]
        if not remarks:
            return {}
        results = await self.add_notes(remarks)
        return {n.record_id: r.error for n, r in zip(remarks, results, strict=True) if r.error}

    # --- finding records by our ids -----------------------------------------------------

    async def _read_by(self, record_type: RecordType, our_ids: Sequence[str]) -> dict[str, str]:
        """HubSpot ids of deals (by our id) or contacts (by email) HubSpot holds."""
        if not our_ids:
            return {}
        api, prop, model = (
            (self._deals, DEAL_KEY, deals)
            if record_type == RecordType.DEAL
            else (self._contacts, "email", contacts)
        )
        found: dict[str, str] = {}
        for chunk in chunks(our_ids, MAX_BATCH):
            data = await self._call(
                api.read_with_http_info,
                model.BatchReadInputSimplePublicObjectId(
                    id_property=prop,
                    inputs=[model.SimplePublicObjectId(id=our_id) for our_id in chunk],
                    properties=[prop],
                ),
            )
            for row in data.results or []:
                found[str(row.properties.get(prop))] = str(row.id)
        return found

    async def _targets(self, wanted: Iterable[tuple[RecordType, str]]) -> dict[Pair, str]:
        """HubSpot ids of deals (our id), companies (domain) and contacts (email): from the
        store, else from HubSpot (then remembered)."""
        pairs = {(str(kind), our) for kind, our in wanted}
        known = await self._links.get_many(pairs)
        learned: dict[Pair, str] = {}
        by_type: dict[str, list[str]] = {}
        for kind, our in sorted(pairs - set(known)):
            by_type.setdefault(kind, []).append(our)
        for kind, our_ids in by_type.items():
            if kind == RecordType.COMPANY:
                for domain in our_ids:
                    if (found := await self._company_by_domain(domain)) is not None:
                        learned[(kind, domain)] = found
                continue
            for our, crm_id in (await self._read_by(RecordType(kind), our_ids)).items():
                learned[(kind, our)] = crm_id
        await self._links.put_many(learned)
        return known | learned

    async def _company_by_domain(self, domain: str) -> str | None:
        request = companies.PublicObjectSearchRequest(
            filter_groups=[
                companies.FilterGroup(
                    filters=[companies.Filter(property_name="domain", operator="EQ", value=domain)]
                )
            ],
            properties=["domain"],
            limit=1,
        )
        data = await self._search(self._company_search.do_search_with_http_info, request)
        return str(data.results[0].id) if data.results else None

    # --- timeline notes -----------------------------------------------------------------

    @staticmethod
    def _note_properties(note: TimelineNote) -> dict[str, str]:
        subject = f"<p><strong>{html.escape(note.subject)}</strong></p>" if note.subject else ""
        marker = f"<p>partnerbot ref {note_marker(note.idempotency_key)}</p>"
        text = note.text
        while True:
            body = html.escape(text).replace("\n", "<br>")
            full = f"{subject}<p>{html.escape(note.author)}: {body}</p>{marker}"
            if len(full) <= NOTE_BODY_MAX:
                break
            text = text[: len(text) - (len(full) - NOTE_BODY_MAX) - 16] + " …"
        return {
            "hs_timestamp": note.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "hs_note_body": full,
        }

    async def add_notes(self, notes_: Sequence[TimelineNote]) -> list[WriteResult]:
        """Create each note once, attached to its deal, company or contact (see the module)."""
        results: list[WriteResult | None] = [None] * len(notes_)
        known = await self._links.get_many({(NOTE, n.idempotency_key) for n in notes_})
        pending = []
        for index, note in enumerate(notes_):
            crm_id = known.get((NOTE, note.idempotency_key))
            if crm_id and crm_id != UNCONFIRMED:
                results[index] = WriteResult(crm_id=crm_id)  # created by an earlier attempt
            else:
                pending.append(index)
        targets = await self._targets(
            {(notes_[i].record_type, notes_[i].record_id) for i in pending}
        )
        ready = []
        for index in pending:
            note = notes_[index]
            if (str(note.record_type), note.record_id) in targets:
                ready.append(index)
                continue
            results[index] = WriteResult(
                error=CrmError(
                    f"no HubSpot {ASSOCIATED_OBJECT[note.record_type]} record for"
                    f" {note.record_type} {note.record_id}",
                    permanent=True,
                )
            )
        unsettled = [i for i in ready if known.get((NOTE, notes_[i].idempotency_key))]
        if unsettled:
            found = await self._find_notes([notes_[i] for i in unsettled], targets)
            for index in unsettled:
                if (crm_id := found.get((NOTE, notes_[index].idempotency_key))) is not None:
                    results[index] = WriteResult(crm_id=crm_id)
        for chunk in chunks([i for i in ready if results[i] is None], self.batch_size):
            await self._create_notes(notes_, chunk, targets, results)
        return [r if r is not None else WriteResult(error=CrmError("not sent")) for r in results]

    async def _create_notes(
        self,
        notes_: Sequence[TimelineNote],
        chunk: Sequence[int],
        targets: Mapping[Pair, str],
        results: list[WriteResult | None],
    ) -> None:
        keys = [(NOTE, notes_[index].idempotency_key) for index in chunk]
        await self._links.put_many(dict.fromkeys(keys, UNCONFIRMED))  # sent; answer unknown
        inputs = []
        for index in chunk:
            note = notes_[index]
            association = notes.PublicAssociationsForObject(
                to=notes.PublicObjectId(id=targets[(str(note.record_type), note.record_id)]),
                types=[
                    notes.AssociationSpec(
                        association_category="HUBSPOT_DEFINED",
                        association_type_id=NOTE_ASSOCIATIONS[note.record_type],
                    )
                ],
            )
            inputs.append(
                notes.SimplePublicObjectBatchInputForCreate(
                    properties=self._note_properties(note),
                    associations=[association],
                    object_write_trace_id=str(index),
                )
            )
        try:
            data = await self._call(
                self._notes.create_with_http_info,
                notes.BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs),
            )
        except (RateLimited, HubSpotError) as exc:
            status = getattr(exc, "status", 429)
            if status < 500:  # HubSpot refused the request: it created nothing
                await self._links.forget(keys)
                raise
            raise self._unknown_outcome(keys, exc) from exc
        except Exception as exc:  # timed out, reset, killed: HubSpot may have acted
            raise self._unknown_outcome(keys, exc) from exc
        created = {}
        for row in data.results or []:
            if found := MARKER.search(str((row.properties or {}).get("hs_note_body") or "")):
                created[found.group()] = str(row.id)
        errors = self._record_errors(data)
        done: dict[Pair, str] = {}
        for index in chunk:
            key = notes_[index].idempotency_key
            if (note_id := created.get(note_marker(key))) is not None:
                done[(NOTE, key)] = note_id
                results[index] = WriteResult(crm_id=note_id)
            else:
                error = errors.get(str(index)) or CrmError("HubSpot did not return the note")
                results[index] = WriteResult(error=error)
        await self._links.put_many(done)
        await self._links.forget([key for key in keys if key not in done])

    def _unknown_outcome(self, keys: Sequence[Pair], exc: BaseException) -> OutcomeUnknown:
        """HubSpot may still create these notes: the next attempt looks first, and waits until
        the lost request is surely over (another timeout after ours)."""
        wait = 2 * self._timeout
        for _kind, key in keys:
            self._settle_at[key] = self._clock() + wait
        return OutcomeUnknown(
            f"HubSpot's answer was lost ({exc}); notes checked before resending", retry_after=wait
        )

    async def _find_notes(
        self, notes_: Sequence[TimelineNote], targets: Mapping[Pair, str]
    ) -> dict[Pair, str]:
        """The notes of an earlier attempt whose answer was lost, found by their markers
        among the notes of the records they hang on (read directly, not through the lagging
        search index); remembered in the store."""
        settle = max(self._settle_at.get(n.idempotency_key, 0.0) for n in notes_) - self._clock()
        if settle > 0:
            await asyncio.sleep(settle)
        wanted = {note_marker(n.idempotency_key): n.idempotency_key for n in notes_}
        by_target: dict[tuple[str, str], set[str]] = {}
        for note in notes_:
            target = targets[(str(note.record_type), note.record_id)]
            by_target.setdefault((ASSOCIATED_OBJECT[note.record_type], target), set()).add(
                note_marker(note.idempotency_key)
            )
        found: dict[Pair, str] = {}
        for (object_type, target), markers in by_target.items():
            note_ids = await self._associated_notes(object_type, target)
            for chunk in chunks(note_ids, MAX_BATCH):
                if not markers:
                    break
                data = await self._call(
                    self._notes.read_with_http_info,
                    notes.BatchReadInputSimplePublicObjectId(
                        inputs=[notes.SimplePublicObjectId(id=note_id) for note_id in chunk],
                        properties=["hs_note_body"],
                    ),
                )
                for row in data.results or []:
                    body = str((row.properties or {}).get("hs_note_body") or "")
                    for marker in MARKER.findall(body):
                        if marker in markers:
                            markers.discard(marker)
                            found[(NOTE, wanted[marker])] = str(row.id)
        for note in notes_:
            self._settle_at.pop(note.idempotency_key, None)
        await self._links.put_many(found)
        log.info(
            "looked up %s note(s) whose create had no answer: %s found", len(notes_), len(found)
        )
        return found

    async def _associated_notes(self, object_type: str, object_id: str) -> list[str]:
        """Every note associated with a record (associations v4, 500 a page)."""
        ids: list[str] = []
        after = None
        while True:
            data = await self._call(
                partial(
                    self._associations.get_page_with_http_info,
                    object_type,
                    object_id,
                    "notes",
                    after=after,
                    limit=ASSOCIATIONS_PAGE,
                )
            )
            ids += [str(row.to_object_id) for row in data.results or []]
            if not (data.paging and data.paging.next and data.paging.next.after):
                return ids
            after = data.paging.next.after

    # --- partner companies ----------------------------------------------------------------

    async def set_partner_companies(
        self, companies_: Sequence[PartnerCompany]
    ) -> list[WriteResult]:
        """Tier and certifications onto the partner's company, found by its domain."""
        targets = await self._targets({(RecordType.COMPANY, c.domain) for c in companies_})
        found = [c for c in companies_ if (RecordType.COMPANY, c.domain) in targets]
        updated: set[str] = set()
        for chunk in chunks(found, self.batch_size):
            data = await self._call(
                self._companies.update_with_http_info,
                companies.BatchInputSimplePublicObjectBatchInput(
                    inputs=[
                        companies.SimplePublicObjectBatchInput(
                            id=targets[(RecordType.COMPANY, c.domain)],
                            properties=self._partner_properties(c),
                        )
                        for c in chunk
                    ]
                ),
            )
            updated.update(str(r.id) for r in data.results or [])
        results: list[WriteResult] = []
        gone = []
        for company in companies_:
            crm_id = targets.get((RecordType.COMPANY, company.domain))
            if crm_id is None:
                results.append(
                    WriteResult(
                        error=CrmError(
                            f"no HubSpot company with domain {company.domain}", permanent=True
                        )
                    )
                )
            elif crm_id in updated:
                results.append(WriteResult(crm_id=crm_id))
            else:  # deleted or merged in HubSpot: look it up again next time
                gone.append((str(RecordType.COMPANY), company.domain))
                results.append(WriteResult(error=CrmError(f"HubSpot did not update {crm_id}")))
        await self._links.forget(gone)
        return results

    @staticmethod
    def _partner_properties(company: PartnerCompany) -> dict[str, str]:
        expiries = sorted(c.expires_at for c in company.certifications)
        return {
            "partnerbot_partner_tier": company.tier,
            "partnerbot_certifications": company.certifications_text(),
            "partnerbot_next_certification_expiry": expiries[0].date().isoformat()
            if expiries
            else "",
        }

    # --- the account mirror ---------------------------------------------------------------

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        """Companies by last-modified time, oldest first. The cursor is `{"t": ms, "x": [ids
        read at ms]}` (the next page is what comes after), `{"t": ms}` (from ms on) or
        `{"t": ms, "o": n}` (n read of a crowd of companies sharing one time)."""
        t, seen, offset = _cursor_state(cursor)
        size = max(1, min(limit, SEARCH_PAGE))
        modified = "hs_lastmodifieddate"
        after = None
        if offset is not None and t is not None:  # a crowd sharing one time: by offset
            groups = [[_filter(modified, "EQ", t)]]
            after = str(offset) if offset else None
        elif t is None:
            groups = []
        elif seen is None:
            groups = [[_filter(modified, "GTE", t)]]
        elif not seen:
            groups = [[_filter(modified, "GT", t)]]
        else:
            not_seen = companies.Filter(
                property_name="hs_object_id", operator="NOT_IN", values=list(seen)
            )
            groups = [[_filter(modified, "GT", t)], [_filter(modified, "EQ", t), not_seen]]
        request = companies.PublicObjectSearchRequest(
            filter_groups=[companies.FilterGroup(filters=g) for g in groups],
            sorts=[{"propertyName": modified, "direction": "ASCENDING"}],
            properties=MIRROR_PROPERTIES,
            limit=size,
            after=after,
        )
        data = await self._search(self._company_search.do_search_with_http_info, request)
        rows = data.results or []
        accounts = [self._account(row) for row in rows]
        more = bool(data.paging and data.paging.next)
        state = _next_cursor(t, seen, offset, rows, more)
        more = more or offset is not None  # after a crowd, what follows it is read next
        remaining = max(int(data.total or 0) - len(rows), 0)
        return AccountPage(accounts, json.dumps(state), more=more, total=remaining)

    @staticmethod
    def _account(row: Any) -> AccountRecord:
        props = row.properties or {}
        kind = str(props.get("partnerbot_owner_kind") or "none").lower()
        return AccountRecord(
            crm_id=str(row.id),
            domain=str(props.get("domain") or ""),
            name=str(props.get("name") or ""),
            owner_kind=kind if kind in OWNER_KINDS else "none",
            incumbent_partner=props.get("partnerbot_incumbent_partner") or None,
            modified_at=datetime.fromtimestamp(_modified_ms(row) / 1000, UTC),
        )

    # --- privacy --------------------------------------------------------------------------

    async def erase_contact(self, email: str) -> None:
        """GDPR-delete the contact by email; one HubSpot does not know is already erased."""
        try:
            await self._call(
                self._contacts_basic.purge_with_http_info,
                contacts.PublicGdprDeleteInput(object_id=email, id_property="email"),
            )
        except HubSpotError as exc:
            if exc.status != 404:
                raise
        await self._links.forget([(str(RecordType.CONTACT), email)])

    async def aclose(self) -> None:
        """Give the shared budgets' slots back (the SDK's pools close with the process)."""
        await self.budget.aclose()
        await self.search_budget.aclose()


def raise_setup_error(status: int, message: str, *, pipelines: bool) -> None:
    """A start-up answer no retry will change, said to the admin (`pipelines`: it was the
    pipelines' request, else the currencies')."""
    if status == 401:
        raise HubSpotSetupError(
            f"HubSpot refused PARTNERBOT_HUBSPOT_TOKEN (401: {message}). Copy the private"
            " app's access token again."
        )
    if pipelines:
        raise HubSpotSetupError(
            f"HubSpot {status} reading the deal pipelines: {message}. The private app needs"
            " the scope crm.objects.deals.read (see the README's HubSpot section)."
        )
    raise HubSpotSetupError(
        f"HubSpot {status} reading the portal's currencies: {message}. Give the private app"
        " the scope settings.currencies.read, or list the portal's currencies in"
        " PARTNERBOT_HUBSPOT_CURRENCIES (e.g. USD,EUR)."
    )


def _filter(prop: str, operator: str, value: int) -> Any:
    return companies.Filter(property_name=prop, operator=operator, value=str(value))


def _modified_ms(row: Any) -> int:
    value = str((row.properties or {}).get("hs_lastmodifieddate") or "0")
    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _cursor_state(cursor: str | None) -> tuple[int | None, list[str] | None, int | None]:
    """(time in ms, ids read at that time or None for "from that time on", crowd offset)."""
    state = json.loads(cursor) if cursor else {}
    if "since" in state:  # a cursor written before 0.19: start again a margin before it
        return max(int(state["since"]) - MIRROR_OVERLAP_MS, 0), None, None
    if "t" not in state:
        return None, None, None
    seen = state.get("x")
    return int(state["t"]), None if seen is None else [str(i) for i in seen], state.get("o")


def _next_cursor(
    t: int | None, seen: list[str] | None, offset: int | None, rows: Sequence[Any], more: bool
) -> dict[str, Any]:
    """Where the next page starts: after the last company read; at the end of a sync, the
    overlap before the newest change seen (HubSpot's index can surface a change late)."""
    if offset is not None:
        if more:
            return {"t": t, "o": offset + len(rows)}
        return {"t": t, "x": []}  # the crowd is read: what comes after it
    if not rows:  # nothing after the cursor: a sync that read the end starts a margin earlier
        if t is None or seen is None:
            return {} if t is None else {"t": t}
        return {"t": max(t - MIRROR_OVERLAP_MS, 0)}
    last = _modified_ms(rows[-1])
    if not more:
        return {"t": max(last - MIRROR_OVERLAP_MS, 0)}
    at_last = [str(row.id) for row in rows if _modified_ms(row) == last]
    if last == t and seen:
        at_last = seen + at_last
    if len(at_last) <= MIRROR_SEEN_MAX:
        return {"t": last, "x": at_last}
    return {"t": last, "o": len(at_last)}
