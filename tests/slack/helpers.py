"""Small helpers shared by the end-to-end Slack tests: seeding, reading views, waiting."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.local import AppResponse, Call, SlackDriver
from bot.local.blockkit import plain
from bot.local.signing import signed_headers
from core.actor import Actor
from core.db import Database
from core.models import Customer, Role
from core.services.customers import (
    CustomerInput,
    CustomerRecord,
    archive_customer,
    create_customer,
)
from tests.slack.conftest import ADMIN, TEAM

JSON = dict[str, Any]
HUB = "hub.view"
FORM = "customer_form.submit"
DELETE = "customer_delete.submit"
DETAILS = "customer_details.view"
ROW_MENU = "customer.row_menu"
# The configured admin, for setting up data directly through the core.
ADMIN_ACTOR = Actor(TEAM, ADMIN, Role.ADMIN)


def seed(
    db: Database,
    names: list[tuple[str, str]],
    *,
    team_id: str = TEAM,
    mobile_start: int = 100,
) -> list[CustomerRecord]:
    """Create customers directly through the core (no welcome mail), in the given order."""
    actor = Actor(team_id, ADMIN, Role.ADMIN)
    made: list[CustomerRecord] = []
    with db.unit_of_work() as uow:
        for n, (first, last) in enumerate(names, start=mobile_start):
            data = CustomerInput(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{n}@example.com".lower(),
                mobile=f"+44 7700 900{n:03d}",
            )
            made.append(create_customer(uow, actor, data, send_welcome=False))
    return made


def archive(db: Database, *customers: CustomerRecord) -> None:
    """Archive customers directly through the core."""
    with db.unit_of_work() as uow:
        for customer in customers:
            archive_customer(uow, ADMIN_ACTOR, customer.uid)


def numbered(count: int, prefix: str = "Cust") -> list[tuple[str, str]]:
    """`count` names that sort as their numbers: Cust001 Test … CustNNN Test."""
    return [(f"{prefix}{i:03d}", "Test") for i in range(1, count + 1)]


def customer_count(db: Database, **where: Any) -> int:
    """How many customer rows exist (optionally filtered by column values)."""
    query = select(func.count()).select_from(Customer)
    for column, value in where.items():
        query = query.where(getattr(Customer, column) == value)
    with db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(query) or 0


def _walk(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield plain(value)
            else:
                yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def text_of(view: JSON | None) -> str:
    """What a person reads on a view: the title and every text, links and bold marks resolved."""
    if view is None:
        return ""
    return "\n".join(_walk({"title": view.get("title"), "blocks": view.get("blocks", [])}))


def is_view(callback_id: str, *needles: str) -> Callable[[JSON], bool]:
    """A predicate: the view has this callback_id and shows every needle."""

    def check(view: JSON) -> bool:
        shown = text_of(view)
        return view.get("callback_id") == callback_id and all(n in shown for n in needles)

    return check


def rows(view: JSON) -> list[str]:
    """The customer names listed on a hub view, top to bottom."""
    names = []
    for block in view["blocks"]:
        if block.get("type") == "actions" and str(block.get("block_id", "")).startswith("row_"):
            names.append(block["elements"][0]["text"]["text"])
    return names


def uid_of(view: JSON, name: str) -> str:
    """The UID behind a listed customer's row."""
    for block in view["blocks"]:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("row_") and block["elements"][0]["text"]["text"] == name:
            return block_id.removeprefix("row_")
    raise AssertionError(f"{name!r} is not listed; rows: {rows(view)}")


def hub_state(view: JSON) -> JSON:
    """What the person is looking at, as kept in private_metadata: tab, search, sort and page."""
    state: JSON = json.loads(view["private_metadata"])
    # The Home tab keeps the hub's state beside which of its pages it shows.
    state = state.get("hub", state)
    return {key: state.get(key) for key in ("tab", "q", "sort", "page")}


def row_menu(driver: SlackDriver, view: JSON, name: str, option: str, **kwargs: Any) -> AppResponse:
    """Choose an option in the ⋯ menu of a customer's row."""
    response = driver.choose(option, menu=ROW_MENU, in_block=f"row_{uid_of(view, name)}", **kwargs)
    assert response is not None
    return acked(response)


def acked(response: AppResponse | None) -> AppResponse:
    """The app answered 200 (that it answers before its slow work is shown apart, by holding
    that work: test_requests.py; how fast it answers is measured in bench/ack.py)."""
    assert response is not None
    assert response.status == 200, response.text
    return response


def after(driver: SlackDriver, response: AppResponse | None, method: str) -> Call:
    """Wait for the Web API call the app makes after this request; it must have succeeded."""
    call = driver.api.wait_for(method, since=acked(response).mark)
    assert call.ok, f"{method} failed: {call.error} {call.response}"
    return call


def open_hub(driver: SlackDriver, text: str = "") -> JSON:
    """`/customers [text]` and the hub modal it opens."""
    call = after(driver, driver.slash("/customers", text), "views.open")
    view: JSON = call.response["view"]
    assert view["callback_id"] == HUB
    return driver.wait_for_view(lambda v: v["id"] == view["id"])


