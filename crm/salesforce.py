"""The Salesforce adapter (PARTNERBOT_CRM=salesforce), over simple-salesforce.

- Authentication: the OAuth 2.0 client-credentials flow of a connected app against the
  org's My Domain (`{login_url}/services/oauth2/token`); Salesforce refuses this flow on
  login.salesforce.com and on other hosts, so a login URL that is not the My Domain is named
  as the problem. An expired session is renewed once; if Salesforce refuses the fresh one too,
  the call fails loudly (logged as an error, retried later — the setup's fault, not the
  record's).
- Deals are Opportunities upserted through sObject Collections (≤ 200 per request) by the
  External ID field `Partnerbot_Deal_Id__c`, so a repeat updates the same opportunity.
  StageName is sent only when the opportunity is new: the rep owns the sales stage.
- Amount: `crm.base.takes_currency`, the rule both CRMs follow. The org's currencies are
  learned (its active CurrencyType rows when multi-currency is on, else the Organization's
  one currency) and kept for an hour. When the org takes the deal's currency, Amount (and in
  a multi-currency org CurrencyIsoCode) is sent; otherwise Amount is left alone, and the
  opportunity's timeline says so once. `Partnerbot_Amount__c` / `Partnerbot_Currency__c`
  always hold the registration's own amount and currency.
- The Salesforce Ids of our records (opportunities by deal id, accounts by domain, contacts
  by email) are kept in the store (`crm.links.Links`), shared by every worker. A record
  deleted in Salesforce (its upsert cannot match, or Salesforce answers ENTITY_IS_DELETED /
  INVALID_CROSS_REFERENCE_KEY for a Task on it) is forgotten and found again — an
  opportunity is created again from the registration, once, with a note saying so on its
  timeline. The deleted opportunity's Id is kept in the store until that note is written, so
  a refusal or a restart in between only delays the note.
- Timeline notes are completed Tasks upserted by the External ID `Partnerbot_Key__c`
  (our idempotency key), on the Opportunity, the Account (found by Website domain) or
  the Contact (found by Email).
- Every SOQL result is read to its end (`nextRecordsUrl` while `done` is false).
- The account mirror reads Accounts by `SystemModstamp`, then `Id` (keyset paging: many
  accounts share one second); each sync starts a minute before the newest it saw.
- `403 REQUEST_LIMIT_EXCEEDED` (no Retry-After) is RateLimited for every call — writes,
  lookups, the mirror's queries and their next batches: the outbox holds the rows, and the
  mirror waits (`bot.domain.mirror`), 30 s (15 min when the org's daily total is spent);
  nothing here sleeps meanwhile. A 5xx is a transient CrmError for every call alike.
- `Partnerbot_Certifications__c` is a Long Text Area(32768) (README); an org that made it
  Text(255) refuses a long list with STRING_TOO_LONG, and the list is sent again cut to the
  length Salesforce names.
- `erase_contact` deletes through Collections; a contact Salesforce keeps (DELETE_FAILED) is
  reported as a CrmError naming it, never as success.
The client is synchronous: each call runs in a worker thread, off the event loop.

Fields to create in Salesforce are listed in the README.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
from simple_salesforce.format import format_soql
from sqlmodel import col, select

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
from crm.ratelimit import RequestBudget
from matching.domains import registrable_domain
from store.db import Database
from store.models import DealRegistration, Partner

log = logging.getLogger(__name__)

DEAL_KEY = "Partnerbot_Deal_Id__c"
NOTE_KEY = "Partnerbot_Key__c"
MAX_BATCH = 200  # sObject Collections
IN_LIST = 100  # values per SOQL IN (...), well inside the URL length limit
MIRROR_OVERLAP = timedelta(minutes=1)  # re-read the last minute: late commits, same second
# Per-record status codes worth another try; every other per-record error is permanent.
TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
# The record a write hangs on is gone (deleted, merged away): find it (or make it) again.
GONE_CODES = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}
LIMIT_PAUSE = {"TotalRequests": 900.0}  # a daily limit frees slowly; concurrency quickly
CERTIFICATIONS_LENGTH = 32_768  # Partnerbot_Certifications__c: Long Text Area(32768)
CURRENCY_SECONDS = 3600.0  # how long the org's currencies are trusted before asking again
OWNER_KINDS = {"direct", "partner", "none"}
TARGET = {
    RecordType.DEAL: "Opportunity",
    RecordType.COMPANY: "Account",
    RecordType.CONTACT: "Contact",
}
NOTE = "note"  # the link record type of a note partnerbot itself adds (its remarks)
# The link record type of an opportunity deleted in Salesforce and not yet said to be
# recreated: our deal id → the deleted opportunity's Id, until the remark is on the new one.
RECREATED = "recreated"
CERTIFICATIONS = "Partnerbot_Certifications__c"
TEXT_LENGTH = 255  # a Text field's usual length: what an org set up as Text(255) refuses past
SHARED_LOGIN_HOSTS = {"login.salesforce.com", "test.salesforce.com"}
INSTANCE_HOST = re.compile(r"[a-z]{2,4}\d+(-s)?\.salesforce\.com")
MY_DOMAIN_HINT = (
    "set PARTNERBOT_SALESFORCE_LOGIN_URL to the org's My Domain URL (Setup → My Domain), e.g."
    " https://acme.my.salesforce.com, or https://acme--uat.sandbox.my.salesforce.com for a"
    " sandbox"
)

R = TypeVar("R")
DealLoader = Callable[[Sequence[int]], Awaitable[list[DealRecord]]]


class SalesforceRefused(CrmError):
    """Salesforce answered a request with an error; `codes` are its errorCodes."""

    def __init__(self, message: str, *, codes: Collection[str], permanent: bool) -> None:
        super().__init__(message, permanent=permanent)
        self.codes = set(codes)


@dataclass(frozen=True)
class OrgCurrencies:
    """Which currencies the org takes an Amount in, and whether records carry their own."""

    multi: bool  # multi-currency: a record names its currency in CurrencyIsoCode
    accepted: frozenset[str]


def login_url_problem(url: str) -> str | None:
    """Why `url` cannot be the org's My Domain login URL, or None when it may be one."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.path.strip("/") or parts.query:
        return "it has a path; the login URL is the bare My Domain URL"
    if host in SHARED_LOGIN_HOSTS:
        return (
            f"{host} is Salesforce's shared login host, and the client-credentials flow"
            " works only on the org's own My Domain"
        )
    if host.endswith(".lightning.force.com"):
        my_domain = host.removesuffix(".lightning.force.com") + ".my.salesforce.com"
        return f"{host} is the Lightning app's address; the org's login URL is https://{my_domain}"
    if INSTANCE_HOST.fullmatch(host):
        return f"{host} is a Salesforce instance, not the org's My Domain"
    if host.endswith((".my.site.com", ".force.com")):
        return f"{host} is an Experience Cloud or Visualforce site, not the org's My Domain"
    return None


