"""Report computations: annual duty, needs, skill gaps, and one run beside its baselines.

Each report returns a plain dataclass (for JSON) that can also flatten itself into a
`Table` (for CSV/XLSX and the CLI), so all output formats show the same numbers.
Liaison keys see only their own area's rows; the scoping lives here, not in the routers.
"""

from app.services.reports.duty import DUTY_KINDS, DutyReport, duty_report
from app.services.reports.needs import NeedsReport, SkillGapReport, needs_report, skill_gap_report
from app.services.reports.runs import RunReport, latest_run_id, run_report
from app.services.reports.table import Table

__all__ = [
    "DUTY_KINDS",
    "DutyReport",
    "NeedsReport",
    "RunReport",
    "SkillGapReport",
    "Table",
    "duty_report",
    "latest_run_id",
    "needs_report",
    "run_report",
    "skill_gap_report",
]
