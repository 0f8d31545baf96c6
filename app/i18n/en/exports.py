"""English names of the export sheets (the sheets' headers stay Chinese: they must import back)."""

MESSAGES: dict[str, str] = {
    "export.members.title": "Members",
    "export.demands.title": "Demands",
    "export.demands.status": "Status",
    "export.assignments.title": "Assignments",
}
