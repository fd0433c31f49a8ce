"""One view redrawn by many interactions at once ends showing the latest state: 20 check-ins
pressed at once in one check-in list, 20 keystrokes in the hub's search arriving in any order,
all sent from the same view (so all carry the same, soon stale, hash)."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import random
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from bot.local import Call, SlackDriver
from core.actor import Actor
from core.models import Role
from core.services.bookings import book_event
from core.services.checkout import ManualPayment
from tests.concurrency import poll_until
from tests.conftest import MutableClock
from tests.slack.commerce_helpers import Shop, shop, utc  # noqa: F401 - fixtures
from tests.slack.conftest import STAFF, TEAM, World
from tests.slack.helpers import (
    JSON,
    acked,
    hub_state,
    interaction,
    open_hub,
    post_signed,
    rows,
    seed,
    text_of,
    watch_logs,
)
from tests.slack.test_check_in import CHECKIN, _open_checkin
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.views_check import assert_valid_view

AT_ONCE = 20


def _fire(driver: SlackDriver, payloads: list[JSON]) -> int:
    """Send `payloads` all at once; the Slack stand-in's mark from before the first."""
    since = driver.api.mark()
    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        answers = list(pool.map(lambda p: post_signed(driver, p), payloads))
    assert [a.status for a in answers] == [200] * len(payloads)
    return since


def test_twenty_check_ins_at_once_all_show_in_the_list(shop: Shop, clock: MutableClock) -> None:
    """Every press records its mark and redraws the list; the list ends with all of them."""
    people = seed(
        shop.db, [(f"Guest{n:02d}", "Walker") for n in range(AT_ONCE - 2)], mobile_start=300
    )
    staff = Actor(TEAM, STAFF, Role.STAFF)
    with shop.db.unit_of_work() as uow:
        uids = [shop.uid, shop.other_uid, *(p.uid for p in people)]
        session = shop.sessions["16"]
        bookings = [book_event(uow, staff, uid, session, ManualPayment()).id for uid in uids]
    clock.current = utc("2026-03-16 07:02")
    driver = shop.world.staff
    modal = _open_checkin(driver, session)
    assert f"{AT_ONCE} of 20 booked · 0 checked in" in text_of(modal)

    payloads = [
        {
            **interaction(driver, "block_actions", modal),
            "actions": [
                {
                    "type": "button",
                    "action_id": "checkin.attended",
                    "block_id": f"checkin_{booking}",
                    "value": f"booking|{booking}|1",
                    "action_ts": f"{datetime.now().timestamp() + n / 1000:.6f}",
                }
            ],
        }
        for n, booking in enumerate(bookings)
    ]
    since = _fire(driver, payloads)
    api = driver.api

    # Each press records a change, so each redraws the list: none is dropped. A press whose
    # payload's hash an earlier redraw replaced tries again with that redraw's hash.
    def drawn() -> list[Call]:
        return [c for c in api.calls("views.update", since=since) if c.ok]

    api.wait_until(lambda: len(drawn()) == AT_ONCE)
    assert {c.error for c in api.calls("views.update", since=since) if not c.ok} <= {
        "hash_conflict"
    }
    shown = driver.wait_for_view(lambda v: v["callback_id"] == CHECKIN)
    assert shown["id"] == modal["id"]
    assert_valid_view(shown)
    assert f"{AT_ONCE} checked in" in text_of(shown), text_of(shown)
    for booking in bookings:
        assert shop.booking(booking).attendance is not None


def test_keystrokes_arriving_in_any_order_end_on_the_last_texts_results(world: World) -> None:
    """A fast typist's keystrokes reach the app together; the hub ends on the last text."""
    seed(world.db, [("Zoe", "Adams"), ("Adam", "Smith"), ("Bea", "Zoeller"), ("Sam", "Smithers")])
    driver = world.staff
    hub = open_hub(driver)
    # Typed "zoellers" (no one), deleted back to nothing, then "smit".
    word = "zoellers"
    texts = [word[:n] for n in range(1, 9)] + [word[:n] for n in range(7, -1, -1)]
    texts += ["smit"[:n] for n in range(1, 5)]
    assert len(texts) == AT_ONCE
    start = datetime.now().timestamp()
    payloads = [
        {
            **interaction(driver, "block_actions", hub),
            "actions": [
                {
                    "type": "plain_text_input",
                    "action_id": "hub.search",
                    "block_id": "hub_search",
                    "value": text,
                    "action_ts": f"{start + n / 1000:.6f}",
                }
            ],
        }
        for n, text in enumerate(texts)
    ]
    random.Random(7).shuffle(payloads)
    api = world.api
    with watch_logs() as logs:

        def answered() -> int:
            drawn = [c for c in api.calls("views.update", since=since) if c.ok]
            skipped = [r for r in logs.records if "hub update skipped" in r.getMessage()]
            return len(drawn) + len(skipped)

        since = _fire(driver, payloads)
        # Polled: a skipped redraw is only a log record, which wakes no waiter of the stand-in.
        poll_until(lambda: answered() == AT_ONCE, "every keystroke drawn or skipped", 30.0)
    # A stale hash is only ever retried with the last redraw's.
    assert {c.error for c in api.calls("views.update", since=since) if not c.ok} <= {
        "hash_conflict"
    }
    shown = driver.current_view("modal") or {}
    assert shown["id"] == hub["id"]
    assert hub_state(shown)["q"] == "smit"
    assert rows(shown) == ["Adam Smith", "Sam Smithers"]
    assert re.search(r"1–2 of 2", text_of(shown)), text_of(shown)


def test_an_older_keystroke_after_a_newer_one_is_skipped(world: World) -> None:
    """A keystroke's redraw that comes after a newer one's was drawn changes nothing."""
    seed(world.db, [("Zoe", "Adams"), ("Adam", "Smith")])
    driver = world.staff
    hub = open_hub(driver)

    def keystroke(text: str, action_ts: str) -> JSON:
        action = {
            "type": "plain_text_input",
            "action_id": "hub.search",
            "block_id": "hub_search",
            "value": text,
            "action_ts": action_ts,
        }
        return {**interaction(driver, "block_actions", hub), "actions": [action]}

    acked(post_signed(driver, keystroke("smith", "1700000002.000000")))
    driver.wait_for_view(lambda v: hub_state(v)["q"] == "smith")
    with watch_logs() as logs:
        r = acked(post_signed(driver, keystroke("zoe", "1700000001.000000")))
        logs.wait_for("a newer action's redraw is on screen")
    assert world.api.calls("views.update", since=r.mark) == []
    shown = driver.current_view("modal") or {}
    assert rows(shown) == ["Adam Smith"]