def stored_deals(db: Database) -> DealLoader:
    """Registrations as the store holds them now: what a deleted opportunity is made from."""

    async def load(deal_ids: Sequence[int]) -> list[DealRecord]:
        from bot.domain.decisions import crm_deal  # the one mapping of registration to deal

        async with db.read() as session:
            rows = await session.exec(
                select(DealRegistration, Partner)
                .join(Partner, col(Partner.id) == col(DealRegistration.partner_id))
                .where(col(DealRegistration.id).in_(list(deal_ids)))
            )
            return [crm_deal(deal, partner) for deal, partner in rows.all()]

    return load


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _content_errors(exc: SalesforceError) -> list[dict[str, Any]]:
    content = exc.content
    if isinstance(content, list):
        return [e for e in content if isinstance(e, dict)]
    if isinstance(content, dict):
        return [content]
    return [{"message": str(content)}]


def _codes(outcome: dict[str, Any]) -> set[str]:
    """The status codes of one record's failure in a Collections answer."""
    if outcome.get("success"):
        return set()
    return {str(e.get("statusCode", "")) for e in outcome.get("errors") or [{}]}


def _refused(outcome: dict[str, Any], code: str, field: str) -> bool:
    """True when one record's failure is `code` about `field`."""
    return any(
        e.get("statusCode") == code and field in (e.get("fields") or [])
        for e in outcome.get("errors") or []
    )


