"""Secrets at the Slack edge: request ids in the logs, a /healthz that tells nothing, app token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

import pytest
from slack_bolt import App
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.logging_setup import build_handler
from bot.transport.server import serve_socket_mode
from bot.transport.wsgi import create_wsgi_app
from core.config import Settings
from core.db import Database
from core.errors import ConfigError
from tests.conftest import make_settings
from tests.slack.conftest import ADMIN, STRANGER, TEAM, World
from tests.slack.helpers import (
    DELETE,
    after,
    is_view,
    open_hub,
    post_raw,
    row_menu,
    seed,
    updated,
)

BOT_TOKEN = "xoxb-2222-3333-socketbottoken"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the app logs meanwhile, as the JSON lines production writes."""
    stream = io.StringIO()
    handler = build_handler(stream, json_lines=True)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_record_of_an_interaction_carries_its_request_id_across_threads(
    world: World, json_log: io.StringIO
) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.admin
    view = open_hub(driver)
    after(driver, row_menu(driver, view, "Zoe Adams", "Delete"), "views.push")
    driver.wait_for_view(is_view(DELETE))
    updated(driver, driver.submit())
    world.stranger.slash("/customers")
    lines = _lines(json_log)

    # The erasure is logged by core, inside the listener that Bolt runs on its thread pool.
    [erased] = [r for r in lines if r["logger"] == "core.services.customers"]
    assert "erased by UADMIN" in erased["message"]
    assert (erased["team_id"], erased["user_id"]) == (TEAM, ADMIN)
    assert erased["thread"].startswith("ThreadPoolExecutor")
    request_id = erased["request_id"]
    same_request = [r for r in lines if r.get("request_id") == request_id]
    # The same id is on the request thread's records (Bolt's dispatch) and the listener's
    # (its Web API calls), and on no other interaction's.
    threads = {r["thread"].startswith("ThreadPoolExecutor") for r in same_request}
    assert threads == {True, False}
    assert any(r["logger"].startswith("slack_sdk") for r in same_request)

    [refused] = [r for r in lines if "refused non-staff user" in r["message"]]
    assert (refused["team_id"], refused["user_id"]) == (TEAM, STRANGER)
    assert refused["request_id"] not in (None, request_id)
    tagged = [r for r in lines if "request_id" in r]
    assert len({r["request_id"] for r in tagged}) >= 4  # open, menu, submit, refusal
    assert all(r["team_id"] == TEAM for r in tagged)


# -- /healthz -------------------------------------------------------------------------


def _health(db: Database, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    app = App(signing_secret="unused", token="xoxb-unused", token_verification_enabled=False)
    seen: list[tuple[str, dict[str, str]]] = []
    body = b"".join(
        create_wsgi_app(app, db)(
            {"PATH_INFO": "/healthz", "REQUEST_METHOD": method},
            lambda status, headers: seen.append((status, dict(headers))),
        )
    )
    [(status, headers)] = seen
    return status, headers, body


def test_healthz_answers_only_ok_to_get_and_head(world: World) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = _health(world.db, method)
        assert status == "200 OK"
        assert json.loads(body) == {"ok": True}
        assert set(headers) == {"Content-Type", "Content-Length"}


def test_healthz_with_the_database_down_names_no_url_host_or_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # Nothing listens on port 9: the connection is refused at once.
    url = "postgresql+psycopg://reporting:Db-Secret-4711@127.0.0.1:9/customers"
    broken = Database(make_settings(url))
    try:
        status, _, body = _health(broken)
    finally:
        broken.dispose()
    assert status == "503 Service Unavailable"
    assert json.loads(body) == {"ok": False}
    logged = caplog.text
    assert "health check: database unavailable" in logged
    for detail in ("Db-Secret-4711", "reporting", "127.0.0.1:9", "customers"):
        assert detail not in logged and detail.encode() not in body


# -- Socket Mode ----------------------------------------------------------------------


def test_socket_mode_refuses_to_start_without_the_app_token(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    settings = make_settings(f"sqlite:///{path}", slack_bot_token=BOT_TOKEN)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        serve_socket_mode(settings)
    # Refused before anything started: no database was even created.
    assert not path.exists()


def test_socket_mode_refuses_a_bot_token_given_as_the_app_token(tmp_path: Path) -> None:
    path = tmp_path / "never.db"
    settings = make_settings(
        f"sqlite:///{path}", slack_bot_token=BOT_TOKEN, slack_app_token=BOT_TOKEN
    )
    with pytest.raises(ConfigError, match="app-level token starting with xapp-") as caught:
        serve_socket_mode(settings)
    assert BOT_TOKEN not in str(caught.value)
    assert not path.exists()


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The CLI configures logging for the whole process; undo that after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_APP_TOKEN": "xapp-1-A01-4444-apptoken"}, "SLACK_BOT_TOKEN"),
        (
            {"SLACK_APP_TOKEN": BOT_TOKEN, "SLACK_BOT_TOKEN": BOT_TOKEN},
            "SLACK_APP_TOKEN must be an app-level token",
        ),
    ],
    ids=["no bot token", "bot token as app token"],
)
def test_serve_refuses_incomplete_socket_mode_settings_without_echoing_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    database = tmp_path / "x.db"
    result = CliRunner().invoke(
        cli, ["serve"], env={**env, "DATABASE_URL": f"sqlite:///{database}"}
    )
    assert result.exit_code == 2
    assert message in result.output
    for token in env.values():
        assert token not in result.output
    assert not database.exists()


def test_a_refused_signature_logs_nothing_of_the_body_at_any_level(
    world: World, json_log: io.StringIO
) -> None:
    typed = "Secr3t-Passw0rd!"
    body = urlencode({"payload": json.dumps({"password": typed, "padding": "x" * 300_000})})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": "1",
        "X-Slack-Signature": "v0=forged",
    }
    status, _ = post_raw(world.url, body.encode(), headers)
    assert status == 401
    logged = json_log.getvalue()
    assert "Secr3t" not in logged and "Secr3t" not in unquote(logged)
    assert "padding" not in logged
    assert max(len(line) for line in logged.splitlines()) < 2_000


def test_web_api_calls_are_logged_without_people_at_debug(
    world: World, json_log: io.StringIO
) -> None:
    seed(world.db, [("Philippa", "Quaintance")])
    driver = world.admin
    view = open_hub(driver, "quaintance")
    assert "Philippa" in str(view)
    logged = json_log.getvalue()
    assert "views.open" in logged or "Sending a request" in logged, "Slack's debug lines show"
    for personal in ("Philippa", "Quaintance", "example.com", "7700"):
        assert personal not in logged, personal
