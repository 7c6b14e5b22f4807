"""One settings object for the whole deployment, read from the environment and `.env`.

Every setting is documented in the README. Domain code never reads the environment: the
edge (CLI, ASGI app, worker) calls `get_settings()` once and passes what is needed down.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_TOKEN = "dev-token"  # noqa: S105 - a deliberately unsafe development default
DEFAULT_DASHBOARD_PASSWORD = "dev-password"  # noqa: S105 - likewise, refused in production
DEFAULT_SECRET_KEY = "dev-secret-key"  # noqa: S105 - likewise, refused in production


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


class LineSettings(BaseSettings):
    """LINE Messaging API channel (filled in by the LINE bot)."""

    model_config = _section("UKETSUKE_LINE_")

    channel_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    api_base: str = "https://api.line.me"
    data_api_base: str = "https://api-data.line.me"
    # Which clinic this LINE channel belongs to; empty means the first clinic.
    clinic_id: int | None = None
    timeout_seconds: float = 5.0


class TwilioSettings(BaseSettings):
    """Twilio Voice (and Twilio as the first SMS provider)."""

    model_config = _section("UKETSUKE_TWILIO_")

    account_sid: str = ""
    auth_token: SecretStr = SecretStr("")
    api_base: str = "https://api.twilio.com"
    voice: str = "Polly.Mizuki"
    staff_numbers: list[str] = Field(default_factory=list)
    # How long the staff phones ring before the caller is taken back to the attendant.
    ring_seconds: int = Field(default=20, ge=5, le=600)
    # Which clinic the phone number answers for; empty means the first clinic.
    clinic_id: int | None = None
    timeout_seconds: float = 5.0


class SmsSettings(BaseSettings):
    """Outbound SMS; Japanese Twilio numbers are voice-only, so the sender is separate."""

    model_config = _section("UKETSUKE_SMS_")

    provider: Literal["twilio", "none"] = "none"
    sender: str = ""


class MailSettings(BaseSettings):
    """SMTP for email reminders and campaigns."""

    model_config = _section("UKETSUKE_MAIL_")

    smtp_host: str = ""
    smtp_port: int = 587
    username: str = ""
    password: SecretStr = SecretStr("")
    starttls: bool = True
    sender: str = ""


class WorkerSettings(BaseSettings):
    """The outbox worker: how often it ticks and how many messages it sends at once."""

    model_config = _section("UKETSUKE_WORKER_")

    tick_seconds: float = Field(default=10.0, gt=0, le=3600)
    concurrency: int = Field(default=16, ge=1, le=256)
    # Rows claimed per drain; a LINE multicast batch is taken whole even past this.
    batch_size: int = Field(default=500, ge=1, le=5000)
    # A claimed row not settled within this time belongs to a worker that died.
    lease_seconds: float = Field(default=120.0, ge=0)
    # Who answers LINE events and sends what webhooks queued: "web", each web process right
    # after its webhook answered (one machine); "worker", the `uketsuke worker` processes,
    # looking every `poll_seconds`, so the web processes only verify, record and answer.
    events: Literal["web", "worker"] = "web"
    poll_seconds: float = Field(default=0.1, gt=0, le=10)
    # How many answers a web process sends at once right after its webhooks ("web" above).
    kick_concurrency: int = Field(default=8, ge=1, le=64)


class Settings(BaseSettings):
    """The deployment's settings; sections read their own `UKETSUKE_<SECTION>_*` variables."""

    model_config = _section("UKETSUKE_")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./uketsuke.db"
    api_token: SecretStr = SecretStr(DEFAULT_API_TOKEN)
    # The staff web dashboard: the clinic's sign-in password, and the key that signs its
    # session cookies (changing it signs everyone out).
    dashboard_password: SecretStr = SecretStr(DEFAULT_DASHBOARD_PASSWORD)
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Once the app has started, move everything it built (modules, mappers, the holiday
    # calendar) out of reach of Python's garbage collector, so its collections during
    # requests walk only what requests made (backend.app). Tests turn it off: libraries
    # such as Hypothesis look for objects with gc.get_referrers, which skips frozen ones.
    gc_freeze: bool = True

    line: LineSettings = Field(default_factory=LineSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def unsafe_for_production(self) -> list[str]:
        """Name every setting left at a default that must not reach production."""
        problems = []
        token = self.api_token.get_secret_value()
        if token == DEFAULT_API_TOKEN or len(token) < 24:
            problems.append("UKETSUKE_API_TOKEN (use a random string of 24+ characters)")
        password = self.dashboard_password.get_secret_value()
        if password == DEFAULT_DASHBOARD_PASSWORD or len(password) < 12:
            problems.append("UKETSUKE_DASHBOARD_PASSWORD (use a passphrase of 12+ characters)")
        key = self.secret_key.get_secret_value()
        if key == DEFAULT_SECRET_KEY or len(key) < 32:
            problems.append("UKETSUKE_SECRET_KEY (use a random string of 32+ characters)")
        if self.public_base_url.startswith("http://"):
            problems.append("UKETSUKE_PUBLIC_BASE_URL (must be the public https:// URL)")
        return problems


class UnsafeSettingsError(RuntimeError):
    """Production was asked to start with an unsafe default."""


def check_for_production(settings: Settings) -> None:
    """Refuse to start production with unsafe defaults, naming each offending setting."""
    if settings.env != "production":
        return
    problems = settings.unsafe_for_production()
    if problems:
        raise UnsafeSettingsError(
            "refusing to start with UKETSUKE_ENV=production; fix: " + "; ".join(problems)
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process."""
    return Settings()
