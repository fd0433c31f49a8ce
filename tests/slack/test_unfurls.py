"""Customer links in conversations, end to end through signed requests: unfurled as Work Objects
with personal data only where everyone is staff, the flexpane per viewer, retries unfurled once,
and the link itself in a browser sending people to Slack with nothing of the customer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.context.deps import Deps
from bot.context.request import Request
from bot.local.slack_api import Message, SlackChannel, Unfurled
from bot.surfaces.customer_details import render_details
from bot.views.customer_details import LINK_CALLBACK
from bot.views.tabs import DetailsMeta
from core.actor import Actor
from core.models import Role
from core.services.anonymise import anonymise_customer
from core.services.customers import delete_customer
from core.services.notes import add_note
from core.services.settings import StudioSettings
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, CHANNEL, GUEST, STAFF, TEAM, World, running_world
from tests.slack.details_helpers import open_details
from tests.slack.helpers import acked, after, is_view, seed

BASE = "https://records.example.test"
APP_ID = "A0CUSTREC"
ZOE = [("Zoë", "Ørsted")]
OTHER_TEAM = "T0OTHER"
MIXED = "CMIXED"


@pytest.fixture
def world(database_url: str, clock: MutableClock) -> Iterator[World]:
    with running_world(database_url, clock, public_base_url=BASE, slack_app_id=APP_ID) as running:
        running.api.add_channel(
            SlackChannel(MIXED, "with-guest", (ADMIN, STAFF, GUEST, running.api.bot_user_id))
        )
        yield running


def link(uid: str) -> str:
    return f"{BASE}/c/{uid}"


def zoe(world: World) -> str:
    """Zoë, with a note, as staff would find her."""
    uid = seed(world.db, ZOE)[0].uid
    with world.db.unit_of_work() as uow:
        add_note(uow, Actor(TEAM, STAFF, Role.STAFF), uid, "Prefers mornings")
    return uid


def unfurled(world: World, channel_id: str, count: int = 1) -> Unfurled:
    world.api.wait_until(
        lambda: len(world.api.unfurled(channel_id)) >= count, timeout=10, description="unfurl"
    )
    return world.api.unfurled(channel_id)[-1]


def shared(world: World, url: str, channel_id: str = CHANNEL) -> tuple[Message, Unfurled]:
    message, response = world.staff.share_links([url], channel_id=channel_id)
    acked(response)
    return message, unfurled(world, channel_id)


def test_an_all_staff_channel_gets_the_card_with_personal_data(world: World) -> None:
    uid = zoe(world)
    _message, done = shared(world, link(uid))
    (entity,) = done.entities
    assert entity["entity_type"] == "slack#/entities/item"
    assert entity["external_ref"] == {"id": uid}
    assert entity["url"] == entity["app_unfurl_url"] == link(uid)
    payload = entity["entity_payload"]
    assert payload["attributes"]["title"]["text"] == "Zoë Ørsted"
    fields = {f["label"]: f["value"] for f in payload["custom_fields"]}
    assert fields["Status"] == "Active"
    assert fields["Pass credits left"] == "0"
    assert fields["Next booking"] == "None booked"
    assert fields["Last note"].startswith("14 Mar 2026")
    # The classic fallback says as much for clients without Work Objects.
    assert "Zoë Ørsted" in json.dumps(done.unfurls[link(uid)], ensure_ascii=False)


def test_a_channel_with_a_guest_gets_a_card_without_personal_data(world: World) -> None:
    uid = zoe(world)
    _message, done = shared(world, link(uid), MIXED)
    text = json.dumps([done.entities, done.unfurls], ensure_ascii=False)
    assert "A customer record — staff can open it" in text
    for personal in ("Zoë", "Ørsted", "example.com", "7700", "Prefers", "Active"):
        assert personal not in text


def test_a_guest_joining_later_is_seen_before_the_next_card(world: World) -> None:
    uid = zoe(world)
    shared(world, link(uid))
    acked(world.staff.join(CHANNEL, GUEST))
    world.staff.share_links([link(uid)])
    done = unfurled(world, CHANNEL, 2)
    assert "Zoë" not in json.dumps(done.entities, ensure_ascii=False)


def test_another_workspaces_link_never_unfurls(world: World) -> None:
    elsewhere = seed(world.db, [("Ann", "Other")], team_id=OTHER_TEAM)[0].uid
    mine = zoe(world)
    world.staff.share_links([link(elsewhere), "https://example.org/c/" + mine])
    # A link of ours, shared after, unfurls: the two before were left alone.
    _message, done = shared(world, link(mine))
    assert len(world.api.unfurled()) == 1
    assert list(done.unfurls) == [link(mine)]


@pytest.mark.parametrize("erase", ["anonymise", "delete"])
def test_an_erased_customer_unfurls_as_no_longer_available(world: World, erase: str) -> None:
    uid = zoe(world)
    with world.db.unit_of_work() as uow:
        admin = Actor(TEAM, ADMIN, Role.ADMIN)
        (anonymise_customer if erase == "anonymise" else delete_customer)(uow, admin, uid)
    _message, done = shared(world, link(uid))
    (entity,) = done.entities
    title = entity["entity_payload"]["attributes"]["title"]["text"]
    assert title == "This customer record is no longer available"
    assert "custom_fields" not in entity["entity_payload"]


def test_a_retried_link_shared_unfurls_once(database_url: str, clock: MutableClock) -> None:
    # One listener thread: the retry is handled before the fresh event sent after it.
    with running_world(
        database_url, clock, listeners=ThreadPoolExecutor(1), public_base_url=BASE
    ) as world:
        uid = zoe(world)
        message, response = world.staff.share_links([link(uid)], event_id="Ev0RETRIED")
        acked(response)
        unfurled(world, CHANNEL)
        retry = {
            "type": "link_shared",
            "channel": CHANNEL,
            "user": STAFF,
            "message_ts": message.ts,
            "links": [{"domain": "records.example.test", "url": link(uid)}],
        }
        acked(world.staff.send_event(retry, retry_num=1, event_id="Ev0RETRIED"))
        # Then a fresh event: once it is unfurled, the retry had its turn and did nothing.
        fresh, response = world.staff.share_links([link(uid)])
        acked(response)
        world.api.wait_until(
            lambda: any(u.ts == fresh.ts for u in world.api.unfurled()), description="fresh unfurl"
        )
        assert [u.ts for u in world.api.unfurled()] == [message.ts, fresh.ts]


def flexpane(world: World, who: str) -> dict[str, Any]:
    message, done = shared(world, link(zoe(world)), MIXED)
    viewer = world.staff if who == "staff" else world.guest
    acked(viewer.open_work_object(done.entities[0], message))
    user = STAFF if who == "staff" else GUEST
    world.api.wait_until(lambda: world.api.presented(user), timeout=10, description="flexpane")
    answer = world.api.presented(user)[-1]
    return {"entity": answer.entity, "error": answer.error}


def test_the_flexpane_shows_staff_the_full_record_even_from_a_mixed_channel(world: World) -> None:
    answer = flexpane(world, "staff")
    assert answer["error"] is None
    fields = {f["label"]: f["value"] for f in answer["entity"]["entity_payload"]["custom_fields"]}
    assert fields["Email"] == "zoë.ørsted.100@example.com"
    assert "Prefers mornings" in fields["Last notes"]
    actions = answer["entity"]["entity_payload"]["actions"]["primary_actions"]
    assert [a["text"] for a in actions] == ["Open", "Add note"]


def test_the_flexpane_refuses_a_guest_with_nothing_personal(world: World) -> None:
    answer = flexpane(world, "guest")
    assert answer["entity"] is None
    assert answer["error"]["status"] == "restricted"
    assert "Zoë" not in json.dumps(answer, ensure_ascii=False)


def test_open_on_the_card_opens_the_customers_details(world: World) -> None:
    uid = zoe(world)
    message, _done = shared(world, link(uid))
    card = world.api.messages(CHANNEL)[-1]
    assert card.ts == message.ts
    unfurl_blocks = unfurled(world, CHANNEL).unfurls[link(uid)]["blocks"]
    shown = Message(CHANNEL, message.ts, "", unfurl_blocks, "app")
    acked(world.staff.click("Open", message=shown))
    world.wait_text(world.staff, "Zoë Ørsted")
    view = world.staff.current_view()
    assert view is not None and view["callback_id"] == "customer_details.view"


def get(world: World, path: str) -> tuple[int, dict[str, str], bytes]:
    root = world.url.removesuffix("/slack/events")

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(Stay)
    try:
        with opener.open(root + path, timeout=5) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_link_in_a_browser_redirects_to_slack_with_nothing_of_the_customer(
    world: World,
) -> None:
    uid = zoe(world)
    known = get(world, f"/c/{uid}")
    unknown = get(world, "/c/ZZZZZZZZZZZZ")
    assert known[0] == 302
    assert known[1]["Location"] == f"https://slack.com/app_redirect?app={APP_ID}"
    assert known[2] == b""
    # An unknown UID gets the very same answer: the route tells nothing about UIDs.
    assert unknown[0] == known[0] and unknown[1]["Location"] == known[1]["Location"]
    assert unknown[2] == known[2]


def test_copy_link_on_the_details_shows_the_link_that_unfurls(world: World) -> None:
    uid = zoe(world)
    view = open_details(world.staff, "Zoë Ørsted")
    assert link(uid) not in json.dumps(view, ensure_ascii=False)
    after(world.staff, world.staff.click("Copy link"), "views.push")
    shown = world.staff.wait_for_view(is_view(LINK_CALLBACK, "Zoë Ørsted", link(uid)))
    assert not any(block["type"] == "input" for block in shown["blocks"])
    message, _done = shared(world, link(uid))
    assert message.text == link(uid)


def test_an_anonymised_customer_has_no_link_to_copy(world: World) -> None:
    uid = zoe(world)
    with world.db.unit_of_work() as uow:
        anonymise_customer(uow, Actor(TEAM, ADMIN, Role.ADMIN), uid)
    admin = Actor(TEAM, ADMIN, Role.ADMIN)
    studio = StudioSettings.defaults(world.db.settings)
    request = Request(Deps(world.db, world.db.settings), admin, WebClient(token="xoxb-x"), studio)
    view = render_details(request, DetailsMeta(uid=uid))
    assert "Anonymised" in json.dumps(view) or "anonymised" in json.dumps(view)
    assert "Copy link" not in json.dumps(view)
