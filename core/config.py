"""Every environment variable the app reads, in one pydantic-settings class."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.numbers import is_currency
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///./var/customers.db"


class RunMode(StrEnum):
    """How the app talks to Slack."""

    SOCKET = "socket"
    HTTP = "http"
    LOCAL = "local"


class Settings(BaseSettings):
    """Configuration from the environment or a `.env` file."""

    # A blank `NAME=` line (as left by a copied example file) means "not set", not "empty".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    admin_slack_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    smtp_url: SecretStr | None = None
    mail_from: str = "Customer Records <no-reply@example.com>"
    portal_url: str = "https://portal.example.com/login"
    public_base_url: str | None = None
    business_timezone: str = "Europe/London"
    currency: str = "GBP"
    default_region: str = "GB"
    log_level: str = "INFO"

    @field_validator("admin_slack_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/London"
            ) from exc
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if not is_currency(code):
            raise ValueError(f"unknown currency {value!r}; use an ISO 4217 code such as GBP")
        return code

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {value!r}; use a country code such as GB")
        return region

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}; use DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def run_mode(self) -> RunMode:
        """Socket Mode with an app token, HTTP with a signing secret, else the local workspace."""
        if self.slack_app_token is not None:
            return RunMode.SOCKET
        if self.slack_bot_token is not None or self.slack_signing_secret is not None:
            return RunMode.HTTP
        return RunMode.LOCAL

    def require_for(self, mode: RunMode) -> None:
        """Raise ConfigError naming each variable that `mode` needs but is unset."""
        needed = {
            RunMode.SOCKET: ("slack_bot_token", "slack_app_token"),
            RunMode.HTTP: ("slack_bot_token", "slack_signing_secret"),
            RunMode.LOCAL: (),
        }[mode]
        missing = [name.upper() for name in needed if getattr(self, name) is None]
        if missing:
            raise ConfigError(f"{mode.value} mode needs {', '.join(missing)} to be set")
        token = self.slack_app_token
        if mode is RunMode.SOCKET and token and not token.get_secret_value().startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one ConfigError naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration — " + "; ".join(problems)) from None
