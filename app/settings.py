"""Runtime configuration, read only from ``MATCHER_*`` environment variables.

The defaults make a fresh checkout work with no configuration at all: a SQLite
file in the working directory and the in-process run executor.
"""
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
