"""Settings: sections read their own variables, `.env` is read, production refuses defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from backend.settings import Settings, UnsafeSettingsError, check_for_production


def test_sections_read_their_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UKETSUKE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("UKETSUKE_LINE_CHANNEL_SECRET", "line-secret")
    monkeypatch.setenv("UKETSUKE_TWILIO_STAFF_NUMBERS", '["+81312345678"]')
    monkeypatch.setenv("UKETSUKE_MAIL_SMTP_PORT", "2525")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.line.channel_secret.get_secret_value() == "line-secret"
    assert settings.twilio.staff_numbers == ["+81312345678"]
    assert settings.mail.smtp_port == 2525


def test_a_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "UKETSUKE_API_TOKEN=from-dotenv\nUKETSUKE_LINE_API_BASE=http://127.0.0.1:9\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.api_token.get_secret_value() == "from-dotenv"
    assert settings.line.api_base == "http://127.0.0.1:9"


def test_development_starts_with_the_defaults() -> None:
    check_for_production(Settings(_env_file=None))  # type: ignore[call-arg]


def test_production_refuses_unsafe_defaults_and_names_them() -> None:
    settings = Settings(_env_file=None, env="production")  # type: ignore[call-arg]
    with pytest.raises(UnsafeSettingsError) as refused:
        check_for_production(settings)
    assert "UKETSUKE_API_TOKEN" in str(refused.value)
    assert "UKETSUKE_PUBLIC_BASE_URL" in str(refused.value)
    assert "UKETSUKE_DASHBOARD_PASSWORD" in str(refused.value)
    assert "UKETSUKE_SECRET_KEY" in str(refused.value)


def test_production_starts_when_configured() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="production",
        api_token=SecretStr("x" * 32),
        dashboard_password=SecretStr("correct horse battery"),
        secret_key=SecretStr("k" * 40),
        public_base_url="https://clinic.example.jp/",
    )
    check_for_production(settings)
    assert settings.public_base_url == "https://clinic.example.jp"


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UKETSUKE_ENV", "staging")
    with pytest.raises(ValueError, match="env"):
        Settings(_env_file=None)  # type: ignore[call-arg]
