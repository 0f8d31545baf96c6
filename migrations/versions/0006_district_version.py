"""Districts carry an optimistic-lock version (their ETag)

``PATCH /v1/districts/{code}`` and ``PATCH /v1/district-settings`` require If-Match like every
other PATCH; the district row's version is the tag of both (a rename and a settings change are
changes of the same row). Existing districts start at version 1.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("districts") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("districts") as batch:
        batch.drop_column("version")
