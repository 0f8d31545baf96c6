"""Bulk import sentences of the bulk-write path (app/services/imports), in English."""

MESSAGES: dict[str, str] = {
    "problem.msg.import_row_conflict": (
        "conflicts with stored data (changed concurrently during the import, or a duplicate id): "
        "upload the whole file again"
    ),
}
