"""The HTTP edge: only correctly signed, fresh requests reach the app; health and 404s."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from slack_bolt import App

from bot.local.driver import AppResponse
from bot.local.signing import signed_headers
from bot.transport.wsgi import create_wsgi_app
from core.db import Database
from tests.conftest import make_settings
from tests.slack.conftest import World
from tests.slack.helpers import (
    FORM,
    after,
    customer_count,
    fill_form,
    hub_state,
    interaction,
    is_view,
    post_raw,
)

FORM_TYPE = "application/x-www-form-urlencoded"


def _create_submission(world: World) -> bytes:
    """A complete Create Customer submission by the admin, as Slack would post it."""
    driver = world.admin
    after(driver, driver.slash("/customers", "new"), "views.open")
    driver.wait_for_view(is_view(FORM))
    fill_form(
        driver,
        {
            "first_name": "Zoe",
            "last_name": "Adams",
            "email": "zoe@example.com",
            "mobile": "+44 7700 900123",
        },
    )
    view = driver.current_view("modal") or {}
    payload = interaction(driver, "view_submission", view)
    return urlencode({"payload": json.dumps(payload)}).encode()


def _good(world: World, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": FORM_TYPE,
        **signed_headers(world.signing_secret, int(time.time()), body),
    }


Tamper = Callable[[World, bytes], tuple[bytes, dict[str, str]]]


def _wrong_secret(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {
        "Content-Type": FORM_TYPE,
        **signed_headers("not-the-secret", int(time.time()), body),
    }


def _stale(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    old = int(time.time()) - 6 * 60
    return body, {"Content-Type": FORM_TYPE, **signed_headers(world.signing_secret, old, body)}


def _future(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    later = int(time.time()) + 6 * 60
    return body, {"Content-Type": FORM_TYPE, **signed_headers(world.signing_secret, later, body)}


def _tampered(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = _good(world, body)
    return body.replace(b"Adams", b"Evans"), headers


def _no_headers(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": FORM_TYPE}


def _no_signature(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = _good(world, body)
    del headers["X-Slack-Signature"]
    return body, headers


def _no_timestamp(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = _good(world, body)
    del headers["X-Slack-Request-Timestamp"]
    return body, headers


def _garbage_signature(world: World, body: bytes) -> tuple[bytes, dict[str, str]]:
    headers = _good(world, body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    return body, headers


TAMPERS: list[Tamper] = [
    _wrong_secret,
    _stale,
    _future,
    _tampered,
    _no_headers,
    _no_signature,
    _no_timestamp,
    _garbage_signature,
]


def test_unsigned_or_stale_requests_get_401_and_change_nothing(world: World) -> None:
    body = _create_submission(world)
    mark = world.api.mark()
    for tamper in TAMPERS:
        sent, headers = tamper(world, body)
        status, reply = post_raw(world.url, sent, headers)
        assert status == 401, tamper.__name__
        assert b"Zoe" not in reply and b"Traceback" not in reply
    assert world.api.calls(since=mark) == []
    assert customer_count(world.db) == 0
    # The genuine request still works, so each refusal was the signature check's doing.
    status, reply = post_raw(world.url, body, _good(world, body))
    assert status == 200, reply
    assert customer_count(world.db, email="zoe@example.com") == 1


def test_a_replayed_slash_command_with_an_old_timestamp_is_refused(world: World) -> None:
    body = urlencode(
        {
            "command": "/customers",
            "text": "new",
            "team_id": "T0001",
            "user_id": "UADMIN",
            "channel_id": "C0LOCAL",
            "trigger_id": world.api.issue_trigger_id("UADMIN"),
            "response_url": world.api.new_response_url("C0LOCAL", "UADMIN"),
        }
    ).encode()
    headers = {
        "Content-Type": FORM_TYPE,
        **signed_headers(world.signing_secret, int(time.time()) - 301, body),
    }
    mark = world.api.mark()
    status, _ = post_raw(world.url, body, headers)
    assert status == 401
    assert world.api.calls(since=mark) == []


def _root(world: World) -> str:
    return world.url.removesuffix("/slack/events")


def test_healthz_says_ok_and_nothing_else(world: World) -> None:
    status, body = post_raw(_root(world) + "/healthz", b"", {}, method="GET")
    assert status == 200
    assert json.loads(body) == {"ok": True}
    assert world.api.calls() == []


def test_healthz_reports_an_unreachable_database_without_details(tmp_path: Path) -> None:
    # A directory is not a database file: every connection attempt fails.
    broken = Database(make_settings(f"sqlite:///{tmp_path}"))
    app = App(signing_secret="unused", token="xoxb-unused", token_verification_enabled=False)
    wsgi = create_wsgi_app(app, broken)
    seen: list[str] = []
    body = b"".join(
        wsgi(
            {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"},
            lambda status, headers: seen.append(status),
        )
    )
    broken.dispose()
    assert seen == ["503 Service Unavailable"]
    assert json.loads(body) == {"ok": False}


def test_unknown_paths_get_404(world: World) -> None:
    for method, path in [
        ("GET", "/"),
        ("GET", "/admin"),
        ("POST", "/slack/other"),
        ("GET", "/slack/events"),
    ]:
        status, body = post_raw(
            _root(world) + path, b"{}", {"Content-Type": "application/json"}, method=method
        )
        assert status == 404, (method, path)
        assert json.loads(body) == {"ok": False, "error": "not_found"}
    assert world.api.calls() == []


def _acks_before(world: World, method: str, act: Callable[[], AppResponse | None]) -> None:
    """`act`'s answer reaches Slack while the Web API call it leads to is still held."""
    with world.api.hold(method) as held:
        response = act()
        assert response is not None and response.status == 200, response
        assert held.entered.wait(10), f"the app never called {method}"
        # Had the answer waited for the call, it would have come only after the hold gave up.
        assert not held.timed_out, f"the answer waited for {method}"


def test_every_ack_goes_out_before_the_web_api_call_it_leads_to(world: World) -> None:
    # Wall-clock figures live in bench/ack.py; this holds whatever the machine's load.
    driver = world.admin
    _acks_before(world, "views.open", lambda: driver.slash("/customers"))
    driver.wait_for_view(is_view("hub.view"))
    _acks_before(world, "views.update", lambda: driver.type("zo", into="Search"))
    driver.wait_for_view(lambda v: hub_state(v).get("q") == "zo")
    _acks_before(world, "views.push", lambda: driver.click("+ Create Customer"))
    driver.wait_for_view(is_view("customer_form.submit"))
    fill_form(
        driver,
        {
            "first_name": "Zoe",
            "last_name": "Adams",
            "email": "zoe@example.com",
            "mobile": "+44 7700 900123",
        },
    )
    _acks_before(world, "views.update", driver.submit)
    _acks_before(world, "views.publish", driver.open_home)
