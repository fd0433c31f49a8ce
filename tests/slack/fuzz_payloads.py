"""The harness and hypothesis strategies behind the bad-input fuzzing and the access matrix.

`Harness` is the real app over HTTP (like the `world` fixture) with two tenants seeded alike —
our workspace T0001 and another one, T0002 — a listener executor the tests drain (so every check
runs after the listeners have finished), each tenant's surfaces captured from the real UI on first
use, and the invariants every request must keep (`Harness.problems`):

- HTTP status below 500 (that answers go out before slow work is shown by holding it: test_requests.py);
- no stack trace or exception name in the response or in any Slack Web API call's parameters;
- no view or field error Slack would refuse;
- nothing logged at ERROR (bot.app's error handler logs every unhandled listener exception);
- the other tenant's rows never change, and no row ever references another tenant's row;
- no name or email of another tenant's customers reaches the person;
- nothing changes at all for refused people, read-only controls, malformed or forged payloads
  and submissions answered with field errors.

The strategies below build, for every callback_id, action_id, `/customers` text and event the
app accepts (`TARGETS`), realistic payloads and their hostile variants (`draw_case`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from hypothesis import strategies as st
from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy import text as sql

from bot.local import AppResponse, SlackUser
from bot.local.blockkit import elements, view_problems
from bot.local.signing import signed_headers
from bot.local.slack_api import Call, LocalSlackAPI
from bot.views.origin import Tab
from core.actor import Actor
from core.db import Database
from core.models import (
    Base,
    Customer,
    CustomerStatus,
    PaymentMethod,
    Role,
    StaffMember,
    VideoPurchase,
)
from core.services import notes, questionnaires, tags
from core.services.catalog_rules import ItemKind
from core.services.customers import activate_customer, archive_customer
from core.services.saved_segments import save_segment
from core.services.segments import SegmentFilters
from core.services.staff import add_staff
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, GUEST, STAFF, STRANGER, TEAM, World, running_world
from tests.slack.details_helpers import NOW, customer_id, seed_history
from tests.slack.helpers import JSON, post_raw, seed
from tests.stripe_server import API_KEY as STRIPE_KEY
from tests.stripe_server import StripeStandIn

# One Fernet key for every harness: stored Stripe keys stay readable across its cases.
TOKEN_KEY = Fernet.generate_key().decode()

OTHER_TEAM = "T0002"
OTHER_USER = "UOTHER"
Who = Literal["admin", "staff", "stranger", "guest", "other"]
USERS: dict[str, tuple[str, str]] = {
    "admin": (ADMIN, TEAM),
    "staff": (STAFF, TEAM),
    "stranger": (STRANGER, TEAM),
    "guest": (GUEST, TEAM),
    "other": (OTHER_USER, OTHER_TEAM),
}
REFUSED: frozenset[str] = frozenset({"stranger", "guest"})
LINK_BASE = "https://records.example.test"
# Access the fuzzer may not grant or take away: the other cases rely on these roles.
FIXTURE_ROLES = (
    (TEAM, STAFF, Role.STAFF),
    (TEAM, GUEST, Role.STAFF),
    (OTHER_TEAM, OTHER_USER, Role.ADMIN),
)
FIXTURE_USERS = frozenset({ADMIN, STAFF, STRANGER, GUEST, OTHER_USER})
# Shortcuts run on a message (a message's ⋯ menu) rather than from the ⚡ menu.
MESSAGE_SHORTCUTS = frozenset({"shortcut.add_to_notes", "shortcut.customer_from_message"})
# The tables `Harness.repair` looks after.
REPAIRED = frozenset({"customers", "staff_members"})

# What a stack trace or a leaked exception looks like in text a person or Slack receives.
LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    r"\b(?:KeyError|TypeError|ValueError|AttributeError|IndexError|AssertionError|"
    r"ValidationError|IntegrityError|OperationalError|ProgrammingError|DataError|"
    r"InternalError|RecursionError|UnicodeEncodeError|UnicodeDecodeError|OverflowError|"
    r"JSONDecodeError|SlackApiError|DomainError|NoResultFound|StatementError|"
    r"sqlalchemy|psycopg|sqlite3)\b"
)
DRAIN_TIMEOUT = 20.0
# In `may_change`: workspaces other than the two seeded ones (a rewritten envelope may name one).
NEW_TENANTS = "*new*"


# ----------------------------------------------------------------- listener executor and log


class TrackingExecutor(ThreadPoolExecutor):
    """Bolt's listener executor, counting work in flight so a test can wait until it is done."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="fuzz-listener")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._pending += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        return super().submit(run)

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Wait until every listener started so far has returned."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._pending} listener(s) still running")
                self._idle.wait(remaining)


class Records(logging.Handler):
    """Every log record at WARNING and above, from every thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.records.append(record)

    def mark(self) -> int:
        with self._lock:
            return len(self.records)

    def since(self, mark: int) -> list[logging.LogRecord]:
        with self._lock:
            return self.records[mark:]


# ----------------------------------------------------------------- the database


def ids_by_table(db: Database, team_id: str) -> dict[str, list[int]]:
    """Every integer id of one tenant, per table."""
    ids: dict[str, list[int]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and "team_id" in table.c:
                rows = conn.execute(
                    select(table.c.id).where(table.c.team_id == team_id).order_by(table.c.id)
                )
                ids[table.name] = [int(r[0]) for r in rows]
    return ids


Fingerprint = dict[tuple[str, str], str]


def _postgres_digests() -> str:
    """One query digesting every table per tenant on the server (a round trip per table is slow)."""
    parts = []
    for table in Base.metadata.sorted_tables:
        order = ", ".join(f'x."{c.name}"' for c in table.primary_key.columns)
        digest = f"md5(string_agg(x::text, '|' ORDER BY {order}))"
        if "team_id" in table.c:
            parts.append(
                f"SELECT '{table.name}', x.team_id, {digest} FROM {table.name} x GROUP BY x.team_id"
            )
        else:
            parts.append(
                f"SELECT '{table.name}', '', {digest} FROM {table.name} x HAVING count(*) > 0"
            )
    return " UNION ALL ".join(parts)


def fingerprint(db: Database) -> Fingerprint:
    """A digest of every row, per (table, tenant); rows without a tenant count as tenant ''."""
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            rows = conn.execute(sql(_postgres_digests()))
            return {(str(name), str(team)): str(digest) for name, team, digest in rows}
    digests: dict[tuple[str, str], Any] = {}
    # The driver's own cursor: the raw values digest as well, without SQLAlchemy turning each
    # into a Python type first (most of the time of a matrix or fuzz case).
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table in Base.metadata.sorted_tables:
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            names = [c.name for c in table.columns]
            listed = ", ".join(f'"{name}"' for name in names)
            team = names.index("team_id") if "team_id" in names else None
            cursor.execute(f'SELECT {listed} FROM "{table.name}" ORDER BY {order}')
            for row in cursor.fetchall():
                tenant = str(row[team]) if team is not None else ""
                digest = digests.setdefault((table.name, tenant), hashlib.sha256())
                digest.update(repr(row).encode())
        cursor.close()
    finally:
        connection.close()
    return {key: digest.hexdigest() for key, digest in digests.items()}


# Which Slack deliveries were handled (retries are acted on once), when a conversation's
# members last changed (so every worker asks Slack again) and who has Today on screen (noted
# when Home shows it, forgotten when they switch to Customers) and the hash each view's last
# redraw got: no one's records. And caches a
# read may write: what each customer's records add up to (and when a workspace's were first
# added up), and saved segments' last counts.
BOOKKEEPING = frozenset(
    {
        "seen_slack_events",
        "conversation_changes",
        "today_viewers",
        "customer_facts",
        "customer_facts_ready",
        "segment_counts",
        "view_redraws",
    }
)


def changed_tenants(before: Fingerprint, after: Fingerprint) -> dict[str, list[str]]:
    """Tenant → tables whose rows changed."""
    changed: dict[str, list[str]] = {}
    for key in sorted(set(before) | set(after)):
        if key[0] in BOOKKEEPING:
            continue
        if before.get(key) != after.get(key):
            changed.setdefault(key[1], []).append(key[0])
    return changed


def foreign_references(db: Database) -> list[str]:
    """Rows pointing at another tenant's row through a foreign key (there must be none)."""
    found: list[str] = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if "team_id" not in table.c:
                continue
            for fk in table.foreign_keys:
                parent = fk.column.table
                if "team_id" not in parent.c or parent is table:
                    continue
                count = conn.scalar(
                    select(func.count())
                    .select_from(table.join(parent, fk.parent == fk.column))
                    .where(table.c.team_id != parent.c.team_id)
                )
                if count:
                    found.append(f"{table.name}.{fk.parent.name} → {parent.name}: {count}")
    return found


# ----------------------------------------------------------------- the two tenants


@dataclass(frozen=True)
class Tenant:
    """One workspace as seeded: who captures its surfaces, its customers and every row id."""

    team: str
    admin: Who
    ids: dict[str, list[int]]
    uids: tuple[str, ...]
    main: str  # a customer with a full history
    merge_source: str  # a customer whose details open Merge Customer
    archived: str
    doomed: tuple[str, ...]  # customers nothing else relies on (deletable)
    note: int  # a note by the tenant's staff member

    def of(self, table: str) -> list[int]:
        return self.ids.get(table, [])


@dataclass(frozen=True)
class Sides:
    """A request's own tenant and the other one."""

    mine: Tenant
    theirs: Tenant


def _extras(db: Database, team_id: str, uid: str, author: str, admin: str) -> int:
    """Two notes, a pending questionnaire and a video purchase that expires; the staff note's id."""
    with db.unit_of_work() as uow:
        note = notes.add_note(uow, Actor(team_id, author, Role.STAFF), uid, "Prefers mornings.")
        boss = Actor(team_id, admin, Role.ADMIN)
        notes.add_note(uow, boss, uid, "Asked about the spring retreat.")
        tags.set_customer_tags(uow, boss, uid, ["VIP", "Mornings"])
        templates = questionnaires.list_templates(uow, boss)
        health = next(t for t in templates if t.name == "Health check")
        questionnaires.assign_questionnaire(uow, boss, uid, health.id)
        save_segment(uow, boss, "Lapsed", SegmentFilters(lapsed_days=60))
    with db.unit_of_work() as uow:
        owner = customer_id(uow, uid)
        purchase = uow.session.scalars(
            select(VideoPurchase).where(VideoPurchase.customer_id == owner)
        ).first()
        assert purchase is not None
        uow.session.add(
            VideoPurchase(
                team_id=team_id,
                customer_id=owner,
                video_id=purchase.video_id,
                purchased_at=NOW - timedelta(days=2),
                expires_at=NOW + timedelta(days=28),
                price_minor=500,
                credits=None,
                currency="GBP",
                payment_method=PaymentMethod.MANUAL,
            )
        )
    return note.id


