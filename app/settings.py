"""Service configuration: one Settings class, read from MARKBOOK_* environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from limits import parse
from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKBOOK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./markbook.db",
        description="SQLAlchemy async URL; SQLite file in the working directory by default.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A read replica of database_url (same engine, e.g. a PostgreSQL streaming "
        "replica): reports (runs, exports, charts, packs) and GraphQL queries read their data "
        "there; the caller's account and grants, writes and everything else stay on the "
        "primary. Unset: everything on the primary.",
    )
    database_pgbouncer: bool = Field(
        default=False,
        description="The database URLs go through PgBouncer in transaction mode: no "
        "server-side prepared statement is cached or reused across transactions, and reads "
        "run in a transaction as writes do.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 signing key. When unset, a key is generated once and kept in "
        "jwt_secret_file so tokens survive restarts of a single-machine install.",
    )
    jwt_secret_file: Path = Path(".markbook-jwt-secret")
    jwt_issuer: str = "markbook"
    jwt_audience: str = "markbook-api"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="How long a refresh token lasts unused; each refresh gives a new one.",
    )
    sign_in_account_limit: str = Field(
        default="10/15 minutes",
        description="Failed sign-ins one account (the email or client id as typed, whether it "
        "exists or not) may have in a moving window; past it, 429 until the oldest expires.",
    )
    sign_in_address_limit: str = Field(
        default="60/minute",
        description="Token requests (any grant, right or wrong) from one client address in a "
        "moving window; past it, 429.",
    )
    rate_limit_storage_url: str = Field(
        default="async+memory://",
        description="Where the sign-in throttle counts: in this process by default; "
        "async+redis://host:6379/0 to share the counts between workers and replicas.",
    )
    rate_limit_key_prefix: str = Field(
        default="markbook", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    hashing_threads: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) // 2),
        ge=1,
        le=64,
        description="Password hashes (argon2, ~0.2 s of CPU each) computed at once per worker "
        "(default: half the CPU cores, at least 1); more wait their turn, so a flood of "
        "sign-ins cannot starve other requests.",
    )
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    graphql_max_rows: int = Field(
        default=10_000,
        ge=1,
        description="The most rows (list items and connection nodes, all lists together) one "
        "GraphQL query may answer; past it the query fails with ROWS_LIMIT.",
    )
    graphql_time_budget_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="How long one GraphQL query may run; past it the query stops with "
        "TIME_LIMIT (on PostgreSQL each statement is also cut off there).",
    )
    import_max_unpacked_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="The most a OneRoster zip may unpack to, all its files together; past it "
        "the upload is refused (422) as it is read, naming the file.",
    )
    import_max_file_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="The most any one file in a OneRoster zip may unpack to.",
    )
    import_max_rows: int = Field(
        default=250_000,
        ge=1,
        description="The most data rows any one CSV file in a OneRoster zip may have.",
    )
    database_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="How long a request waits for a database connection (and, on SQLite, for "
        "its turn to write) before it is answered 503 with Retry-After.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Connections each server process keeps open to the database (and to the "
        "read replica), reused from request to request.",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="Connections a process may open beyond the pool when every pooled one is "
        "busy; each is closed again when returned to a full pool.",
    )
    auto_migrate: bool = True
    report_work_mem_mb: int = Field(
        default=64,
        ge=4,
        le=2048,
        description="PostgreSQL work_mem (MiB) for a report's statements, for its transaction "
        "only: a trust's pupils hashed and sorted in memory rather than on disk.",
    )
    retention_sweep_seconds: int = Field(
        default=3600,
        ge=0,
        le=86_400,
        description="How often each server process forgets expired idempotency answers and "
        "import jobs' personal details (the first sweep at start); 0: no sweep in this process.",
    )
    import_job_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long an import job keeps its file name, rejected rows and warnings; "
        "after that only its status and counts.",
    )
    sql_echo: bool = False
    log_level: str = "INFO"

    @field_validator("read_database_url")
    @classmethod
    def _same_engine(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value or not value.strip():
            return None
        primary = info.data.get("database_url")
        if primary and make_url(value).get_backend_name() != make_url(primary).get_backend_name():
            raise ValueError(
                "MARKBOOK_READ_DATABASE_URL must name a replica on the same engine as "
                "MARKBOOK_DATABASE_URL (a PostgreSQL replica of a PostgreSQL primary)"
            )
        return value

    @field_validator("sign_in_account_limit", "sign_in_address_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        parse(value)  # "10/15 minutes", "60 per minute": refused at start if malformed
        return value

    def signing_key(self) -> str:
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.jwt_secret_file
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
