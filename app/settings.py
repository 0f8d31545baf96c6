"""Runtime configuration, read only from ``MATCHER_*`` environment variables.

The defaults make a fresh checkout work with no configuration at all: a SQLite
file in the working directory and the in-process run executor.
"""

from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.db import is_sqlite
from app.domain.enums import NotificationChannel


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./matcher.db",
        description="SQLAlchemy URL; sqlite:///FILE (embedded) or postgresql+psycopg://...",
    )
    district_code: str = Field(default="chaoyang", description="District used by CLI commands.")
    max_body_bytes: int = Field(default=5 * 1024 * 1024, description="Largest accepted request body.")
    max_inflight_requests: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Most HTTP requests inside one server process at once (the rest wait, without a "
        "thread); kept below the 40-thread pool, and the database pool is sized from it. Reached only "
        "when the requests inside are slow (see inflight_width).",
    )
    inflight_width: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="HTTP requests inside one server process at once while they are quick; default 1 on "
        "SQLite, 2 on PostgreSQL (see admission_width). Few, because more threads only fight for the "
        "GIL (sqlite3 and psycopg release it on every row): under 50 clients a SQLite list request "
        "cost 10.5 ms of CPU with 4 inside, 5.1 ms with 1.",
    )
    inflight_patience_ms: float = Field(
        default=25.0,
        ge=0,
        le=60_000,
        description="When every request inside has run this long (a writer waiting on a lock, a large "
        "export), one more is let in, up to max_inflight_requests.",
    )
    import_max_rows: int = Field(default=10_000, description="Most data rows of one imported file (422 beyond).")
    import_max_sheet_rows: int = Field(
        default=50_000, description="Most rows (blank ones too) an XLSX worksheet may declare; counted before parsing."
    )
    import_max_inflated_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest inflated size of an XLSX's parts (413 beyond; zip bombs)."
    )
    max_demand_days: int = Field(default=14, ge=1, description="Longest a demand may last (ends_at - starts_at).")
    page_limit_default: int = 50
    page_limit_max: int = 500
    idempotency_ttl_hours: int = 24
    log_level: str = "INFO"
    run_executor: str = Field(
        default="auto",
        description="'inprocess', 'procrastinate', or 'auto' (procrastinate on PostgreSQL).",
    )
    solver_time_limit_s: float = 10.0
    scheduler: str = Field(
        default="auto",
        description="Weekly schedule ticker: 'auto' (in the API process on SQLite, procrastinate "
        "periodic task in `matcher worker` on PostgreSQL), 'inprocess', or 'off'.",
    )
    scheduler_interval_s: float = 60.0
    metrics: str = Field(default="admin", description="/metrics: 'admin' (admin or platform key), 'public', or 'off'.")
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="When set, `matcher serve` also serves /metrics, unauthenticated, on this port.",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Bind address of the MATCHER_METRICS_PORT listener.")
    solver_workers: int = 2
    solve_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Niceness added to the processes that solve (the API's solve children on SQLite, "
        "`matcher worker`), so an API on the same host keeps its share of the CPU while a long solve "
        "runs; the solver still keeps its time limit.",
    )
    console_session_hours: float = Field(default=8.0, gt=0, description="Office console sign-in lifetime.")
    console_link_minutes: float = Field(default=30.0, gt=0, description="Lifetime of a one-time sign-in link.")

    @property
    def admission_width(self) -> int:
        """``inflight_width``, or the database's default: 1 on SQLite, where a request never waits
        for the database but for the GIL; 2 on PostgreSQL, where one request's round trips leave
        the process idle for another (closed loop, 50 clients, 2 workers, load ~3: 1 wide 201 req/s,
        2 wide 285, 4 wide 228). Never above ``max_inflight_requests``."""
        default = 1 if is_sqlite(self.database_url) else 2
        return min(self.inflight_width or default, self.max_inflight_requests)


class WebhookSettings(BaseSettings):
    """Dispatcher tuning, from ``MATCHER_WEBHOOK_*`` (tests pass their own, faster values)."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_WEBHOOK_", extra="ignore")

    enabled: bool = True  # MATCHER_WEBHOOK_ENABLED=false: start_dispatcher() starts nothing
    base_delay_s: float = 1.0
    max_delay_s: float = 600.0
    max_attempts: int = 0  # 0 = retry until delivered (the receiver gets everything once it is back)
    timeout_s: float = 10.0
    lease_s: float = 60.0  # a claimed delivery is retried after this if its sender died
    batch_size: int = 100
    interval_s: float = 1.0  # pause of the background loop between passes

    def backoff(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempt - 1)))


class NotifySettings(BaseSettings):
    """Member notifications, personal links and automatic repair (``MATCHER_*``; tests pass their own)."""

    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore")

    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of the personal links in messages (what members open)."
    )
    notify_enabled: bool = True  # MATCHER_NOTIFY_ENABLED=false: no dispatcher thread is started
    notify_in_api: Literal["auto", "true", "false"] = "auto"  # auto: the API process dispatches only with SQLite
    notify_default_channel: NotificationChannel = NotificationChannel.LOG  # members without channel or e-mail
    notify_base_delay_s: float = 2.0
    notify_max_delay_s: float = 1800.0
    notify_max_attempts: int = 12  # then the notification is failed (the office sees it and can retry)
    notify_lease_s: float = 60.0
    notify_interval_s: float = 1.0
    notify_batch_size: int = 50
    notify_timeout_s: float = 10.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "matcher@localhost"
    smtp_starttls: bool = False
    notify_webhook_url: str | None = None  # the district's messaging gateway / robot
    notify_webhook_format: Literal["wecom", "dingtalk"] = "wecom"  # 企业微信群机器人 or DingTalk robot
    notify_webhook_msgtype: Literal["text", "markdown"] = "markdown"
    link_days_after_end: int = 14  # a task link expires this long after its need ends
    member_link_days: int = 90
    link_rate_per_token: int = 20  # requests per minute per personal link
    link_rate_per_client: int = 120  # requests per minute per client address
    reminder_before_h: float = 24.0
    nudge_after_h: float = 48.0
    repair_quiet_s: float = 600.0
    repair_time_limit_s: float = 10.0

    def backoff(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(self.notify_max_delay_s, self.notify_base_delay_s * 2 ** max(0, attempt - 1)))


@lru_cache
def get_settings() -> Settings:
    return Settings()
