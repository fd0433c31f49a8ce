"""A studio's Stripe account through Stripe Connect OAuth, end to end over HTTP: Home's Connect
with Stripe link, Stripe's return to /stripe/connect/callback with the stand-in's code, the
studio's requests then made with the platform key for its account; states that are used,
expired, declined or no longer an admin's connect nothing; Disconnect ends it with Stripe."""

from __future__ import annotations

import html
import http.client
import io
import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from bot.local import SlackDriver, SlackUser
from bot.logging_setup import build_handler
from core.actor import Actor
from core.adapters.stripe_connect import StripeConnect
from core.db import Database
from core.errors import Forbidden
from core.models import Role, StripeConnectState, Workspace, WorkspaceAuditEntry
from core.services.staff import add_staff
from core.services.stripe_account import connect_account, stripe_status
from core.services.stripe_connect import disconnect_studio, start_connect
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, TEAM, World, running_world
from tests.slack.helpers import (
    JSON,
    acked,
    after,
    customers_home,
    forged_action,
    published,
    text_of,
)
from tests.slack.test_stripe_account import world_gateway
from tests.stripe_server import (  # noqa: F401
    API_KEY,
    StripeStandIn,
    free_port,
    stripe_process,
    stripe_server,
)
from tests.views_check import assert_valid_view

CLIENT_ID = "ca_standinPlatform1"
CONNECT = "stripe_account.connect"
OTHER_TEAM, OTHER_ADMIN = "T0002", "UOTHERADMIN"
SECOND_ADMIN = "USECONDADMIN"


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """Everything logged meanwhile at DEBUG, through the handler production writes with."""
    stream = io.StringIO()
    handler = build_handler(stream, json_lines=True, secrets=[API_KEY])
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def connect_world(
    database_url: str,
    clock: MutableClock,
    stripe_server: StripeStandIn,  # noqa: F811
) -> Iterator[World]:
    """A world whose deployment is a Stripe Connect platform, its key STRIPE_API_KEY."""
    settings = {
        "stripe_api_base": stripe_server.url,
        "stripe_api_key": API_KEY,
        "stripe_connect_client_id": CLIENT_ID,
    }
    with running_world(database_url, clock, **settings) as world:
        yield world


def _home(driver: SlackDriver) -> JSON:
    return customers_home(driver)


def _connect_link(driver: SlackDriver) -> str | None:
    """The link Connect with Stripe opens from the person's Home, made when it is pressed; None
    when Home offers no such button."""
    _home(driver)
    if not [e for e in driver.find_elements("home") if e.action_id == CONNECT]:
        return None
    after(driver, driver.click("Connect with Stripe", surface="home"), "views.open")
    modal = driver.wait_for_view(lambda v: v["callback_id"] == "stripe_account.connect_link")
    assert_valid_view(modal)
    (link,) = [e.element for e in driver.find_elements("modal") if e.action_id == CONNECT]
    driver.close()
    return str(link["url"])


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def _back_from_stripe(world: World, **params: str) -> tuple[int, str]:
    """Stripe's redirect to the callback, followed by the admin's browser: status and page."""
    root = urlsplit(world.url)
    conn = http.client.HTTPConnection(root.netloc, timeout=15)
    try:
        conn.request("GET", "/stripe/connect/callback?" + urlencode(params))
        reply = conn.getresponse()
        return reply.status, html.unescape(reply.read().decode())
    finally:
        conn.close()


def _account(world: World, team_id: str = TEAM) -> str:
    with world.db.unit_of_work(readonly=True) as uow:
        row = uow.session.get(Workspace, team_id)
        return row.stripe_account_id if row is not None else ""


def _states(db: Database) -> int:
    with db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(StripeConnectState)) or 0