def _seed_tenant(
    db: Database, team: str, admin: Who, names: list[tuple[str, str]], key: str, staff: str
) -> Tenant:
    """Seven customers (one archived, one with a full history, one to merge) and their history."""
    main, _, gone, merge_me, *doomed = seed(
        db, names, team_id=team, mobile_start=100 if team == TEAM else 500
    )
    with db.unit_of_work() as uow:
        archive_customer(uow, Actor(team, USERS[admin][0], Role.ADMIN), gone.uid)
    seed_history(db, main.uid, bookings=4, team_id=team, key=key)
    seed_history(db, merge_me.uid, bookings=2, team_id=team, key=key + "m")
    note = _extras(db, team, main.uid, staff, USERS[admin][0])
    with db.unit_of_work(readonly=True) as uow:
        uids = tuple(uow.session.scalars(select(Customer.uid).where(Customer.team_id == team)))
    return Tenant(
        team=team,
        admin=admin,
        ids=ids_by_table(db, team),
        uids=uids,
        main=main.uid,
        merge_source=merge_me.uid,
        archived=gone.uid,
        doomed=tuple(c.uid for c in doomed),
        note=note,
    )


def seed_tenants(db: Database) -> dict[str, Tenant]:
    """Our workspace and another one, seeded alike."""
    with db.unit_of_work() as uow:
        add_staff(uow, Actor(OTHER_TEAM, OTHER_USER, Role.ADMIN), OTHER_USER, Role.ADMIN)
    ours = _seed_tenant(
        db,
        TEAM,
        "admin",
        [
            ("Zoë", "Adams"),
            ("Sam", "Other"),
            ("Ari", "Chived"),
            ("Mia", "Mergeable"),
            ("Del", "One"),
            ("Del", "Two"),
            ("Del", "Three"),
        ],
        "t",
        STAFF,
    )
    theirs = _seed_tenant(
        db,
        OTHER_TEAM,
        "other",
        [
            ("Xavier", "Foreign"),
            ("Yann", "Elsewhere"),
            ("Yolanda", "Archived"),
            ("Mo", "Merger"),
            ("Dot", "One"),
            ("Dot", "Two"),
            ("Dot", "Three"),
        ],
        "o",
        OTHER_USER,
    )
    return {TEAM: ours, OTHER_TEAM: theirs}


# ----------------------------------------------------------------- surfaces


@dataclass(frozen=True)
class Template:
    """A view as the app drew it, and the template it was stacked on (None: a stack's root)."""

    view: JSON
    parent: str | None


# The keys of a view that views.open / views.push / views.publish carry (Slack adds the rest).
_VIEW_KEYS = (
    "type",
    "title",
    "submit",
    "close",
    "blocks",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
)
TABS = (
    "bookings",
    "appointments",
    "passes",
    "videos",
    "subscriptions",
    "questionnaires",
    "notes",
    "account",
)
# Row actions that push a form or a confirmation: (tab, verb, which seeded row of the tab).
ROW_FORMS = (
    ("bookings", "transfer", 1),
    ("bookings", "cancel", 1),
    ("bookings", "refund", 0),
    ("appointments", "reschedule", 0),
    ("appointments", "cancel", 0),
    ("passes", "adjust", 0),
    ("passes", "extend", 0),
    ("passes", "cancel", 0),
    ("videos", "extend", -1),
    ("videos", "cancel", 0),
    ("subscriptions", "suspend", 0),
)
ROW_TABLES = {
    "bookings": "bookings",
    "appointments": "appointments",
    "passes": "passes",
    "videos": "video_purchases",
    "subscriptions": "subscriptions",
    "notes": "notes",
    "questionnaires": "questionnaire_responses",
}
COMMERCE_BUTTONS = (
    "book_event",
    "book_appointment",
    "assign_pass",
    "assign_video",
    "start_subscription",
)
# The catalog's kinds of item (Home's buttons `catalog.items.<kind>`) and each one's table.
CATALOG_TABLES = {
    "service": "appointment_services",
    "facilitator": "facilitators",
    "pass_type": "pass_types",
    "video": "videos",
    "plan": "subscription_plans",
    "questionnaire": "questionnaire_templates",
}
CATALOG_KINDS = tuple(CATALOG_TABLES)
# Views opened from Home's buttons: the button's action_id and value.
HOME_FORMS = {
    "form:settings": ("settings.open", "open"),
    "form:stripe_account": ("stripe_account.open", "open"),
    "form:catalog_event": ("catalog.event_add", "add"),
    "form:duplicates": ("duplicates.open", "open"),
    "form:tags_admin": ("tags.open", "open"),
    **{f"catalog:{kind}": (f"catalog.items.{kind}", kind) for kind in CATALOG_KINDS},
}


def _reopenable(view: JSON, ids: dict[str, str]) -> JSON:
    """The view as the app would open it again, its metadata naming the views as re-opened."""
    fresh = {key: view[key] for key in _VIEW_KEYS if view.get(key) is not None}
    metadata = str(fresh.get("private_metadata") or "")
    for old, new in ids.items():
        metadata = metadata.replace(old, new)
    fresh["private_metadata"] = metadata
    return fresh


def button(action_id: str, value: object = None, *, block_id: str = "b") -> JSON:
    """What Slack sends when a button is clicked."""
    action: JSON = {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "x"},
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    return action


def menu(action_id: str, value: object, *, kind: str = "overflow", block_id: str = "b") -> JSON:
    """What Slack sends when an option is chosen in an overflow menu, a select or radio buttons."""
    return {
        "type": kind,
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
        "action_ts": f"{time.time():.6f}",
    }


@dataclass(frozen=True)
class Sent:
    """One request to the app and everything it caused."""

    response: AppResponse
    calls: list[Call]
    logs: list[logging.LogRecord]
    before: Fingerprint
    after: Fingerprint


