"""Logging set-up: JSON lines, request tags across threads, secrets scrubbed, levels respected.

Records carrying secrets are handed straight to a handler (never through a logger), so the
suite-wide log scan sees only what the app itself logs.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from cryptography.fernet import Fernet
from rich.logging import RichHandler
from slack_bolt import BoltRequest

from bot.logging_setup import (
    HANDLER_NAME,
    LIBRARY_MESSAGE_MAX,
    REDACTED,
    ContextExecutor,
    RequestTag,
    build_handler,
    configure_logging,
    current_tag,
    logging_to_file,
    secret_values,
    tag_for,
    tagged,
    withheld,
)
from core.config import Settings
from tests.conftest import make_settings

BOT_TOKEN = "xoxb-1111-2222-bottokenvalue"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
APP_TOKEN = "xapp-1-A0001-3333-apptokenvalue"
STRIPE_KEY = "sk_live_51Habcdefghijklmnop"
SMTP_PASSWORD = "smtp-P@ss word"
DB_PASSWORD = "db-pass-4711"


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": APP_TOKEN,
        "stripe_api_key": STRIPE_KEY,
        "smtp_url": "smtp://mailer:smtp-P%40ss%20word@mail.example.com:587",
    }
    values.update(overrides)
    return make_settings(f"postgresql+psycopg://app:{DB_PASSWORD}@db.internal/customers", **values)


def _record(
    message: str,
    *args: object,
    level: int = logging.INFO,
    exc: BaseException | None = None,
    name: str = "core.test",
) -> logging.LogRecord:
    exc_info: tuple[type[BaseException], BaseException, TracebackType | None] | None = None
    if exc is not None:
        try:
            raise exc
        except BaseException as raised:
            exc_info = (type(raised), raised, raised.__traceback__)
    return logging.LogRecord(name, level, __file__, 1, message, args, exc_info)


def _json_lines(handler: logging.Handler, *records: logging.LogRecord) -> list[dict[str, Any]]:
    stream = handler.stream  # type: ignore[attr-defined]
    for record in records:
        handler.handle(record)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def json_handler() -> logging.Handler:
    return build_handler(io.StringIO(), json_lines=True, secrets=secret_values(_settings()))


# -- format -------------------------------------------------------------------------------


def test_each_record_is_one_json_object_with_the_documented_fields(
    json_handler: logging.Handler,
) -> None:
    [line] = _json_lines(json_handler, _record("served %s in %d ms", "/healthz", 3))
    assert line["message"] == "served /healthz in 3 ms"
    assert (line["level"], line["logger"]) == ("INFO", "core.test")
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert line["pid"] == os.getpid()
    # Outside an interaction there is no request to name.
    assert not {"request_id", "team_id", "user_id", "exception"} & set(line)


def test_an_error_carries_its_exception_type_and_stack(json_handler: logging.Handler) -> None:
    record = _record("listener failed", level=logging.ERROR, exc=KeyError("view"))
    [line] = _json_lines(json_handler, record)
    assert line["level"] == "ERROR"
    assert line["exception"]["type"] == "KeyError"
    assert "Traceback" in line["exception"]["stack"]
    assert "KeyError: 'view'" in line["exception"]["stack"]


def test_a_multi_line_message_stays_one_line_of_json(json_handler: logging.Handler) -> None:
    lines = _json_lines(json_handler, _record("first\nsecond\ttab \u202e rtl"))
    assert len(lines) == 1
    assert lines[0]["message"] == "first\nsecond\ttab \u202e rtl"


def test_records_in_a_tagged_context_name_the_request_team_and_user(
    json_handler: logging.Handler,
) -> None:
    with tagged(RequestTag("1712.abc", "T0001", "UADMIN")):
        inside = _record("inside")
        json_handler.handle(inside)
    [line] = _json_lines(json_handler)
    assert (line["request_id"], line["team_id"], line["user_id"]) == ("1712.abc", "T0001", "UADMIN")
    assert current_tag() is None


def test_the_context_executor_carries_the_tag_into_pool_threads() -> None:
    inner = ThreadPoolExecutor(1)
    pool = ContextExecutor(inner)
    try:
        # Started outside any request: a bare pool thread would keep no context at all.
        assert pool.submit(current_tag).result() is None
        with tagged(RequestTag("req-1")):
            seen = pool.submit(current_tag).result()
        later = pool.submit(current_tag).result()
    finally:
        pool.shutdown()
    assert seen == RequestTag("req-1")
    assert later is None


def _bolt_request(body: str, headers: dict[str, str] | None = None) -> BoltRequest:
    return BoltRequest(body=body, headers=headers or {}, mode="http")


def test_the_request_id_is_slacks_event_or_trigger_id_else_timestamp_and_random() -> None:
    event = _bolt_request(
        json.dumps({"event_id": "Ev0123", "team_id": "T1", "event": {"user": "U1"}}),
        {"content-type": "application/json"},
    )
    assert tag_for(event).request_id == "Ev0123"
    command = _bolt_request(
        "command=%2Fcustomers&team_id=T1&user_id=U2&trigger_id=13345.9876.abcd",
        {"content-type": "application/x-www-form-urlencoded"},
    )
    assert tag_for(command) == RequestTag("13345.9876.abcd", "T1", "U2")
    first = tag_for(_bolt_request("", {"x-slack-request-timestamp": "1712345678"}))
    second = tag_for(_bolt_request("", {"x-slack-request-timestamp": "1712345678"}))
    assert first.request_id.startswith("1712345678-")
    assert first.request_id != second.request_id


# -- redaction ----------------------------------------------------------------------------

CONFIGURED = [
    ("bot token", BOT_TOKEN),
    ("signing secret", SIGNING_SECRET),
    ("app token", APP_TOKEN),
    ("Stripe key", STRIPE_KEY),
    ("SMTP password", SMTP_PASSWORD),
    ("SMTP password as in the URL", "smtp-P%40ss%20word"),
    ("database password", DB_PASSWORD),
]


@pytest.mark.parametrize(("kind", "secret"), CONFIGURED, ids=[k for k, _ in CONFIGURED])
def test_every_configured_secret_is_scrubbed_from_message_args_and_traceback(
    json_handler: logging.Handler, kind: str, secret: str
) -> None:
    lines = _json_lines(
        json_handler,
        _record(f"inline {secret} here"),
        _record("as an argument: %s", secret),
        _record("as a mapping: %(value)s", {"value": secret}),
        _record("failed", level=logging.ERROR, exc=RuntimeError(f"refused {secret}")),
    )
    text = json.dumps(lines)
    assert secret not in text, kind
    assert text.count(REDACTED) >= 4


SHAPED = [
    ("xoxb-9999-8888-unconfiguredbot", "Slack bot token"),
    ("xoxp-1-2-3-usertoken", "Slack user token"),
    ("xoxe.xoxp-1-refreshtokenvalue", "Slack refresh token"),
    ("xapp-1-A9-9-otherapp", "Slack app token"),
    ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "Stripe test key"),
    ("rk_live_51Hrestricted", "Stripe restricted key"),
    ("whsec_abcdefgh12345678", "Stripe webhook secret"),
    ("ac_490ed76ef0931cb436c77800", "Stripe Connect authorization code"),
    ("rt_64100fdcff742b3934b3f357", "Stripe Connect refresh token"),
    ("Bearer abcdefghijklmnop.qrs", "Authorization header"),
]


@pytest.mark.parametrize(("secret", "kind"), SHAPED, ids=[k for _, k in SHAPED])
def test_secret_shaped_text_is_scrubbed_even_when_not_configured(
    json_handler: logging.Handler, secret: str, kind: str
) -> None:
    [line] = _json_lines(json_handler, _record("calling with %s now", secret))
    assert secret.removeprefix("Bearer ") not in line["message"], kind
    assert REDACTED in line["message"]


def test_a_password_in_any_url_goes_but_user_and_host_stay(json_handler: logging.Handler) -> None:
    url = "postgresql://reporting:hunter2-Secret@replica.internal:5432/db"
    [line] = _json_lines(json_handler, _record("cannot reach %s", url))
    assert (
        line["message"]
        == f"cannot reach postgresql://reporting:{REDACTED}@replica.internal:5432/db"
    )


def test_ordinary_text_is_left_alone(json_handler: logging.Handler) -> None:
    message = "mail 7 sent to zoe@example.com; skipped 3 (xox is not a token) user@host"
    [line] = _json_lines(json_handler, _record(message))
    assert line["message"] == message


def test_short_configured_values_are_not_treated_as_secrets() -> None:
    handler = build_handler(io.StringIO(), json_lines=True, secrets=["s", "abc"])
    [line] = _json_lines(handler, _record("signing secret is set; abc"))
    assert line["message"] == "signing secret is set; abc"


# -- configuration ------------------------------------------------------------------------


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    """The root logger as it was, restored after the test (configure_logging is global)."""
    root = logging.getLogger()
    names = ["", "alembic", "sqlalchemy.engine", "sqlalchemy.pool"]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = root.handlers[:]
    yield root
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_configure_logging_writes_json_to_a_non_terminal_and_honours_log_level(
    clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging(_settings(log_level="WARNING"))
    handler = configure_logging(_settings(log_level="WARNING"))  # again: replaces, not adds
    assert [h for h in clean_root.handlers if h.get_name() == HANDLER_NAME] == [handler]
    assert clean_root.level == logging.WARNING
    assert logging.getLogger("sqlalchemy.engine").level == logging.WARNING
    handler.handle(_record("kept", level=logging.WARNING))
    assert json.loads(stderr.getvalue())["message"] == "kept"


def test_debug_never_switches_on_sql_echo(
    clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    configure_logging(_settings(log_level="DEBUG"))
    assert clean_root.level == logging.DEBUG
    # Statement parameters hold contact details and the outbox's one-time password.
    assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)


def test_a_terminal_gets_readable_text_with_the_request_appended(
    clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    handler = configure_logging(_settings())
    assert isinstance(handler, RichHandler)
    with tagged(RequestTag("req-42", "T0001", "UADMIN")):
        handler.handle(_record("refused guest %s", BOT_TOKEN))
    shown = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # colours off
    assert "refused guest" in shown and "req-42 T0001/UADMIN" in shown
    assert BOT_TOKEN not in shown and "{" not in shown


def test_the_console_logs_json_lines_to_its_file_and_then_restores_the_root(
    clean_root: logging.Logger, tmp_path: Path
) -> None:
    before = clean_root.handlers[:]
    path = tmp_path / "var" / "console.log"
    with logging_to_file(_settings(log_level="INFO"), path) as handler:
        assert clean_root.handlers == [handler]
        handler.handle(_record("opened the hub with %s", SIGNING_SECRET))
    assert clean_root.handlers == before
    [line] = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]
    assert line["message"] == f"opened the hub with {REDACTED}"


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        (
            "Invalid request signature detected (signature: v0=ab, timestamp: 1, body: p=Secr3t)",
            "Invalid request signature detected (signature: v0=ab, timestamp: 1 [body withheld]",
        ),
        (
            "Sending a request - url: https://slack.com/api/views.open, query_params: {}, "
            "body_params: {'view': 'Zoë'}",
            "Sending a request - url: https://slack.com/api/views.open [body withheld]",
        ),
        (
            "Received the following response - status: 200, headers: {}, body: {'name': 'Zoë'}",
            "Received the following response - status: 200 [body withheld]",
        ),
        (
            "Unhandled request ({'type': 'block_actions'})\n---\n[Suggestion] …",
            "Unhandled request [body withheld]",
        ),
        ("request body: {'user': 'U1'}", "[body withheld]"),
        ("Going to retry the same request: POST https://slack.com/api/x", None),
    ],
)
def test_a_libraries_message_stops_where_it_would_quote_a_body(
    message: str, kept: str | None
) -> None:
    assert withheld(message) == (message if kept is None else kept)
    assert len(withheld("x" * 10_000)) == LIBRARY_MESSAGE_MAX


def test_each_token_encryption_key_is_redacted() -> None:
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = _settings(token_encryption_key=f"{new},{old}")
    handler = build_handler(io.StringIO(), json_lines=True, secrets=secret_values(settings))
    [line] = _json_lines(handler, _record("keys %s then %s", f"{new},{old}", old))
    assert new not in line["message"] and old not in line["message"]
