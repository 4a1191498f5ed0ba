"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:10:02.495141
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import store.types


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The audit chain's head row: every append locks and advances it.
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.BigInteger),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )
    op.create_table(
        "outbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("outbox_item", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_record", ["record_key", "id"], unique=False)

    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("tier", sa.String(length=50), nullable=False),
        sa.Column("region", sa.String(length=50), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("channel_manager_id", sa.Integer(), nullable=True),
        sa.Column("crm_company_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "sent_nudge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_key", sa.String(length=128), nullable=False),
        sa.Column("due_key", sa.String(length=64), nullable=False),
        sa.Column("sent_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject_key", "due_key", name="uq_nudge"),
    )
    op.create_table(
        "slack_receipt",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "sync_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "tier",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("protection_days", sa.Integer(), nullable=True),
        sa.Column("max_extensions", sa.Integer(), nullable=True),
        sa.Column("certification_required", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "training_module",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("learning_path", sa.String(length=20), nullable=False),
        sa.Column("partner_types", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("quiz", sa.JSON(), nullable=False),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("certification", sa.String(length=100), nullable=True),
        sa.Column("certification_valid_days", sa.Integer(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "crm_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crm", sa.String(length=16), nullable=False),
        sa.Column("crm_id", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("normalized_name", sa.String(length=200), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("incumbent_partner_id", sa.Integer(), nullable=True),
        sa.Column("modified_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("synced_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incumbent_partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("crm", "crm_id", name="uq_crm_account"),
    )
    with op.batch_alter_table("crm_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_account_domain"), ["domain"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_crm_account_normalized_name"), ["normalized_name"], unique=False
        )

    op.create_table(
        "partner_domain",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("domain"),
    )
    with op.batch_alter_table("partner_domain", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_domain_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("slack_team_id", sa.String(length=32), nullable=True),
        sa.Column("email_aliases", sa.JSON(), nullable=False),
        sa.Column("email_bouncing_since", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
        sa.UniqueConstraint("slack_team_id", "slack_user_id", name="uq_person_slack"),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index("ix_person_slack_user_id", ["slack_user_id"], unique=False)

    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=150), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("partner_types", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("via", sa.JSON(), nullable=False),
        sa.Column("ack_required", sa.Boolean(), nullable=False),
        sa.Column("deadline", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=False),
        sa.Column("published_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_person_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)

    op.create_table(
        "certification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("module_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issued_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["training_module.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.create_index("ix_cert_partner_name", ["partner_id", "name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certification_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_certification_person_id"), ["person_id"], unique=False)

    op.create_table(
        "deal_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=False),
        sa.Column("customer_company", sa.String(length=200), nullable=False),
        sa.Column("customer_domain", sa.String(length=253), nullable=False),
        sa.Column("normalized_domain", sa.String(length=253), nullable=False),
        sa.Column("normalized_company", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("estimated_value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("expected_close_date", sa.Date(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("motion", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("conflict_verdict", sa.String(length=20), nullable=True),
        sa.Column("conflict_rule", sa.String(length=64), nullable=True),
        sa.Column("conflict_details", sa.JSON(), nullable=False),
        sa.Column("submitted_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sla_due_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("protection_started_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("protection_expires_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("extension_count", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("crm_deal_id", sa.String(length=64), nullable=True),
        sa.Column("crm_company_id", sa.String(length=64), nullable=True),
        sa.Column("slack_card_channel", sa.String(length=32), nullable=True),
        sa.Column("slack_card_ts", sa.String(length=32), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("deal_registration", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deal_domain_status", ["normalized_domain", "status"], unique=False
        )
        batch_op.create_index("ix_deal_partner_status", ["partner_id", "status"], unique=False)
        batch_op.create_index("ix_deal_protection_expiry", ["protection_expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deal_registration_normalized_company"),
            ["normalized_company"],
            unique=False,
        )
        batch_op.create_index("ix_deal_status_sla", ["status", "sla_due_at"], unique=False)

    op.create_table(
        "inbound_email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("received_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("extracted_text", sa.Text(), nullable=True),
        sa.Column("subject_kind", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_table(
        "training_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("started_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["training_module.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_attempt_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcement.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("announcement_id", "person_id", name="uq_ack"),
    )
    op.create_table(
        "announcement_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("slack_channel", sa.String(length=32), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("email_message_id", sa.String(length=255), nullable=True),
        sa.Column("sent_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcement.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("announcement_id", "person_id", "channel", name="uq_delivery"),
    )
    with op.batch_alter_table("announcement_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcement_delivery_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "deal_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deal_registration.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deal_extension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_extension_deal_id"), ["deal_id"], unique=False)

    op.create_table(
        "deal_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deal_registration.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deal_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_message_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deal_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_message_deal_id"))

    op.drop_table("deal_message")
    with op.batch_alter_table("deal_extension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_extension_deal_id"))

    op.drop_table("deal_extension")
    with op.batch_alter_table("announcement_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_delivery_person_id"))

    op.drop_table("announcement_delivery")
    op.drop_table("acknowledgement")
    with op.batch_alter_table("training_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_attempt_person_id"))

    op.drop_table("training_attempt")
    op.drop_table("inbound_email")
    with op.batch_alter_table("deal_registration", schema=None) as batch_op:
        batch_op.drop_index("ix_deal_status_sla")
        batch_op.drop_index(batch_op.f("ix_deal_registration_normalized_company"))
        batch_op.drop_index("ix_deal_protection_expiry")
        batch_op.drop_index("ix_deal_partner_status")
        batch_op.drop_index("ix_deal_domain_status")

    op.drop_table("deal_registration")
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certification_person_id"))
        batch_op.drop_index(batch_op.f("ix_certification_expires_at"))
        batch_op.drop_index("ix_cert_partner_name")

    op.drop_table("certification")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    op.drop_table("announcement")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_slack_user_id")
        batch_op.drop_index(batch_op.f("ix_person_partner_id"))

    op.drop_table("person")
    with op.batch_alter_table("partner_domain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_domain_partner_id"))

    op.drop_table("partner_domain")
    with op.batch_alter_table("crm_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_account_normalized_name"))
        batch_op.drop_index(batch_op.f("ix_crm_account_domain"))

    op.drop_table("crm_account")
    op.drop_table("training_module")
    op.drop_table("tier")
    op.drop_table("sync_cursor")
    op.drop_table("slack_receipt")
    op.drop_table("sent_nudge")
    op.drop_table("partner")
    with op.batch_alter_table("outbox_item", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_record")
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox_item")
    op.drop_table("audit_head")