class Harness:
    """The app with two tenants, the surfaces to act on, and the checks every request passes."""

    def __init__(
        self,
        world: World,
        executor: TrackingExecutor,
        records: Records,
        tenants: dict[str, Tenant],
    ) -> None:
        self.world = world
        self.api: LocalSlackAPI = world.api
        self.db: Database = world.db
        self.executor = executor
        self.records = records
        self.tenants = tenants
        self.templates: dict[tuple[str, str], Template] = {}
        # Template view id → the id it has now, as of the last `place`.
        self.placed: dict[str, str] = {}
        self.cases = 0
        self.stripe: StripeStandIn | None = None
        self._client = WebClient(token=self.api.bot_token, base_url=self.api.base_url)
        # Per user: the surface last placed, its view ids (root first) and the id mapping.
        self._stacks: dict[str, tuple[tuple[str, str], list[str], dict[str, str]]] = {}
        # The database as the last request left it (None: unknown, take a new fingerprint).
        self._state: Fingerprint | None = None
        self._identities_cache: dict[tuple[str, str], set[str]] = {}
        self._repaired: Fingerprint | None = None

    def sides(self, who: Who) -> Sides:
        mine = USERS[who][1]
        theirs = OTHER_TEAM if mine == TEAM else TEAM
        return Sides(self.tenants[mine], self.tenants[theirs])

    # ------------------------------------------------------------- sending

    def post(self, body: bytes, content_type: str) -> AppResponse:
        """Send a body to the app, signed, and wait until every listener it started returned."""
        headers = {
            "Content-Type": content_type,
            **signed_headers(self.world.signing_secret, int(time.time()), body),
        }
        mark = self.api.mark()
        started = time.perf_counter()
        status, raw = post_raw(self.world.url, body, headers)
        elapsed = time.perf_counter() - started
        self.executor.drain()
        text = raw.decode("utf-8", errors="replace")
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            data = {}
        return AppResponse(status, text, data if isinstance(data, dict) else {}, mark, elapsed)

    def post_payload(self, payload: object) -> AppResponse:
        """An interactivity request: `payload=<json>`, form-encoded."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def command_body(self, who: Who, text: str, *, channel_id: str = "C0LOCAL") -> bytes:
        """`/customers text` as Slack posts it."""
        user, team = USERS[who]
        form = {
            "token": "local-legacy-verification",
            "team_id": team,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/customers",
            # A form post is UTF-8: lone surrogates can't travel in one.
            "text": text.encode("utf-8", "replace").decode("utf-8"),
            "api_app_id": self.api.app_id,
            "is_enterprise_install": "false",
            "response_url": self.api.new_response_url(channel_id, user),
            "trigger_id": self.api.issue_trigger_id(user),
        }
        return urlencode(form).encode()

    def post_command(self, who: Who, text: str) -> AppResponse:
        return self.post(self.command_body(who, text), "application/x-www-form-urlencoded")

    def event_envelope(self, who: Who, event: JSON) -> JSON:
        """An Events API delivery of `event` in `who`'s workspace."""
        team = USERS[who][1]
        return {
            "token": "local-legacy-verification",
            "team_id": team,
            "api_app_id": self.api.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(6).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": self.api.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def home_opened(self, who: Who, view: object = None) -> JSON:
        user = USERS[who][0]
        event: JSON = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.api.dm_channel(user),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if view is not None:
            event["view"] = view
        return self.event_envelope(who, event)

    def message_interaction(self, who: Who) -> JSON:
        """The envelope of a click by `who` in an ephemeral message the app sent in a channel."""
        user, _team = USERS[who]
        channel = "C0LOCAL"
        return {
            **self.interaction(who, "block_actions", None),
            "container": {"type": "message", "channel_id": channel, "is_ephemeral": True},
            "channel": {"id": channel, "name": "general"},
            "response_url": self.api.new_response_url(channel, user),
        }

    def shortcut(self, who: Who, callback_id: str, text: str = "") -> JSON:
        """A global shortcut by `who`; a message shortcut runs on a colleague's message saying `text`."""
        user, team = USERS[who]
        payload: JSON = {
            "type": "shortcut",
            "team": {"id": team, "domain": "local"},
            "user": {"id": user, "team_id": team, "name": user.lower(), "username": user.lower()},
            "api_app_id": self.api.app_id,
            "token": "local-legacy-verification",
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.api.issue_trigger_id(user),
            "action_ts": f"{time.time():.6f}",
        }
        if callback_id in MESSAGE_SHORTCUTS:
            message = self.api.say("C0LOCAL", STAFF, text)
            payload.update(
                type="message_action",
                channel={"id": message.channel, "name": "general"},
                message_ts=message.ts,
                message=message.as_payload(),
                response_url=self.api.new_response_url(message.channel, user),
            )
        return payload

    def interaction(self, who: Who, kind: str, view: JSON | None) -> JSON:
        """The envelope of an interaction by `who` in `view` (None: outside any view)."""
        user, team = USERS[who]
        payload: JSON = {
            "type": kind,
            "team": {"id": team, "domain": "local"},
            "user": {"id": user, "team_id": team, "name": user.lower(), "username": user.lower()},
            "api_app_id": self.api.app_id,
            "token": "local-legacy-verification",
            "is_enterprise_install": False,
            "enterprise": None,
        }
        if view is None:
            payload["trigger_id"] = self.api.issue_trigger_id(user)
            return payload
        if team != self.api.team_id:
            # The stand-in has one installation and stamps its views with it; Slack names the
            # workspace the view was opened in.
            view = {**view, "team_id": team, "app_installed_team_id": team}
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["trigger_id"] = self.api.issue_trigger_id(user, view_id=view["id"])
        return payload

    def act(self, who: Who, view: JSON, action: JSON) -> AppResponse:
        """Click, choose or type `action` in `view` as `who`."""
        return self.post_payload(
            {**self.interaction(who, "block_actions", view), "actions": [action]}
        )

    def submit(self, who: Who, view: JSON) -> AppResponse:
        """Submit `view` (with its state as given) as `who`."""
        return self.post_payload(self.interaction(who, "view_submission", view))

    # ------------------------------------------------------------- surfaces

    def template(self, team: str, key: str) -> Template:
        """Surface `key` of tenant `team` as its admin sees it, captured on first use."""
        found = self.templates.get((team, key))
        if found is None:
            found = self._capture(self.tenants[team], key)
            self.templates[(team, key)] = found
        return found

    def prepare(self, keys: set[str]) -> None:
        """Capture these surfaces of both tenants now, before any request changes what they show
        (a later capture could find the row it opens a form for cancelled or deleted)."""
        for team in self.tenants:
            for key in sorted(keys):
                self.template(team, key)

    def place(self, who: Who, key: str) -> JSON:
        """Put surface `key` (and the views beneath it) in front of `who`; returns the top view."""
        user, team = USERS[who]
        chain: list[Template] = []
        step: str | None = key
        while step is not None:
            template = self.template(team, step)
            chain.insert(0, template)
            step = template.parent
        kept = self._stacks.get(user)
        if kept is not None and kept[0] == (team, key):
            # Still open from the last time: put the content back as drawn (in-process; quick).
            view_ids, ids = kept[1], kept[2]
            if [v["id"] for v in self.api.stack(user)] == view_ids:
                for template, view_id in zip(chain, view_ids, strict=True):
                    self.api.replace_view(view_id, _reopenable(template.view, ids))
                self.placed = ids
                return self.api.view(view_ids[-1])
        self.api.clear_stack(user)
        self._stacks.pop(user, None)
        ids = {}
        top: JSON | None = None
        for template in chain:
            view = _reopenable(template.view, ids)
            if view["type"] == "home":
                top = self._client.views_publish(user_id=user, view=view)["view"]
            elif top is None or top["type"] == "home":
                trigger = self.api.issue_trigger_id(user)
                top = self._client.views_open(trigger_id=trigger, view=view)["view"]
            else:
                trigger = self.api.issue_trigger_id(user, view_id=top["id"])
                top = self._client.views_push(trigger_id=trigger, view=view)["view"]
            assert top is not None
            ids[str(template.view["id"])] = str(top["id"])
        assert top is not None
        self.placed = ids
        if top["type"] == "modal":
            self._stacks[user] = ((team, key), list(ids.values()), ids)
        return top

    def _capture(self, tenant: Tenant, key: str) -> Template:
        who = tenant.admin
        self._state = None
        if key == "hub":
            return Template(self._made(self.post_command(who, ""), "views.open"), None)
        if key == "today":
            response = self.post(json.dumps(self.home_opened(who)).encode(), "application/json")
            return Template(self._made(response, "views.publish"), None)
        if key == "home":
            # Home opens on Today; its Customers page holds the hub and the admins' sections.
            today = self.place(who, "today")
            switched = self.act(who, today, button("home.customers", "customers"))
            return Template(self._made(switched, "views.publish"), None)
        if key == "form:customer_import":
            return Template(self._made(self.post_command(who, "import"), "views.open"), None)
        if key in IMPORT_STEPS:
            # Each step answers the one before it in the modal's place.
            step = IMPORT_STEPS[key]
            view = self.place(who, step)
            if step == "form:customer_import":
                # Both tenants' requests are answered with the one bot token: its workspace
                # holds the files their admins pick.
                info = self.api.user_upload(USERS[who][0], "clients.csv", IMPORT_FILE)
                picked = {"type": "file_input", "files": [info]}
                view = {**view, "state": {"values": {"file": {"customer_import.file": picked}}}}
            response = self.submit(who, view)
            assert response.data.get("response_action") == "update", response.text
            made: JSON = {**response.data["view"], "id": f"VIMPORT{len(IMPORT_STEPS[key])}"}
            return self._kept(made, None)
        if key == "form:alerts":
            # `/customers alerts #channel` in the tenant's channel of staff and the app.
            command = self.post_command(who, "alerts <#C0LOCAL|general>")
            return Template(self._made(command, "views.open"), None)
        if key == "form:segment":
            return Template(self._made(self.post_command(who, "segment"), "views.open"), None)
        if key == "form:message_note":
            shortcut = self.shortcut(who, "shortcut.add_to_notes", "Prefers mornings.")
            return Template(self._made(self.post_payload(shortcut), "views.open"), None)
        if key == "form:questionnaire_answers":
            # Record answers turns the questionnaire's details into the answer form.
            base = "form:questionnaire.details"
            view = self.place(who, base)
            response = self.submit(who, view)
            assert response.data.get("response_action") == "update", response.text
            answers: JSON = {**response.data["view"], "id": "VANSWERSFORM"}
            return self._kept(answers, self.template(tenant.team, base).parent)
        if key == "form:checkin":
            # Today's session, so its bookings can be checked in.
            home = self.place(who, "home")
            session = button("open_checkin", str(tenant.of("event_occurrences")[0]))
            return self._kept(self._made(self.act(who, home, session), "views.open"), "home")
        if key in HOME_FORMS:
            # Opened from Home, which has no modal to push on.
            home = self.place(who, "home")
            opened = self._made(self.act(who, home, button(*HOME_FORMS[key])), "views.open")
            return self._kept(opened, "home")
        if key.startswith("details:") and key.removeprefix("details:") in TABS[1:]:
            tab = key.removeprefix("details:")
            view = self.place(who, "details:bookings")
            action = button(f"customer_details.tab.{tab}", tab)
            updated = self._made(self.act(who, view, action), "views.update")
            return self._kept(updated, self.template(tenant.team, "details:bookings").parent)
        base, action = self._recipe(tenant, key)
        view = self.place(who, base)
        return self._kept(self._made(self.act(who, view, action), "views.push"), base)

    @staticmethod
    def _recipe(tenant: Tenant, key: str) -> tuple[str, JSON]:
        """The surface a view is pushed from, and the action pushing it."""
        rows = {tab: tenant.of(table) for tab, table in ROW_TABLES.items()}
        recipes: dict[str, tuple[str, JSON]] = {
            "form:customer_form.create": ("hub", button("hub.create")),
            "form:customer_delete": (
                "hub",
                menu("customer.row_menu", f"delete|{tenant.doomed[0]}"),
            ),
            "details:bookings": ("hub", button("customer.open", tenant.main)),
            "details:merge_source": ("hub", button("customer.open", tenant.merge_source)),
            "form:customer_form.edit": ("details:bookings", button("customer_details.edit")),
            "form:note_form.add": ("details:notes", button("note.add")),
            "form:note_form.edit": ("details:notes", button("note.edit", str(tenant.note))),
            "form:note.details": ("details:notes", button("note.view", str(tenant.note))),
            "form:questionnaire_assign": (
                "details:questionnaires",
                button("questionnaire.assign"),
            ),
            "form:questionnaire.details": (
                "details:questionnaires",
                button("questionnaire.view", str(rows["questionnaires"][0])),
            ),
            "form:merge": ("details:merge_source", button("customer_details.merge")),
            "form:household": ("details:bookings", button("household.add")),
            "form:customer_tags": ("details:bookings", button("customer_details.tags")),
            "form:customer_consent": ("details:bookings", button("customer_details.consent")),
            "form:customer_anonymise": (
                "details:merge_source",
                button("customer_details.anonymise"),
            ),
        }
        for value in COMMERCE_BUTTONS:
            recipes[f"form:{value}"] = (
                "details:bookings",
                button("customer_details.commerce", value),
            )
        for tab, verb, index in ROW_FORMS:
            value = f"{tab}|{verb}|{rows[tab][index]}"
            recipes[f"form:{tab}.{verb}"] = (f"details:{tab}", menu("customer_details.row", value))
        for kind, table in CATALOG_TABLES.items():
            items = f"catalog:{kind}"
            recipes[f"form:catalog_item.{kind}"] = (items, button("catalog_items.add", kind))
            edit = f"edit|{tenant.of(table)[0]}"
            recipes[f"form:catalog_item.{kind}.edit"] = (items, menu("catalog_items.menu", edit))
        return recipes[key]

    def _made(self, response: AppResponse, method: str) -> JSON:
        """The view the app's `method` call made after `response`."""
        assert response.status == 200, response.text
        made = [c for c in self.api.calls(method, since=response.mark) if c.ok]
        seen = [(c.method, c.error) for c in self.api.calls(since=response.mark)]
        assert made, f"no {method}: {seen}"
        view: JSON = made[-1].response["view"]
        return view

    def _kept(self, view: JSON, parent: str | None) -> Template:
        """`view` as a template, its metadata naming the templates' view ids."""
        metadata = str(view.get("private_metadata") or "")
        for template_id, placed_id in self.placed.items():
            metadata = metadata.replace(placed_id, template_id)
        return Template({**view, "private_metadata": metadata}, parent)

    # ------------------------------------------------------------- checking

    def forget(self) -> None:
        """The database was changed outside a request: the next `send` takes a new snapshot."""
        self._state = None

    def send(self, body: bytes, content_type: str) -> Sent:
        """Send one request with a snapshot of the database and of the log around it."""
        before = self._state or fingerprint(self.db)
        log_mark = self.records.mark()
        response = self.post(body, content_type)
        after = self._state = fingerprint(self.db)
        calls = self.api.calls(since=response.mark)
        return Sent(response, calls, self.records.since(log_mark), before, after)

    def problems(
        self,
        sent: Sent,
        *,
        may_change: frozenset[str],
        inputs: frozenset[str] | None = None,
        hidden: tuple[str, ...] = (),
    ) -> list[str]:
        """Every invariant `sent` broke. `may_change`: the tenants whose rows may change;
        `inputs`: the submitted form's input blocks; `hidden`: text the person must not see."""
        found: list[str] = []
        response = sent.response
        if not 0 < response.status < 500:
            found.append(f"HTTP {response.status}")
        shown = response.text + json.dumps(response.data, ensure_ascii=False)
        if LEAK.search(shown):
            found.append(f"the response leaks an error: {response.text[:500]}")
        found.extend(_logged_errors(sent.logs))
        for call in sent.calls:
            params = json.dumps(call.params, ensure_ascii=False)
            if LEAK.search(params):
                found.append(f"{call.method} carries an error: {params[:500]}")
            if call.error == "invalid_arguments":
                messages = (call.response.get("response_metadata") or {}).get("messages")
                found.append(f"Slack refused {call.method}: {messages}")
            shown += params
        found.extend(f"shows another tenant's {n!r}" for n in hidden if n in shown)
        action = response.data.get("response_action")
        if action in {"update", "push"}:
            refused = view_problems(response.data.get("view"), expected_type="modal")
            if refused:
                found.append(f"response_action {action} with a view Slack refuses: {refused}")
        if action == "errors":
            errors = response.data.get("errors")
            if not isinstance(errors, dict) or not errors:
                found.append(f"response_action errors without errors: {errors!r}")
            elif inputs is not None and not set(errors) <= inputs:
                found.append(f"errors name no input block: {sorted(set(errors) - inputs)}")
            may_change = frozenset()
        changed = changed_tenants(sent.before, sent.after)
        for team, tables in changed.items():
            seeded = team in {TEAM, OTHER_TEAM, ""}
            if team not in may_change and (seeded or NEW_TENANTS not in may_change):
                found.append(f"rows of tenant {team or '-'} changed: {tables}")
        if changed:
            found.extend(f"cross-tenant reference: {r}" for r in foreign_references(self.db))
        return found

    def hidden_from(self, who: Who) -> tuple[str, ...]:
        """Names and emails of customers `who` must never be shown (the other tenant's)."""
        sides = self.sides(who)
        theirs = self._identities(sides.theirs.team) - self._identities(sides.mine.team)
        if who in REFUSED:
            theirs |= self._identities(sides.mine.team)
        # Short fuzzed names ("a b") could turn up anywhere; seeded ones are all longer.
        return tuple(sorted(n for n in theirs if len(n) >= 9))

    def _identities(self, team_id: str) -> set[str]:
        version = (self._state or {}).get(("customers", team_id), "")
        cached = self._identities_cache.get((team_id, version)) if version else None
        if cached is not None:
            return cached
        with self.db.unit_of_work(readonly=True) as uow:
            rows = uow.session.execute(
                select(Customer.first_name, Customer.last_name, Customer.email).where(
                    Customer.team_id == team_id
                )
            ).all()
        found = {f"{first} {last}" for first, last, _ in rows} | {email for *_, email in rows}
        if version:
            self._identities_cache[(team_id, version)] = found
        return found

    def repair(self) -> None:
        """Undo what fuzzing may do to the people and customers the other cases rely on."""
        watched = {k: v for k, v in (self._state or {}).items() if k[0] in REPAIRED}
        if self._state is not None and watched == self._repaired:
            return
        self._state = None
        with self.db.unit_of_work() as uow:
            for tenant in self.tenants.values():
                admin = Actor(tenant.team, USERS[tenant.admin][0], Role.ADMIN)
                for uid in (tenant.main, tenant.merge_source):
                    customer = uow.session.scalar(select(Customer).where(Customer.uid == uid))
                    archived = customer is not None and customer.status is CustomerStatus.ARCHIVED
                    # An anonymised record takes nothing new, its status included.
                    if archived and customer.merged_into_id is None and not customer.anonymised_at:
                        activate_customer(uow, admin, uid)
            members = {
                (m.team_id, m.slack_user_id): m
                for m in uow.session.scalars(select(StaffMember)).all()
            }
            for team, user, role in FIXTURE_ROLES:
                member = members.pop((team, user), None)
                if member is None or member.role is not role:
                    add_staff(uow, Actor(team, ADMIN, Role.ADMIN), user, role)
            for (_, user), member in members.items():
                if user in FIXTURE_USERS:
                    uow.session.delete(member)
        self._state = fingerprint(self.db)
        self._repaired = {k: v for k, v in self._state.items() if k[0] in REPAIRED}


def _logged_errors(logs: list[logging.LogRecord]) -> list[str]:
    found: list[str] = []
    for record in logs:
        if record.levelno < logging.ERROR:
            continue
        found.append(f"logged at {record.levelname}: {record.getMessage()[:300]}")
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            found.append(f"  {type(error).__name__}: {str(error)[:600]}")
            frames = traceback.extract_tb(error.__traceback__)[-6:]
            found.extend(f"    at {f.filename}:{f.lineno} {f.line}" for f in frames)
    return found


@contextmanager
def open_harness(
    database_url: str, clock: MutableClock, *, stripe: StripeStandIn | None = None
) -> Iterator[Harness]:
    """The real app over HTTP, like the `world` fixture, with both tenants seeded.

    With `stripe`, payments go to that Stripe stand-in (refunds can then be made)."""
    records = Records()
    root_logger = logging.getLogger()
    executor = TrackingExecutor()
    payments = (
        {"stripe_api_key": STRIPE_KEY, "stripe_api_base": stripe.url} if stripe is not None else {}
    )
    # So a studio's own Stripe key can be stored (encrypted) as admins do.
    payments["token_encryption_key"] = TOKEN_KEY
    # Customer links of this deployment unfurl (tests/slack/test_unfurls.py).
    payments["public_base_url"] = LINK_BASE
    with running_world(database_url, clock, listeners=executor, **payments) as world:
        world.api.add_user(SlackUser(OTHER_USER, OTHER_USER.lower(), team_id=OTHER_TEAM))
        tenants = seed_tenants(world.db)
        root_logger.addHandler(records)
        try:
            harness = Harness(world, executor, records, tenants)
            harness.stripe = stripe
            yield harness
        finally:
            root_logger.removeHandler(records)


# ----------------------------------------------------------------- strategies: values

NASTY = (
    "",
    " ",
    "\t\n\r",
    "\x00",
    "\x00\x01\x02\x1b[31m\x7f",
    "\u202eevil\u202c",
    "\u200f\u202bمرحبا بالعالم\u202c",
    "שלום עולם",
    "👩‍👩‍👧‍👦🧘🏽‍♀️💳",
    "Zoë\u0301",
    "\ufeffBOM",
    "²³",
    "٣٤",
    "１２",
    "'; DROP TABLE customers; --",
    '" OR 1=1 --',
    "%' OR '%'='",
    "<script>alert(1)</script>",
    "&lt;b&gt; &amp; &gt;",
    "<@UADMIN> <!channel> <!here>",
    "<https://evil.test|click me>",
    "*bold* _it_ ~no~ `code` ```block```",
    "%s %d %(name)s {0} {name}",
    "../../etc/passwd",
    "null",
    "None",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1e309",
    "9" * 40,
    "-9" * 20,
    "0x1F",
    "1_000",
    "+44 7700 900123",
    "zoe@example.com",
    "ZOE@EXAMPLE.COM ",
    "a@b",
    "[]",
    "{}",
    '{"uid": "X"}',
    "|",
    "||",
    "archive|",
    "|archive|1",
    "\ud800 lone \udfff surrogates",
)
# JSON nested deeper than a parser's recursion limit, within Slack's 3,000 characters.
NESTED = ("[" * 1490 + "]" * 1490, '{"a":' * 590 + "1" + "}" * 590, "[" * 3000)
FORGED_NUMBERS = (0, -1, -(2**31), 2**31, 2**63, 10**30, 1_000_001, 999_999)
# Words the app's metadata holds (tabs, modes, surfaces, kinds of catalog item), each valid
# somewhere: a forger swaps one field's value for another's.
METADATA_WORDS = (
    *(tab.value for tab in Tab),
    *(kind.value for kind in ItemKind),
    "create",
    "edit",
    "modal",
    "home",
    "none",
)


def long_text() -> st.SearchStrategy[str]:
    """Text far beyond any field's limit: up to 10,000 characters, sometimes multibyte."""
    return st.builds(
        lambda unit, n: (unit * n)[:n],
        st.sampled_from(["x", "Zoë ", "👩‍👩‍👧", "\u202e", "9", "a|"]),
        st.integers(min_value=3_000, max_value=10_000),
    )


def texts() -> st.SearchStrategy[str]:
    """Hostile and ordinary text."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
        long_text(),
    )


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, small."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(NASTY),
        st.text(max_size=12),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=8), inner, max_size=4),
        ),
        max_leaves=8,
    )


def wrong_types() -> st.SearchStrategy[Any]:
    """A value of a type the field doesn't have: numbers, lists, objects, null, booleans."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.floats(allow_nan=False),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.sampled_from(["value", "id", "text"]), st.integers(), max_size=2),
    )


