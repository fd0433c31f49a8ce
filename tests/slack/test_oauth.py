"""Many workspaces, end to end: Slack OAuth installs, a token per team, uninstall and reinstall.

Two app processes' worth of state ("workers": two Bolt apps on one database, each served over
HTTP) share nothing but the database: an install started on one finishes on the other. The
browser is played with http.client, Slack's consent page by the stand-in's `approve`, and the
token exchange goes through the real slack_sdk client to the stand-in's oauth.v2.access.
"""

from __future__ import annotations

import http.client
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from alembic import command
from cryptography.fernet import Fernet
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Table, func, inspect, select

from bot.app import create_app
from bot.local import AppEndpoint, SlackDriver, SlackUser
from bot.local.http import serve_wsgi
from bot.local.slack_api import LocalSlackAPI, SlackError, SlackWorkspace
from bot.transport.wsgi import create_wsgi_app
from core.config import DEFAULT_SCOPES
from core.db import Database
from core.errors import ConfigError
from core.migrations.runner import alembic_config, current_revision
from core.models import Customer, Role, StaffMember, Workspace, WorkspaceAuditEntry
from core.models.workspace import slack_bots, slack_installations, slack_oauth_states
from tests.concurrency import poll_until
from tests.conftest import MutableClock, make_settings, reset_postgres
from tests.slack.conftest import TRIGGER_TTL, World
from tests.slack.helpers import (
    FORM,
    HUB,
    acked,
    after,
    fill_form,
    is_view,
    open_hub,
    rows,
    updated,
)

PUBLIC = "https://customers.example.test"
TEAM_A, TEAM_B = "T0AAAA", "T0BBBB"
OWNER_A, OWNER_B = "UOWNERA", "UOWNERB"
# Scoped in ADMIN_SLACK_USER_IDS to workspace A only.
CONFIGURED = "UCONFIGURED"
COOKIE = "slack-app-oauth-state"
KEY, OLD_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@dataclass
class Page:
    """What the installer's browser got back."""

    status: int
    location: str
    cookies: SimpleCookie
    body: str


@dataclass
class OAuthWorld:
    api: LocalSlackAPI
    db: Database
    workers: list[str]
    signing_secret: str
    tokens: dict[str, str] = field(default_factory=dict)

    def browse(self, url: str, *, cookie: str | None = None) -> Page:
        """GET `url` as a browser would (no redirects followed), sending the state cookie."""
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.netloc, timeout=10)
        try:
            headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
            conn.request("GET", f"{parts.path}?{parts.query}", headers=headers)
            reply = conn.getresponse()
            cookies: SimpleCookie = SimpleCookie()
            for value in reply.headers.get_all("Set-Cookie") or []:
                cookies.load(value)
            body = reply.read().decode()
            return Page(reply.status, reply.headers.get("Location", ""), cookies, body)
        finally:
            conn.close()

    def start_install(self, worker: int = 0) -> tuple[str, str]:
        """GET /slack/install: Slack's authorize URL and the state cookie the browser keeps."""
        page = self.browse(self.workers[worker] + "/slack/install")
        assert page.status == 302, page.body
        return page.location, page.cookies[COOKIE].value

    def back_from_slack(self, redirect: str, cookie: str | None, worker: int = 1) -> Page:
        """Follow Slack's redirect to PUBLIC's /slack/oauth_redirect, which is one of ours."""
        assert redirect.startswith(PUBLIC + "/slack/oauth_redirect?")
        return self.browse(self.workers[worker] + redirect.removeprefix(PUBLIC), cookie=cookie)

    def install(self, team_id: str, user_id: str, name: str) -> Page:
        """The whole install of the app into `team_id` by `user_id`; the token is remembered."""
        authorize, state = self.start_install()
        mark = self.api.mark()
        page = self.back_from_slack(
            self.api.approve(authorize, team_id=team_id, user_id=user_id, team_name=name), state
        )
        assert page.status == 200, page.body
        exchange = self.api.wait_for("oauth.v2.access", since=mark)
        self.tokens[team_id] = exchange.response["access_token"]
        return page

    def driver(self, user_id: str, team_id: str, worker: int = 0) -> SlackDriver:
        url = self.workers[worker] + "/slack/events"
        return SlackDriver(
            self.api, AppEndpoint(url, self.signing_secret), user_id=user_id, team_id=team_id
        )

    def count(self, table: Table, **where: str) -> int:
        with self.db.engine.connect() as conn:
            query = select(func.count()).select_from(table)
            for column, value in where.items():
                query = query.where(table.c[column] == value)
            return conn.scalar(query) or 0

    def workspace(self, team_id: str) -> Workspace | None:
        with self.db.unit_of_work(readonly=True) as uow:
            found = uow.session.get(Workspace, team_id)
            if found is not None:
                uow.session.expunge(found)
            return found


