"""The Salesforce adapter (PARTNERBOT_CRM=salesforce), over simple-salesforce.

- Authentication: the OAuth 2.0 client-credentials flow of a connected app against the
  org's My Domain (`{login_url}/services/oauth2/token`). An expired session is renewed
  once; if Salesforce refuses the fresh one too, the call fails loudly (logged as an
  error, retried later — the credentials' fault, not the record's).
- Deals are Opportunities upserted through sObject Collections (≤ 200 per request) by the
  External ID field `Partnerbot_Deal_Id__c`, so a repeat updates the same opportunity.
  StageName is sent only when the opportunity is new: the rep owns the sales stage.
- Timeline notes are completed Tasks upserted by the External ID `Partnerbot_Key__c`
  (our idempotency key), on the Opportunity, the Account (found by Website domain) or
  the Contact (found by Email).
- The account mirror reads Accounts by `SystemModstamp`, then `Id` (keyset paging: many
  accounts share one second); each sync starts a minute before the newest it saw.
- `403 REQUEST_LIMIT_EXCEEDED` (no Retry-After) is RateLimited: the outbox retries the
  rows in 30 s, or 15 min when the org's daily total is spent; nothing sleeps meanwhile.
The client is synchronous: each call runs in a worker thread, off the event loop.

Fields to create in Salesforce are listed in the README.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
from simple_salesforce.format import format_soql

from bot.domain.conflicts import registrable_domain
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

DEAL_KEY = "Partnerbot_Deal_Id__c"
NOTE_KEY = "Partnerbot_Key__c"
MAX_BATCH = 200  # sObject Collections
IN_LIST = 100  # values per SOQL IN (...), well inside the URL length limit
MIRROR_OVERLAP = timedelta(minutes=1)  # re-read the last minute: late commits, same second
# Per-record status codes worth another try; every other per-record error is permanent.
TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
LIMIT_PAUSE = {"TotalRequests": 900.0}  # a daily limit frees slowly; concurrency quickly
OWNER_KINDS = {"direct", "partner", "none"}
TARGET = {
    RecordType.DEAL: "Opportunity",
    RecordType.COMPANY: "Account",
    RecordType.CONTACT: "Contact",
}

R = TypeVar("R")


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _content_errors(exc: SalesforceError) -> list[dict[str, Any]]:
    content = exc.content
    if isinstance(content, list):
        return [e for e in content if isinstance(e, dict)]
    if isinstance(content, dict):
        return [content]
    return [{"message": str(content)}]


class SalesforceCrm:
    """One Salesforce org, reached as a connected app (client credentials)."""

    name = "salesforce"
    batch_size = MAX_BATCH

    def __init__(
        self,
        *,
        login_url: str,
        client_id: str,
        client_secret: str,
        budget: RequestBudget,
        api_version: str = "59.0",
        new_stage: str = "Prospecting",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        batch_size: int = MAX_BATCH,
    ) -> None:
        self._login_url = login_url.rstrip("/")
        self._client_id, self._client_secret = client_id, client_secret
        self.budget = budget
        self._version = api_version
        self._new_stage = new_stage
        self._timeout = timeout
        self.batch_size = min(batch_size, MAX_BATCH)
        self._session = requests.Session()
        if ca_bundle:  # env settings (REQUESTS_CA_BUNDLE) would override the session's
            self._session.verify = ca_bundle
            self._session.trust_env = False
        self._sf: Salesforce | None = None
        self._auth_lock = asyncio.Lock()
        self._ids: dict[tuple[RecordType, str], str] = {}  # our id -> Salesforce Id
        self.sessions_opened = 0

    # --- transport --------------------------------------------------------------------

    def _authenticate(self) -> Salesforce:
        """A new session from the token endpoint (runs in a worker thread)."""
        try:
            response = self._session.post(
                f"{self._login_url}/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise CrmError(f"Salesforce unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise CrmError(f"Salesforce login {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or response.text[:200]
            log.error(
                "Salesforce refused partnerbot's credentials (%s) — check"
                " PARTNERBOT_SALESFORCE_CLIENT_ID/_SECRET and the connected app's"
                " client-credentials user",
                reason,
            )
            raise CrmError(f"Salesforce login refused: {reason}")
        self.sessions_opened += 1
        return Salesforce(
            instance_url=body["instance_url"],
            session_id=body["access_token"],
            session=self._session,
            version=self._version,
        )

    async def _client(self, stale: Salesforce | None = None) -> Salesforce:
        async with self._auth_lock:
            if self._sf is None or self._sf is stale:
                self._sf = await asyncio.to_thread(self._authenticate)
            return self._sf

    async def _call(self, request: Callable[[Salesforce], R]) -> R:
        """One API request: a budget slot, the client in a thread, Salesforce's answer
        translated. An expired session is renewed once."""
        sf = await self._client()
        for renewed in (False, True):
            await self.budget.acquire()
            try:
                return await asyncio.to_thread(request, sf)
            except SalesforceExpiredSession as exc:
                if renewed:
                    log.error("Salesforce refused a fresh session: %s", exc.content)
                    raise CrmError(f"Salesforce 401 with a fresh session: {exc.content!r}") from exc
                sf = await self._client(stale=sf)
            except SalesforceError as exc:
                raise self._translate(exc) from exc
            except requests.RequestException as exc:
                raise CrmError(f"Salesforce unreachable: {exc}") from exc
            finally:
                self._watch_usage(sf)
        raise AssertionError("unreachable")

    def _translate(self, exc: SalesforceError) -> CrmError:
        errors = _content_errors(exc)
        codes = {str(e.get("errorCode", "")) for e in errors}
        message = f"Salesforce {exc.status}: " + "; ".join(
            f"{e.get('errorCode', '')} {e.get('message', '')}".strip() for e in errors
        )
        if "REQUEST_LIMIT_EXCEEDED" in codes or exc.status == 429:
            text = " ".join(str(e.get("message", "")) for e in errors)
            pause = next((s for key, s in LIMIT_PAUSE.items() if key in text), 30.0)
            return RateLimited(message, retry_after=pause)  # the outbox waits, not this call
        if exc.status == 403:
            log.error("%s — check the integration user's permissions", message)
            return CrmError(message)  # the org's setup, not the record: keep retrying
        if exc.status >= 500:
            return CrmError(message)
        return CrmError(message, permanent=True)

    def _watch_usage(self, sf: Salesforce) -> None:
        usage = sf.api_usage.get("api-usage")
        used, total = getattr(usage, "used", 0), getattr(usage, "total", 0)
        if total and used >= 0.9 * total and used % 100 == 0:
            log.warning("Salesforce API usage at %d of %d requests today", used, total)

    async def _query(self, soql: str) -> list[dict[str, Any]]:
        answer = await self._call(lambda sf: sf.query(soql, timeout=self._timeout))
        return list(answer.get("records") or [])

    async def _collection(self, path: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = {"allOrNone": False, "records": records}
        answer = await self._call(
            lambda sf: sf.restful(path, method="PATCH", json=body, timeout=self._timeout)
        )
        if not isinstance(answer, list) or len(answer) != len(records):
            raise CrmError(f"Salesforce answered {path} with {answer!r:.200}")
        return answer

    @staticmethod
    def _result(outcome: dict[str, Any]) -> WriteResult:
        if outcome.get("success"):
            return WriteResult(crm_id=str(outcome["id"]))
        errors = outcome.get("errors") or [{}]
        codes = {str(e.get("statusCode", "")) for e in errors}
        text = "; ".join(f"{e.get('statusCode', '')} {e.get('message', '')}" for e in errors)
        return WriteResult(
            error=CrmError(f"Salesforce: {text.strip()}", permanent=not codes & TRANSIENT_CODES)
        )

    # --- finding records by our ids -----------------------------------------------------

    async def _resolve(self, wanted: set[tuple[RecordType, str]]) -> None:
        """Learn the Ids of opportunities (our deal id), accounts (domain), contacts (email)."""
        by_type: dict[RecordType, list[str]] = {}
        for record_type, our_id in sorted(wanted - self._ids.keys()):
            by_type.setdefault(record_type, []).append(our_id)
        for record_type, our_ids in by_type.items():
            for chunk in chunks(our_ids, IN_LIST):
                if record_type == RecordType.COMPANY:
                    await self._accounts_by_domain(chunk)
                    continue
                field = DEAL_KEY if record_type == RecordType.DEAL else "Email"
                rows = await self._query(
                    format_soql(
                        "SELECT Id, {field:literal} FROM {type:literal}"
                        " WHERE {field:literal} IN {values}",
                        field=field,
                        type=TARGET[record_type],
                        values=list(chunk),
                    )
                )
                for row in rows:
                    key = str(row[field]).lower() if field == "Email" else str(row[field])
                    self._ids.setdefault((record_type, key), str(row["Id"]))

    async def _accounts_by_domain(self, domains: Sequence[str]) -> None:
        """Accounts whose Website is on one of `domains` (the oldest account wins)."""
        like = " OR ".join(format_soql("Website LIKE '%{:like}%'", d) for d in domains)
        rows = await self._query(
            format_soql("SELECT Id, Website FROM Account WHERE {:literal} ORDER BY Id", like)
        )
        for row in rows:
            try:
                domain = registrable_domain(str(row.get("Website") or ""))
            except ValueError:
                continue
            if domain in domains:
                self._ids.setdefault((RecordType.COMPANY, domain), str(row["Id"]))

    # --- deals ------------------------------------------------------------------------

    def _opportunity(self, deal: DealRecord, *, new: bool) -> dict[str, Any]:
        expires = deal.protection_expires_at
        record: dict[str, Any] = {
            "attributes": {"type": "Opportunity"},
            DEAL_KEY: str(deal.deal_id),
            "Name": f"{deal.customer} ({deal.partner})"[:120],
            "CloseDate": deal.close_date.isoformat(),
            "Amount": float(deal.amount),
            "Partnerbot_Currency__c": deal.currency,
            "Partnerbot_Customer_Domain__c": deal.domain,
            "Partnerbot_Partner__c": deal.partner,
            "Partnerbot_Registration_Status__c": deal.status,
            "Partnerbot_Motion__c": deal.motion,
            "Partnerbot_Protection_Expires__c": expires.date().isoformat() if expires else None,
        }
        if new:
            record["StageName"] = self._new_stage
        return record

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        """Collections upsert keyed by `Partnerbot_Deal_Id__c`: a repeat updates."""
        results: list[WriteResult] = []
        for chunk in chunks(deals, self.batch_size):
            await self._resolve({(RecordType.DEAL, str(d.deal_id)) for d in chunk})
            records = [
                self._opportunity(d, new=(RecordType.DEAL, str(d.deal_id)) not in self._ids)
                for d in chunk
            ]
            answer = await self._collection(f"composite/sobjects/Opportunity/{DEAL_KEY}", records)
            for deal, outcome in zip(chunk, answer, strict=True):
                result = self._result(outcome)
                if result.crm_id:
                    self._ids[(RecordType.DEAL, str(deal.deal_id))] = result.crm_id
                results.append(result)
        return results

    # --- timeline notes -----------------------------------------------------------------

    def _task(self, note: TimelineNote) -> dict[str, Any]:
        target = self._ids[(note.record_type, self._key(note))]
        first_line = note.text.strip().splitlines()[0] if note.text.strip() else "partnerbot"
        return {
            "attributes": {"type": "Task"},
            NOTE_KEY: note.idempotency_key,
            "Subject": (note.subject or first_line)[:255],
            "Description": f"{note.author} ({note.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC):"
            f"\n{note.text}"[:32_000],
            "ActivityDate": note.at.astimezone(UTC).date().isoformat(),
            "Status": "Completed",
            ("WhoId" if note.record_type == RecordType.CONTACT else "WhatId"): target,
        }

    @staticmethod
    def _key(note: TimelineNote) -> str:
        return note.record_id.lower() if note.record_type == RecordType.CONTACT else note.record_id

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        """Completed Tasks, upserted by our idempotency key, on what each note hangs on."""
        await self._resolve({(n.record_type, self._key(n)) for n in notes})
        results: list[WriteResult | None] = [None] * len(notes)
        ready: list[int] = []
        for index, note in enumerate(notes):
            if (note.record_type, self._key(note)) in self._ids:
                ready.append(index)
            else:
                results[index] = WriteResult(
                    error=CrmError(
                        f"no Salesforce {TARGET[note.record_type]} for"
                        f" {note.record_type} {note.record_id}",
                        permanent=True,
                    )
                )
        for chunk in chunks(ready, self.batch_size):
            answer = await self._collection(
                f"composite/sobjects/Task/{NOTE_KEY}", [self._task(notes[i]) for i in chunk]
            )
            for index, outcome in zip(chunk, answer, strict=True):
                result = self._result(outcome)
                if not result.ok and "INVALID_CROSS_REFERENCE_KEY" in str(result.error):
                    note = notes[index]  # the record was deleted or merged: look it up again
                    self._ids.pop((note.record_type, self._key(note)), None)
                results[index] = result
        return [r if r is not None else WriteResult(error=CrmError("not sent")) for r in results]

    # --- partner companies ----------------------------------------------------------------

    async def set_partner_companies(self, companies: Sequence[PartnerCompany]) -> list[WriteResult]:
        """Tier and certifications onto the partner's Account, found by its Website."""
        await self._resolve({(RecordType.COMPANY, c.domain) for c in companies})
        results: list[WriteResult | None] = [None] * len(companies)
        found: list[int] = []
        for index, company in enumerate(companies):
            if (RecordType.COMPANY, company.domain) in self._ids:
                found.append(index)
            else:
                results[index] = WriteResult(
                    error=CrmError(
                        f"no Salesforce Account with website {company.domain}", permanent=True
                    )
                )
        for chunk in chunks(found, self.batch_size):
            records = [self._partner_fields(companies[i]) for i in chunk]
            answer = await self._collection("composite/sobjects", records)
            for index, outcome in zip(chunk, answer, strict=True):
                result = self._result(outcome)
                if not result.ok:
                    self._ids.pop((RecordType.COMPANY, companies[index].domain), None)
                results[index] = result
        return [r if r is not None else WriteResult(error=CrmError("not sent")) for r in results]

    def _partner_fields(self, company: PartnerCompany) -> dict[str, Any]:
        expiries = sorted(c.expires_at for c in company.certifications)
        return {
            "attributes": {"type": "Account"},
            "id": self._ids[(RecordType.COMPANY, company.domain)],
            "Partnerbot_Partner_Tier__c": company.tier,
            "Partnerbot_Certifications__c": company.certifications_text() or None,
            "Partnerbot_Next_Certification_Expiry__c": expiries[0].date().isoformat()
            if expiries
            else None,
        }

    # --- the account mirror ---------------------------------------------------------------

    async def accounts_changed_since(self, cursor: str | None, *, limit: int) -> AccountPage:
        """Accounts by (SystemModstamp, Id). The cursor is `{"since", "after", "left"}`:
        `after` is the last (stamp, Id) read in this sync, `left` how many remain."""
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        since, after = state.get("since"), state.get("after")
        if after:
            where = format_soql(
                " WHERE SystemModstamp > {at} OR (SystemModstamp = {at} AND Id > {id})",
                at=_parse_time(after[0]),
                id=after[1],
            )
        elif since:
            where = format_soql(" WHERE SystemModstamp >= {}", datetime.fromisoformat(since))
        else:
            where = ""
        left = state.get("left")
        if left is None:  # a sync starts: count what it will read, for the progress bar
            count = format_soql("SELECT COUNT() FROM Account{:literal}", where)
            counted = await self._call(lambda sf: sf.query(count, timeout=self._timeout))
            left = int(counted.get("totalSize") or 0)
        size = max(1, min(limit, MAX_BATCH))
        rows = await self._query(
            format_soql(
                "SELECT Id, Name, Website, Partnerbot_Owner_Kind__c,"
                " Partnerbot_Incumbent_Partner__c, SystemModstamp FROM Account"
                "{:literal} ORDER BY SystemModstamp, Id LIMIT {}",
                where,
                size,
            )
        )
        accounts = [self._account(row) for row in rows]
        left = max(int(left) - len(accounts), 0)
        more = len(rows) == size
        if more:
            last = rows[-1]
            state = {"since": since, "after": [last["SystemModstamp"], last["Id"]], "left": left}
        else:
            newest = (
                _parse_time(rows[-1]["SystemModstamp"])
                if rows
                else _parse_time(after[0])
                if after
                else None
            )
            state = {"since": (newest - MIRROR_OVERLAP).isoformat() if newest else since}
        return AccountPage(accounts, json.dumps(state), more=more, total=left)

    @staticmethod
    def _account(row: dict[str, Any]) -> AccountRecord:
        kind = str(row.get("Partnerbot_Owner_Kind__c") or "none").lower()
        return AccountRecord(
            crm_id=str(row["Id"]),
            domain=str(row.get("Website") or ""),
            name=str(row.get("Name") or ""),
            owner_kind=kind if kind in OWNER_KINDS else "none",
            incumbent_partner=row.get("Partnerbot_Incumbent_Partner__c") or None,
            modified_at=_parse_time(str(row["SystemModstamp"])),
        )

    # --- privacy --------------------------------------------------------------------------

    async def erase_contact(self, email: str) -> None:
        """Delete every Contact with this email (to the recycle bin; see the README)."""
        rows = await self._query(format_soql("SELECT Id FROM Contact WHERE Email = {}", email))
        ids = ",".join(str(row["Id"]) for row in rows)
        if ids:
            await self._call(
                lambda sf: sf.restful(
                    "composite/sobjects",
                    params={"ids": ids, "allOrNone": "false"},
                    method="DELETE",
                    timeout=self._timeout,
                )
            )
        self._ids.pop((RecordType.CONTACT, email.lower()), None)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        self._session.close()
