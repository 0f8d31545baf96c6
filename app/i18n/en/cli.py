"""CLI output in English (``LANG=en_US.UTF-8``): demo, optimize, report, keys, districts, errors."""

MESSAGES: dict[str, str] = {
    "cli.error": "error: {message}",
    "cli.wrote": "wrote {path}",
    "cli.no_such_file": "no such file: {path}",
    "cli.demo.ready": "{district} demo database ready: {url}",
    "cli.demo.facts": "  seed {seed}, week {week} ({start} .. {end}), built in {elapsed} s",
    "cli.demo.counts_reference": (
        "  areas {areas} · communities {communities} · groups {groups} (paired areas {paired}) · skills {skills}"
    ),
    "cli.demo.counts_people": (
        "  members {members} (skills held {member_skills}) · demands {demands} "
        "(conflict exclusions {exclusions}) · duty records {duty_records}"
    ),
    "cli.demo.by_channel": "Demands by channel:",
    "cli.demo.by_priority": "Demands by priority (5 = most urgent):",
    "cli.demo.without_activity": "Members without a community activity this year: {count} of {members}",
    "cli.demo.admin_key": "Admin API key (shown once, not stored in clear): {key}",
    "cli.demo.try": "Try it:",
    "cli.demo.published": (
        "Published the plan: {count} proposals; each member's message is in the outbox "
        "(log channel: `matcher serve` sends it, phone and place masked)."
    ),
    "cli.demo.links": (
        "Example personal links (open them while `matcher serve` runs; MATCHER_PUBLIC_BASE_URL sets the host):"
    ),
    "cli.demo.member_link": "  all tasks of {member}: {url}",
    "cli.demo.optimised": (
        "Optimised the demo week: run {id} {status} · solver {solver} · gap {gap} · proposals {proposals}"
    ),
    "cli.optimize.progress": "solving… {elapsed:5.1f} s",
    "cli.optimize.best": "  best {value:,.2f}",
    "cli.optimize.bound": "  bound {value:,.2f}",
    "cli.optimize.run": (
        "run {id} {status} · window {start} .. {end} · solver {solver} · objective {objective} · "
        "bound {bound} · gap {gap}"
    ),
    "cli.optimize.counts": (
        "members {members} · demands {demands} · proposals {proposals} · kept (accepted) {pinned} · unmet {unmet}"
    ),
    "cli.optimize.published": "published {published} · superseded {superseded} · demands assigned {assigned}",
    "cli.optimize.weights_unreadable": "cannot read JSON weights from {path}: {error}",
    "cli.optimize.weights_invalid": "invalid weights: {fields}",
    "cli.optimize.row.demands_covered": "demands covered",
    "cli.optimize.row.weighted_coverage": "priority-weighted coverage",
    "cli.optimize.row.assignments": "assignments",
    "cli.optimize.row.mean_skill_score": "mean skill score",
    "cli.optimize.row.cross_area_share": "cross-area share",
    "cli.optimize.row.mean_distance_km": "mean distance (km)",
    "cli.optimize.row.load_peak": "load peak",
    "cli.optimize.row.load_std": "load std",
    "cli.optimize.row.zero_activity_members_served": "no-activity members served",
    "cli.optimize.plan.optimized": "optimized",
    "cli.optimize.plan.fixed_pairing": "fixed pairing",
    "cli.optimize.plan.greedy": "greedy",
    "cli.report.no_run_figures": "no optimization run with figures yet: only the duty charts are written",
    "cli.report.bad_date": "--{field}: expected a date like 2026-11-01, got {value!r}",
    "cli.keys.grace_negative": "--grace-hours must not be negative",
    "cli.districts.created": "district {code} ({name}): {areas} areas",
}