@contextmanager
def _oauth_world(
    database_url: str, clock: MutableClock, admins: str, keys: tuple[str, ...] = (KEY,)
) -> Iterator[OAuthWorld]:
    signing_secret = secrets.token_hex(16)
    with LocalSlackAPI(SlackWorkspace(team_id="T0UNUSED"), trigger_ttl=TRIGGER_TTL) as api:
        settings = make_settings(
            database_url,
            slack_client_id=api.client_id,
            slack_client_secret=api.client_secret,
            slack_signing_secret=signing_secret,
            slack_api_url=api.base_url,
            public_base_url=PUBLIC,
            admin_slack_user_ids=admins,
            token_encryption_key=",".join(keys),
        )
        db = Database(settings, clock=clock)
        if db.dialect == "postgresql":
            reset_postgres(db)
        for user, team in [(OWNER_A, TEAM_A), (OWNER_B, TEAM_B), (CONFIGURED, TEAM_A)]:
            api.add_user(SlackUser(user, user.lower(), team_id=team))
        served = [serve_wsgi(create_wsgi_app(create_app(settings, db), db)) for _ in range(2)]
        try:
            yield OAuthWorld(api, db, [root for root, _ in served], signing_secret)
        finally:
            for _, stop in served:
                stop()
            db.dispose()


@pytest.fixture
def oauth(database_url: str, clock: MutableClock) -> Iterator[OAuthWorld]:
    """Workspaces with no configured admin: the first installer of each becomes its admin."""
    with _oauth_world(database_url, clock, "") as world:
        yield world


@pytest.fixture
def configured(database_url: str, clock: MutableClock) -> Iterator[OAuthWorld]:
    """Workspace A has an admin from ADMIN_SLACK_USER_IDS (T0AAAA:UCONFIGURED) before any install."""
    with _oauth_world(database_url, clock, f"{TEAM_A}:{CONFIGURED}") as world:
        yield world


@pytest.fixture
def rotated(database_url: str, clock: MutableClock) -> Iterator[OAuthWorld]:
    """TOKEN_ENCRYPTION_KEY lists a new key (it encrypts) before an old one (it still decrypts)."""
    with _oauth_world(database_url, clock, "", keys=(KEY, OLD_KEY)) as world:
        yield world


def create_customer(driver: SlackDriver, first: str, last: str) -> list[str]:
    """Create a customer through the hub's form; the hub's rows afterwards."""
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    driver.wait_for_view(is_view(FORM, "Create Customer"))
    email = f"{first}.{last}@example.com".lower()
    mobile = f"+44 7700 900{len(first) * 10 + len(last):03d}"
    fill_form(driver, {"first_name": first, "last_name": last, "email": email, "mobile": mobile})
    view = updated(driver, driver.submit())
    assert view["callback_id"] == HUB
    return rows(view)


# ----------------------------------------------------------------- installing


