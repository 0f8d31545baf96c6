"""procrastinate schema (PostgreSQL only)

Optimization runs on PostgreSQL are procrastinate jobs, deferred in the same transaction
that inserts the run row. procrastinate's tables, types and functions therefore have to
exist in our database; they come from the SQL that ships inside the installed procrastinate
package (its own ``schema.sql``), applied here so that ``matcher db upgrade`` is the only
setup step. On SQLite (embedded, in-process executor) there is nothing to do.

When procrastinate is upgraded to a version with new schema migrations, add a revision
that applies them (they ship in ``procrastinate/sql/migrations``).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    exists = bind.exec_driver_sql("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").scalar()
    if exists:  # applied out of band (e.g. `procrastinate schema --apply`): keep it
        return
    # The driver sees a parameter style in '%'; the schema is sent as-is, so escape them.
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Drop every procrastinate object (tables first, then functions and types).
    bind.exec_driver_sql(
        """
        DO $$
        DECLARE r record;
        BEGIN
            FOR r IN SELECT tablename FROM pg_tables
                     WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%%' LOOP
                EXECUTE format('DROP TABLE IF EXISTS %%I CASCADE', r.tablename);
            END LOOP;
            FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%%' LOOP
                EXECUTE format('DROP FUNCTION IF EXISTS %%s CASCADE', r.sig);
            END LOOP;
            FOR r IN SELECT t.typname FROM pg_type t
                     JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%%'
                       AND t.typtype IN ('e', 'c') LOOP
                EXECUTE format('DROP TYPE IF EXISTS %%I CASCADE', r.typname);
            END LOOP;
        END $$;
        """
    )
