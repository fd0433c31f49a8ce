"""Slack's Web API rate limiting (HTTP 429 + Retry-After) and failing: retried, or told plainly."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import logging
import shutil
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import BoltResponse
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_sdk import WebClient

from bot.app import create_app
from bot.local.driver import AppEndpoint, SlackDriver
from bot.local.http import serve_wsgi
from bot.transport.wsgi import create_wsgi_app
from core.db import Database
from tests.conftest import make_settings
from tests.slack.conftest import STAFF, TEAM, World, world  # noqa: F401 - fixture
from tests.slack.helpers import HUB, acked, after, is_view, open_hub, seed, text_of, watch_logs


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Slack's faults have nothing to do with the database: SQLite alone keeps these quick."""
    path = tmp_path / "test.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def _ephemeral(world: World) -> str:
    return "\n".join(m.text for m in world.api.ephemeral_messages(STAFF))


def _wait_ephemeral(world: World, needle: str) -> str:
    world.api.wait_until(
        lambda: needle in _ephemeral(world), timeout=10, description=f"a reply with {needle!r}"
    )
    return _ephemeral(world)


def test_a_rate_limit_is_waited_out_and_the_hub_still_opens(world: World) -> None:
    driver = world.staff
    world.api.rate_limit("views.open", retry_after=1)
    started = time.monotonic()
    response = acked(driver.slash("/customers"))
    world.api.wait_for("views.open", lambda call: call.ok, since=response.mark)
    waited = time.monotonic() - started
    first, second = world.api.calls("views.open")
    assert (first.ok, first.error) == (False, "ratelimited")
    assert second.ok
    # RateLimitErrorRetryHandler honoured Retry-After (and the trigger was still good).
    assert waited >= 1.0
    driver.wait_for_view(is_view(HUB))


def test_rate_limits_past_the_retries_are_told_plainly_then_pass(world: World) -> None:
    driver = world.staff
    # The client tries three times (two retries): all three are refused.
    world.api.rate_limit("views.open", times=3)
    with watch_logs() as logs:
        acked(driver.slash("/customers"))
        text = _wait_ephemeral(world, "Slack didn't accept")
    assert "ratelimited" in text and "try again in a minute" in text
    assert [c.error for c in world.api.calls("views.open")] == ["ratelimited"] * 3
    _no_secrets(world, logs.records)
    assert not logs.at_least(logging.ERROR), "a rate limit is no bug of ours"
    open_hub(driver)


def test_a_failing_update_is_told_over_the_hub_and_the_next_click_works(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    open_hub(driver)
    # Each click fails just after its ack; every one must still be answered 200 at once.
    for _ in range(5):
        world.api.server_error("views.update")
        with watch_logs() as logs:
            shown = after(driver, driver.click("Archived"), "views.push")
        assert "Slack didn't accept" in text_of(shown.params["view"])
        assert "internal_error" in text_of(shown.params["view"])
        _no_secrets(world, logs.records)
        driver.close()
        view = driver.wait_for_view(is_view(HUB))
        assert "Zoe Adams" in text_of(view)
    after(driver, driver.click("Archived"), "views.update")
    driver.wait_for_view(is_view(HUB, "No archived customers"))


def test_an_acked_click_whose_answer_bolt_loses_is_still_answered_200(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Bolt's thread runner returns None (hence 404 "unhandled request") when its request
    # thread reads a failing listener's answer mid-swap; here it loses every answer.
    original = ThreadListenerRunner.run

    def losing(self: ThreadListenerRunner, *args: Any, **kwargs: Any) -> BoltResponse | None:
        original(self, *args, **kwargs)
        return None

    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    open_hub(driver)
    monkeypatch.setattr(ThreadListenerRunner, "run", losing)
    world.api.server_error("views.update")
    shown = after(driver, driver.click("Archived"), "views.push")
    assert "internal_error" in text_of(shown.params["view"])


def test_a_chart_upload_slack_refuses_fails_plainly_and_the_retry_posts_once(
    world: World,
) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    world.api.server_error("files.getUploadURLExternal")
    acked(driver.slash("/customers", "chart zoe"))
    text = _wait_ephemeral(world, "Slack didn't accept the chart")
    assert "internal_error" in text and "try again" in text.lower()
    assert world.api.files() == []

    # Rate limited on completing the upload: retried after Retry-After, posted once.
    world.api.rate_limit("files.completeUploadExternal", retry_after=0)
    acked(driver.slash("/customers", "chart zoe"))
    world.api.wait_until(lambda: bool(driver.messages()), timeout=10, description="the chart")
    assert len(world.api.files()) == 1
    assert len(driver.messages()) == 1
    assert [c.ok for c in world.api.calls("files.completeUploadExternal")] == [False, True]


def _no_secrets(world: World, records: list[logging.LogRecord]) -> None:
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in records)
    assert world.api.bot_token not in logged
    assert world.signing_secret not in logged


def test_slack_unreachable_is_told_plainly_not_logged_as_a_bug(
    world: World, database_url: str
) -> None:
    # The same workspace and database, served by an app whose Web API address is closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings = make_settings(
        database_url,
        slack_bot_token=world.api.bot_token,
        slack_signing_secret=world.signing_secret,
        slack_api_url=f"http://127.0.0.1:{closed}/api/",
        admin_slack_user_ids="UADMIN",
    )
    db = Database(settings)
    listeners = ThreadPoolExecutor(2)
    # As the app's own client once its retries are spent, minus their seconds of back-off
    # (the guest check asks Slack before the ack, which must come within 3 s).
    client = WebClient(token=world.api.bot_token, base_url=settings.slack_api_url)
    app = create_app(settings, db, client=client, listener_executor=listeners)
    root, stop = serve_wsgi(create_wsgi_app(app, db))
    try:
        driver = SlackDriver(
            world.api,
            AppEndpoint(root + "/slack/events", world.signing_secret),
            user_id=STAFF,
            team_id=TEAM,
        )
        with watch_logs() as logs:
            acked(driver.slash("/customers"))
            text = _wait_ephemeral(world, "Slack didn't accept")
            logs.wait_for("could not reach Slack")
        assert "unreachable" in text and "try again in a minute" in text
        # slack_sdk logs each failed attempt at ERROR itself; the app's own handling is calm.
        ours = [r for r in logs.at_least(logging.ERROR) if not r.name.startswith("slack_sdk")]
        assert not ours, "Slack being unreachable is no bug of ours"
    finally:
        stop()
        listeners.shutdown(wait=True)
        db.dispose()