def test_install_goes_through_slack_with_a_state_kept_in_the_database(
    oauth: OAuthWorld,
) -> None:
    authorize, state = oauth.start_install(worker=0)
    parts = urlsplit(authorize)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}" == oauth.api.root_url + "/oauth/v2/authorize"
    )
    assert query["client_id"] == oauth.api.client_id
    assert query["scope"] == ",".join(DEFAULT_SCOPES)
    assert query["redirect_uri"] == PUBLIC + "/slack/oauth_redirect"
    assert query["state"] == state
    # The state lives in the database, so any worker can finish what this one started.
    assert oauth.count(slack_oauth_states, state=state) == 1

    redirect = oauth.api.approve(authorize, team_id=TEAM_A, user_id=OWNER_A, team_name="Studio A")
    page = oauth.back_from_slack(redirect, state, worker=1)
    assert page.status == 200, page.body
    assert "Customer Records is now part of Studio A. You are its admin there." in page.body
    assert f'href="slack://app?team={TEAM_A}&amp;id={oauth.api.app_id}"' in page.body
    assert page.cookies[COOKIE].value == "deleted"
    assert oauth.count(slack_oauth_states) == 0

    exchange = oauth.api.last("oauth.v2.access")
    assert exchange.ok
    token = exchange.response["access_token"]
    assert oauth.api.team_of(token) == TEAM_A
    assert oauth.count(slack_bots, team_id=TEAM_A) == 1
    # Kept encrypted (test_tokens_are_stored_encrypted_…).
    assert oauth.count(slack_bots, bot_token=token) == 0
    assert oauth.count(slack_installations, team_id=TEAM_A, user_id=OWNER_A) == 1
    workspace = oauth.workspace(TEAM_A)
    assert workspace is not None
    assert (workspace.name, workspace.disabled_at) == ("Studio A", None)
    with oauth.db.unit_of_work(readonly=True) as uow:
        role = uow.session.scalar(
            select(StaffMember.role).where(
                StaffMember.team_id == TEAM_A, StaffMember.slack_user_id == OWNER_A
            )
        )
    assert role is Role.ADMIN


def test_the_installed_workspace_works_with_its_own_token(oauth: OAuthWorld) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    owner = oauth.driver(OWNER_A, TEAM_A)
    mark = oauth.api.mark()
    assert create_customer(owner, "Zoe", "Adams") == ["Zoe Adams"]

    calls = oauth.api.calls(since=mark)
    assert {c.method for c in calls} >= {"views.open", "views.push", "views.update"}
    # Bolt asks Slack about a token once per process, not on every request.
    assert [c.method for c in calls].count("auth.test") == 1
    assert {(c.token, c.team_id) for c in calls} == {(oauth.tokens[TEAM_A], TEAM_A)}
    opened = next(c for c in calls if c.method == "views.open")
    assert opened.response["view"]["team_id"] == TEAM_A
    # The other worker serves the same workspace from the same installation.
    assert rows(open_hub(oauth.driver(OWNER_A, TEAM_A, worker=1))) == ["Zoe Adams"]


def test_two_workspaces_side_by_side_see_only_their_own(oauth: OAuthWorld) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    oauth.install(TEAM_B, OWNER_B, "Studio B")
    assert oauth.tokens[TEAM_A] != oauth.tokens[TEAM_B]
    a, b = oauth.driver(OWNER_A, TEAM_A), oauth.driver(OWNER_B, TEAM_B, worker=1)
    assert create_customer(a, "Zoe", "Adams") == ["Zoe Adams"]
    assert create_customer(b, "Bea", "Brown") == ["Bea Brown"]
    mark = oauth.api.mark()
    assert rows(open_hub(a)) == ["Zoe Adams"]
    assert oauth.api.last("views.open").team_id == TEAM_A
    assert rows(open_hub(b)) == ["Bea Brown"]
    assert oauth.api.last("views.open").team_id == TEAM_B
    assert {c.team_id for c in oauth.api.calls(since=mark)} == {TEAM_A, TEAM_B}

    # Installing A made its owner an admin of A, not of B.
    assert rows(open_hub(oauth.driver(OWNER_A, TEAM_A))) == ["Zoe Adams"]
    refused = oauth.driver(OWNER_A, TEAM_B).slash("/customers")
    assert refused.status == 200
    assert "don't have access yet" in refused.text
    assert f"<@{OWNER_B}>" in refused.text


def test_a_reinstall_by_another_person_keeps_the_first_admin(oauth: OAuthWorld) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    oauth.api.add_user(SlackUser("USECOND", "second", team_id=TEAM_A))
    oauth.install(TEAM_A, "USECOND", "Studio A (renamed)")
    workspace = oauth.workspace(TEAM_A)
    assert workspace is not None and workspace.name == "Studio A (renamed)"
    open_hub(oauth.driver(OWNER_A, TEAM_A))
    # Requests use the newest installation's token.
    assert oauth.api.last("views.open").token == oauth.tokens[TEAM_A]
    assert "don't have access yet" in oauth.driver("USECOND", TEAM_A).slash("/customers").text


