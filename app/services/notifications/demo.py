"""The demo's last step: publish the demo week and hand out two example personal links.

Publishing queues one proposal message per proposed member in the outbox (the demo members
have no e-mail address, so they go to the ``log`` channel: ``matcher serve`` logs them, masked).
The two links printed are minted like the dispatcher mints them, for the first two proposals,
plus the first member's ``/m/`` link.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.db import session_scope
from app.domain.enums import AssignmentStatus, Role
from app.models import Assignment
from app.services.districts import get_district
from app.services.identity import Caller
from app.services.notifications.links import mint_member_link, mint_task_link
from app.services.runs.publish import publish_run
from app.settings import NotifySettings


def publish_with_example_links(url: str, district_code: str, run_id: int, count: int = 2) -> dict[str, Any]:
    cfg = NotifySettings()
    with session_scope(url) as s:
        district = get_district(s, code=district_code)
        caller = Caller(api_key_id=0, name="matcher demo", role=Role.ADMIN, district_id=district.id)
        _, summary = publish_run(s, caller, run_id=run_id)
        rows = list(
            s.scalars(
                select(Assignment)
                .where(Assignment.run_id == run_id, Assignment.status == AssignmentStatus.PUBLISHED)
                .order_by(Assignment.id)
                .limit(count)
            ).unique()
        )
        tasks = [
            {
                "assignment_id": a.id,
                "member": a.member.name,
                "need": a.demand.title,
                "url": mint_task_link(s, assignment=a, cfg=cfg).url(cfg.public_base_url),
            }
            for a in rows
        ]
        member = None
        if rows:
            minted = mint_member_link(s, district_id=district.id, member_id=rows[0].member_id, cfg=cfg)
            member = {"member": rows[0].member.name, "url": minted.url(cfg.public_base_url)}
    return {"published": summary, "task_links": tasks, "member_link": member}
