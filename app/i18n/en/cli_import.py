"""`matcher import` output in English (LANG=en_*)."""

MESSAGES: dict[str, str] = {
    "cli.import.kind.members": "members",
    "cli.import.kind.demands": "demands",
    "cli.import.summary": "{kind}: {rows} rows: {created} created, {updated} updated, {unchanged} unchanged{note}",
    "cli.import.dry_run_note": " (dry run: nothing written)",
    "cli.import.ignored": "ignored columns: {columns}",
    "cli.import.rejected": "rejected: {detail}",
    "cli.import.row": "row {row}: ",
    "cli.import.more": "  ... and {count} more",
}