def test_token_mode_serves_no_install_pages(world: World) -> None:
    root = world.url.removesuffix("/slack/events")
    browser = OAuthWorld(world.api, world.db, [root], world.signing_secret)
    assert browser.browse(root + "/slack/install").status == 404
    assert browser.browse(root + "/slack/oauth_redirect?code=x&state=y").status == 404


# ----------------------------------------------------------------- who an install makes admin

STAFFER, STRANGER = "USTAFFER", "USTRANGER"


def role_of(oauth: OAuthWorld, team_id: str, user_id: str) -> Role | None:
    with oauth.db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(
            select(StaffMember.role).where(
                StaffMember.team_id == team_id, StaffMember.slack_user_id == user_id
            )
        )


def audit_of(oauth: OAuthWorld, team_id: str) -> list[tuple[str, str, str]]:
    """The workspace's audit, oldest first, read from its table: (who, what, detail)."""
    with oauth.db.engine.connect() as conn:
        table = WorkspaceAuditEntry.__table__
        query = select(table.c.actor, table.c.action, table.c.detail)
        rows = conn.execute(query.where(table.c.team_id == team_id).order_by(table.c.id))
        return [(row.actor, row.action, row.detail) for row in rows]


def installed_with_staff(oauth: OAuthWorld, team_id: str, owner: str) -> SlackDriver:
    """`owner` installs `team_id` and adds STAFFER as staff; STRANGER is a member with no access."""
    for user in (STAFFER, STRANGER):
        oauth.api.add_user(SlackUser(user, user.lower(), team_id=team_id))
    oauth.install(team_id, owner, "Studio")
    admin = oauth.driver(owner, team_id)
    acked(admin.slash("/customers", f"staff add <@{STAFFER}|staffer>"))
    return admin


def test_a_reinstall_by_staff_keeps_them_staff(oauth: OAuthWorld) -> None:
    installed_with_staff(oauth, TEAM_A, OWNER_A)
    page = oauth.install(TEAM_A, STAFFER, "Studio")
    assert "Your access is unchanged: you are staff there." in page.body
    assert role_of(oauth, TEAM_A, STAFFER) is Role.STAFF
    tried = oauth.driver(STAFFER, TEAM_A).slash("/customers", f"staff remove <@{OWNER_A}|o>")
    assert "Only an admin can manage staff access." in acked(tried).text
    assert role_of(oauth, TEAM_A, OWNER_A) is Role.ADMIN
    assert audit_of(oauth, TEAM_A) == [
        (
            OWNER_A,
            "app installed",
            "installer made admin (the workspace had no admin; before: no access)",
        ),
        (STAFFER, "app re-installed", "installer's access unchanged: staff"),
    ]


def test_a_reinstall_by_a_stranger_gives_them_nothing(oauth: OAuthWorld) -> None:
    installed_with_staff(oauth, TEAM_A, OWNER_A)
    page = oauth.install(TEAM_A, STRANGER, "Studio")
    assert "installing did not give you access" in page.body
    assert role_of(oauth, TEAM_A, STRANGER) is None
    refused = acked(oauth.driver(STRANGER, TEAM_A).slash("/customers"))
    assert "don't have access yet" in refused.text
    assert audit_of(oauth, TEAM_A)[-1] == (
        STRANGER,
        "app re-installed",
        "installer's access unchanged: no access",
    )


def test_a_reinstall_by_an_admin_keeps_them_admin(oauth: OAuthWorld) -> None:
    installed_with_staff(oauth, TEAM_A, OWNER_A)
    page = oauth.install(TEAM_A, OWNER_A, "Studio")
    assert "You are still one of its admins there." in page.body
    assert role_of(oauth, TEAM_A, OWNER_A) is Role.ADMIN
    assert role_of(oauth, TEAM_A, STAFFER) is Role.STAFF
    assert audit_of(oauth, TEAM_A)[-1] == (
        OWNER_A,
        "app re-installed",
        "installer's access unchanged: admin",
    )