def _currency_refused(outcome: dict[str, Any]) -> bool:
    """One record refused for its CurrencyIsoCode: the currency is not (or no longer)
    active in the org. Salesforce answers INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST (the code is
    a restricted picklist); FIELD_INTEGRITY_EXCEPTION is taken the same way."""
    return any(
        _refused(outcome, code, "CurrencyIsoCode")
        for code in ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "FIELD_INTEGRITY_EXCEPTION")
    )


def _max_length(outcome: dict[str, Any], field: str) -> int | None:
    """The length a STRING_TOO_LONG refusal of `field` names ("… (max length=255)")."""
    for error in outcome.get("errors") or []:
        if error.get("statusCode") == "STRING_TOO_LONG" and field in (error.get("fields") or []):
            found = re.search(r"max length=(\d+)", str(error.get("message", "")))
            return int(found.group(1)) if found else TEXT_LENGTH
    return None


def _bounded(entries: str, limit: int) -> str:
    """`a; b; c` cut to whole entries within `limit` characters, saying how many were left."""
    if len(entries) <= limit:
        return entries
    kept: list[str] = []
    items = entries.split("; ")
    for count, item in enumerate(items):
        rest = f"; … and {len(items) - count} more"
        if len("; ".join([*kept, item])) + len(rest) > limit:
            return "; ".join(kept) + rest if kept else rest.removeprefix("; ")
        kept.append(item)
    return "; ".join(kept)


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
        links: Links,
        deals: DealLoader | None = None,
        api_version: str = "59.0",
        new_stage: str = "Prospecting",
        ca_bundle: str | None = None,
        timeout: float = 30.0,
        batch_size: int = MAX_BATCH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._login_url = login_url.rstrip("/")
        self._client_id, self._client_secret = client_id, client_secret
        self.budget = budget
        self._links = links
        self._deals = deals
        self._version = api_version
        self._new_stage = new_stage
        self._timeout = timeout
        self.batch_size = min(batch_size, MAX_BATCH)
        self._clock = clock
        self._session = requests.Session()
        if ca_bundle:  # env settings (REQUESTS_CA_BUNDLE) would override the session's
            self._session.verify = ca_bundle
            self._session.trust_env = False
        self._sf: Salesforce | None = None
        self._auth_lock = asyncio.Lock()
        self._currency_lock = asyncio.Lock()
        self._currencies: OrgCurrencies | None = None
        self._currencies_until = 0.0
        self.sessions_opened = 0

    # --- transport --------------------------------------------------------------------

    def _authenticate(self) -> Salesforce:
        """A new session from the token endpoint (runs in a worker thread)."""
        url = f"{self._login_url}/services/oauth2/token"
        try:
            response = self._session.post(
                url,
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
            body = None
        if response.status_code == 200 and isinstance(body, dict) and "access_token" in body:
            self.sessions_opened += 1
            return Salesforce(
                instance_url=body["instance_url"],
                session_id=body["access_token"],
                session=self._session,
                version=self._version,
            )
        raise self._login_refused(response.status_code, body)

    def _login_refused(self, status: int, body: Any) -> CrmError:
        """What is wrong, and what to set, when the token endpoint gives no session."""
        if not isinstance(body, dict) or "error" not in body:
            problem = (
                f"no Salesforce token endpoint answered at {self._login_url}"
                f"/services/oauth2/token (HTTP {status}): {self._login_url} is not the org's"
                f" My Domain URL; {MY_DOMAIN_HINT}"
            )
        else:
            error = str(body.get("error"))
            description = str(body.get("error_description") or "")
            said = f"{error}: {description}" if description else error
            if "not supported on this domain" in description:
                problem = (
                    f"Salesforce refused the client-credentials flow on {self._login_url}"
                    f" ({said}): it is not the org's My Domain URL; {MY_DOMAIN_HINT}"
                )
            elif error in ("invalid_client", "invalid_client_id"):
                problem = (
                    f"Salesforce refused partnerbot's credentials ({said}) — check"
                    " PARTNERBOT_SALESFORCE_CLIENT_ID/_SECRET (the connected app's consumer"
                    " key and secret)"
                )
            elif "client credentials user" in description:
                problem = (
                    f"Salesforce refused the login ({said}) — choose a Run As user in the"
                    " connected app's client credentials flow settings"
                )
            else:
                problem = f"Salesforce refused the login ({said})"
        log.error("%s", problem)
        return CrmError(f"Salesforce login failed: {problem}")

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
            return RateLimited(message, retry_after=pause)  # the caller waits, not this call
        if exc.status == 403:
            log.error("%s — check the integration user's permissions", message)
            return SalesforceRefused(message, codes=codes, permanent=False)  # the org's setup
        return SalesforceRefused(message, codes=codes, permanent=exc.status < 500)

    def _watch_usage(self, sf: Salesforce) -> None:
        usage = sf.api_usage.get("api-usage")
        used, total = getattr(usage, "used", 0), getattr(usage, "total", 0)
        if total and used >= 0.9 * total and used % 100 == 0:
            log.warning("Salesforce API usage at %d of %d requests today", used, total)

    async def _query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a SOQL query: batches are followed through `nextRecordsUrl`."""
        answer = await self._call(lambda sf: sf.query(soql, timeout=self._timeout))
        rows = list(answer.get("records") or [])
        while not answer.get("done", True) and answer.get("nextRecordsUrl"):
            answer = await self._query_more(str(answer["nextRecordsUrl"]))
            rows.extend(answer.get("records") or [])
        return rows

    async def _query_more(self, url: str) -> dict[str, Any]:
        """The next batch of a query's result (its `nextRecordsUrl`)."""
        return await self._call(
            lambda sf: sf.query_more(url, identifier_is_url=True, timeout=self._timeout)
        )

    async def _collection(self, path: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A Collections PATCH (≤ 200 records); one outcome per record, in order."""
        outcomes: list[dict[str, Any]] = []
        for chunk in chunks(records, MAX_BATCH):
            outcomes.extend(await self._patch(path, list(chunk)))
        return outcomes

    async def _patch(self, path: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        text = "; ".join(f"{e.get('statusCode', '')} {e.get('message', '')}" for e in errors)
        return WriteResult(
            error=CrmError(
                f"Salesforce: {text.strip()}", permanent=not _codes(outcome) & TRANSIENT_CODES
            )
        )

    # --- finding records by our ids -----------------------------------------------------

    async def _known(self, wanted: Collection[Pair]) -> dict[Pair, str]:
        """Salesforce Ids of our records: from the store, else looked up (and remembered)."""
        found = await self._links.get_many(wanted)
        looked_up = await self._look_up(set(wanted) - found.keys())
        await self._links.put_many(looked_up)
        return found | looked_up

    async def _look_up(self, wanted: set[Pair]) -> dict[Pair, str]:
        """Opportunities by our deal id, accounts by website domain, contacts by email."""
        found: dict[Pair, str] = {}
        by_type: dict[str, list[str]] = {}
        for record_type, our_id in sorted(wanted):
            by_type.setdefault(record_type, []).append(our_id)
        for record_type, our_ids in by_type.items():
            for chunk in chunks(our_ids, IN_LIST):
                if record_type == RecordType.COMPANY:
                    found |= await self._accounts_by_domain(chunk)
                    continue
                field = DEAL_KEY if record_type == RecordType.DEAL else "Email"
                rows = await self._query(
                    format_soql(
                        "SELECT Id, {field:literal} FROM {type:literal}"
                        " WHERE {field:literal} IN {values} ORDER BY Id",
                        field=field,
                        type=TARGET[RecordType(record_type)],
                        values=list(chunk),
                    )
                )
                for row in rows:
                    key = str(row[field]).lower() if field == "Email" else str(row[field])
                    found.setdefault((record_type, key), str(row["Id"]))
        return found

    async def _accounts_by_domain(self, domains: Sequence[str]) -> dict[Pair, str]:
        """Accounts whose Website is on one of `domains` (the oldest account wins)."""
        like = " OR ".join(format_soql("Website LIKE '%{:like}%'", d) for d in domains)
        rows = await self._query(
            format_soql("SELECT Id, Website FROM Account WHERE {:literal} ORDER BY Id", like)
        )
        found: dict[Pair, str] = {}
        for row in rows:
            try:
                domain = registrable_domain(str(row.get("Website") or ""))
            except ValueError:
                continue
            if domain in domains:
                found.setdefault((RecordType.COMPANY, domain), str(row["Id"]))
        return found

    async def _targets(self, wanted: Collection[Pair]) -> dict[Pair, str]:
        """The records writes hang on; an opportunity that no longer exists is created again
        from the registration."""
        found = await self._known(wanted)
        missing = [int(key) for kind, key in set(wanted) - found.keys() if kind == RecordType.DEAL]
        if missing and self._deals is not None:
            deals = await self._deals(missing)
            for deal, result in zip(deals, await self._upsert(deals), strict=True):
                if result.crm_id:
                    found[(RecordType.DEAL, str(deal.deal_id))] = result.crm_id
        return found

    async def _deliver(
        self,
        pairs: Sequence[Pair],
        send: Callable[[list[int], Mapping[Pair, str]], Awaitable[list[dict[str, Any]]]],
    ) -> list[WriteResult]:
        """Writes that hang on records found by our ids (`pairs[i]` for write i). A record
        Salesforce says is gone is forgotten and found (or made) again, once."""
        results: list[WriteResult | None] = [None] * len(pairs)
        pending = list(range(len(pairs)))
        for attempt in (1, 2):
            targets = await self._targets({pairs[i] for i in pending})
            ready = [i for i in pending if pairs[i] in targets]
            for i in set(pending) - set(ready):
                results[i] = WriteResult(error=self._not_found(pairs[i]))
            outcomes = await send(ready, targets) if ready else []
            gone: dict[Pair, str] = {}
            for i, outcome in zip(ready, outcomes, strict=True):
                if attempt == 1 and _codes(outcome) & GONE_CODES:
                    gone[pairs[i]] = targets[pairs[i]]
                else:
                    results[i] = self._result(outcome)
            if not gone:
                break
            log.info("%d Salesforce record(s) were deleted; finding them again", len(gone))
            await self._deleted(gone)
            pending = [i for i in ready if pairs[i] in gone]
        return [r if r is not None else WriteResult(error=CrmError("not sent")) for r in results]

    @staticmethod
    def _not_found(pair: Pair) -> CrmError:
        kind, key = pair
        if kind == RecordType.COMPANY:
            return CrmError(f"no Salesforce Account with website {key}", permanent=True)
        return CrmError(
            f"no Salesforce {TARGET[RecordType(kind)]} for {kind} {key}", permanent=True
        )

    # --- currencies -------------------------------------------------------------------------

    async def _org_currencies(self, *, fresh: bool = False) -> OrgCurrencies:
        """The org's active currencies (CurrencyType exists only with multi-currency on),
        else its one currency; asked again after an hour, or when Salesforce refused one."""
        async with self._currency_lock:
            if (
                self._currencies is not None
                and not fresh
                and self._clock() < self._currencies_until
            ):
                return self._currencies
            try:
                rows = await self._query("SELECT IsoCode FROM CurrencyType WHERE IsActive = true")
                currencies = OrgCurrencies(True, frozenset(str(r["IsoCode"]).upper() for r in rows))
            except SalesforceRefused as exc:
                if "INVALID_TYPE" not in exc.codes:
                    raise
                rows = await self._query("SELECT DefaultCurrencyIsoCode FROM Organization")
                codes = {
                    str(r["DefaultCurrencyIsoCode"]).upper()
                    for r in rows
                    if r.get("DefaultCurrencyIsoCode")
                }
                currencies = OrgCurrencies(False, frozenset(codes))
            log.info("Salesforce org currencies: %s", ", ".join(sorted(currencies.accepted)))
            self._currencies, self._currencies_until = currencies, self._clock() + CURRENCY_SECONDS
            return currencies

    # --- deals ------------------------------------------------------------------------

    def _opportunity(
        self, deal: DealRecord, *, new: bool, currencies: OrgCurrencies
    ) -> dict[str, Any]:
        expires = deal.protection_expires_at
        record: dict[str, Any] = {
            "attributes": {"type": "Opportunity"},
            DEAL_KEY: str(deal.deal_id),
            "Name": f"{deal.customer} ({deal.partner})"[:120],
            "CloseDate": deal.close_date.isoformat(),
            "Partnerbot_Amount__c": float(deal.amount),
            "Partnerbot_Currency__c": deal.currency.upper(),
            "Partnerbot_Customer_Domain__c": deal.domain,
            "Partnerbot_Partner__c": deal.partner,
            "Partnerbot_Registration_Status__c": deal.status,
            "Partnerbot_Motion__c": deal.motion,
            "Partnerbot_Protection_Expires__c": expires.date().isoformat() if expires else None,
        }
        if takes_currency(deal, currencies.accepted):
            record["Amount"] = float(deal.amount)
            if currencies.multi:
                record["CurrencyIsoCode"] = deal.currency.upper()
        if new:
            record["StageName"] = self._new_stage
        return record

    async def upsert_deals(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        """Collections upsert keyed by `Partnerbot_Deal_Id__c`: a repeat updates."""
        results: list[WriteResult] = []
        for chunk in chunks(deals, self.batch_size):
            results.extend(await self._upsert(chunk))
        return results

    async def _upsert(self, deals: Sequence[DealRecord]) -> list[WriteResult]:
        """Upsert opportunities; one the store knew but Salesforce no longer has (an upsert
        matches no deleted record, so it is refused for want of StageName) is forgotten and
        created again, once, and its timeline says so."""
        pairs: list[Pair] = [(RecordType.DEAL, str(d.deal_id)) for d in deals]
        known = await self._known(pairs)
        currencies = await self._org_currencies()
        outcomes = await self._send_opportunities(
            deals, [p not in known for p in pairs], currencies
        )
        stale = [i for i, outcome in enumerate(outcomes) if _currency_refused(outcome)]
        if stale:  # a currency was deactivated since we asked: ask again, send those again
            currencies = await self._org_currencies(fresh=True)
            again = await self._send_opportunities(
                [deals[i] for i in stale], [pairs[i] not in known for i in stale], currencies
            )
            for i, outcome in zip(stale, again, strict=True):
                outcomes[i] = outcome
        lost = [
            i
            for i, pair in enumerate(pairs)
            if pair in known and _refused(outcomes[i], "REQUIRED_FIELD_MISSING", "StageName")
        ]
        if lost:
            log.warning(
                "%d Salesforce opportunit(ies) were deleted; creating them again", len(lost)
            )
            await self._deleted({pairs[i]: known[pairs[i]] for i in lost})
            again = await self._send_opportunities(
                [deals[i] for i in lost], [True] * len(lost), currencies
            )
            for i, outcome in zip(lost, again, strict=True):
                outcomes[i] = outcome
        results = [self._result(outcome) for outcome in outcomes]
        await self._links.put_many(
            {p: r.crm_id for p, r in zip(pairs, results, strict=True) if r.crm_id}
        )
        await self._remark(deals, results, currencies)
        return results

    async def _deleted(self, gone: Mapping[Pair, str]) -> None:
        """Salesforce no longer has these records: forget their Ids (they are found, or
        made, again); a deleted opportunity's Id is kept until the new one says so."""
        await self._links.put_many(
            {
                (RECREATED, key): crm_id
                for (kind, key), crm_id in gone.items()
                if kind == RecordType.DEAL
            }
        )
        await self._links.forget(list(gone))

    async def _send_opportunities(
        self, deals: Sequence[DealRecord], new: Sequence[bool], currencies: OrgCurrencies
    ) -> list[dict[str, Any]]:
        records = [
            self._opportunity(deal, new=is_new, currencies=currencies)
            for deal, is_new in zip(deals, new, strict=True)
        ]
        return await self._collection(f"composite/sobjects/Opportunity/{DEAL_KEY}", records)

    async def _remark(
        self,
        deals: Sequence[DealRecord],
        results: Sequence[WriteResult],
        currencies: OrgCurrencies,
    ) -> None:
        """partnerbot's own notes on opportunities, each once: an amount left unset (the org
        does not take the currency), an opportunity created again after it was deleted (kept
        in the store until it is written, so a failure here only delays it)."""
        written = [(d, r.crm_id) for d, r in zip(deals, results, strict=True) if r.crm_id]
        pending = await self._links.get_many([(RECREATED, str(d.deal_id)) for d, _ in written])
        remarks: dict[str, dict[str, Any]] = {}
        settles: dict[str, Pair] = {}  # remark key → the pending entry it settles
        for deal, crm_id in written:
            old = pending.get((RECREATED, str(deal.deal_id)))
            if old and old != crm_id:
                key = f"partnerbot:recreated:{deal.deal_id}:{old}"
                text = (
                    f"The opportunity of this registration ({old}) was deleted in Salesforce;"
                    " partnerbot created it again from the registration. The sales stage"
                    " starts over and the earlier activities stay with the deleted record."
                )
                remarks[key] = self._remark_task(key, crm_id, "Opportunity created again", text)
                settles[key] = (RECREATED, str(deal.deal_id))
            if not takes_currency(deal, currencies.accepted):
                key = f"partnerbot:currency:{crm_id}:{deal.currency.upper()}"
                remarks[key] = self._remark_task(
                    key, crm_id, "Amount not set: currency", currency_remark(deal)
                )
        known = await self._links.get_many([(NOTE, key) for key in remarks])
        todo = [key for key in remarks if (NOTE, key) not in known]
        done = [settles[key] for key in settles if (NOTE, key) in known]
        sent: dict[Pair, str] = {}
        if todo:
            try:
                outcomes = await self._collection(
                    f"composite/sobjects/Task/{NOTE_KEY}", [remarks[key] for key in todo]
                )
            except CrmError as exc:
                if not exc.permanent:
                    raise  # the deal is written again later, and its remarks with it
                log.warning("Salesforce refused partnerbot's notes: %s", exc)
                outcomes = []
            for key, outcome in zip(todo, outcomes, strict=False):
                if outcome.get("success"):
                    sent[(NOTE, key)] = str(outcome["id"])
                    if key in settles:
                        done.append(settles[key])
                else:  # not remembered: the deal's next write tries again
                    log.warning("Salesforce refused partnerbot's note %s: %s", key, outcome)
        await self._links.put_many(sent)
        await self._links.forget(done)

    @staticmethod
    def _remark_task(key: str, target: str, subject: str, text: str) -> dict[str, Any]:
        return {
            "attributes": {"type": "Task"},
            NOTE_KEY: key,
            "Subject": f"partnerbot: {subject}"[:255],
            "Description": text[:32_000],
            "Status": "Completed",
            "WhatId": target,
        }

    # --- timeline notes -----------------------------------------------------------------

    def _task(self, note: TimelineNote, target: str) -> dict[str, Any]:
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
    def _pair(note: TimelineNote) -> Pair:
        key = note.record_id.lower() if note.record_type == RecordType.CONTACT else note.record_id
        return (str(note.record_type), key)

    async def add_notes(self, notes: Sequence[TimelineNote]) -> list[WriteResult]:
        """Completed Tasks, upserted by our idempotency key, on what each note hangs on."""
        pairs = [self._pair(note) for note in notes]

        async def send(ready: list[int], targets: Mapping[Pair, str]) -> list[dict[str, Any]]:
            tasks = [self._task(notes[i], targets[pairs[i]]) for i in ready]
            return await self._collection(f"composite/sobjects/Task/{NOTE_KEY}", tasks)

        return await self._deliver(pairs, send)

    # --- partner companies ----------------------------------------------------------------

    async def set_partner_companies(self, companies: Sequence[PartnerCompany]) -> list[WriteResult]:
        """Tier and certifications onto the partner's Account, found by its Website."""
        pairs: list[Pair] = [(RecordType.COMPANY, c.domain) for c in companies]

        async def send(ready: list[int], targets: Mapping[Pair, str]) -> list[dict[str, Any]]:
            records = [self._partner_fields(companies[i], targets[pairs[i]]) for i in ready]
            outcomes = await self._collection("composite/sobjects", records)
            # An org that made the field Text(255) (as the README once said) refuses a long
            # list: send it again cut to the length Salesforce names, and say what to change.
            short = {
                n: length
                for n, outcome in enumerate(outcomes)
                if (length := _max_length(outcome, CERTIFICATIONS)) is not None
            }
            if short:
                log.warning(
                    "Salesforce's Account.%s holds only %d characters, so certifications are"
                    " cut to fit; make it a Long Text Area(32768) (see the README)",
                    CERTIFICATIONS,
                    min(short.values()),
                )
                again = await self._collection(
                    "composite/sobjects",
                    [
                        self._partner_fields(
                            companies[ready[n]], targets[pairs[ready[n]]], limit=length
                        )
                        for n, length in short.items()
                    ],
                )
                for n, outcome in zip(short, again, strict=True):
                    outcomes[n] = outcome
            return outcomes

        return await self._deliver(pairs, send)

    @staticmethod
    def _partner_fields(
        company: PartnerCompany, account_id: str, *, limit: int = CERTIFICATIONS_LENGTH
    ) -> dict[str, Any]:
        expiries = sorted(c.expires_at for c in company.certifications)
        certifications = _bounded(company.certifications_text(), limit)
        return {
            "attributes": {"type": "Account"},
            "id": account_id,
            "Partnerbot_Partner_Tier__c": company.tier,
            "Partnerbot_Certifications__c": certifications or None,
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
        """Delete every Contact with this email (to the recycle bin; see the README). A
        contact Salesforce would not delete is reported: the erasure is not done."""
        rows = await self._query(format_soql("SELECT Id FROM Contact WHERE Email = {}", email))
        refused: list[tuple[str, set[str], str]] = []
        for chunk in chunks([str(row["Id"]) for row in rows], MAX_BATCH):
            answer = await self._delete(list(chunk))
            for record_id, outcome in zip(chunk, answer, strict=False):
                codes = _codes(outcome) - GONE_CODES  # already deleted (or purged): erased
                if codes:
                    messages = "; ".join(str(e.get("message", "")) for e in outcome["errors"])
                    refused.append((record_id, codes, messages))
        await self._links.forget([(RecordType.CONTACT, email.lower())])
        if refused:
            detail = "; ".join(f"{i}: {' '.join(sorted(c))} {m}".strip() for i, c, m in refused)
            raise CrmError(
                f"Salesforce kept {len(refused)} of {len(rows)} contact(s) with this email:"
                f" {detail}",
                permanent=not any(codes & TRANSIENT_CODES for _, codes, _ in refused),
            )

    async def _delete(self, ids: list[str]) -> list[dict[str, Any]]:
        """Collections delete (≤ 200 ids): one outcome per id, in order."""
        answer = await self._call(
            lambda sf: sf.restful(
                "composite/sobjects",
                params={"ids": ",".join(ids), "allOrNone": "false"},
                method="DELETE",
                timeout=self._timeout,
            )
        )
        return answer if isinstance(answer, list) else []

    async def aclose(self) -> None:
        """Close the HTTP session."""
        self._session.close()
