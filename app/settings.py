"""Runtime configuration, read only from ``MATCHER_*`` environment variables.

The defaults make a fresh checkout work with no configuration at all: a SQLite
file in the working directory and the in-process run executor.
"""

from datetime import timedelta
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHER_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./matcher.db",
        description="SQLAlchemy URL; sqlite:///FILE (embedded) or postgresql+psycopg://...",
    )
    district_code: str = Field(default="chaoyang", description="District used by CLI commands.")
    max_body_bytes: int = Field(default=5 * 1024 * 1024, description="Largest accepted request body.")
    page_limit_default: int = 50
    page_limit_max: int = 500
    idempotency_ttl_hours: int = 24
    log_level: str = "INFO"
    run_executor: str = Field(
        default="auto",
        description="'inprocess', 'procrastinate', or 'auto' (procrastinate on PostgreSQL).",
    )
    solver_time_limit_s: float = 10.0
    solver_workers: int = 2
    console_session_hours: float = Field(default=8.0, gt=0, description="Office console sign-in lifetime.")
    console_link_minutes: float = Field(default=30.0, gt=0, description="Lifetime of a one-time sign-in link.")


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


@lru_cache
def get_settings() -> Settings:
    return Settings()