def test_once_every_admin_is_gone_the_next_installer_becomes_admin(oauth: OAuthWorld) -> None:
    admin = installed_with_staff(oauth, TEAM_B, OWNER_B)
    acked(admin.slash("/customers", f"staff remove <@{OWNER_B}|me>"))
    assert role_of(oauth, TEAM_B, OWNER_B) is None
    page = oauth.install(TEAM_B, STAFFER, "Studio")
    assert "You are its admin there." in page.body
    assert role_of(oauth, TEAM_B, STAFFER) is Role.ADMIN
    listed = acked(oauth.driver(STAFFER, TEAM_B).slash("/customers", "staff list"))
    assert f"<@{STAFFER}>" in listed.text
    # The next installer finds an admin again and gets nothing.
    oauth.install(TEAM_B, STRANGER, "Studio")
    assert role_of(oauth, TEAM_B, STRANGER) is None
    assert [(who, what) for who, what, _ in audit_of(oauth, TEAM_B)] == [
        (OWNER_B, "app installed"),
        (STAFFER, "app re-installed"),
        (STRANGER, "app re-installed"),
    ]
    assert audit_of(oauth, TEAM_B)[1][2] == (
        "installer made admin (the workspace had no admin; before: staff)"
    )
    assert audit_of(oauth, TEAM_A) == []


def test_a_configured_admin_counts_so_the_first_installer_is_not_made_admin(
    configured: OAuthWorld,
) -> None:
    page = configured.install(TEAM_A, OWNER_A, "Studio A")
    assert "installing did not give you access" in page.body
    assert role_of(configured, TEAM_A, OWNER_A) is None
    refused = acked(configured.driver(OWNER_A, TEAM_A).slash("/customers"))
    assert f"<@{CONFIGURED}>" in refused.text
    # The configured admin (scoped to A) grants access in A and has none in B.
    boss = configured.driver(CONFIGURED, TEAM_A)
    acked(boss.slash("/customers", f"staff add <@{OWNER_A}|owner>"))
    assert rows(open_hub(configured.driver(OWNER_A, TEAM_A))) == []
    configured.install(TEAM_B, OWNER_B, "Studio B")
    assert role_of(configured, TEAM_B, OWNER_B) is Role.ADMIN
    assert "don't have access yet" in configured.driver(CONFIGURED, TEAM_B).slash("/customers").text
    assert audit_of(configured, TEAM_A) == [
        (OWNER_A, "app installed", "installer's access unchanged: no access")
    ]


# ----------------------------------------------------------------- refused installs


def test_a_reused_or_forged_state_is_refused_with_a_clear_page(oauth: OAuthWorld) -> None:
    authorize, state = oauth.start_install()
    redirect = oauth.api.approve(authorize, team_id=TEAM_A, user_id=OWNER_A)
    assert oauth.back_from_slack(redirect, state).status == 200

    reused = oauth.back_from_slack(redirect, state)
    assert reused.status == 401
    assert "Customer Records was not installed" in reused.body
    assert "This installation link has expired or was already used." in reused.body
    assert 'href="/slack/install"' in reused.body

    # A state the app never issued, with a cookie to match (an attacker's own browser).
    authorize, state = oauth.start_install()
    forged = oauth.api.approve(authorize, team_id=TEAM_B, user_id=OWNER_B)
    forged = forged.replace(f"state={state}", f"state={'f' * len(state)}")
    mark = oauth.api.mark()
    page = oauth.back_from_slack(forged, "f" * len(state))
    assert page.status == 401
    assert "expired or was already used" in page.body
    # Refused before the code was exchanged: workspace B has no installation and no tenant.
    assert oauth.api.calls("oauth.v2.access", since=mark) == []
    assert oauth.count(slack_bots, team_id=TEAM_B) == 0
    assert oauth.workspace(TEAM_B) is None


def test_an_install_finished_in_another_browser_is_refused(oauth: OAuthWorld) -> None:
    authorize, state = oauth.start_install()
    redirect = oauth.api.approve(authorize, team_id=TEAM_A, user_id=OWNER_A)
    page = oauth.back_from_slack(redirect, cookie=None)
    assert page.status == 400
    assert "started in another browser" in page.body
    assert oauth.count(slack_bots) == 0
    # The state is still unused: the browser that holds the cookie can finish.
    assert oauth.back_from_slack(redirect, state).status == 200


