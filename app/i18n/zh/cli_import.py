"""`matcher import` output (the CLI follows LANG; Chinese unless LANG names English)."""

MESSAGES: dict[str, str] = {
    "cli.import.kind.members": "委员",
    "cli.import.kind.demands": "需求",
    "cli.import.summary": "{kind}：共 {rows} 行，新建 {created}，更新 {updated}，未变 {unchanged}{note}",
    "cli.import.dry_run_note": "（试运行：未写入任何数据）",
    "cli.import.ignored": "未识别的列：{columns}",
    "cli.import.rejected": "导入被拒绝：{detail}",
    "cli.import.row": "第 {row} 行：",
    "cli.import.more": "  …… 另有 {count} 处错误",
}
