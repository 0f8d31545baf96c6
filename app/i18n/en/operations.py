"""Operations: matcher doctor and CLI guidance (issue 10)."""

MESSAGES: dict[str, str] = {
    "ops.db_upgrade_needed": "the database has no (or an old) schema: run `matcher db upgrade` first",
    "doctor.database_url": "database URL: {url} ({kind})",
    "doctor.connect_ok": "the database is reachable",
    "doctor.connect_fail": "cannot connect ({error}): check MATCHER_DATABASE_URL, network and password",
    "doctor.migration_ok": "the schema is at the latest revision ({current})",
    "doctor.migration_fix": "schema revision {current}, latest is {head}: run `matcher db upgrade`",
    "doctor.worker_inprocess": "SQLite: runs execute inside the service process; no separate worker needed",
    "doctor.worker_ok": "a worker is alive (last heartbeat {ago} s ago)",
    "doctor.worker_fix": "no live worker (last heartbeat: {last}): start `matcher worker`",
    "doctor.schedule_on": "{district}: weekly optimisation {weekday} {time} ({tz}), publish: {publish}; last: {last}",
    "doctor.schedule_off": "{district}: no weekly optimisation (`matcher schedule set --enabled`)",
    "doctor.notifications": "notification channels: {detail}",
    "doctor.summary_ok": "all good",
    "doctor.summary_fix": "{n} item(s) to fix (see above)",
    "doctor.yes": "yes",
    "doctor.no": "no",
    "doctor.never": "never",
}