def test_cancelling_on_slacks_page_installs_nothing(oauth: OAuthWorld) -> None:
    _, state = oauth.start_install()
    page = oauth.back_from_slack(
        f"{PUBLIC}/slack/oauth_redirect?error=access_denied&state={state}", state
    )
    assert page.status == 200
    assert "The installation was cancelled in Slack." in page.body
    assert oauth.count(slack_installations) == 0


# ----------------------------------------------------------------- uninstalling


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
def test_uninstall_disables_the_workspace_and_a_reinstall_brings_it_back(
    oauth: OAuthWorld, event: dict[str, object]
) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    oauth.install(TEAM_B, OWNER_B, "Studio B")
    a = oauth.driver(OWNER_A, TEAM_A)
    create_customer(a, "Zoe", "Adams")
    first_token = oauth.tokens[TEAM_A]

    oauth.api.uninstall(TEAM_A)
    assert a.send_event({**event, "event_ts": "1.0"}).status == 200
    # slack_sdk deletes the bot rows, then the installation rows: wait for both.
    poll_until(
        lambda: (
            oauth.count(slack_bots, team_id=TEAM_A) == 0
            and oauth.count(slack_installations, team_id=TEAM_A) == 0
        ),
        "A's tokens to go",
    )
    workspace = oauth.workspace(TEAM_A)
    assert workspace is not None and workspace.disabled_at is not None

    # Nothing runs for A any more, on either worker; its customers are all still there.
    mark = oauth.api.mark()
    for worker in (0, 1):
        ignored = oauth.driver(OWNER_A, TEAM_A, worker=worker).slash("/customers")
        assert (ignored.status, ignored.text) == (200, "")
        assert oauth.driver(OWNER_A, TEAM_A, worker=worker).open_home().status == 200
    assert oauth.api.calls(since=mark) == []
    with oauth.db.unit_of_work(readonly=True) as uow:
        names = uow.session.scalars(select(Customer.last_name).where(Customer.team_id == TEAM_A))
        assert list(names) == ["Adams"]
    # B is untouched.
    assert rows(open_hub(oauth.driver(OWNER_B, TEAM_B))) == []

    oauth.install(TEAM_A, OWNER_A, "Studio A")
    assert oauth.tokens[TEAM_A] != first_token
    workspace = oauth.workspace(TEAM_A)
    assert workspace is not None and workspace.disabled_at is None
    assert rows(open_hub(a)) == ["Zoe Adams"]
    assert oauth.api.last("views.open").token == oauth.tokens[TEAM_A]


def test_a_user_token_revocation_leaves_the_install_alone(oauth: OAuthWorld) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    a = oauth.driver(OWNER_A, TEAM_A)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [OWNER_A], "bot": []}}
    assert a.send_event({**revoked, "event_ts": "1.0"}).status == 200
    assert rows(open_hub(a)) == []
    workspace = oauth.workspace(TEAM_A)
    assert workspace is not None and workspace.disabled_at is None


# ----------------------------------------------------------------- storage


def test_store_tables_are_exactly_slack_sdks(oauth: OAuthWorld) -> None:
    """The migration's tables are what slack_sdk's stores define, and only the migration makes them."""
    store = SQLAlchemyInstallationStore(client_id="c", engine=oauth.db.engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=60, engine=oauth.db.engine)
    theirs = [store.installations, store.bots, states.oauth_states]
    ours = [slack_installations, slack_bots, slack_oauth_states]
    # Ours add one index, by which expired states are purged.
    added = {"slack_oauth_states": {("ix_slack_oauth_states_expire_at", ("expire_at",))}}
    for their, our in zip(theirs, ours, strict=True):
        assert (their.name, _shape(their)) == (our.name, _shape(our))
        assert {(i.name, tuple(c.name for c in i.columns)) for i in their.indexes} | added.get(
            our.name, set()
        ) == {(i.name, tuple(c.name for c in i.columns)) for i in our.indexes}
    # What the database holds after the migrations matches too, index included.
    inspector = inspect(oauth.db.engine)
    for our in ours:
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns(our.name)}
        assert columns == {c.name: c.nullable for c in our.columns}
    assert {i["name"] for i in inspector.get_indexes("slack_bots")} == {"slack_bots_idx"}


TOKEN_COLUMNS = [(slack_bots, "bot_token"), (slack_installations, "bot_token")]