@dataclass(frozen=True)
class Drawn:
    """A value for a field, and whether it names a record that is not the requester's."""

    value: Any
    foreign: bool = False


def row_ids(sides: Sides, table: str) -> st.SearchStrategy[Drawn]:
    """An id of `table`: the requester's, the other tenant's, or nonsense (naming none of theirs)."""
    mine = sides.mine.of(table) or [1]
    theirs = sides.theirs.of(table)
    junk = st.one_of(
        st.sampled_from(["0", "-1", "-5", str(2**63), str(10**30), "1.5", "1e3", "²", "٣", "１"]),
        texts(),
    )
    options = [
        st.sampled_from(mine).map(lambda i: Drawn(str(i))),
        junk.map(lambda j: Drawn(j, foreign=not _one_of(j, mine))),
    ]
    if theirs:
        options.append(st.sampled_from(theirs).map(lambda i: Drawn(str(i), foreign=True)))
    return st.one_of(*options)


def _one_of(value: str, ids: list[int]) -> bool:
    return value in {str(i) for i in ids}


def uids(sides: Sides, *, protect: bool = False) -> st.SearchStrategy[Drawn]:
    """A customer UID: the requester's, the other tenant's, unknown or malformed.

    `protect`: of the requester's, only those nothing else relies on (for Delete and Merge)."""
    mine = sides.mine
    own = [*mine.doomed, mine.archived] if protect else list(mine.uids)
    return st.one_of(
        st.sampled_from(own).map(Drawn),
        st.sampled_from(sides.theirs.uids).map(lambda u: Drawn(u, foreign=True)),
        st.sampled_from(["ZZZZZZZZZZZZ", "0", "A" * 16, "A" * 17, "zoe", ""]).map(
            lambda u: Drawn(u, foreign=True)
        ),
        texts().map(lambda u: Drawn(u, foreign=True)),
    )


def pick(draw: st.DrawFn, items: list[Any]) -> Any:
    """One of `items`, drawn so the draw doesn't depend on how many there are (stable replays)."""
    return items[draw(st.integers(0, 2**16)) % len(items)]


# ----------------------------------------------------------------- strategies: structure


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _delete(node: Any, path: tuple[Any, ...]) -> None:
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]


@st.composite
def forged_metadata(
    draw: st.DrawFn, original: str, sides: Sides, *, protect: bool = False
) -> tuple[Any, bool]:
    """private_metadata as a forger writes it; True when it makes the form act on a customer
    not the requester's (so nothing may change)."""
    kind = draw(st.sampled_from(["random", "text", "huge", "type", "field", "field", "uid"]))
    if kind == "random":
        return json.dumps(draw(json_values())), False
    if kind == "text":
        return draw(st.one_of(texts(), st.sampled_from(NESTED))), False
    if kind == "huge":
        padding = "x" * draw(st.integers(3_000, 10_000))
        return json.dumps({"uid": sides.mine.main, "pad": padding}), False
    if kind == "type":
        return draw(wrong_types()), False
    try:
        meta = json.loads(original)
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    if kind == "uid":
        paths = [p for p in _paths(meta) if p[-1] == "uid"] or [("uid",)]
        path = pick(draw, paths)
        drawn = draw(uids(sides, protect=protect))
        node: Any = meta
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = drawn.value
        acts_on = path == ("details", "uid") or (path == ("uid",) and meta.get("mode") != "create")
        return json.dumps(meta), drawn.foreign and acts_on
    paths = _paths(meta)
    if not paths:
        return json.dumps(meta), False
    path = pick(draw, paths)
    change = draw(st.sampled_from(["delete", "number", "type", "text", "id", "word"]))
    if change == "delete":
        _delete(meta, path)
    elif change == "word":
        _set(meta, path, draw(st.sampled_from(METADATA_WORDS)))
    elif change == "number":
        _set(meta, path, draw(st.sampled_from(FORGED_NUMBERS)))
    elif change == "type":
        _set(meta, path, draw(wrong_types()))
    elif change == "text":
        _set(meta, path, draw(texts()))
    else:
        table = draw(st.sampled_from(sorted(ROW_TABLES.values())))
        _set(meta, path, pick(draw, sides.theirs.of(table)))
    return json.dumps(meta), False


@st.composite
def mutated(draw: st.DrawFn, payload: JSON) -> JSON:
    """The payload with one to three fields deleted, retyped or replaced by hostile text."""
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(payload) if p[:1] != ("view",) or len(p) <= 3]
        if not paths:
            break
        path = pick(draw, paths)
        change = draw(st.sampled_from(["delete", "type", "text", "json"]))
        try:
            if change == "delete":
                _delete(payload, path)
            elif change == "type":
                _set(payload, path, draw(wrong_types()))
            elif change == "text":
                _set(payload, path, draw(texts()))
            else:
                _set(payload, path, draw(json_values()))
        except (KeyError, IndexError, TypeError):
            continue
    return payload


