"""Many rows into one table in the session's transaction, as fast as each database takes them.

Both on the session's own DBAPI connection (so inside its transaction), with the values put
through each column type's bind processing once: SQLite, one driver ``executemany`` (the
driver loops in C; SQLAlchemy's own per-row parameter handling was as costly as the insert);
PostgreSQL, one ``COPY ... FROM STDIN``. An ``executemany`` there
is one prepared INSERT per row through psycopg's pipeline, and a multi-row INSERT of thousands
of rows spends its time in psycopg parsing the statement's placeholders; for the 30,000 rows a
10,000-member import writes (members, their skills, the audit rows) COPY is several times
faster. Values go through each column type's own bind processing (JSON serialised, enums as
their values, times in UTC), exactly as an INSERT through SQLAlchemy would store them.
"""

from __future__ import annotations

import contextlib
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``. Columns a row leaves out get
    their Python-side default (``default=``) as with an INSERT; server defaults (an ``id``
    sequence) apply as usual."""
    if not rows:
        return
    rows = _with_defaults(table, rows)
    connection = session.connection()
    dialect = connection.dialect
    driver: Any = connection.connection.driver_connection
    if dialect.name == "sqlite" and not driver.in_transaction:
        # The first write of a transaction goes through SQLAlchemy, so its statement hooks (the
        # process's SQLite writer turn, app.db) see the transaction start.
        connection.execute(insert(table), rows[:1])
        rows = rows[1:]
        if not rows:
            return
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    pick = itemgetter(*names)
    values = pick if len(names) > 1 else (lambda row: (pick(row),))
    prepared = [[v if p is None else p(v) for p, v in zip(processors, values(row), strict=True)] for row in rows]
    quote = dialect.identifier_preparer.quote
    into = f"{quote(table.name)} ({', '.join(quote(n) for n in names)})"
    with contextlib.closing(driver.cursor()) as cursor:
        if dialect.name == "postgresql":
            with cursor.copy(f"COPY {into} FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        else:  # SQLite, the other database the service runs on (qmark parameters)
            cursor.executemany(f"INSERT INTO {into} VALUES ({', '.join('?' * len(names))})", prepared)


def _with_defaults(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill the columns the rows leave out that have a Python-side default (once per row for a
    callable one, as an INSERT does), so COPY stores what an INSERT would."""
    given = rows[0].keys()
    defaults = [c for c in table.c if c.name not in given and c.default is not None and not c.default.is_sequence]
    if not defaults:
        return rows
    filled = []
    for row in rows:
        extra = {}
        for column in defaults:
            default: Any = column.default
            extra[column.name] = default.arg(None) if default.is_callable else default.arg
        filled.append({**row, **extra})
    return filled