def stored_tokens(oauth: OAuthWorld, team_id: str) -> list[str]:
    """The bot tokens of `team_id` as the database holds them, read from the raw tables."""
    with oauth.db.engine.connect() as conn:
        return [
            conn.execute(select(table.c[column]).where(table.c.team_id == team_id)).scalar_one()
            for table, column in TOKEN_COLUMNS
        ]


def restore(oauth: OAuthWorld, team_id: str, seal: Callable[[str], str]) -> None:
    """Rewrite `team_id`'s stored tokens as `seal` makes them from the plaintext."""
    with oauth.db.engine.begin() as conn:
        for table, column in TOKEN_COLUMNS:
            conn.execute(
                table.update()
                .where(table.c.team_id == team_id)
                .values({column: seal(oauth.tokens[team_id])})
            )


def test_tokens_are_stored_encrypted_and_the_app_works_with_them(oauth: OAuthWorld) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    token = oauth.tokens[TEAM_A]
    for stored in stored_tokens(oauth, TEAM_A):
        assert token not in stored and "xox" not in stored
        assert Fernet(KEY).decrypt(stored.encode()).decode() == token
    assert create_customer(oauth.driver(OWNER_A, TEAM_A), "Zoe", "Adams") == ["Zoe Adams"]
    assert oauth.api.last("views.update").token == token


def test_an_older_key_still_decrypts_and_the_first_one_encrypts(rotated: OAuthWorld) -> None:
    rotated.install(TEAM_A, OWNER_A, "Studio A")
    # As stored before the new key was put first.
    restore(rotated, TEAM_A, lambda token: Fernet(OLD_KEY).encrypt(token.encode()).decode())
    mark = rotated.api.mark()
    assert rows(open_hub(rotated.driver(OWNER_A, TEAM_A, worker=1))) == []
    assert {c.token for c in rotated.api.calls(since=mark)} == {rotated.tokens[TEAM_A]}
    rotated.install(TEAM_B, OWNER_B, "Studio B")
    for stored in stored_tokens(rotated, TEAM_B):
        assert Fernet(KEY).decrypt(stored.encode()).decode() == rotated.tokens[TEAM_B]