# Which table a form's select picks from, by input block_id.
SELECT_TABLES = {
    "occurrence_id": "event_occurrences",
    "service_id": "appointment_services",
    "facilitator_id": "facilitators",
    "pass_id": "passes",
    "pass_type_id": "pass_types",
    "video_id": "videos",
    "template": "questionnaire_templates",
}
TEXT_INPUTS = frozenset({"plain_text_input", "email_text_input", "number_input", "url_text_input"})
SELECTS = frozenset({"static_select", "external_select", "radio_buttons"})
MULTI_SELECTS = frozenset({"multi_static_select", "checkboxes"})
# What admins type in the catalog's forms: seeded names in another case, numbers at and past
# each field's bounds, Stripe price ids.
CATALOG_TEXTS = (
    "sports MASSAGE",
    "Alex Kim",
    "Yin basics ",
    "45",
    "1000",
    "1001",
    "1440",
    "1441",
    "3660",
    "99999999999999",
    "price_1Abc",
    "price_",
    "12.505",
    "$1,000,000.00",
)
# A multi-select of catalog items (block_id links) offers the kind's linked items: a service's
# facilitators or a facilitator's services.
LINKED_TABLES = ("appointment_services", "facilitators")


def state_for(draw: st.DrawFn, view: JSON, sides: Sides) -> dict[str, dict[str, JSON]]:
    """`view.state.values` for a submission: each input realistic, hostile, or missing."""
    values: dict[str, dict[str, JSON]] = {}
    for element in elements(view.get("blocks", [])):
        if element.block_type != "input" or draw(st.integers(0, 9)) == 0:
            continue
        kind = element.kind
        if kind in TEXT_INPUTS:
            typed = st.one_of(
                texts(),
                st.sampled_from(["Zoë", "Adams", "new.person@example.com", "+44 7700 900999"]),
                st.sampled_from(["2", "-1", "30", "12.50", "£1,200.00", "0", "pi_123"]),
                st.sampled_from(CATALOG_TEXTS),
                wrong_types(),
            )
            state: JSON = {"type": kind, "value": draw(typed)}
        elif kind in SELECTS:
            offered = [str(o.get("value")) for o in element.options]
            choices: list[st.SearchStrategy[Any]] = [texts(), wrong_types(), st.just(None)]
            if offered:
                choices += [st.sampled_from(offered)] * 3
            table = SELECT_TABLES.get(element.block_id)
            if table:
                choices.append(row_ids(sides, table).map(lambda d: d.value))
            if element.block_id == "target":
                choices.append(uids(sides).map(lambda d: d.value))
            chosen = draw(st.one_of(*choices))
            option = None if chosen is None else {"text": plain_text("x"), "value": chosen}
            state = {"type": kind, "selected_option": option}
        elif kind in MULTI_SELECTS:
            state = {"type": kind, "selected_options": draw(_multi_options(element, sides))}
        elif kind == "users_select":
            state = {"type": kind, "selected_user": draw(slack_users())}
        elif kind == "datepicker":
            day = st.one_of(
                st.dates().map(str),
                st.sampled_from(["2026-03-20", "2026-02-30", "0000-00-00", "20260320"]),
                texts(),
                wrong_types(),
            )
            state = {"type": kind, "selected_date": draw(day)}
        elif kind == "timepicker":
            at = st.one_of(
                st.times().map(lambda t: t.strftime("%H:%M")),
                st.sampled_from(["25:00", "10:61", "-1:00", "10:00:00.5"]),
                texts(),
                wrong_types(),
            )
            state = {"type": kind, "selected_time": draw(at)}
        else:
            state = {"type": kind, "value": draw(json_values())}
        values.setdefault(element.block_id, {})[element.action_id] = state
    return values


def plain_text(text: str) -> JSON:
    return {"type": "plain_text", "text": text}


def slack_users() -> st.SearchStrategy[Any]:
    """A user picked in a users select: ours, another workspace's, made up, or not a user id."""
    return st.one_of(
        st.sampled_from([ADMIN, STAFF, STRANGER, GUEST, OTHER_USER, "W0GRID", "UNOBODY0"]),
        st.sampled_from(["U", "u123", "U" + "9" * 40, "B0BOT", "<@USTAFF>", ""]),
        texts(),
        wrong_types(),
    )


@st.composite
def _multi_options(draw: st.DrawFn, element: Any, sides: Sides) -> Any:
    """`selected_options` of a multi-select or checkboxes: offered values, the tenants' row ids
    (ours and the other's), junk, repeats, or not a list at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(wrong_types(), texts()))
    offered = [str(o.get("value")) for o in element.options]
    choices: list[st.SearchStrategy[Any]] = [texts(), wrong_types()]
    if offered:
        choices += [st.sampled_from(offered)] * 4
    if element.block_id == "links":
        choices += [row_ids(sides, table).map(lambda d: d.value) for table in LINKED_TABLES]
    values = draw(st.lists(st.one_of(*choices), max_size=6))
    return [{"text": plain_text("x"), "value": value} for value in values]


# ----------------------------------------------------------------- targets

Kind = Literal["command", "event", "action", "view", "options", "shortcut", "step"]
Values = Callable[[Sides], st.SearchStrategy[Drawn]]


@dataclass(frozen=True)
class Target:
    """One thing the app accepts: a slash command, an event, an action or a view submission."""

    kind: Kind
    id: str
    # Template keys of the surfaces it happens on (actions, submissions, options).
    surfaces: tuple[str, ...] = ()
    # Whether a well-formed request by staff may change rows.
    writes: bool = False
    # Actions: the element and its values.
    element: str = "button"
    values: Values | None = None
    # Forged UIDs only among customers nothing else relies on (Delete, Merge).
    protect: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


def _texts(_: Sides) -> st.SearchStrategy[Drawn]:
    return texts().map(Drawn)


def _anything(_: Sides) -> st.SearchStrategy[Drawn]:
    return st.one_of(st.none(), texts(), wrong_types()).map(Drawn)


def _choice(*values: str) -> Values:
    def strategy(_: Sides) -> st.SearchStrategy[Drawn]:
        return st.one_of(st.sampled_from(values), st.sampled_from(values), texts()).map(Drawn)

    return strategy


def _uids(sides: Sides) -> st.SearchStrategy[Drawn]:
    return uids(sides)


def _rows(table: str) -> Values:
    return lambda sides: row_ids(sides, table)


@st.composite
def _verb_uid(draw: st.DrawFn, sides: Sides, verbs: tuple[str, ...]) -> Drawn:
    verb = draw(st.one_of(st.sampled_from(verbs), texts()))
    uid = draw(uids(sides, protect=verb == "delete"))
    separator = draw(st.sampled_from(["|", "|", "|", "||", ""]))
    return Drawn(f"{verb}{separator}{uid.value}", foreign=uid.foreign)


def _row_menu(sides: Sides) -> st.SearchStrategy[Drawn]:
    return _verb_uid(sides, ("manage", "edit", "archive", "activate", "delete"))


def _undo(sides: Sides) -> st.SearchStrategy[Drawn]:
    return _verb_uid(sides, ("archive", "activate"))


ROW_VERBS = {
    "bookings": ("transfer", "cancel", "refund", "link"),
    "appointments": ("reschedule", "cancel", "link"),
    "passes": ("adjust", "extend", "cancel", "link"),
    "videos": ("extend", "cancel", "link"),
    "subscriptions": ("pause", "resume", "suspend"),
}


@st.composite
def _row_value(draw: st.DrawFn, sides: Sides) -> Drawn:
    tab = draw(st.one_of(st.sampled_from(sorted(ROW_VERBS)), st.sampled_from(TABS), texts()))
    verbs = ROW_VERBS.get(tab, ("cancel",))
    verb = draw(st.one_of(st.sampled_from(verbs), st.sampled_from(verbs), texts()))
    row = draw(row_ids(sides, ROW_TABLES.get(tab, "bookings")))
    parts = [tab, verb, str(row.value)]
    if draw(st.integers(0, 9)) == 0:
        parts = parts[: draw(st.integers(0, 2))] + [draw(texts())] * draw(st.integers(0, 2))
    return Drawn("|".join(parts), foreign=row.foreign)


def _row_values(sides: Sides) -> st.SearchStrategy[Drawn]:
    return _row_value(sides)


@st.composite
def _event_menu_value(draw: st.DrawFn, sides: Sides) -> Drawn:
    verb = draw(st.one_of(st.sampled_from(("edit", "archive")), texts()))
    row = draw(row_ids(sides, "event_occurrences"))
    separator = draw(st.sampled_from(["|", "|", "|", "||", ""]))
    return Drawn(f"{verb}{separator}{row.value}", foreign=row.foreign)


def _event_menu(sides: Sides) -> st.SearchStrategy[Drawn]:
    return _event_menu_value(sides)


@st.composite
def _catalog_menu_value(draw: st.DrawFn, sides: Sides) -> Drawn:
    verb = draw(st.one_of(st.sampled_from(("edit", "archive", "restore")), texts()))
    table = draw(st.sampled_from(sorted(CATALOG_TABLES.values())))
    row = draw(row_ids(sides, table))
    separator = draw(st.sampled_from(["|", "|", "|", "||", ""]))
    # The list the menu is in may be of another kind than the table the id was drawn from: an
    # id names another tenant's item only if it is none of ours in any of the kinds' tables.
    ours = {i for t in CATALOG_TABLES.values() for i in sides.mine.of(t)}
    foreign = row.foreign and not _one_of(str(row.value), sorted(ours))
    return Drawn(f"{verb}{separator}{row.value}", foreign=foreign)


def _catalog_menu(sides: Sides) -> st.SearchStrategy[Drawn]:
    return _catalog_menu_value(sides)


def _catalog_links(sides: Sides) -> st.SearchStrategy[Drawn]:
    ids = [row_ids(sides, table).map(lambda d: d.value) for table in LINKED_TABLES]
    return st.one_of(st.lists(st.one_of(*ids, texts()), max_size=4), wrong_types()).map(Drawn)


@st.composite
def _attendance_value(draw: st.DrawFn, sides: Sides) -> Drawn:
    """A check-in button's value 'booking|<id>|<version>', sometimes mangled."""
    kind = draw(st.one_of(st.sampled_from(("booking", "booking", "appointment")), texts()))
    table = "appointments" if kind == "appointment" else "bookings"
    row = draw(row_ids(sides, table))
    version = draw(st.one_of(st.sampled_from(("1", "2", "0", str(2**63))), texts()))
    parts = [kind, str(row.value), version]
    if draw(st.integers(0, 9)) == 0:
        parts = parts[: draw(st.integers(0, 2))] + [draw(texts())] * draw(st.integers(0, 2))
    return Drawn("|".join(parts), foreign=row.foreign)


def _attendance(sides: Sides) -> st.SearchStrategy[Drawn]:
    return _attendance_value(sides)


def _slack_users(_: Sides) -> st.SearchStrategy[Drawn]:
    return slack_users().map(Drawn)


def _dates(_: Sides) -> st.SearchStrategy[Drawn]:
    days = st.sampled_from(["2026-03-20", "2026-13-40", ""])
    return st.one_of(st.dates().map(str), days, texts(), wrong_types()).map(Drawn)


