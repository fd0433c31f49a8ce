"""Settings: defaults, parsing, startup errors that name the variable, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import DEFAULT_DATABASE_URL, RunMode, Settings, load_settings
from core.errors import ConfigError

VARIABLES = [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No variable from the developer's shell and no `.env` of theirs leaks into a test."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_documented_variable_is_a_setting() -> None:
    documented = {
        "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
        "DATABASE_URL", "ADMIN_SLACK_USER_IDS", "STRIPE_API_KEY", "STRIPE_API_BASE",
        "SMTP_URL", "MAIL_FROM", "PORTAL_URL", "PUBLIC_BASE_URL", "BUSINESS_TIMEZONE",
        "CURRENCY", "LOG_LEVEL",
    }  # fmt: skip
    assert documented <= set(VARIABLES)


def test_defaults_need_no_configuration_at_all() -> None:
    settings = load_settings()
    assert settings.database_url.get_secret_value() == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.startswith("sqlite:///./var/")
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.admin_slack_user_ids == []
    assert settings.stripe_api_key is None
    assert settings.smtp_url is None
    assert settings.public_base_url is None
    assert settings.business_timezone == "Europe/London"
    assert settings.currency == "GBP"
    assert settings.default_region == "GB"
    assert settings.log_level == "INFO"
    assert settings.run_mode is RunMode.LOCAL


def test_values_come_from_the_environment_and_are_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db/customers")
    monkeypatch.setenv("BUSINESS_TIMEZONE", "America/New_York")
    monkeypatch.setenv("CURRENCY", " usd ")
    monkeypatch.setenv("DEFAULT_REGION", "us")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9000/api")
    monkeypatch.setenv("PORTAL_URL", "https://studio.example.com/portal")
    settings = load_settings()
    assert settings.database_url.get_secret_value() == "postgresql+psycopg://app@db/customers"
    assert settings.business_timezone == "America/New_York"
    assert settings.currency == "USD"
    assert settings.default_region == "US"
    assert settings.log_level == "DEBUG"
    assert settings.slack_api_url == "http://127.0.0.1:9000/api/"
    assert settings.portal_url == "https://studio.example.com/portal"


def test_dotenv_file_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    (clean_environment / ".env").write_text(
        "CURRENCY=EUR\nBUSINESS_TIMEZONE=Europe/Paris\n", encoding="utf-8"
    )
    monkeypatch.setenv("CURRENCY", "CHF")
    settings = load_settings()
    assert settings.business_timezone == "Europe/Paris"
    assert settings.currency == "CHF"


@pytest.mark.parametrize(
    ("raw", "ids"),
    [
        ("U01", ["U01"]),
        ("U01,U02", ["U01", "U02"]),
        (" U01 , U02 ,, U03, ", ["U01", "U02", "U03"]),
        ("U01;U02", ["U01", "U02"]),
        ("", []),
    ],
)
def test_admin_ids_are_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, raw: str, ids: list[str]
) -> None:
    monkeypatch.setenv("ADMIN_SLACK_USER_IDS", raw)
    assert load_settings().admin_slack_user_ids == ids


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BUSINESS_TIMEZONE", "Mars/Olympus_Mons"),
        ("BUSINESS_TIMEZONE", "GMT+1:00"),
        ("CURRENCY", "EURO"),
        ("CURRENCY", "XYZ"),
        ("CURRENCY", "£"),
        ("DEFAULT_REGION", "UK"),
        ("DEFAULT_REGION", "Britain"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_malformed_value_is_a_startup_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"{variable}: " in message
    assert repr(value) in message


def test_every_malformed_variable_is_named_in_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_TIMEZONE", "Nowhere/Special")
    monkeypatch.setenv("CURRENCY", "ABCD")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "BUSINESS_TIMEZONE: " in str(caught.value)
    assert "CURRENCY: " in str(caught.value)


def test_blank_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    # A copied `.env.example` leaves `SLACK_BOT_TOKEN=` lines; they must not look configured.
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SMTP_URL", "PUBLIC_BASE_URL"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = load_settings()
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.smtp_url is None
    assert settings.public_base_url is None
    assert settings.database_url.get_secret_value() == DEFAULT_DATABASE_URL
    assert settings.run_mode is RunMode.LOCAL


@pytest.mark.parametrize(
    ("variables", "mode"),
    [
        ({}, RunMode.LOCAL),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, RunMode.HTTP),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, RunMode.SOCKET),
    ],
)
def test_run_mode_follows_the_tokens_given(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], mode: RunMode
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.run_mode is mode
    settings.require_for(mode)


@pytest.mark.parametrize(
    ("mode", "given", "missing"),
    [
        (RunMode.HTTP, {}, ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]),
        (RunMode.HTTP, {"SLACK_BOT_TOKEN": "xoxb-1"}, ["SLACK_SIGNING_SECRET"]),
        (RunMode.HTTP, {"SLACK_SIGNING_SECRET": "s"}, ["SLACK_BOT_TOKEN"]),
        (RunMode.SOCKET, {}, ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]),
        (RunMode.SOCKET, {"SLACK_APP_TOKEN": "xapp-1"}, ["SLACK_BOT_TOKEN"]),
    ],
)
def test_mode_requirements_name_each_missing_variable(
    monkeypatch: pytest.MonkeyPatch, mode: RunMode, given: dict[str, str], missing: list[str]
) -> None:
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings().require_for(mode)
    message = str(caught.value)
    assert mode.value in message
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        assert (name in message) == (name in missing), message


def test_socket_mode_refuses_a_bot_token_in_place_of_the_app_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-2")
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN must be an app-level token"):
        load_settings().require_for(RunMode.SOCKET)


def test_local_mode_needs_nothing() -> None:
    load_settings().require_for(RunMode.LOCAL)


SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-secret-bot-4711",
    "SLACK_SIGNING_SECRET": "signing-secret-4711",
    "SLACK_APP_TOKEN": "xapp-secret-app-4711",
    "DATABASE_URL": "postgresql+psycopg://app:db-password-4711@db/customers",
    "STRIPE_API_KEY": "sk_test_secret_4711",
    "SMTP_URL": "smtp://mailer:smtp-password-4711@mail:587",
}


def test_secrets_never_appear_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    for name, value in SECRETS.items():
        assert getattr(settings, name.lower()).get_secret_value() == value
        assert "4711" not in shown, name


def test_config_error_does_not_echo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CURRENCY", "nope")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "4711" not in str(caught.value)