def test_an_admin_connects_through_stripe_and_the_studio_then_acts_for_that_account(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
    app_log: io.StringIO,
) -> None:
    world = connect_world
    url = _connect_link(world.admin)
    assert url is not None
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == stripe_server.url + "/oauth/authorize"
    query = parse_qs(parts.query)
    assert {k: v[0] for k, v in query.items() if k != "state"} == {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "read_write",
    }
    state = _state(url)
    assert len(state) >= 40 and _states(world.db) == 1
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalars(select(StripeConnectState.state_hash)).one() != state
    assert "Use a Stripe key" in text_of(world.admin.current_view("home"))

    code, account = stripe_server.connect_code()
    status, page = _back_from_stripe(world, code=code, scope="read_write", state=state)
    assert status == 200, page
    assert "Stripe connected" in page and account in page and "slack://open?team=T0001" in page
    assert "sk_test_" not in page and "Traceback" not in page
    assert _account(world) == account and _states(world.db) == 0
    assert ("POST", "/oauth/token", API_KEY, "") in stripe_server.calls()

    home = text_of(_home(world.admin))
    assert f"account `{account}` connected through Stripe Connect" in home
    assert _connect_link(world.admin) is None and "Disconnect Stripe" in home

    stripe_server.request("DELETE", "/_test/calls")
    intent = stripe_server.payment(1000)
    assert world_gateway(world, TEAM).retrieve_payment_intent(intent).amount_minor == 1000
    assert ("GET", f"/v1/payment_intents/{intent}", API_KEY, account) in stripe_server.calls()
    with world.db.unit_of_work(readonly=True) as uow:
        audit = uow.session.execute(
            select(WorkspaceAuditEntry.actor, WorkspaceAuditEntry.detail)
        ).all()
    assert [tuple(a) for a in audit] == [(ADMIN, f"Stripe Connect account {account}")]
    logged = app_log.getvalue()
    assert account in logged and "/oauth/token" in logged
    assert code not in logged and state not in logged
    # The connected account's access and refresh tokens, which Stripe's client logs at DEBUG.
    assert "sk_test_" not in logged and not re.search(r"\brt_[0-9a-f]", logged)


def test_a_state_works_once(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
) -> None:
    state = _state(_connect_link(connect_world.admin) or "")
    first, account = stripe_server.connect_code()
    assert _back_from_stripe(connect_world, code=first, state=state)[0] == 200
    again, _ = stripe_server.connect_code()
    status, page = _back_from_stripe(connect_world, code=again, state=state)
    assert status == 400 and "already used" in page and "Connect with Stripe" in page
    assert _account(connect_world) == account
    made_up = "x" * 43
    status, page = _back_from_stripe(connect_world, code=again, state=made_up)
    assert status == 400 and "not one of ours" in page
    assert [c for c in stripe_server.calls() if c[1] == "/oauth/token"] == [
        ("POST", "/oauth/token", API_KEY, "")
    ]


def test_a_state_expires_after_ten_minutes(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
    clock: MutableClock,
) -> None:
    state = _state(_connect_link(connect_world.admin) or "")
    clock.advance(minutes=10, seconds=1)
    code, _ = stripe_server.connect_code()
    status, page = _back_from_stripe(connect_world, code=code, state=state)
    assert status == 400 and "expired" in page
    assert _account(connect_world) == "" and _states(connect_world.db) == 0
    assert not [c for c in stripe_server.calls() if c[1] == "/oauth/token"]


def test_a_state_connects_only_the_workspace_and_admin_that_started_it(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
) -> None:
    world = connect_world
    with world.db.unit_of_work() as uow:
        add_staff(uow, Actor(OTHER_TEAM, OTHER_ADMIN, Role.ADMIN), OTHER_ADMIN, Role.ADMIN)
        add_staff(uow, Actor(TEAM, ADMIN, Role.ADMIN), SECOND_ADMIN, Role.ADMIN)
    world.api.add_user(SlackUser(OTHER_ADMIN, "them", team_id=OTHER_TEAM))
    world.api.add_user(SlackUser(SECOND_ADMIN, "second", team_id=TEAM))
    theirs = _state(_connect_link(world.admin.as_user(OTHER_ADMIN, team_id=OTHER_TEAM)) or "")
    code, account = stripe_server.connect_code()
    assert _back_from_stripe(world, code=code, state=theirs)[0] == 200
    assert (_account(world, OTHER_TEAM), _account(world, TEAM)) == (account, "")

    second = world.admin.as_user(SECOND_ADMIN)
    state = _state(_connect_link(second) or "")
    with world.db.unit_of_work() as uow:
        add_staff(uow, Actor(TEAM, ADMIN, Role.ADMIN), SECOND_ADMIN, Role.STAFF)
    code, _ = stripe_server.connect_code()
    status, page = _back_from_stripe(world, code=code, state=state)
    assert status == 400 and "no longer an admin" in page
    assert _account(world, TEAM) == ""


