"""member links, notification outbox, repair marks (issue 9)

Personal task/member links (only token hashes), the notification outbox and its attempts,
the (district, week) marks that start automatic repair runs, members' e-mail and preferred
channel, and the districts' ``auto_publish_repairs`` switch.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repair_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name=op.f("fk_repair_marks_district_id_districts")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["optimization_runs.id"], name=op.f("fk_repair_marks_run_id_optimization_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_marks")),
        sa.UniqueConstraint(
            "district_id",
            "window_start",
            "window_end",
            name=op.f("uq_repair_marks_district_id_window_start_window_end"),
        ),
    )
    with op.batch_alter_table("repair_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_repair_marks_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_repair_marks_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_repair_marks_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "member_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("form_nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_member_links_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name=op.f("fk_member_links_district_id_districts")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_links_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_links_token_hash")),
    )
    with op.batch_alter_table("member_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_links_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_links_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_links_member_id"), ["member_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_notifications_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name=op.f("fk_notifications_district_id_districts")),
        sa.ForeignKeyConstraint(["link_id"], ["member_links.id"], name=op.f("fk_notifications_link_id_member_links")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_notifications_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_assignment_id"), ["assignment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_notifications_status_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_attempts_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
    )
    with op.batch_alter_table("notification_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_attempts_notification_id"), ["notification_id"], unique=False)

    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_publish_repairs", sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("preferred_channel", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("preferred_channel")
        batch_op.drop_column("email")

    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_column("auto_publish_repairs")

    with op.batch_alter_table("notification_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_attempts_notification_id"))

    op.drop_table("notification_attempts")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_updated_at"))
        batch_op.drop_index("ix_notifications_status_due")
        batch_op.drop_index(batch_op.f("ix_notifications_member_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_district_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_channel"))
        batch_op.drop_index(batch_op.f("ix_notifications_assignment_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("member_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_links_member_id"))
        batch_op.drop_index(batch_op.f("ix_member_links_district_id"))
        batch_op.drop_index(batch_op.f("ix_member_links_assignment_id"))

    op.drop_table("member_links")
    with op.batch_alter_table("repair_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_marks_updated_at"))
        batch_op.drop_index(batch_op.f("ix_repair_marks_due_at"))
        batch_op.drop_index(batch_op.f("ix_repair_marks_district_id"))

    op.drop_table("repair_marks")
