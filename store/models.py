"""Every table of partnerbot's domain.

The schema covers the whole product described in DESIGN.md, so later work adds behaviour
rather than tables. Enumerations are stored as short strings (portable across SQLite and
PostgreSQL, and easy to extend in a migration); every datetime is aware UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UtcDateTime


class PartnerType(StrEnum):
    RESELLER = "reseller"
    REFERRAL = "referral"
    DISTRIBUTOR = "distributor"
    IMPLEMENTATION = "implementation"


class Role(StrEnum):
    PARTNER = "partner"
    MANAGER = "manager"
    ADMIN = "admin"


class DealStatus(StrEnum):
    PENDING = "pending"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Motion(StrEnum):
    RESALE = "resale"
    REFERRAL = "referral"
    CO_SELL = "co-sell"


class Channel(StrEnum):
    """The transport through which something happened."""

    SLACK = "slack"
    EMAIL = "email"
    SCHEDULER = "scheduler"
    CLI = "cli"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def _stamped() -> Any:
    """A required timestamp: the caller's `now`, never the database's or Python's clock."""
    return Field(sa_type=UtcDateTime)


# --- Program: partners, people, tiers -------------------------------------------------


class Partner(SQLModel, table=True):
    """A partner company in the program."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), unique=True)
    type: str = Field(sa_type=String(20))  # PartnerType
    tier: str = Field(default="", sa_type=String(50))
    region: str = Field(default="", sa_type=String(50))
    active: bool = True
    # No foreign key: person already references partner, and a cycle cannot be created
    # in one pass on SQLite. The service layer keeps it pointing at a manager.
    channel_manager_id: int | None = None
    crm_company_id: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = _stamped()
    updated_at: datetime = _stamped()


class PartnerDomain(SQLModel, table=True):
    """An email domain owned by a partner company (one partner per domain)."""

    __tablename__ = "partner_domain"

    domain: str = Field(primary_key=True, sa_type=String(253))
    partner_id: int = Field(foreign_key="partner.id", index=True)


class Person(SQLModel, table=True):
    """Anyone who may talk to the bot: a partner user, a channel manager or an admin."""

    __table_args__ = (
        UniqueConstraint("slack_team_id", "slack_user_id", name="uq_person_slack"),
        Index("ix_person_slack_user_id", "slack_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200))
    email: str = Field(sa_type=String(320), unique=True)  # stored lowercase
    role: str = Field(sa_type=String(16))  # Role
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True)
    slack_user_id: str | None = Field(default=None, sa_type=String(32))
    slack_team_id: str | None = Field(default=None, sa_type=String(32))
    email_aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    email_bouncing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Signs this person's reply addresses; a new value revokes every outstanding one.
    mail_secret: str | None = Field(default=None, sa_type=String(64))
    # IANA zone from their Slack profile (`Europe/Berlin`): nudges wait for their working hours.
    time_zone: str | None = Field(default=None, sa_type=String(64))
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = _stamped()
    updated_at: datetime = _stamped()


class Tier(SQLModel, table=True):
    """Per-tier program settings that override the global defaults."""

    name: str = Field(primary_key=True, sa_type=String(50))
    protection_days: int | None = None
    max_extensions: int | None = None
    certification_required: bool = False


# --- Deal registration -----------------------------------------------------------------


class DealRegistration(SQLModel, table=True):
    """A partner's claim on a customer opportunity, from submission to expiry."""

    __tablename__ = "deal_registration"
    __table_args__ = (
        Index("ix_deal_domain_status", "normalized_domain", "status"),
        Index("ix_deal_partner_status", "partner_id", "status"),
        Index("ix_deal_status_sla", "status", "sla_due_at"),
        Index("ix_deal_protection_expiry", "protection_expires_at"),
        # The scheduler's sweeps: protection ending, and approved deals gone quiet.
        Index("ix_deal_status_expiry", "status", "protection_expires_at"),
        Index("ix_deal_status_activity", "status", "last_activity_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partner.id")
    registered_by_id: int = Field(foreign_key="person.id")
    customer_company: str = Field(sa_type=String(200))
    customer_domain: str = Field(sa_type=String(253))  # as entered
    normalized_domain: str = Field(sa_type=String(253))
    normalized_company: str = Field(sa_type=String(200), index=True)
    company_key: str = Field(default="", sa_type=String(64), index=True)  # fuzzy-match block
    contact_name: str = Field(sa_type=String(200))
    contact_email: str = Field(sa_type=String(320))
    estimated_value: Decimal = Field(max_digits=16, decimal_places=2)
    currency: str = Field(sa_type=String(3))
    expected_close_date: date
    products: list[str] = Field(default_factory=list, sa_type=JSON)
    motion: str = Field(sa_type=String(16))  # Motion
    notes: str = Field(default="", sa_type=Text)
    status: str = Field(default=DealStatus.PENDING, sa_type=String(20))
    conflict_verdict: str | None = Field(default=None, sa_type=String(20))
    conflict_rule: str | None = Field(default=None, sa_type=String(64))
    conflict_details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    submitted_at: datetime = _stamped()
    sla_due_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decline_reason: str | None = Field(default=None, sa_type=Text)
    protection_started_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    protection_expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    extension_count: int = 0
    last_activity_at: datetime = _stamped()
    crm_deal_id: str | None = Field(default=None, sa_type=String(64))
    crm_company_id: str | None = Field(default=None, sa_type=String(64))
    # What the scheduler already nudged about (set with the nudge, in its transaction): a
    # sweep reads only what still needs a nudge. `sent_nudge` stays the exactly-once record.
    sla_reminded_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sla_escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expiry_reminded_for: datetime | None = Field(default=None, sa_type=UtcDateTime)  # deadline
    inactivity_flagged_for: datetime | None = Field(default=None, sa_type=UtcDateTime)
    slack_card_channel: str | None = Field(default=None, sa_type=String(32))
    slack_card_ts: str | None = Field(default=None, sa_type=String(32))
    # Makes a retried submission (same Slack view, same content) a no-op.
    idempotency_key: str = Field(sa_type=String(128), unique=True)


class DealExtension(SQLModel, table=True):
    """A partner's request to extend a registration's protection window."""

    __tablename__ = "deal_extension"

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal_registration.id", index=True)
    requested_by_id: int = Field(foreign_key="person.id")
    days: int
    status: str = Field(default="pending", sa_type=String(16))  # pending|approved|declined
    requested_at: datetime = _stamped()
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    reason: str | None = Field(default=None, sa_type=Text)


class DealMessage(SQLModel, table=True):
    """A question, answer or comment in a registration's history."""

    __tablename__ = "deal_message"

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal_registration.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    kind: str = Field(sa_type=String(16))  # question|answer|comment
    text: str = Field(sa_type=Text)
    channel: str = Field(sa_type=String(16))  # Channel
    created_at: datetime = _stamped()


class CrmAccount(SQLModel, table=True):
    """A local mirror of a CRM account/company, read by the conflict checks."""

    __tablename__ = "crm_account"
    __table_args__ = (UniqueConstraint("crm", "crm_id", name="uq_crm_account"),)

    id: int | None = Field(default=None, primary_key=True)
    crm: str = Field(sa_type=String(16))  # local|hubspot|salesforce
    crm_id: str = Field(sa_type=String(64))
    domain: str = Field(sa_type=String(253), index=True)
    name: str = Field(sa_type=String(200))
    normalized_name: str = Field(sa_type=String(200), index=True)
    company_key: str = Field(default="", sa_type=String(64), index=True)  # fuzzy-match block
    owner_kind: str = Field(sa_type=String(16))  # direct|partner|none
    incumbent_partner_id: int | None = Field(default=None, foreign_key="partner.id")
    modified_at: datetime = Field(sa_type=UtcDateTime)
    synced_at: datetime = _stamped()


class SyncCursor(SQLModel, table=True):
    """Where an incremental sync (such as the CRM account mirror) left off."""

    __tablename__ = "sync_cursor"

    name: str = Field(primary_key=True, sa_type=String(64))
    cursor: str = Field(sa_type=String(200))
    updated_at: datetime = _stamped()


# --- Customer matching (#16): word counts, the name index, managers' pair verdicts ------


class NameWord(SQLModel, table=True):
    """In how many customer names (registrations and mirrored accounts) a word appears, for
    weighting words by rarity; the row for the empty word counts the names themselves."""

    __tablename__ = "name_word"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key is the table

    word: str = Field(primary_key=True, sa_type=String(64))
    names: int = 0


class NameIndex(SQLModel, table=True):
    """A distinctive word of a customer's name and a record that holds it: candidates for the
    uniqueness test are looked up here by word (and by the word's typos)."""

    __tablename__ = "name_index"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key is the table

    word: str = Field(primary_key=True, sa_type=String(64))
    kind: str = Field(primary_key=True, sa_type=String(16))  # registration|account
    record_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class NameSlip(SQLModel, table=True):
    """An indexed word with one letter left out, and the word: a typo of the word, with one
    of its own letters left out, meets it here (a deletion neighbourhood)."""

    __tablename__ = "name_slip"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key is the table

    slip: str = Field(primary_key=True, sa_type=String(64))
    word: str = Field(primary_key=True, sa_type=String(64))


class CustomerPair(SQLModel, table=True):
    """A manager's verdict on two customers: the same customer, or not. Each side is keyed on
    its registrable domain and normalised name (`matching.names.customer_key`), the lower key
    first, so the verdict holds both ways and for later registrations of either customer."""

    __tablename__ = "customer_pair"
    __table_args__ = (
        UniqueConstraint("first_key", "second_key", name="uq_customer_pair"),
        Index("ix_customer_pair_second", "second_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    first_key: str = Field(sa_type=String(320))
    second_key: str = Field(sa_type=String(320))
    same: bool
    deal_id: int = Field(foreign_key="deal_registration.id")  # where the manager decided
    record_kind: str = Field(sa_type=String(16))  # registration|account
    record_id: int
    decided_by_id: int = Field(foreign_key="person.id")
    decided_at: datetime = _stamped()


# --- Announcements ---------------------------------------------------------------------


class Announcement(SQLModel, table=True):
    """A message to a targeted set of partners."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=String(150))
    body: str = Field(sa_type=Text)
    partner_types: list[str] = Field(default_factory=list, sa_type=JSON)
    tiers: list[str] = Field(default_factory=list, sa_type=JSON)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    via: list[str] = Field(default_factory=list, sa_type=JSON)  # slack, email
    ack_required: bool = False
    deadline: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rules: bool = False  # the current rules of engagement (the latest such announcement)
    status: str = Field(default="published", sa_type=String(16))  # draft|published|cancelled
    published_by_id: int = Field(foreign_key="person.id")
    published_at: datetime = _stamped()
    # The publisher's confirmation message, updated with delivery progress.
    status_channel: str | None = Field(default=None, sa_type=String(32))
    status_ts: str | None = Field(default=None, sa_type=String(32))


class AnnouncementDelivery(SQLModel, table=True):
    """One announcement sent to one person through one channel."""

    __tablename__ = "announcement_delivery"
    __table_args__ = (
        UniqueConstraint("announcement_id", "person_id", "channel", name="uq_delivery"),
    )

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(sa_type=String(16))
    status: str = Field(default="pending", sa_type=String(16))  # pending|sent|failed
    slack_channel: str | None = Field(default=None, sa_type=String(32))
    slack_ts: str | None = Field(default=None, sa_type=String(32))
    email_message_id: str | None = Field(default=None, sa_type=String(255))
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Acknowledgement(SQLModel, table=True):
    """A person's acknowledgement of an announcement (button or email reply)."""

    __table_args__ = (UniqueConstraint("announcement_id", "person_id", name="uq_ack"),)

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id")
    person_id: int = Field(foreign_key="person.id")
    channel: str = Field(sa_type=String(16))
    note: str | None = Field(default=None, sa_type=Text)
    acknowledged_at: datetime = _stamped()


# --- Training and certification --------------------------------------------------------


class TrainingModule(SQLModel, table=True):
    """A unit of training with content and a short quiz."""

    __tablename__ = "training_module"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(100), unique=True)
    title: str = Field(sa_type=String(150))
    learning_path: str = Field(sa_type=String(20))  # sales|technical|support
    partner_types: list[str] = Field(default_factory=list, sa_type=JSON)
    content: str = Field(sa_type=Text)
    quiz: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    pass_mark: float = 0.8
    certification: str | None = Field(default=None, sa_type=String(100))
    certification_valid_days: int = 365
    products: list[str] = Field(default_factory=list, sa_type=JSON)  # rights it grants
    retired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)  # left the catalogue
    updated_at: datetime = _stamped()


class TrainingAttempt(SQLModel, table=True):
    """One person's attempt at a module's quiz."""

    __tablename__ = "training_attempt"

    id: int | None = Field(default=None, primary_key=True)
    module_id: int = Field(foreign_key="training_module.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str = Field(sa_type=String(16))
    answers: list[Any] = Field(default_factory=list, sa_type=JSON)
    score: float | None = None
    passed: bool | None = None
    started_at: datetime = _stamped()
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # One attempt per submission, however often it is replayed (a view id, a Message-ID).
    submission_key: str | None = Field(default=None, sa_type=String(200), unique=True)


class Certification(SQLModel, table=True):
    """A certification held by a person (and so by their partner company)."""

    __table_args__ = (Index("ix_cert_partner_name", "partner_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    module_id: int | None = Field(default=None, foreign_key="training_module.id")
    name: str = Field(sa_type=String(100))
    issued_at: datetime = _stamped()
    expires_at: datetime = Field(sa_type=UtcDateTime, index=True)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


# --- Mail, outbox, nudges, Slack receipts ------------------------------------------------


class InboundEmail(SQLModel, table=True):
    """Every message received, kept with what was done about it."""

    __tablename__ = "inbound_email"
    __table_args__ = (Index("ix_inbound_email_outcome", "outcome", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_type=String(998), unique=True)
    received_at: datetime = _stamped()
    from_address: str = Field(default="", sa_type=String(320))
    subject: str = Field(default="", sa_type=Text)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    outcome: str = Field(sa_type=String(32))  # acted|ignored_auto_reply|bounce|rejected|...
    reason: str | None = Field(default=None, sa_type=Text)
    extracted_text: str | None = Field(default=None, sa_type=Text)
    subject_kind: str | None = Field(default=None, sa_type=String(32))
    subject_id: int | None = None
    raw: bytes | None = Field(default=None, sa_type=LargeBinary)  # kept unless acted on
    source: str = Field(default="", sa_type=String(16))  # imap|pipe|maildir
    size: int | None = None


class OutboundEmail(SQLModel, table=True):
    """Every message partnerbot sent (or failed to send), by its Message-ID."""

    __tablename__ = "outbound_email"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(sa_type=String(255), unique=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    to_address: str = Field(sa_type=String(320))
    template: str = Field(sa_type=String(64))
    subject: str = Field(default="", sa_type=Text)
    subject_kind: str | None = Field(default=None, sa_type=String(32))
    subject_id: int | None = None
    status: str = Field(default="pending", sa_type=String(16))  # pending|sent|failed
    attempts: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _stamped()
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OutboxItem(SQLModel, table=True):
    """A durable pending write to an external system (the CRM), delivered by the worker."""

    __tablename__ = "outbox_item"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_record", "record_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(sa_type=String(16))  # crm
    kind: str = Field(sa_type=String(32))  # upsert_deal|add_note|set_partner|erase_contact
    record_key: str = Field(sa_type=String(128))  # writes to one record go in order
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    idempotency_key: str = Field(sa_type=String(128), unique=True)
    status: str = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = _stamped()
    claimed_by: str | None = Field(default=None, sa_type=String(64))
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _stamped()
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CrmNote(SQLModel, table=True):
    """The local CRM's timeline (PARTNERBOT_CRM=local): notes on deals, companies, contacts."""

    __tablename__ = "crm_note"
    __table_args__ = (Index("ix_crm_note_record", "record_type", "record_id", "noted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(sa_type=String(16))  # deal|company|contact
    record_id: str = Field(sa_type=String(64))
    author: str = Field(sa_type=String(200))
    text: str = Field(sa_type=Text)
    noted_at: datetime = Field(sa_type=UtcDateTime)
    idempotency_key: str = Field(sa_type=String(128), unique=True)


class SentNudge(SQLModel, table=True):
    """A reminder already sent (or skipped): the unique key makes every scheduled job
    idempotent, across restarts and workers."""

    __tablename__ = "sent_nudge"
    __table_args__ = (UniqueConstraint("kind", "subject_key", "due_key", name="uq_nudge"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(32))
    subject_key: str = Field(sa_type=String(128))
    due_key: str = Field(sa_type=String(64))
    outcome: str = Field(default="sent", sa_type=String(16))  # sent|skipped
    sent_at: datetime = _stamped()


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # no longer needed (a reminder to someone who meanwhile acted)


class Notification(SQLModel, table=True):
    """A message to a person (Slack DM or email) or to a channel, queued in the transaction
    that decided it and delivered by the worker, once per key."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_subject", "subject_kind", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_type=String(200), unique=True)  # idempotency: one message per key
    kind: str = Field(sa_type=String(48))  # what to render (bot/notices.py)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    slack_channel: str | None = Field(default=None, sa_type=String(32))  # a channel post
    via: str = Field(sa_type=String(8))  # slack|email
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    subject_kind: str | None = Field(default=None, sa_type=String(32))  # announcement|…
    subject_id: int | None = None  # what it is about, for receipts and in-place updates
    held: bool = False  # waits for the recipient's working hours
    status: str = Field(default=NotificationStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = _stamped()
    claimed_by: str | None = Field(default=None, sa_type=String(64))
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    error: str | None = Field(default=None, sa_type=Text)
    slack_ts: str | None = Field(default=None, sa_type=String(32))  # where it landed
    slack_ts_channel: str | None = Field(default=None, sa_type=String(32))
    created_at: datetime = _stamped()
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SlackReceipt(SQLModel, table=True):
    """A Slack event already handled, so a retry (X-Slack-Retry-Num) does nothing twice."""

    __tablename__ = "slack_receipt"

    event_id: str = Field(primary_key=True, sa_type=String(64))
    received_at: datetime = _stamped()


# --- CRM record links ----------------------------------------------------------------------


class CrmLink(SQLModel, table=True):
    """Which CRM record one of ours is (a deal, a partner company, a note, a contact): kept in
    the store, not in a worker's memory, so every worker and every restart knows it, and a
    record deleted in the CRM is forgotten (and recreated) everywhere at once."""

    __tablename__ = "crm_link"

    crm: str = Field(primary_key=True, sa_type=String(16))  # hubspot | salesforce
    record_type: str = Field(primary_key=True, sa_type=String(16))  # deal|company|contact|note
    key: str = Field(primary_key=True, sa_type=String(255))  # our id (deal id, domain, note key)
    crm_id: str = Field(sa_type=String(64))


# --- Audit -----------------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """One append-only audit record; `hash` chains it to the record before it."""

    __tablename__ = "audit_event"

    seq: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    occurred_at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(sa_type=String(200))  # "person:12 <a@b.c>" or "system"
    actor_person_id: int | None = Field(default=None, foreign_key="person.id")
    channel: str = Field(sa_type=String(16))  # Channel
    action: str = Field(sa_type=String(64), index=True)
    subject_type: str = Field(sa_type=String(32))
    subject_id: str = Field(sa_type=String(64))
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    prev_hash: str = Field(sa_type=String(64), unique=True)
    hash: str = Field(sa_type=String(64))


class AuditHead(SQLModel, table=True):
    """The latest audit record: locked by each append, so the chain never forks."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    hash: str = Field(sa_type=String(64))