def test_declining_on_stripes_page_connects_nothing_and_uses_up_the_state(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
) -> None:
    state = _state(_connect_link(connect_world.admin) or "")
    status, page = _back_from_stripe(
        connect_world,
        error="access_denied",
        error_description="The user denied your request",
        state=state,
    )
    assert status == 200 and "You declined on Stripe's page" in page
    assert _states(connect_world.db) == 0
    code, _ = stripe_server.connect_code()
    assert _back_from_stripe(connect_world, code=code, state=state)[0] == 400
    assert _account(connect_world) == ""
    status, page = _back_from_stripe(connect_world)
    assert status == 400 and "did not come from there" in page


def test_a_code_stripe_refuses_connects_nothing_and_is_never_shown(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
    app_log: io.StringIO,
) -> None:
    state = _state(_connect_link(connect_world.admin) or "")
    status, page = _back_from_stripe(connect_world, code="ac_notFromStripe12345", state=state)
    assert status == 502 and "Stripe did not accept the authorization" in page
    assert "ac_notFromStripe12345" not in page and "ac_notFromStripe12345" not in app_log.getvalue()
    assert _account(connect_world) == "" and _states(connect_world.db) == 0


def test_staff_are_offered_no_link_and_a_forged_press_starts_nothing(
    connect_world: World,
) -> None:
    world = connect_world
    assert _connect_link(world.staff) is None
    home = published(
        world.staff,
        forged_action(
            world.staff,
            world.staff.current_view("home") or {},
            {"type": "button", "action_id": CONNECT, "block_id": "stripe_section", "url": "x"},
        ),
    )
    assert "Only an admin can connect the studio's Stripe account." in text_of(home)
    assert _states(world.db) == 0
    with world.db.unit_of_work() as uow, pytest.raises(Forbidden):
        start_connect(uow, Actor(TEAM, "USTAFF", Role.STAFF))
    # An admin's press of the link only needs an answer: Stripe's page opened in the browser.
    _connect_link(world.admin)
    press = {"type": "button", "action_id": CONNECT, "block_id": "stripe_section", "url": "x"}
    mark = world.api.mark()
    acked(forged_action(world.admin, world.admin.current_view("home") or {}, press))
    assert not [c for c in world.api.calls(since=mark) if c.method.startswith("views.")]


def test_disconnecting_ends_the_connection_with_stripe(
    connect_world: World,
    stripe_server: StripeStandIn,  # noqa: F811
) -> None:
    world = connect_world
    state = _state(_connect_link(world.admin) or "")
    code, account = stripe_server.connect_code()
    assert _back_from_stripe(world, code=code, state=state)[0] == 200
    assert stripe_server.connected_accounts() == [account]
    _home(world.admin)
    home = published(world.admin, world.admin.click("Disconnect Stripe", surface="home"))
    assert "Stripe disconnected." in text_of(home)
    assert stripe_server.connected_accounts() == [] and _account(world) == ""
    assert ("POST", "/oauth/deauthorize", API_KEY, "") in stripe_server.calls()

    # One the account already ended in Stripe's dashboard is forgotten here just the same.
    state = _state(_connect_link(world.admin) or "")
    code, account = stripe_server.connect_code()
    assert _back_from_stripe(world, code=code, state=state)[0] == 200
    stripe_server.request("DELETE", "/_test/oauth")
    _home(world.admin)
    home = published(world.admin, world.admin.click("Disconnect Stripe", surface="home"))
    assert "Stripe disconnected." in text_of(home) and _account(world) == ""


def test_stripe_unreachable_at_disconnect_forgets_the_account_and_says_so(db: Database) -> None:
    admin = Actor(TEAM, ADMIN, Role.ADMIN)
    with db.unit_of_work() as uow:
        connect_account(uow, TEAM, ADMIN, "acct_gone1234")
    away = StripeConnect(CLIENT_ID, API_KEY, api_base=f"http://127.0.0.1:{free_port()}")
    ok, text = disconnect_studio(db, admin, away)
    assert not ok
    assert "Stripe couldn't be reached" in text and "may still list it" in text
    assert "acct_gone1234" in text
    with db.unit_of_work(readonly=True) as uow:
        assert stripe_status(uow, TEAM).source == "none"