def updated(driver: SlackDriver, response: AppResponse | None) -> JSON:
    """The hub modal as re-rendered (views.update) after an action."""
    after(driver, response, "views.update")
    view = driver.current_view("modal")
    assert view is not None
    return view


def published(driver: SlackDriver, response: AppResponse | None) -> JSON:
    """The Home tab as re-published (views.publish) after an action."""
    after(driver, response, "views.publish")
    view = driver.current_view("home")
    assert view is not None
    return view


def customers_home(driver: SlackDriver) -> JSON:
    """Open the Home tab (it opens on Today) and switch it to Customers: the hub and sections."""
    after(driver, driver.open_home(), "views.publish")
    driver.wait_for_view(surface="home")
    home = published(driver, driver.click("home.customers", surface="home"))
    assert home["callback_id"] == HUB
    return home


def fill_form(driver: SlackDriver, values: dict[str, str]) -> None:
    """Type into the open Create/Edit form, by field label."""
    labels = {
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
        "mobile": "Mobile",
        "password": "Password",
    }
    for field, value in values.items():
        driver.type(value, into=labels[field])


def typed_values(view: JSON) -> dict[str, str | None]:
    """What each form field holds right now (block_id → value)."""
    values: dict[str, str | None] = {}
    for block_id, actions in view["state"]["values"].items():
        for state in actions.values():
            values[block_id] = state.get("value")
    return values


class LogWatch(logging.Handler):
    """Collects log records from every thread and lets a test wait for one."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._cond = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._cond:
            self.records.append(record)
            self._cond.notify_all()

    def wait_for(self, needle: str, *, timeout: float = 5.0) -> logging.LogRecord:
        """The first record whose message contains `needle`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for record in self.records:
                    if needle in record.getMessage():
                        return record
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [r.getMessage() for r in self.records]
                    raise TimeoutError(f"no log record containing {needle!r}; saw {seen}")
                self._cond.wait(remaining)

    def at_least(self, level: int) -> list[logging.LogRecord]:
        """Records at `level` or above."""
        with self._cond:
            return [r for r in self.records if r.levelno >= level]


@contextmanager
def watch_logs() -> Iterator[LogWatch]:
    """Capture every log record (DEBUG and up) emitted anywhere while the block runs."""
    watch = LogWatch()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        root.setLevel(previous)


def post_raw(
    url: str, body: bytes, headers: dict[str, str], *, method: str = "POST"
) -> tuple[int, bytes]:
    """Send one HTTP request to the app as-is (no signing added); returns status and body."""
    data = body if method == "POST" else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as reply:
            return int(reply.status), bytes(reply.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def post_signed(driver: SlackDriver, payload: JSON) -> AppResponse:
    """Send an interaction payload the UI could not produce (a forged or replayed one), signed."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    mark = driver.api.mark()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **signed_headers(driver.app.signing_secret, int(time.time()), body),
    }
    started = time.perf_counter()
    status, raw = post_raw(driver.app.url, body, headers)
    elapsed = time.perf_counter() - started
    text = raw.decode()
    data = json.loads(text) if text.strip().startswith("{") else {}
    return AppResponse(status, text, data, mark, elapsed)


def interaction(driver: SlackDriver, kind: str, view: JSON) -> JSON:
    """The envelope Slack wraps a view interaction of `driver`'s user in."""
    return {
        "type": kind,
        "team": {"id": driver.team_id, "domain": "local"},
        "user": {"id": driver.user_id, "team_id": driver.team_id, "name": driver.user_id.lower()},
        "api_app_id": driver.api.app_id,
        "token": "local-legacy-verification",
        "is_enterprise_install": False,
        "enterprise": None,
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "trigger_id": driver.api.issue_trigger_id(driver.user_id, view_id=view["id"]),
    }


def forged_action(driver: SlackDriver, view: JSON, action: JSON) -> AppResponse:
    """Press a control the view does not offer this person (an admin-only one, say), signed."""
    return post_signed(driver, {**interaction(driver, "block_actions", view), "actions": [action]})


def forged_choice(
    driver: SlackDriver, view: JSON, action_id: str, block_id: str, value: str
) -> AppResponse:
    """Choose a menu option the view does not offer this person, signed."""
    option = {"text": {"type": "plain_text", "text": value}, "value": value}
    action = {
        "type": "overflow",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": option,
    }
    return forged_action(driver, view, action)


def offered(view: JSON, block_id: str) -> list[str]:
    """The labels of the options a row's menu in `view` offers."""
    for block in view.get("blocks", []):
        if block.get("block_id") != block_id:
            continue
        menus = [
            e for e in [block.get("accessory"), *block.get("elements", [])] if isinstance(e, dict)
        ]
        return [o["text"]["text"] for m in menus for o in m.get("options", [])]
    raise AssertionError(f"no block {block_id}")
