"""Every environment variable the app reads, in one pydantic-settings class."""

from __future__ import annotations

import re
from email.utils import parseaddr
from enum import StrEnum
from typing import Annotated, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from babel.numbers import is_currency
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.crypto import KEY_VARIABLE, MAKE_A_KEY, split_keys
from core.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///./var/customers.db"
# The bot scopes of manifest.yml (a test keeps the two equal); an OAuth install asks for these.
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "files:write",
    "files:read",
    "im:write",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "links:read",
    "links:write",
)
# A Connect platform's client id, from Stripe's Connect settings.
CONNECT_CLIENT_ID = re.compile(r"ca_[A-Za-z0-9]{8,64}")
# `U…` (or `W…` on Enterprise Grid), optionally scoped to one workspace as `T…:U…`.
ADMIN_ENTRY = re.compile(r"(?:T[A-Z0-9]+:)?[UW][A-Z0-9]+")


class RunMode(StrEnum):
    """How the app talks to Slack."""

    SOCKET = "socket"
    HTTP = "http"
    LOCAL = "local"


class Settings(BaseSettings):
    """Configuration from the environment or a `.env` file.

    `ADMIN_SLACK_USER_IDS` entries are `U…` (admin in every workspace the app serves: token
    mode's single one) or `T…:U…` (admin in workspace T… only). With `SLACK_CLIENT_ID` and
    `SLACK_CLIENT_SECRET` (OAuth: many workspaces) only the scoped form is accepted, so no
    entry can make someone an admin of every workspace that installs the app.
    """

    # A blank `NAME=` line (as left by a copied example file) means "not set", not "empty".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_scopes: Annotated[list[str], NoDecode] = Field(default_factory=lambda: [*DEFAULT_SCOPES])
    # Comma-separated Fernet keys for the bot tokens OAuth installs store: the first encrypts,
    # every one decrypts, so a new key goes first and an old one leaves once nothing uses it.
    token_encryption_key: SecretStr | None = None
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    admin_slack_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    stripe_api_key: SecretStr | None = None
    stripe_api_base: str | None = None
    # With it, studios connect their Stripe account through Stripe Connect OAuth; the
    # platform's secret key (STRIPE_API_KEY) then acts for each connected account.
    stripe_connect_client_id: str | None = None
    smtp_url: SecretStr | None = None
    # Bounds each SMTP step; a mail's lease and the outbox's patience follow from it (core.adapters.mail).
    smtp_timeout_seconds: float = Field(default=10.0, ge=1.0, le=120.0)
    # How long a mail being sent stays hidden from other workers; unset, 30 x SMTP_TIMEOUT_SECONDS.
    mail_lease_seconds: float | None = Field(default=None, ge=1.0, le=86400.0)
    mail_from: str = "Customer Records <no-reply@example.com>"
    portal_url: str = "https://portal.example.com/login"
    public_base_url: str | None = None
    # The app's id (A…, on its Basic Information page): customer links send browsers to the app
    # in Slack (bot/transport/customer_links.py).
    slack_app_id: str | None = None
    business_timezone: str = "Europe/London"
    currency: str = "GBP"
    default_region: str = "GB"
    log_level: str = "INFO"

    @field_validator("admin_slack_user_ids", "slack_scopes", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("admin_slack_user_ids")
    @classmethod
    def _admin_entries(cls, value: list[str]) -> list[str]:
        odd = [entry for entry in value if not ADMIN_ENTRY.fullmatch(entry)]
        if odd:
            raise ValueError(
                f"{', '.join(map(repr, odd))} is not a Slack member ID; "
                "use U0123ABCD, or T0123ABCD:U0123ABCD for an admin of one workspace"
            )
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            split_keys(value.get_secret_value())
        return value

    @field_validator("stripe_connect_client_id")
    @classmethod
    def _connect_client_id(cls, value: str | None) -> str | None:
        if value is not None and not CONNECT_CLIENT_ID.fullmatch(value.strip()):
            raise ValueError(
                "not a Stripe Connect client id; copy the one starting with ca_ from "
                "Stripe's Connect settings (Onboarding options, OAuth)"
            )
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _connect_has_a_platform_key(self) -> Settings:
        if self.stripe_connect_client_id is not None and self.stripe_api_key is None:
            raise ValueError(
                "STRIPE_CONNECT_CLIENT_ID is set but STRIPE_API_KEY is not; Stripe Connect "
                "needs the platform's secret key to finish each studio's connection and to act "
                "for its account"
            )
        return self

    @field_validator("slack_scopes")
    @classmethod
    def _some_scopes(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("an install needs at least one bot scope, such as commands")
        return value

    @model_validator(mode="after")
    def _oauth_is_consistent(self) -> Settings:
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            given, missing = (
                ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
                if self.slack_client_secret is None
                else ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")
            )
            raise ValueError(f"{given} is set but {missing} is not; OAuth installs need both")
        if not self.oauth_enabled:
            return self
        if self.slack_bot_token is not None:
            raise ValueError(
                "SLACK_BOT_TOKEN is for a single workspace; with SLACK_CLIENT_ID each "
                "workspace's token comes from its installation, so unset SLACK_BOT_TOKEN"
            )
        if self.slack_app_token is not None:
            raise ValueError(
                "OAuth installs (SLACK_CLIENT_ID) run in HTTP mode; unset SLACK_APP_TOKEN"
            )
        if self.token_encryption_key is None:
            raise ValueError(
                f"{KEY_VARIABLE} is not set; with SLACK_CLIENT_ID each workspace's bot token is "
                f"kept encrypted with it in the database. Make one with: {MAKE_A_KEY}"
            )
        unscoped = [entry for entry in self.admin_slack_user_ids if ":" not in entry]
        if unscoped:
            raise ValueError(
                f"ADMIN_SLACK_USER_IDS: with OAuth installs write each admin as "
                f"TEAM_ID:USER_ID (e.g. T0123ABCD:{unscoped[0]}), so nobody is an admin "
                "of every workspace; the first person to install the app in one becomes its admin"
            )
        return self

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
    def oauth_enabled(self) -> bool:
        """Many workspaces install the app through Slack OAuth (client id and secret set)."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def stripe_connect_enabled(self) -> bool:
        """Studios may connect their Stripe account through Stripe Connect OAuth."""
        return self.stripe_connect_client_id is not None

    @property
    def token_keys(self) -> list[str]:
        """TOKEN_ENCRYPTION_KEY's keys, the one that encrypts first; none when unset."""
        key = self.token_encryption_key
        return split_keys(key.get_secret_value()) if key is not None else []

    @property
    def run_mode(self) -> RunMode:
        """Socket Mode with an app token, HTTP with a signing secret or OAuth, else local."""
        if self.slack_app_token is not None:
            return RunMode.SOCKET
        if (
            self.slack_bot_token is not None
            or self.slack_signing_secret is not None
            or self.oauth_enabled
        ):
            return RunMode.HTTP
        return RunMode.LOCAL

    def workspace_defaults(self) -> dict[str, str]:
        """A new workspace's settings: the business variables, which only seed new workspaces."""
        return {
            "timezone": self.business_timezone,
            "currency": self.currency,
            "default_region": self.default_region,
            "portal_url": self.portal_url,
            "mail_sender_name": parseaddr(self.mail_from)[0],
            "mail_reply_to": "",
        }

    def configured_admins(self, team_id: str) -> list[str]:
        """The admins ADMIN_SLACK_USER_IDS names for `team_id`: its scoped and plain entries."""
        # Every interaction's access check asks; a dict keeps the order without a scan per entry.
        admins: dict[str, None] = {}
        for entry in self.admin_slack_user_ids:
            team, _, user = entry.rpartition(":")
            if team in ("", team_id):
                admins[user] = None
        return list(admins)

    def missing_for(self, mode: RunMode) -> list[str]:
        """The variables `mode` needs that are unset."""
        # OAuth installs bring their own tokens and need the public address for the redirect.
        http = ("public_base_url",) if self.oauth_enabled else ("slack_bot_token",)
        needed = {
            RunMode.SOCKET: ("slack_bot_token", "slack_app_token"),
            RunMode.HTTP: (*http, "slack_signing_secret"),
            RunMode.LOCAL: (),
        }[mode]
        return [name.upper() for name in needed if getattr(self, name) is None]

    def require_for(self, mode: RunMode) -> None:
        """Raise ConfigError naming each variable that `mode` needs but is unset."""
        missing = self.missing_for(mode)
        if missing:
            raise ConfigError(f"{mode.value} mode needs {', '.join(missing)} to be set")
        token = self.slack_app_token
        if mode is RunMode.SOCKET and token and not token.get_secret_value().startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")

    def serve_problem(self, *, http: bool) -> str | None:
        """Why `customer-bot serve` (`--http` when `http`) can't start: the mode chosen from
        what is set, and every way to complete it; None when it can."""
        if not http and self.run_mode is RunMode.LOCAL:
            ways = "\n".join(f"  - {way}" for way in SERVE_WAYS.values())
            return (
                "No Slack credentials are set, so there is nothing to connect to Slack with. "
                f"Set the variables of one of these, in the environment or in .env:\n{ways}\n"
                "To try the app without Slack, run `customer-bot console` (what `make run` "
                "starts when no Slack credentials are set)."
            )
        mode = RunMode.HTTP if http or self.slack_app_token is None else RunMode.SOCKET
        missing = self.missing_for(mode)
        if not missing:
            return None
        if mode is RunMode.SOCKET:
            because = "SLACK_APP_TOKEN is set"
        elif http:
            because = "--http was given"
        else:
            given = [name.upper() for name in SLACK_CREDENTIALS if getattr(self, name) is not None]
            because = f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} set without SLACK_APP_TOKEN"
        others = [way for kind, way in SERVE_WAYS.items() if kind != _way(self, mode)]
        alternatives = "".join(f"\n  - {way}" for way in others)
        return (
            f"{SERVE_NAMES[mode]} was chosen because {because}; it needs "
            f"{' and '.join(missing)} to start. Or set what another way needs:{alternatives}"
        )


# The variables that choose how `serve` connects to Slack.
SLACK_CREDENTIALS = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_client_id",
    "slack_client_secret",
)
SERVE_NAMES = {RunMode.SOCKET: "Socket Mode", RunMode.HTTP: "HTTP mode"}
SERVE_WAYS = {
    "socket": "Socket Mode (the default; no public URL needed): SLACK_BOT_TOKEN and "
    "SLACK_APP_TOKEN (xapp-…)",
    "http": "HTTP mode (`customer-bot serve --http`): SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET",
    "oauth": "many workspaces through Slack OAuth (HTTP mode): SLACK_CLIENT_ID, "
    "SLACK_CLIENT_SECRET, SLACK_SIGNING_SECRET and PUBLIC_BASE_URL",
}


def _way(settings: Settings, mode: RunMode) -> str:
    if mode is RunMode.SOCKET:
        return "socket"
    return "oauth" if settings.oauth_enabled else "http"


def _secret(field: str) -> bool:
    info = Settings.model_fields.get(field)
    return info is None or SecretStr in (info.annotation, *get_args(info.annotation))


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one ConfigError naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:
                # Checks across variables name the variables in their own message.
                problems.append(message)
                continue
            field = str(error["loc"][0])
            given = error.get("input")
            if isinstance(given, str) and repr(given) not in message and not _secret(field):
                message = f"{message}, not {given!r}"
            problems.append(f"{field.upper()}: {message}")
        raise ConfigError("invalid configuration — " + "; ".join(problems)) from None
