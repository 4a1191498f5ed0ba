"""The HubSpot adapter (PARTNERBOT_CRM=hubspot), over hubspot-api-client.

- Deals are batch-upserted (≤ 100) keyed by the unique property `partnerbot_deal_id`, so a
  repeat updates the same deal. Notes are batch-upserted keyed by `partnerbot_note_key`,
  then associated to their deal (type 214), company (190) or contact (202).
- Partner companies are found by domain (search) and their partner properties updated.
- The account mirror reads companies by `hs_lastmodifieddate` through the search API.
- Every request takes a slot in the portal's request budget first; HubSpot's 429 (with
  Retry-After) and `X-HubSpot-RateLimit-Remaining` pause the budget.
The SDK is synchronous: each call runs in a worker thread, off the event loop.

Properties to create in HubSpot (Settings → Properties) are listed in the README.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import urllib3
from hubspot import HubSpot
from hubspot.crm import companies, contacts, deals
from hubspot.crm.associations import v4 as associations
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
)
from crm.ratelimit import RequestBudget

log = logging.getLogger(__name__)

DEAL_KEY = "partnerbot_deal_id"
NOTE_KEY = "partnerbot_note_key"
# HubSpot-defined association types from a note (HubSpot docs, "association type IDs").
NOTE_ASSOCIATIONS = {RecordType.DEAL: 214, RecordType.COMPANY: 190, RecordType.CONTACT: 202}
ASSOCIATED_OBJECT = {
    RecordType.DEAL: "deals",
    RecordType.COMPANY: "companies",
    RecordType.CONTACT: "contacts",
}
MAX_BATCH = 100
SEARCH_CAP = 10_000  # the search API pages through at most 10,000 results per query
MIRROR_PROPERTIES = [
    "domain",
    "name",
    "partnerbot_owner_kind",
    "partnerbot_incumbent_partner",
    "hs_lastmodifieddate",
]
OWNER_KINDS = {"direct", "partner", "none"}


def _message(exc: Any) -> str:
    """HubSpot's own error message from an ApiException body."""
    try:
        return str(json.loads(exc.body).get("message") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


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
        timeout: float = 30.0,
        batch_size: int = MAX_BATCH,
    ) -> None:
        self._client = HubSpot(access_token=token, host=host.rstrip("/"))
        self.budget = budget
        self.batch_size = min(batch_size, MAX_BATCH)
        self._timeout = timeout
        self._ids: dict[tuple[RecordType, str], str] = {}  # our id -> HubSpot id

    # --- transport --------------------------------------------------------------------

    async def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """One request: a budget slot, the SDK in a thread, HubSpot's answer translated."""
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
            raise self._translate(exc, int(status)) from exc
        remaining = (headers or {}).get("X-HubSpot-RateLimit-Remaining")
        if remaining is not None and remaining.isdigit() and int(remaining) == 0:
            self.budget.pause(1.0)  # another app on the portal used it up: let it drain
        return data

    def _translate(self, exc: Any, status: int) -> CrmError:
        message = f"HubSpot {status}: {_message(exc)}"
        if status == 429:
            headers = exc.headers or {}
            retry = headers.get("Retry-After")
            interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
            seconds = float(retry) if retry else (int(interval) / 1000 if interval else 10.0)
            self.budget.pause(seconds)
            return RateLimited(message, retry_after=seconds)
        if status in (401, 403):
            log.error("%s — check PARTNERBOT_HUBSPOT_TOKEN and the private app's scopes", message)
            return CrmError(message)  # the token's fault, not the record's: keep retrying
        if status >= 500 or status == 0:
            return CrmError(message)
        return CrmError(message, permanent=True)

    @staticmethod
    def _record_errors(data: Any) -> dict[str, CrmError]:
        """Per-record errors of a 207 answer, by the objectWriteTraceId we gave each input."""
        errors: dict[str, CrmError] = {}
        for error in getattr(data, "errors", None) or []:
            permanent = error.category not in ("RATE_LIMITS", "INTERNAL_ERROR")
            for trace in (error.context or {}).get("objectWriteTraceId", []):
                errors[trace] = CrmError(f"HubSpot: {error.message}", permanent=permanent)
        return errors

    # --- deals ------------------------------------------------------------------------

    @staticmethod
    def _deal_properties(deal: DealRecord) -> dict[str, str]:
        expires = deal.protection_expires_at
        return {
            "dealname": f"{deal.customer} ({deal.partner})"[:250],
            "amount": str(deal.amount),
            "deal_currency_code": deal.currency,
            "closedate": deal.close_date.isoformat(),
            "partnerbot_customer_domain": deal.domain,
            "partnerbot_partner": deal.partner,
            "partnerbot_registration_status": deal.status,
            "partnerbot_motion": deal.motion,
            "partnerbot_protection_expires": expires.date().isoformat() if expires else "",
        }

    async def upsert_deals(self, deals_: Sequence[DealRecord]) -> list[WriteResult]:
        """Batch upsert keyed by `partnerbot_deal_id`: a repeat updates, never duplicates."""
        results: list[WriteResult] = []
        for chunk in chunks(deals_, self.batch_size):
            inputs = [
                deals.SimplePublicObjectBatchInputUpsert(
                    id_property=DEAL_KEY,
                    id=str(deal.deal_id),
                    properties=self._deal_properties(deal),
                    object_write_trace_id=str(index),
                )
                for index, deal in enumerate(chunk)
            ]
            data = await self._call(
                self._client.crm.deals.batch_api.upsert_with_http_info,
                deals.BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs),
            )
            ids = {str(r.properties.get(DEAL_KEY)): str(r.id) for r in data.results or []}
            errors = self._record_errors(data)
            for index, deal in enumerate(chunk):
                crm_id = ids.get(str(deal.deal_id))
                if crm_id:
                    self._ids[(RecordType.DEAL, str(deal.deal_id))] = crm_id
                    results.append(WriteResult(crm_id=crm_id))
                else:
                    error = errors.get(str(index)) or CrmError("HubSpot did not return the deal")
                    results.append(WriteResult(error=error))
        return results

    # --- finding records by our ids -----------------------------------------------------

    async def _resolve(self, wanted: set[tuple[RecordType, str]]) -> None:
        """Learn the HubSpot ids of deals (by our id), companies (domain), contacts (email)."""
        missing = sorted(key for key in wanted if key not in self._ids)
        by_type: dict[RecordType, list[str]] = {}
        for record_type, our_id in missing:
            by_type.setdefault(record_type, []).append(our_id)
        for record_type, our_ids in by_type.items():
            if record_type == RecordType.COMPANY:
                for domain in our_ids:
                    if (found := await self._company_by_domain(domain)) is not None:
                        self._ids[(RecordType.COMPANY, domain)] = found
                continue
            api, prop = (
                (self._client.crm.deals.batch_api, DEAL_KEY)
                if record_type == RecordType.DEAL
                else (self._client.crm.contacts.batch_api, "email")
            )
            model = deals if record_type == RecordType.DEAL else contacts
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
                    self._ids[(record_type, str(row.properties.get(prop)))] = str(row.id)

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
        data = await self._call(
            self._client.crm.companies.search_api.do_search_with_http_info, request
        )
        return str(data.results[0].id) if data.results else None

    # --- timeline notes -----------------------------------------------------------------

    @staticmethod
    def _note_properties(note: TimelineNote) -> dict[str, str]:
        subject = f"<p><strong>{html.escape(note.subject)}</strong></p>" if note.subject else ""
        body = html.escape(note.text).replace("\n", "<br>")
        return {
            "hs_timestamp": note.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "hs_note_body": f"{subject}<p>{html.escape(note.author)}: {body}</p>",
        }

    async def add_notes(self, notes_: Sequence[TimelineNote]) -> list[WriteResult]:
        """Upsert the notes by our key, then associate each with what it hangs on."""
        await self._resolve({(n.record_type, n.record_id) for n in notes_})
        results: list[WriteResult | None] = [None] * len(notes_)
        ready: list[int] = []
        for index, note in enumerate(notes_):
            if (note.record_type, note.record_id) in self._ids:
                ready.append(index)
            else:
                results[index] = WriteResult(
                    error=CrmError(
                        f"no HubSpot {ASSOCIATED_OBJECT[note.record_type]} record for"
                        f" {note.record_type} {note.record_id}",
                        permanent=True,
                    )
                )
        for chunk in chunks(ready, self.batch_size):
            inputs = [
                notes.SimplePublicObjectBatchInputUpsert(
                    id_property=NOTE_KEY,
                    id=notes_[index].idempotency_key,
                    properties=self._note_properties(notes_[index]),
                    object_write_trace_id=str(index),
                )
                for index in chunk
            ]
            data = await self._call(
                self._client.crm.objects.notes.batch_api.upsert_with_http_info,
                notes.BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs),
            )
            note_ids = {str(r.properties.get(NOTE_KEY)): str(r.id) for r in data.results or []}
            errors = self._record_errors(data)
            linked: dict[RecordType, list[tuple[int, str, str, str]]] = {}
            for index in chunk:
                note = notes_[index]
                note_id = note_ids.get(note.idempotency_key)
                if note_id is None:
                    error = errors.get(str(index)) or CrmError("HubSpot did not return the note")
                    results[index] = WriteResult(error=error)
                    continue
                target = self._ids[(note.record_type, note.record_id)]
                linked.setdefault(note.record_type, []).append(
                    (index, note_id, target, note.record_id)
                )
            for record_type, pairs in linked.items():
                await self._associate(record_type, pairs, results)
        return [r if r is not None else WriteResult(error=CrmError("not sent")) for r in results]

    async def _associate(
        self,
        record_type: RecordType,
        pairs: list[tuple[int, str, str, str]],
        results: list[WriteResult | None],
    ) -> None:
        spec = associations.AssociationSpec(
            association_category="HUBSPOT_DEFINED",
            association_type_id=NOTE_ASSOCIATIONS[record_type],
        )
        data = await self._call(
            self._client.crm.associations.v4.batch_api.create_with_http_info,
            "notes",
            ASSOCIATED_OBJECT[record_type],
            associations.BatchInputPublicAssociationMultiPost(
                inputs=[
                    associations.PublicAssociationMultiPost(
                        _from=associations.PublicObjectId(id=note_id),
                        to=associations.PublicObjectId(id=target),
                        types=[spec],
                    )
                    for _index, note_id, target, _ours in pairs
                ]
            ),
        )
        done = {(str(r.from_object_id), str(r.to_object_id)) for r in data.results or []}
        for index, note_id, target, ours in pairs:
            if (note_id, target) in done:
                results[index] = WriteResult(crm_id=note_id)
            else:  # the target vanished between lookup and link: look it up again next time
                self._ids.pop((record_type, ours), None)
                results[index] = WriteResult(
                    error=CrmError(f"HubSpot refused to link note {note_id} to {target}")
                )

    # --- partner companies ----------------------------------------------------------------

    async def set_partner_companies(
        self, companies_: Sequence[PartnerCompany]
    ) -> list[WriteResult]:
        """Tier and certifications onto the partner's company, found by its domain."""
        await self._resolve({(RecordType.COMPANY, c.domain) for c in companies_})
        results: list[WriteResult] = []
        found = [c for c in companies_ if (RecordType.COMPANY, c.domain) in self._ids]
        updated: set[str] = set()
        for chunk in chunks(found, self.batch_size):
            data = await self._call(
                self._client.crm.companies.batch_api.update_with_http_info,
                companies.BatchInputSimplePublicObjectBatchInput(
                    inputs=[
                        companies.SimplePublicObjectBatchInput(
                            id=self._ids[(RecordType.COMPANY, c.domain)],
                            properties=self._partner_properties(c),
                        )
                        for c in chunk
                    ]
                ),
            )
            updated.update(str(r.id) for r in data.results or [])
        for company in companies_:
            crm_id = self._ids.get((RecordType.COMPANY, company.domain))
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
            else:
                self._ids.pop((RecordType.COMPANY, company.domain), None)
                results.append(WriteResult(error=CrmError(f"HubSpot did not update {crm_id}")))
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
        """Companies by last-modified time; the cursor is `{"since": ms, "after": n}`."""
        state = json.loads(cursor) if cursor else {"since": 0, "after": 0}
        since, after = int(state.get("since", 0)), int(state.get("after", 0))
        size = max(1, min(limit, 200, SEARCH_CAP - after))
        request = companies.PublicObjectSearchRequest(
            filter_groups=[
                companies.FilterGroup(
                    filters=[
                        companies.Filter(
                            property_name="hs_lastmodifieddate", operator="GTE", value=str(since)
                        )
                    ]
                )
            ],
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            properties=MIRROR_PROPERTIES,
            limit=size,
            after=str(after) if after else None,
        )
        data = await self._call(
            self._client.crm.companies.search_api.do_search_with_http_info, request
        )
        accounts = [self._account(row) for row in data.results or []]
        newest = max((int(a.modified_at.timestamp() * 1000) for a in accounts), default=since)
        has_next = bool(data.paging and data.paging.next)
        if has_next and after + size < SEARCH_CAP:
            state = {"since": since, "after": after + size}
        else:  # the end, or the search cap: start a new query from the newest seen
            state = {"since": newest, "after": 0}
        remaining = max(int(data.total or 0) - after - len(accounts), 0)
        return AccountPage(accounts, json.dumps(state), more=has_next, total=remaining)

    @staticmethod
    def _account(row: Any) -> AccountRecord:
        props = row.properties or {}
        modified = str(props.get("hs_lastmodifieddate") or "0")
        at = (
            datetime.fromtimestamp(int(modified) / 1000, UTC)
            if modified.isdigit()
            else datetime.fromisoformat(modified.replace("Z", "+00:00"))
        )
        kind = str(props.get("partnerbot_owner_kind") or "none").lower()
        return AccountRecord(
            crm_id=str(row.id),
            domain=str(props.get("domain") or ""),
            name=str(props.get("name") or ""),
            owner_kind=kind if kind in OWNER_KINDS else "none",
            incumbent_partner=props.get("partnerbot_incumbent_partner") or None,
            modified_at=at,
        )

    # --- privacy --------------------------------------------------------------------------

    async def erase_contact(self, email: str) -> None:
        """GDPR-delete the contact by email; one HubSpot does not know is already erased."""
        try:
            await self._call(
                self._client.crm.contacts.basic_api.purge_with_http_info,
                contacts.PublicGdprDeleteInput(object_id=email, id_property="email"),
            )
        except CrmError as exc:
            if "HubSpot 404" not in str(exc):
                raise
        self._ids.pop((RecordType.CONTACT, email), None)

    async def aclose(self) -> None:
        """The SDK's pools close with the process."""
