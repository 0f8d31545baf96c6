"""Districts as tenants, key lifecycle, the audit trail

Platform keys are bound to no district (``api_keys.district_id`` nullable); keys gain
``expires_at``, ``revoked_at`` and ``replaced_by_id`` (rotation); districts gain ``active``,
``timezone`` and a JSON ``settings`` column; ``audit_events`` is the append-only trail.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_scheduled_periods_district_id_districts")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["optimization_runs.id"], name=op.f("fk_scheduled_periods_run_id_optimization_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_periods")),
        sa.UniqueConstraint("district_id", "period", name=op.f("uq_scheduled_periods_district_id_period")),
    )
    with op.batch_alter_table("scheduled_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_periods_district_id"), ["district_id"], unique=False)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("acting_as", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_actor_key_id"), ["actor_key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_audit_events_district_cursor", ["district_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_entity"), ["entity"], unique=False)

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch_op.alter_column("district_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_replaced_by_id_api_keys"), "api_keys", ["replaced_by_id"], ["id"]
        )

    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("timezone", sa.String(length=60), server_default="Asia/Shanghai", nullable=False))
        batch_op.add_column(sa.Column("settings", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    op.drop_table("scheduled_periods")
    with op.batch_alter_table("districts", schema=None) as batch_op:
        batch_op.drop_column("settings")
        batch_op.drop_column("timezone")
        batch_op.drop_column("active")

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_keys_replaced_by_id_api_keys"), type_="foreignkey")
        batch_op.alter_column("district_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("replaced_by_id")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_entity"))
        batch_op.drop_index("ix_audit_events_district_cursor")
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_key_id"))

    op.drop_table("audit_events")
