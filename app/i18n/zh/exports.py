"""Sheet titles and the assignment export's column headers (member and demand sheets use the
importer's own headers, ``app.services.imports.columns``, so they import back)."""

MESSAGES: dict[str, str] = {
    "export.members.title": "委员名册",
    "export.demands.title": "民需台账",
    "export.demands.status": "状态",
    "export.assignments.title": "派单",
    "export.assignments.id": "派单编号",
    "export.assignments.run_id": "优化批次",
    "export.assignments.status": "状态",
    "export.assignments.demand_id": "需求ID",
    "export.assignments.demand": "需求",
    "export.assignments.area": "片区",
    "export.assignments.community": "社区",
    "export.assignments.starts_at": "开始时间",
    "export.assignments.member_external_id": "委员编号",
    "export.assignments.member": "委员",
    "export.assignments.phone": "电话",
    "export.assignments.score": "匹配得分",
    "export.assignments.explanation": "匹配理由",
    "export.assignments.decline_reason": "婉拒原因",
}