def test_a_token_no_key_decrypts_serves_nothing_and_says_so(
    oauth: OAuthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    dropped = Fernet.generate_key()
    restore(oauth, TEAM_A, lambda token: Fernet(dropped).encrypt(token.encode()).decode())
    mark = oauth.api.mark()
    oauth.driver(OWNER_A, TEAM_A).slash("/customers")
    assert oauth.api.calls("views.open", since=mark) == []
    [said] = [r.getMessage() for r in caplog.records if r.name == "bot.transport.token_store"]
    assert said == f"no key in TOKEN_ENCRYPTION_KEY decrypts the stored token of {TEAM_A}"


def test_the_migration_encrypts_plaintext_tokens_and_needs_the_key_for_them(
    oauth: OAuthWorld,
) -> None:
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    engine, token = oauth.db.engine, oauth.tokens[TEAM_A]
    # Back to before encryption: the downgrade leaves the tokens as they were stored then.
    command.downgrade(alembic_config(engine, [KEY]), "0006")
    assert stored_tokens(oauth, TEAM_A) == [token, token]
    assert "ix_slack_oauth_states_expire_at" not in {
        i["name"] for i in inspect(engine).get_indexes("slack_oauth_states")
    }
    with pytest.raises(ConfigError) as refused:
        command.upgrade(alembic_config(engine), "head")
    assert "TOKEN_ENCRYPTION_KEY must be set to encrypt them" in str(refused.value)
    assert "Fernet.generate_key()" in str(refused.value)
    assert current_revision(engine) == "0006"
    assert stored_tokens(oauth, TEAM_A) == [token, token]

    command.upgrade(alembic_config(engine, [KEY]), "head")
    for stored in stored_tokens(oauth, TEAM_A):
        assert Fernet(KEY).decrypt(stored.encode()).decode() == token
    assert "ix_slack_oauth_states_expire_at" in {
        i["name"] for i in inspect(engine).get_indexes("slack_oauth_states")
    }
    assert rows(open_hub(oauth.driver(OWNER_A, TEAM_A))) == []
    assert oauth.api.last("views.open").token == token


def test_expired_states_are_purged_when_an_install_starts(oauth: OAuthWorld) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    with oauth.db.engine.begin() as conn:
        conn.execute(
            slack_oauth_states.insert(),
            [
                {"state": "stale-1", "expire_at": now - timedelta(days=2)},
                {"state": "stale-2", "expire_at": now - timedelta(seconds=1)},
                {"state": "pending", "expire_at": now + timedelta(minutes=5)},
            ],
        )
    _, state = oauth.start_install()
    with oauth.db.engine.connect() as conn:
        left = set(conn.scalars(select(slack_oauth_states.c.state)))
    assert left == {"pending", state}


def _shape(table: Table) -> list[tuple[str, str, bool | None, bool]]:
    return [(c.name, repr(c.type), c.nullable, c.primary_key) for c in table.columns]


def test_the_migration_downgrades_and_upgrades_again(oauth: OAuthWorld) -> None:
    config = alembic_config(oauth.db.engine)
    command.downgrade(config, "0003")
    inspector = inspect(oauth.db.engine)
    assert not {"slack_bots", "slack_installations", "slack_oauth_states"} & set(
        inspector.get_table_names()
    )
    assert "disabled_at" not in {c["name"] for c in inspector.get_columns("workspaces")}
    command.upgrade(config, "head")
    oauth.install(TEAM_A, OWNER_A, "Studio A")
    assert oauth.count(slack_bots, team_id=TEAM_A) == 1


# ----------------------------------------------------------------- the stand-in's side


def test_the_stand_in_issues_a_token_per_team_and_revokes_them_on_uninstall() -> None:
    with LocalSlackAPI(SlackWorkspace(team_id="T0FIRST"), trigger_ttl=TRIGGER_TTL) as api:
        client = WebClient(base_url=api.base_url)
        authorize = (
            f"{api.root_url}/oauth/v2/authorize?state=s1&client_id={api.client_id}"
            f"&scope=commands,chat:write&user_scope=&redirect_uri={PUBLIC}/slack/oauth_redirect"
        )
        with pytest.raises(SlackError, match="invalid_client_id"):
            api.approve(
                authorize.replace(api.client_id, "someone.else"), team_id=TEAM_A, user_id="U1"
            )
        back = urlsplit(api.approve(authorize, team_id=TEAM_A, user_id="U1", team_name="Studio A"))
        query = {key: values[0] for key, values in parse_qs(back.query).items()}
        assert query["state"] == "s1"
        secret = {"client_id": api.client_id, "client_secret": api.client_secret}
        with pytest.raises(SlackApiError) as wrong_uri:
            client.oauth_v2_access(**secret, code=query["code"], redirect_uri=PUBLIC + "/elsewhere")
        assert wrong_uri.value.response["error"] == "bad_redirect_uri"

        code = api.approve(authorize, team_id=TEAM_A, user_id="U1", team_name="Studio A")
        code = parse_qs(urlsplit(code).query)["code"][0]
        granted = client.oauth_v2_access(
            **secret, code=code, redirect_uri=PUBLIC + "/slack/oauth_redirect"
        )
        assert granted["team"] == {"id": TEAM_A, "name": "Studio A"}
        assert granted["authed_user"] == {"id": "U1"}
        assert (granted["scope"], granted["token_type"], granted["enterprise"]) == (
            "commands,chat:write",
            "bot",
            None,
        )
        token = granted["access_token"]
        assert token.startswith("xoxb-") and token != api.bot_token

        assert client.auth_test(token=token)["team_id"] == TEAM_A
        assert client.auth_test(token=api.bot_token)["team_id"] == "T0FIRST"
        assert [c.team_id for c in api.calls("auth.test")] == [TEAM_A, "T0FIRST"]

        api.uninstall(TEAM_A)
        with pytest.raises(SlackApiError) as revoked:
            client.auth_test(token=token)
        assert revoked.value.response["error"] == "token_revoked"
        assert client.auth_test(token=api.bot_token)["ok"]


def test_token_mode_acknowledges_an_uninstall_and_keeps_working(world: World) -> None:
    assert world.admin.send_event({"type": "app_uninstalled", "event_ts": "1.0"}).status == 200
    # Reinstalled with the same configured token, everything is as it was.
    open_hub(world.admin)
    assert world.api.last("views.open").token == world.api.bot_token