HUB = ("hub", "home")
# `/customers import`'s later steps, each made by submitting the one before. The file's rows
# are all refused (one-word names), so importing it never changes the database after the
# request that started it has been checked.
IMPORT_STEPS = {
    "form:customer_import.columns": "form:customer_import",
    "form:customer_import.preview": "form:customer_import.columns",
}
IMPORT_FILE = b"Name,Email\nSolo,solo@example.com\nMono,mono@example.com\n"
IMPORT_PREVIEW = ("form:customer_import.preview",)
CHECKIN = ("form:checkin",)
DETAILS = tuple(f"details:{tab}" for tab in TABS)
ACCOUNT = ("details:account",)
NOTES = ("details:notes",)
QUESTIONNAIRES = ("details:questionnaires",)
METHODS = ("manual", "package", "stripe", "link")
RELATIONS = ("parent", "child", "partner")
CATALOG_LISTS = tuple(f"catalog:{kind}" for kind in CATALOG_KINDS)
CATALOG_FORMS = tuple(
    f"form:catalog_item.{kind}{edit}" for kind in CATALOG_KINDS for edit in ("", ".edit")
)
CONFIRMATIONS = (
    "form:bookings.cancel",
    "form:appointments.cancel",
    "form:passes.cancel",
    "form:videos.cancel",
    "form:subscriptions.suspend",
)


def _action(
    action_id: str, surfaces: tuple[str, ...], values: Values, element: str = "button", **kw: Any
) -> Target:
    return Target("action", action_id, surfaces, element=element, values=values, **kw)


def _view(callback_id: str, *surfaces: str, writes: bool = True, protect: bool = False) -> Target:
    return Target("view", callback_id, surfaces, writes=writes, protect=protect)


TARGETS: tuple[Target, ...] = (
    # /customers with any text, and events
    Target("command", "/customers", writes=True),
    Target("event", "app_home_opened"),
    # Uninstall events (token mode here: noted in the log, nothing changes) and any other.
    Target("event", "app_uninstalled"),
    Target("event", "tokens_revoked"),
    # Anyone joining or leaving a conversation (ungated: the joiner may be anyone); the app
    # forgets the members it remembered, and pauses a channel's alerts someone not staff joined.
    Target("event", "member_joined_channel"),
    Target("event", "member_left_channel"),
    Target("event", "unknown_event"),
    # Customer links pasted anywhere, and their Work Object's flexpane (ungated: the surface
    # decides per conversation and per viewer).
    Target("event", "link_shared"),
    Target("event", "entity_details_requested"),
    # Workflow Builder steps (function_executed), run as the `runner` input says.
    Target("step", "find_customer"),
    Target("step", "create_customer", writes=True),
    Target("step", "add_customer_note", writes=True),
    Target("step", "book_customer_on_event", writes=True),
    _action("unfurl.open", HUB, _uids),
    _action("unfurl.add_note", HUB, _uids),
    # the hub, as a modal or the Home tab
    _action("hub.tab.active", HUB, _choice("active", "archived")),
    _action("hub.tab.archived", HUB, _choice("archived", "active")),
    _action("hub.search", HUB, _texts, "plain_text_input"),
    _action("hub.sort", HUB, _anything),
    _action("hub.page.prev", HUB, _anything),
    _action("hub.page.next", HUB, _anything),
    _action("hub.create", HUB, _anything),
    # an admin's export is recorded in the workspace audit
    _action("hub.export", HUB, _anything, writes=True),
    _action("customer.open", HUB, _uids),
    _action("home.today", ("home", "today"), _anything),
    _action("home.customers", ("home", "today"), _anything),
    _action("today.open_customer", ("today",), _uids),
    _action("customer.row_menu", HUB, _row_menu, "overflow", writes=True),
    _action("hub.undo", HUB, _undo, writes=True),
    _view("hub.view", "hub", writes=False),
    _view("customer_form.submit", "form:customer_form.create", "form:customer_form.edit"),
    _view("customer_delete.submit", "form:customer_delete", protect=True),
    # a customer's details
    _action("customer_details.edit", DETAILS, _anything),
    *(_action(f"customer_details.tab.{tab}", DETAILS, _choice(tab, *TABS)) for tab in TABS),
    _action("customer_details.search", DETAILS, _texts, "plain_text_input"),
    _view("customer_details.view", *DETAILS, writes=False),
    _action("customer_details.page.prev", DETAILS, _anything),
    _action("customer_details.page.next", DETAILS, _anything),
    _action("customer_details.post_chart", DETAILS, _anything),
    _action("customer_details.copy_link", DETAILS, _uids),
    # offered in an ephemeral message; from a view it names no conversation to post in
    _action("chart.choose", HUB, _uids),
    _action("customer_details.archive", ACCOUNT, _anything, writes=True),
    _action("customer_details.activate", ACCOUNT, _anything, writes=True),
    _action("customer_details.undo", ACCOUNT, _undo, writes=True),
    _action("customer_details.open", ACCOUNT, _uids),
    _action("customer_details.password_reset", ACCOUNT, _uids, writes=True),
    _action("customer_details.export_data", ACCOUNT, _uids, writes=True),
    _action("customer_details.merge", ("details:merge_source",), _anything),
    _action("customer_details.anonymise", ("details:merge_source",), _anything),
    _view("customer_anonymise.submit", "form:customer_anonymise", protect=True),
    # the message shown in the confirmation's place when it can't be done; it has no submit
    _view("customer_anonymise.refused", "hub", writes=False),
    _action("customer_details.commerce", DETAILS, _choice(*COMMERCE_BUTTONS)),
    _action("customer_details.row", DETAILS, _row_values, "overflow", writes=True),
    # notes
    _action("note.add", NOTES, _anything),
    _action("note.view", NOTES, _rows("notes")),
    _action("note.edit", NOTES, _rows("notes")),
    _action("note.delete", NOTES, _rows("notes"), writes=True),
    _view("note_form.submit", "form:note_form.add", "form:note_form.edit"),
    # questionnaires
    _action("questionnaire.assign", QUESTIONNAIRES, _anything),
    _action("questionnaire.view", QUESTIONNAIRES, _rows("questionnaire_responses")),
    _view("questionnaire_assign.submit", "form:questionnaire_assign"),
    _view("questionnaire.details", "form:questionnaire.details", writes=False),
    _view("questionnaire_answers.submit", "form:questionnaire_answers"),
    # household: linked people
    _action("household.open", DETAILS, _uids),
    _action("household.add", DETAILS, _anything),
    Target("options", "household.person", ("form:household",)),
    _view("household.submit", "form:household"),
    _action("household.relation", ("form:household",), _choice(*RELATIONS), "static_select"),
    _action("household.unlink", DETAILS, _uids, writes=True),
    # merge
    Target("options", "merge.target", ("form:merge",)),
    _action("merge.target", ("form:merge",), _uids, "external_select"),
    _view("merge.submit", "form:merge", protect=True),
    # shortcuts: global ones and on a message; Add to customer notes' form and picker
    *(
        Target("shortcut", callback_id)
        for callback_id in (
            "shortcut.find_customer",
            "shortcut.new_customer",
            "shortcut.add_to_notes",
            "shortcut.customer_from_message",
        )
    ),
    Target("options", "message_note.customer", ("form:message_note",)),
    _view("message_note.submit", "form:message_note"),
    # possible duplicates (admins)
    _action("duplicates.open", ("home",), _anything),
    _action("duplicates.compare", ("form:duplicates",), _texts),
    _action("duplicates.dismiss", ("form:duplicates",), _texts, writes=True),
    _action("customer_form.open_match", ("form:customer_form.create",), _uids),
    _view("duplicates.view", "form:duplicates", writes=False),
    _view("duplicates.refused", "hub", writes=False),
    _action("merge.reason", ("form:merge",), _texts, "plain_text_input"),
    _action("customer_form.duplicate_ok", ("form:customer_form.create",), _anything, "checkboxes"),
    # tags: the picker's suggestions in the customer form and Edit tags; Edit tags and
    # Marketing consent on the details; the admins' Tags modal (rename, merge) from Home
    Target(
        "options",
        "tags.pick",
        ("form:customer_tags", "form:customer_form.create", "form:customer_form.edit"),
    ),
    _action("customer_details.tags", DETAILS, _anything),
    _view("customer_tags.submit", "form:customer_tags"),
    _action("customer_details.consent", DETAILS, _anything),
    _view("customer_consent.submit", "form:customer_consent"),
    _action("tags.open", ("home",), _anything),
    _view("tags_admin.submit", "form:tags_admin"),
    # studio settings: opened from Home (admins), searched as typed, saved
    _action("settings.open", ("home",), _anything),
    Target("options", "settings.timezone", ("form:settings",)),
    Target("options", "settings.currency", ("form:settings",)),
    _view("settings.submit", "form:settings"),
    # segments: the modal `/customers segment` opens (re-counted as a filter changes, a
    # customer opened, an admin's CSV recorded in the audit), and Home's saved segments
    _action("segment.filter", ("form:segment",), _texts, "number_input"),
    _action("segment.customer", ("form:segment",), _uids),
    _action("segment.export", ("form:segment",), _anything, writes=True),
    _view("segment.submit", "form:segment"),
    _action("segment.new", ("home",), _anything),
    # the retention report from Home, sent to the DM (its facts are bookkeeping)
    _action("retention.post", ("home",), _anything),
    _action("segment.open", ("home",), _rows("segments")),
    _action("segment.delete", ("home",), _rows("segments"), writes=True),
    # channel alerts (admins): the form `/customers alerts #channel` opens
    _view("alerts.submit", "form:alerts"),
    _action("alerts.edit", ("home",), _anything),
    _action("alerts.remove", ("home",), _anything, writes=True),
    # the studio's Stripe account: Connect / Change key and Disconnect on Home (admins)
    _action("stripe_account.open", ("home",), _anything),
    _action("stripe_account.disconnect", ("home",), _anything, writes=True),
    _view("stripe_account.submit", "form:stripe_account"),
    # the catalog's events: Add event and each event's menu on Home (admins), the event form
    _action("catalog.event_add", ("home",), _anything),
    _action("catalog.event_menu", ("home",), _event_menu, "overflow", writes=True),
    _view("catalog_event.submit", "form:catalog_event"),
    # the catalog's items: Home's button per kind opens its list; Add and each item's menu
    # there (admins); the item form pushed over the list
    *(
        _action(f"catalog.items.{kind}", ("home",), _choice(*CATALOG_KINDS, "event"))
        for kind in CATALOG_KINDS
    ),
    _action("catalog_items.add", CATALOG_LISTS, _anything),
    _action("catalog_items.menu", CATALOG_LISTS, _catalog_menu, "overflow", writes=True),
    _view("catalog_item.submit", *CATALOG_FORMS),
    _action("stripe_account.connect", ("home",), _anything),
    # commerce
    Target("options", "book_event.occurrence", ("form:book_event",)),
    Target("options", "booking_transfer.occurrence", ("form:bookings.transfer",)),
    _action(
        "book_event.occurrence", ("form:book_event",), _rows("event_occurrences"), "static_select"
    ),
    _action("book_event.payment", ("form:book_event",), _choice(*METHODS), "radio_buttons"),
    _view("book_event.submit", "form:book_event"),
    _view("booking_transfer.submit", "form:bookings.transfer"),
    _view("booking_refund.submit", "form:bookings.refund"),
    _action(
        "book_appointment.service",
        ("form:book_appointment",),
        _rows("appointment_services"),
        "static_select",
    ),
    _action("book_appointment.day", ("form:book_appointment",), _dates, "datepicker"),
    _action(
        "book_appointment.payment", ("form:book_appointment",), _choice(*METHODS), "radio_buttons"
    ),
    _view("book_appointment.submit", "form:book_appointment"),
    _view("appointment_reschedule.submit", "form:appointments.reschedule"),
    _action("assign_pass.payment", ("form:assign_pass",), _choice(*METHODS), "radio_buttons"),
    _view("assign_pass.submit", "form:assign_pass"),
    _view("pass_adjust.submit", "form:passes.adjust"),
    _view("pass_extend.submit", "form:passes.extend"),
    _action("assign_video.video", ("form:assign_video",), _rows("videos"), "static_select"),
    _action("assign_video.payment", ("form:assign_video",), _choice(*METHODS), "radio_buttons"),
    _view("assign_video.submit", "form:assign_video"),
    _view("video_extend.submit", "form:videos.extend"),
    _view("start_subscription.submit", "form:start_subscription"),
    _action(
        "start_subscription.plan",
        ("form:start_subscription",),
        _rows("subscription_plans"),
        "static_select",
    ),
    _view("commerce_confirm.submit", *CONFIRMATIONS),
    # check-in: under a booking on the Bookings tab; a session's list opened by `open_checkin`
    # (from Home here), and its buttons
    *(
        _action(f"attendance.{verb}", DETAILS, _attendance, writes=True)
        for verb in ("attended", "no_show", "undo")
    ),
    _action("open_checkin", ("home",), _rows("event_occurrences")),
    *(
        _action(f"checkin.{verb}", CHECKIN, _attendance, writes=True)
        for verb in ("attended", "no_show", "undo")
    ),
    _view("checkin.view", *CHECKIN, writes=False),
    # `/customers import` (admins): the file, its columns, the preview, Back to columns
    _view("customer_import.submit", "form:customer_import"),
    _view("customer_import.columns", "form:customer_import.columns"),
    _view("customer_import.preview", *IMPORT_PREVIEW),
    _action("customer_import.back", IMPORT_PREVIEW, _anything),
    _action("customer_import.file", ("form:customer_import",), _anything, "file_input"),
    _action("customer_import.welcome", ("form:customer_import",), _choice("yes"), "checkboxes"),
    _action(
        "customer_import.column",
        ("form:customer_import.columns",),
        _choice("none", "0", "1", "7"),
        "static_select",
    ),
    _view("customer_import.message", "hub", writes=False),
    # documented ids without a listener (inputs, views without a submit), and unknown ids
    _action("customer_form.first_name", ("form:customer_form.create",), _texts, "plain_text_input"),
    _action("note_form.content", ("form:note_form.add",), _texts, "plain_text_input"),
    _action(
        "questionnaire_assign.template",
        ("form:questionnaire_assign",),
        _rows("questionnaire_templates"),
        "static_select",
    ),
    _action(
        "questionnaire_answers.answer", ("form:questionnaire_answers",), _texts, "plain_text_input"
    ),
    _action(
        "booking_transfer.occurrence",
        ("form:bookings.transfer",),
        _rows("event_occurrences"),
        "static_select",
    ),
    _action("booking_refund.amount", ("form:bookings.refund",), _texts, "plain_text_input"),
    _action("book_event.price", ("form:book_event",), _texts, "plain_text_input"),
    _action("book_appointment.time", ("form:book_appointment",), _texts, "timepicker"),
    _action("appointment_reschedule.day", ("form:appointments.reschedule",), _dates, "datepicker"),
    _action("assign_pass.type", ("form:assign_pass",), _rows("pass_types"), "static_select"),
    _action("pass_adjust.delta", ("form:passes.adjust",), _texts, "plain_text_input"),
    _action("pass_extend.valid_to", ("form:passes.extend",), _dates, "datepicker"),
    _action("video_extend.days", ("form:videos.extend",), _texts, "plain_text_input"),
    _action("video_extend.until", ("form:videos.extend",), _dates, "datepicker"),
    _action(
        "settings.timezone",
        ("form:settings",),
        _choice("Europe/London", "America/New_York"),
        "external_select",
    ),
    _action("settings.currency", ("form:settings",), _choice("GBP", "USD"), "external_select"),
    _action("settings.portal_url", ("form:settings",), _texts, "plain_text_input"),
    _action("alerts.kinds", ("form:alerts",), _anything, "checkboxes"),
    _view("settings.message", "hub", writes=False),
    _action("stripe_account.key", ("form:stripe_account",), _texts, "plain_text_input"),
    _action("stripe_account.webhook_secret", ("form:stripe_account",), _texts, "plain_text_input"),
    _view("stripe_account.message", "hub", writes=False),
    _action("catalog_event.name", ("form:catalog_event",), _texts, "plain_text_input"),
    _action("catalog_event.day", ("form:catalog_event",), _dates, "datepicker"),
    _action(
        "catalog_event.repeat_days",
        ("form:catalog_event",),
        _choice("0", "2", "6"),
        "checkboxes",
    ),
    _view("catalog_event.message", "hub", writes=False),
    _view("catalog_items.list", *CATALOG_LISTS, writes=False),
    _action("catalog_item.name", CATALOG_FORMS, _texts, "plain_text_input"),
    _action(
        "catalog_item.links",
        ("form:catalog_item.service", "form:catalog_item.facilitator.edit"),
        _catalog_links,
        "multi_static_select",
    ),
    _action(
        "catalog_item.slack_user",
        ("form:catalog_item.facilitator", "form:catalog_item.facilitator.edit"),
        _slack_users,
        "users_select",
    ),
    _action(
        "catalog_item.interval",
        ("form:catalog_item.plan", "form:catalog_item.plan.edit"),
        _choice("week", "month", "year"),
        "static_select",
    ),
    _view("catalog_item.message", "hub", writes=False),
    _view("note.details", "form:note.details", writes=False),
    _action("message_note.content", ("form:message_note",), _texts, "plain_text_input"),
    _view("message_note.done", "hub", writes=False),
    _view("commerce.working", "hub", writes=False),
    _view("commerce.result", "hub", writes=False),
    _view("customer_details.gone", "hub", writes=False),
    # The Home tab has no submission; a forged one is answered with nothing.
    _view("today.view", "today", writes=False),
    _view("access.refused", "hub", writes=False),
    _view("unavailable.view", "hub", writes=False),
    _action("hub.tab.deleted", HUB, _anything),
    _action("customer_details.tab.secrets", DETAILS, _anything),
    _action("note.nuke", NOTES, _rows("notes")),
    _view("customer_form.submit.evil", "form:customer_form.create", writes=False),
)


