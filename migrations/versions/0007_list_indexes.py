"""Composite indexes for the list endpoints' filters in their keyset order (``... ORDER BY id``)

Every list page is ``WHERE district_id = ? AND <filter> ORDER BY id LIMIT n``. With one index
per column, PostgreSQL combined two bitmap scans and sorted every matching row for each page
(a run's 10k assignments sorted per page of 100), and SQLite had to pick one of the columns and
filter the other row by row. An index ending in ``id`` after the equality columns hands the
rows over already in page order, so a page reads about ``limit`` index entries.
``python -m bench explain`` prints the plans.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: (table, index name, columns); the same indexes are declared on the models.
INDEXES = (
    ("assignments", "ix_assignments_district_status_cursor", ["district_id", "status", "id"]),
    ("assignments", "ix_assignments_district_area_cursor", ["district_id", "area_id", "id"]),
    ("assignments", "ix_assignments_run_cursor", ["run_id", "id"]),
    ("assignments", "ix_assignments_member_cursor", ["member_id", "id"]),
    ("demands", "ix_demands_district_status_cursor", ["district_id", "status", "id"]),
    ("demands", "ix_demands_district_area_cursor", ["district_id", "area_id", "id"]),
    ("demands", "ix_demands_district_starts", ["district_id", "starts_at"]),
    ("members", "ix_members_district_group_cursor", ["district_id", "group_id", "id"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
