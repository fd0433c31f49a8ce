"""Settings: defaults, parsing, startup errors that name the variable, secrets kept secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from core.config import DEFAULT_DATABASE_URL, DEFAULT_SCOPES, RunMode, Settings, load_settings
from core.errors import ConfigError

VARIABLES = [name.upper() for name in Settings.model_fields]
ROOT = Path(__file__).resolve().parents[2]


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
        "CURRENCY", "LOG_LEVEL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SCOPES",
        "TOKEN_ENCRYPTION_KEY", "STRIPE_CONNECT_CLIENT_ID",
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
    # They only seed new workspaces: each workspace then keeps its own (core/services/settings.py).
    monkeypatch.setenv("MAIL_FROM", "Front Desk <desk@studio.example.com>")
    assert load_settings().workspace_defaults() == {
        "timezone": "America/New_York",
        "currency": "USD",
        "default_region": "US",
        "portal_url": "https://studio.example.com/portal",
        "mail_sender_name": "Front Desk",
        "mail_reply_to": "",
    }


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
        ("SMTP_TIMEOUT_SECONDS", "0"),
        ("SMTP_TIMEOUT_SECONDS", "ten"),
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


# ----------------------------------------------------------------- many workspaces (OAuth)

OAUTH = {
    "SLACK_CLIENT_ID": "1234.5678",
    "SLACK_CLIENT_SECRET": "client-secret-4711",
    "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}


def _set(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_oauth_needs_the_signing_secret_and_public_address_but_no_bot_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set(monkeypatch, OAUTH)
    settings = load_settings()
    assert settings.oauth_enabled
    assert settings.run_mode is RunMode.HTTP
    with pytest.raises(ConfigError) as caught:
        settings.require_for(RunMode.HTTP)
    message = str(caught.value)
    assert "SLACK_SIGNING_SECRET" in message and "PUBLIC_BASE_URL" in message
    assert "SLACK_BOT_TOKEN" not in message
    _set(monkeypatch, {"SLACK_SIGNING_SECRET": "s", "PUBLIC_BASE_URL": "https://c.example"})
    load_settings().require_for(RunMode.HTTP)


@pytest.mark.parametrize(
    ("given", "missing"),
    [("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"), ("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID")],
)
def test_half_an_oauth_pair_is_a_startup_error_naming_both(
    monkeypatch: pytest.MonkeyPatch, given: str, missing: str
) -> None:
    monkeypatch.setenv(given, OAUTH[given])
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert f"{given} is set but {missing} is not" in str(caught.value)
    assert "4711" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SLACK_BOT_TOKEN", "xoxb-1", "unset SLACK_BOT_TOKEN"),
        ("SLACK_APP_TOKEN", "xapp-1", "unset SLACK_APP_TOKEN"),
        ("ADMIN_SLACK_USER_IDS", "T0AAA:U01,U02", "TEAM_ID:USER_ID (e.g. T0123ABCD:U02)"),
    ],
)
def test_oauth_refuses_what_only_fits_one_workspace(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    _set(monkeypatch, {**OAUTH, variable: value})
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_settings()


def test_admins_scoped_to_a_workspace_are_admins_there_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADMIN_SLACK_USER_IDS", "U01, T0AAA:U02, T0BBB:U03, T0AAA:U01")
    settings = load_settings()
    assert settings.configured_admins("T0AAA") == ["U01", "U02"]
    assert settings.configured_admins("T0BBB") == ["U01", "U03"]
    assert settings.configured_admins("T0CCC") == ["U01"]
    _set(monkeypatch, {**OAUTH, "ADMIN_SLACK_USER_IDS": "T0AAA:U02,T0BBB:U03"})
    oauth = load_settings()
    assert oauth.configured_admins("T0AAA") == ["U02"]
    assert oauth.configured_admins("T0CCC") == []


@pytest.mark.parametrize("entry", ["alice", "T0AAA:", ":U01", "T0AAA:alice", "u01", "U01:T0AAA"])
def test_an_admin_entry_unlike_a_slack_id_is_a_startup_error(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("ADMIN_SLACK_USER_IDS", f"U01,{entry}")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert f"ADMIN_SLACK_USER_IDS: {entry!r} is not a Slack member ID" in str(caught.value)


def test_oauth_scopes_default_to_the_manifests_bot_scopes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert list(DEFAULT_SCOPES) == manifest["oauth_config"]["scopes"]["bot"]
    assert load_settings().slack_scopes == list(DEFAULT_SCOPES)
    monkeypatch.setenv("SLACK_SCOPES", "commands, chat:write")
    assert load_settings().slack_scopes == ["commands", "chat:write"]
    monkeypatch.setenv("SLACK_SCOPES", " , ")
    with pytest.raises(ConfigError, match="SLACK_SCOPES: an install needs at least one bot scope"):
        load_settings()


def test_the_client_secret_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    _set(monkeypatch, OAUTH)
    settings = load_settings()
    assert settings.slack_client_secret is not None
    assert settings.slack_client_secret.get_secret_value() == OAUTH["SLACK_CLIENT_SECRET"]
    assert "4711" not in repr(settings) + str(settings) + settings.model_dump_json()


# ----------------------------------------------------------------- tokens at rest


def test_oauth_without_a_token_key_is_a_startup_error_saying_how_to_make_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set(monkeypatch, {**OAUTH, "TOKEN_ENCRYPTION_KEY": ""})
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "TOKEN_ENCRYPTION_KEY is not set" in message
    assert "Fernet.generate_key()" in message
    assert "4711" not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not-a-key-4711", "key 1 of 1 is not a Fernet key"),
        ("{good}, tooshort4711", "key 2 of 2 is not a Fernet key"),
        (" , ", "no key given"),
    ],
)
def test_a_malformed_token_key_is_a_startup_error_that_never_echoes_it(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    good = Fernet.generate_key().decode()
    _set(monkeypatch, {**OAUTH, "TOKEN_ENCRYPTION_KEY": value.format(good=good)})
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"TOKEN_ENCRYPTION_KEY: {expected}" in message
    assert "Fernet.generate_key()" in message
    assert "4711" not in message and good not in message


def test_token_keys_list_the_encrypting_key_first_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    _set(monkeypatch, {**OAUTH, "TOKEN_ENCRYPTION_KEY": f" {new} ,{old}"})
    settings = load_settings()
    assert settings.token_keys == [new, old]
    assert new not in repr(settings) and new not in str(settings)
    # A single workspace (token mode) stores no tokens and needs no key.
    monkeypatch.delenv("SLACK_CLIENT_ID")
    monkeypatch.delenv("SLACK_CLIENT_SECRET")
    monkeypatch.delenv("TOKEN_ENCRYPTION_KEY")
    assert load_settings().token_keys == []


def test_stripe_connect_needs_the_platforms_key_and_a_client_id_from_stripe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_CONNECT_CLIENT_ID", "ca_platform12345678")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "STRIPE_CONNECT_CLIENT_ID is set but STRIPE_API_KEY is not" in str(caught.value)
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_platformSecret123")
    assert load_settings().stripe_connect_enabled
    monkeypatch.setenv("STRIPE_CONNECT_CLIENT_ID", "pk_test_notAClientId")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "STRIPE_CONNECT_CLIENT_ID: not a Stripe Connect client id" in message
    assert "starting with ca_" in message and "sk_test_platformSecret123" not in message
    monkeypatch.delenv("STRIPE_CONNECT_CLIENT_ID")
    assert not load_settings().stripe_connect_enabled