# ----------------------------------------------------------------- cases

WHO: st.SearchStrategy[Who] = st.sampled_from(
    ["staff", "staff", "staff", "admin", "admin", "admin", "stranger", "guest", "other", "other"]
)


@st.composite
def command_texts(draw: st.DrawFn, sides: Sides) -> tuple[str, bool]:
    """`/customers` text; True when it may change who has access (a staff command)."""
    kind = draw(
        st.sampled_from(["random", "search", "new", "help", "import", "staff", "staff", "chart"])
    )
    theirs = sides.theirs
    if kind == "random":
        return draw(texts()), False
    if kind == "search":
        wanted = ["Zoë", "zoe", "Xavier", "%", "_", "*", sides.mine.main, theirs.main]
        return draw(st.one_of(st.sampled_from(wanted), texts())), False
    if kind in {"new", "help", "import"}:
        return f"{kind} {draw(texts())}", False
    if kind == "chart":
        wanted = ["Zoë Adams", "Xavier", sides.mine.main, theirs.main, theirs.archived, ""]
        return f"chart {draw(st.one_of(st.sampled_from(wanted), texts()))}", False
    verb = draw(st.one_of(st.sampled_from(["list", "add", "remove", "LIST", "Add"]), texts()))
    mentions = [
        "<@UNEWPERSON|new>",
        "<@W0GRID>",
        "UJUNK99",
        "<@U>",
        "<@uadmin>",
        "<#C123|general>",
        "<!here>",
        "@someone",
        "<@UADMIN|me>",
        "<@U" + "9" * 40 + ">",
    ]
    mention = draw(st.one_of(st.sampled_from(mentions), texts()))
    tail = draw(st.one_of(st.sampled_from(["", "admin", "ADMIN", "staff", "owner"]), texts()))
    return f"staff {verb} {mention} {tail}", True


@dataclass
class Case:
    """One request to send, and what it may change."""

    target: Target
    who: Who
    body: bytes
    content_type: str
    may_change: frozenset[str]
    inputs: frozenset[str] | None = None
    hidden: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def _hidden(needles: tuple[str, ...], sent: object) -> tuple[str, ...]:
    """The needles the request itself doesn't carry (echoing what was sent is no leak)."""
    echoed = json.dumps(sent, ensure_ascii=False, default=str)
    return tuple(n for n in needles if n not in echoed)


def _encode(draw: st.DrawFn, payload: JSON, notes: list[str]) -> tuple[bytes, bool]:
    """The form body for a payload; True when it is malformed (so nothing may happen)."""
    how = draw(st.integers(0, 39))
    text = json.dumps(payload)
    if how == 0:
        cut = int(len(text) * draw(st.floats(0, 1)))
        broken = text[:cut] + draw(st.sampled_from(["", "{", "\\", "\x00"]))
        notes.append(f"malformed JSON {broken[-80:]!r}")
        return urlencode({"payload": broken}).encode(), True
    if how == 1:
        other = draw(st.one_of(wrong_types(), st.lists(st.just(payload), max_size=2)))
        notes.append("payload not an object")
        return urlencode({"payload": json.dumps(other)}).encode(), True
    if how == 2:
        notes.append("no payload field")
        return urlencode({"pay_load": text}).encode(), True
    return urlencode({"payload": text}).encode(), False


def _element_action(target: Target, value: Any, template: JSON) -> JSON:
    """The action Slack sends for `target`'s element holding `value`."""
    block_id = next(
        (e.block_id for e in elements(template.get("blocks", [])) if e.action_id == target.id),
        "b",
    )
    if target.element == "button":
        return button(target.id, value, block_id=block_id)
    if target.element in SELECTS | {"overflow"}:
        return menu(target.id, value, kind=target.element, block_id=block_id)
    if target.element in MULTI_SELECTS:
        chosen = value if isinstance(value, list) else [value]
        value = [{"text": plain_text("x"), "value": v} for v in chosen]
    key = {
        "datepicker": "selected_date",
        "timepicker": "selected_time",
        "users_select": "selected_user",
        **dict.fromkeys(MULTI_SELECTS, "selected_options"),
    }.get(target.element, "value")
    return {
        "type": target.element,
        "action_id": target.id,
        "block_id": block_id,
        key: value,
        "action_ts": f"{time.time():.6f}",
    }


