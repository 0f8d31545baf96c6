"""Operations: matcher doctor and CLI guidance (issue 10)."""

MESSAGES: dict[str, str] = {
    "ops.db_upgrade_needed": "数据库尚未初始化或版本过旧：请先运行 `matcher db upgrade`",
    "doctor.database_url": "数据库地址：{url}（{kind}）",
    "doctor.connect_ok": "数据库可以连接",
    "doctor.connect_fail": "无法连接数据库（{error}）：检查 MATCHER_DATABASE_URL、网络与口令",
    "doctor.migration_ok": "数据库结构为最新版本（{current}）",
    "doctor.migration_fix": "数据库结构版本 {current}，最新为 {head}：运行 `matcher db upgrade`",
    "doctor.worker_inprocess": "SQLite：优化在服务进程内运行，无需单独的 worker",
    "doctor.worker_ok": "worker 在线（最近心跳 {ago} 秒前）",
    "doctor.worker_fix": "没有在线的 worker（最近心跳：{last}）：启动 `matcher worker`",
    "doctor.schedule_on": "{district}：每周{weekday} {time}（{tz}）自动优化，自动发布：{publish}；上次：{last}",
    "doctor.schedule_off": "{district}：未开启每周自动优化（`matcher schedule set --enabled`）",
    "doctor.notifications": "通知渠道设置：{detail}",
    "doctor.summary_ok": "一切正常",
    "doctor.summary_fix": "有 {n} 项需要处理（见上）",
    "doctor.yes": "是",
    "doctor.no": "否",
    "doctor.never": "从未",
}
