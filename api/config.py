"""Settings from the environment (prefix ``BACKSTRONG_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A well-known value so development works out of the box; production refuses it.
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me-before-deploying"
MIN_PRODUCTION_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BACKSTRONG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Literal["development", "production"] = "development"
    # Platforms (Heroku, Render, Fly ...) set plain DATABASE_URL, so honour it too.
    database_url: str = Field(
        default="sqlite:///./backstrong.db",
        validation_alias=AliasChoices("BACKSTRONG_DATABASE_URL", "DATABASE_URL"),
    )
    secret_key: str = DEFAULT_SECRET_KEY
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long opening a PostgreSQL connection may take before the request gets a 503:
    # without it a database host that drops packets holds each request for minutes.
    db_connect_timeout_seconds: int = Field(default=3, ge=1, le=60)
    # Server-side cap on any single statement (PostgreSQL only); 0 disables it.
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Serving: worker processes per host (about one per core), and how long idle
    # keep-alive connections and a graceful shutdown may take.
    workers: int = Field(default=1, ge=1, le=64)
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    graceful_shutdown_seconds: int = Field(default=30, ge=1, le=600)
    # Browser origins allowed to call the API (JSON list); none by default: the mobile
    # apps and wearables are not browsers.
    cors_origins: list[str] = Field(default_factory=list)
    # GET /metrics (Prometheus) and the per-request counting behind it. The endpoint
    # is unauthenticated: keep it off the public load balancer, or turn it off here.
    metrics_enabled: bool = True

    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    # A used refresh token presented again within this many seconds (a lost response, or
    # an app and its widget refreshing at once) gets the pair already issued instead of
    # ending the sign-in; later, it still ends it. 0: any reuse ends it.
    refresh_reuse_seconds: int = Field(default=30, ge=0, le=300)
    # Argon2id cost (pwdlib defaults; about 0.1-0.2 s of CPU per hash here).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_parallelism: int = Field(default=4, ge=1)
    # How many password hashes may run at once; the rest wait without holding a
    # worker thread, so a flood of logins cannot starve other requests.
    hash_concurrency: int = Field(default=1, ge=1, le=64)
    # A sign-in, registration or password check whose hash cannot start within this many
    # seconds (or finds hash_queue_max others waiting) is answered 503 with Retry-After.
    hash_queue_seconds: float = Field(default=3.0, gt=0, le=60)
    # A request body that has not all arrived this long after its headers is a 408.
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    hash_queue_max: int = Field(default=64, ge=1, le=10_000)
    # People whose latest read evaluation is kept per worker (0: none); reads serve it
    # until a write to their data, or time, can change it (api/services/evaluation_cache.py).
    evaluation_cache_entries: int = Field(default=2048, ge=0, le=1_000_000)
    # Wrong passwords (sign-in, DELETE /v1/me) within login_failure_window_minutes:
    # - per account and client address: past this, that pair is locked (429);
    login_max_failures_per_pair: int = Field(default=10, ge=1)
    # - per account from anywhere: past this, each further try waits 1 s, doubling with
    #   each failure up to login_max_delay_seconds (slowed, never locked);
    login_max_failures_per_account: int = Field(default=10, ge=1)
    #   (counted over this many hours, so a steady guesser stays slowed)
    login_slowdown_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    login_max_delay_seconds: int = Field(default=300, ge=1, le=3600)
    # - per client address for any account: past this, the address is locked (429).
    login_max_failures_per_address: int = Field(default=50, ge=1)
    # An address the account signed in from within this many days is spared the last
    # two (0: none is): an attacker elsewhere can neither slow nor lock its owner there.
    login_known_address_days: int = Field(default=90, ge=0, le=3650)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    # Registrations from one client address within login_failure_window_minutes, counted
    # whether the address was new or not (the answer is the same); past it, 429.
    register_max_per_address: int = Field(default=20, ge=1)
    # The Oswestry Disability Index's text is copyrighted (Mapi Research Trust): a deployer
    # with a licence points this at a YAML or JSON file of it, {section id: {text, options:
    # {value: label}}}; without it, GET /v1/instruments shows section names only.
    odi_text_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _refuse_weak_secret_in_production(self) -> Settings:
        if self.env == "production" and (
            self.secret_key == DEFAULT_SECRET_KEY
            or len(self.secret_key) < MIN_PRODUCTION_SECRET_LENGTH
        ):
            raise ValueError(
                "BACKSTRONG_SECRET_KEY must be set to a random value of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters when BACKSTRONG_ENV=production "
                "(the development default is refused)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