def draw_case(draw: st.DrawFn, h: Harness, target: Target) -> Case:
    """A request for `target` by someone, realistic or hostile."""
    who = draw(WHO)
    team = USERS[who][1]
    sides = h.sides(who)
    refused = who in REFUSED
    needles = h.hidden_from(who)
    nothing: frozenset[str] = frozenset()
    if target.kind == "command":
        text, writes = draw(command_texts(sides))
        may = nothing if refused or not writes else frozenset({team})
        body = h.command_body(who, text)
        return Case(
            target,
            who,
            body,
            "application/x-www-form-urlencoded",
            may,
            hidden=_hidden(needles, text),
            notes=[f"text {text[:200]!r}"],
        )
    if target.kind == "event":
        return _event_case(draw, h, target, who, needles)
    if target.kind == "shortcut":
        return _shortcut_case(draw, h, target, who, needles)
    if target.kind == "step":
        return _step_case(draw, h, target, who, needles)
    surface = draw(st.sampled_from(target.surfaces))
    template = h.template(team, surface).view
    view = h.place(who, surface)
    notes = [f"on {surface}"]
    foreign = False
    inputs: frozenset[str] | None = None
    if target.kind == "view":
        view = {**view, "callback_id": target.id}
        values = state_for(draw, template, sides)
        view["state"] = {"values": values}
        inputs = frozenset(
            e.block_id for e in elements(template["blocks"]) if e.block_type == "input"
        )
        payload = h.interaction(who, "view_submission", view)
        notes.append(f"values {json.dumps(values, ensure_ascii=False)[:400]}")
    elif target.kind == "options":
        typed = draw(st.one_of(texts(), st.sampled_from(["", "Sam", "Xavier", "yoga", "Dot"])))
        payload = {
            **h.interaction(who, "block_suggestion", view),
            "action_id": target.id,
            "block_id": target.id.split(".")[-1],
            "value": typed,
        }
        notes.append(f"typed {typed!r:.120}")
    else:
        assert target.values is not None
        drawn = draw(target.values(sides))
        foreign = drawn.foreign
        action = _element_action(target, drawn.value, template)
        payload = {**h.interaction(who, "block_actions", view), "actions": [action]}
        notes.append(f"value {drawn.value!r:.200}")
    if draw(st.integers(0, 9)) < 3:
        original = str(view.get("private_metadata") or "")
        forged, acts_on_foreign = draw(forged_metadata(original, sides, protect=target.protect))
        payload["view"] = {**payload["view"], "private_metadata": forged}
        foreign = foreign or acts_on_foreign
        notes.append(f"metadata {str(forged)[:300]!r}")
    rewritten = False
    if draw(st.integers(0, 9)) < 2:
        payload = draw(mutated(copy.deepcopy(payload)))
        rewritten = True
        notes.append(f"mutated {json.dumps(payload, ensure_ascii=False, default=str)[:600]}")
    body, malformed = _encode(draw, payload, notes)
    may = nothing if refused or foreign or malformed or not target.writes else frozenset({team})
    if rewritten and not (refused or malformed):
        # A rewritten envelope may name any workspace: only the two seeded ones are protected.
        may |= {NEW_TENANTS}
    return Case(
        target,
        who,
        body,
        "application/x-www-form-urlencoded",
        may,
        inputs=inputs,
        hidden=_hidden(needles, payload),
        notes=notes,
    )


def _shortcut_case(
    draw: st.DrawFn, h: Harness, target: Target, who: Who, needles: tuple[str, ...]
) -> Case:
    """A shortcut on a message of any text (emails and names of both tenants among them)."""
    sides = h.sides(who)
    text = draw(
        st.one_of(
            texts(),
            st.sampled_from(
                [
                    f"Name: Xavier Foreign {sides.theirs.main}",
                    "Zoë Adams <zoe.adams.100@example.com> +44 7700 900100",
                    "xavier.foreign.500@example.com",
                ]
            ),
        )
    )
    payload = h.shortcut(who, target.id, text)
    notes = [f"text {text[:200]!r}"]
    rewritten = draw(st.integers(0, 9)) < 3
    if rewritten:
        payload = draw(mutated(copy.deepcopy(payload)))
        notes.append(f"mutated {json.dumps(payload, ensure_ascii=False, default=str)[:600]}")
    body, malformed = _encode(draw, payload, notes)
    # Shortcuts only open forms; a rewritten envelope may name a workspace never seen before.
    may = (
        frozenset({NEW_TENANTS})
        if rewritten and not malformed and who not in REFUSED
        else frozenset()
    )
    return Case(
        target,
        who,
        body,
        "application/x-www-form-urlencoded",
        may,
        hidden=_hidden(needles, payload),
        notes=notes,
    )


@st.composite
def _link_urls(draw: st.DrawFn, sides: Sides) -> str:
    uid = draw(uids(sides)).value
    host = draw(st.sampled_from([LINK_BASE, LINK_BASE, "https://elsewhere.example", ""]))
    return draw(st.one_of(st.just(f"{host}/c/{uid}"), texts()))


def _link_event(
    draw: st.DrawFn, h: Harness, target: Target, who: Who, needles: tuple[str, ...]
) -> tuple[JSON, tuple[str, ...]]:
    """link_shared or entity_details_requested as `who`, naming drawn customers' links."""
    user, team = USERS[who]
    url = draw(_link_urls(h.sides(who)))
    channel = draw(st.one_of(st.sampled_from(["C0LOCAL", "CELSEWHERE", ""]), texts()))
    ts = h.api.say("C0LOCAL", user, url).ts if channel == "C0LOCAL" else draw(texts())
    event: JSON = {"type": target.id, "user": user, "channel": channel, "message_ts": ts}
    if target.id == "link_shared":
        more = draw(st.lists(_link_urls(h.sides(who)), max_size=3))
        event["links"] = [{"domain": "records.example.test", "url": u} for u in [url, *more]]
        # The card goes to the conversation, judged by its members, not to whoever pasted the
        # link: only another workspace's customers must never appear in it.
        needles = h.hidden_from("other" if team == OTHER_TEAM else "admin")
    else:
        event["entity_url"] = url
        event["external_ref"] = {"id": draw(uids(h.sides(who))).value}
        event["trigger_id"] = draw(
            st.one_of(st.just(h.api.issue_trigger_id(user)), texts(), wrong_types())
        )
    if draw(st.booleans()):
        event = draw(mutated(event))
    return h.event_envelope(who, event), needles


STEP_INPUTS = {
    "find_customer": ("email", "mobile"),
    "create_customer": ("first_name", "last_name", "email", "mobile"),
    "add_customer_note": ("customer_id", "note"),
    "book_customer_on_event": ("customer_id", "event", "date", "time", "payment"),
}


def _step_input(draw: st.DrawFn, sides: Sides, name: str) -> Any:
    """A step input as a workflow could fill it, or as a forger would."""
    realistic = {
        "email": ["zoe.adams.100@example.com", "xavier.foreign.500@example.com", "new@example.com"],
        "mobile": ["+44 7700 900100", "07700 900500", "+1 202 555 0100"],
        "customer_id": [sides.mine.main, sides.theirs.main, sides.mine.main.lower()],
        "event": ["Vinyasa Flow", "vinyasa flow", "Pilates Core"],
        "date": ["2026-03-15", "2026-04-23", "15/03/2026"],
        "time": ["07:00", "7:00", "25:00"],
        "payment": ["manual", "free", "pass", "card"],
    }.get(name, ["Ada", "Lovelace", "Asked about Pilates"])
    return draw(st.one_of(st.sampled_from(realistic), texts(), wrong_types()))


def _step_case(
    draw: st.DrawFn, h: Harness, target: Target, who: Who, needles: tuple[str, ...]
) -> Case:
    """A workflow step run in `who`'s workspace, its runner `who` or missing or forged."""
    user, team = USERS[who]
    run = h.api.start_step(target.id, team)
    inputs: JSON = {
        name: _step_input(draw, h.sides(who), name)
        for name in STEP_INPUTS[target.id]
        if draw(st.integers(0, 9)) < 9
    }
    runner = draw(st.sampled_from(["who", "who", "who", "missing", "forged"]))
    if runner == "who":
        inputs["runner"] = {"id": user, "secret": "uc-fuzz"}
    elif runner == "forged":
        inputs["runner"] = draw(st.one_of(texts(), wrong_types(), st.just({"id": draw(texts())})))
    event: JSON = {
        "type": "function_executed",
        "function": {"id": "Fn0FUZZ", "callback_id": target.id, "type": "app"},
        "inputs": inputs,
        "function_execution_id": run.execution_id,
        "workflow_execution_id": "Wx0FUZZ",
        "event_ts": f"{time.time():.6f}",
        "bot_access_token": run.token,
    }
    envelope = h.event_envelope(who, event)
    notes = [f"step {json.dumps(event, ensure_ascii=False, default=str)[:400]}"]
    mutate = draw(st.integers(0, 9)) < 3
    if mutate:
        envelope = draw(mutated(copy.deepcopy(envelope)))
        notes.append(f"mutated {json.dumps(envelope, ensure_ascii=False, default=str)[:400]}")
    acts = runner == "who" and who not in REFUSED and target.writes
    may = frozenset({team}) if acts else frozenset()
    return Case(
        target,
        who,
        json.dumps(envelope).encode(),
        "application/json",
        may | {NEW_TENANTS} if mutate else may,
        hidden=_hidden(needles, envelope),
        notes=notes,
    )


def _event_case(
    draw: st.DrawFn, h: Harness, target: Target, who: Who, needles: tuple[str, ...]
) -> Case:
    user, team = USERS[who]
    if target.id == "app_home_opened":
        home = copy.deepcopy(h.template(team, "home").view)
        shape = draw(st.sampled_from(["home", "forged", "json", "none"]))
        view: Any = home
        if shape == "forged":
            forged, _ = draw(forged_metadata(str(home.get("private_metadata")), h.sides(who)))
            view = {**home, "private_metadata": forged}
        elif shape == "json":
            view = draw(json_values())
        elif shape == "none":
            view = None
        envelope = h.home_opened(who, view)
        envelope["event"]["tab"] = draw(
            st.one_of(
                st.sampled_from(["home", "home", "messages", "about"]), texts(), wrong_types()
            )
        )
    elif target.id in {"link_shared", "entity_details_requested"}:
        envelope, needles = _link_event(draw, h, target, who, needles)
    elif target.id in {"member_joined_channel", "member_left_channel"}:
        channels = st.sampled_from(["C0LOCAL", "CELSEWHERE", "D" + user, "G0GROUP", ""])
        event = {
            "type": target.id,
            "user": draw(st.one_of(st.sampled_from([user, "UNOBODY", "UGUEST"]), texts())),
            "channel": draw(st.one_of(channels, texts(), wrong_types())),
            "channel_type": draw(st.sampled_from(["C", "G", "D", ""])),
            "team": draw(st.one_of(st.just(team), texts())),
            "event_ts": f"{time.time():.6f}",
        }
        if draw(st.booleans()):
            event["inviter"] = draw(st.one_of(st.just(user), texts(), wrong_types()))
        envelope = h.event_envelope(who, event)
    else:
        kinds = ["message", "app_mention", "team_join", "app_uninstalled", "tokens_revoked", ""]
        event = {
            "type": draw(st.one_of(st.sampled_from(kinds), texts(), wrong_types())),
            "user": user,
            "text": draw(texts()),
            "event_ts": f"{time.time():.6f}",
        }
        envelope = h.event_envelope(who, event)
    notes = [f"event {json.dumps(envelope['event'], ensure_ascii=False, default=str)[:400]}"]
    if draw(st.integers(0, 9)) < 3:
        envelope = draw(mutated(copy.deepcopy(envelope)))
        notes.append(f"mutated {json.dumps(envelope, ensure_ascii=False, default=str)[:400]}")
    return Case(
        target,
        who,
        json.dumps(envelope).encode(),
        "application/json",
        frozenset({NEW_TENANTS}),
        hidden=_hidden(needles, envelope),
        notes=notes,
    )
