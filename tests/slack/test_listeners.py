"""Listeners called one at a time, as module-level functions: no Bolt dispatch, no signed request.

The views they act on come from the local Slack stand-in, and what they send goes back to it
through a real WebClient, so each test shows one listener's whole effect."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.actions import commerce, customer_form, hub
from bot.context.deps import ACTOR_KEY, DEPS_KEY, STUDIO_KEY, Deps
from bot.views.hub import SORT_ACTION
from bot.views.tabs import ROW_ACTION
from core.actor import Actor
from core.models import Role
from core.services.settings import StudioSettings
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
from tests.slack.details_helpers import open_details
from tests.slack.helpers import fill_form, numbered, open_hub, rows, seed

JSON = dict[str, Any]


def _context(world: World, user: str, role: Role = Role.STAFF) -> BoltContext:
    """What the access middleware puts in the context of an admitted request."""
    context = BoltContext({"team_id": TEAM, "user_id": user})
    context[DEPS_KEY] = Deps(world.db, world.db.settings)
    context[ACTOR_KEY] = Actor(TEAM, user, role)
    context[STUDIO_KEY] = StudioSettings.defaults(world.db.settings)
    return context


def _client(world: World) -> WebClient:
    return WebClient(token=world.api.bot_token, base_url=world.api.base_url)


def _pressed(world: World, user: str, view: JSON, action: JSON) -> JSON:
    """A block_actions body for `action` pressed in `view`."""
    trigger_id = world.api.issue_trigger_id(user, view_id=view["id"])
    return {"type": "block_actions", "view": view, "actions": [action], "trigger_id": trigger_id}


def test_the_sort_listener_flips_the_hub_it_was_pressed_in(world: World) -> None:
    seed(world.db, numbered(3))
    view = open_hub(world.staff)
    assert rows(view)[0].startswith("Cust001")
    ack = Ack()

    body = _pressed(world, STAFF, view, {"action_id": SORT_ACTION})
    hub.on_sort(ack, body, _context(world, STAFF), _client(world))

    assert ack.response is not None and ack.response.status == 200
    after = world.api.current_view(STAFF)
    assert after is not None and rows(after)[0].startswith("Cust003")


def test_the_row_menu_listener_says_when_an_action_is_unknown(world: World) -> None:
    seed(world.db, [("Zoe", "Quinn")])
    view = open_details(world.admin, "Zoe Quinn")
    menu = {"action_id": ROW_ACTION, "selected_option": {"value": "bookings|vanish|1"}}

    commerce.on_row(
        Ack(), _pressed(world, ADMIN, view, menu), _context(world, ADMIN), _client(world)
    )

    after = world.api.current_view(ADMIN)
    assert after is not None and after["id"] == view["id"]
    assert commerce.UNKNOWN in str(after)


def test_the_form_listener_answers_a_bad_email_under_its_field(world: World) -> None:
    open_hub(world.staff)
    world.staff.click("Create Customer")
    form = world.staff.wait_for_view(lambda v: v.get("callback_id") == "customer_form.submit")
    fill_form(world.staff, {"first_name": "Ada", "last_name": "Byron", "email": "not-an-email"})
    form = world.api.current_view(STAFF) or form
    ack = Ack()

    customer_form.on_submit(ack, form, _context(world, STAFF), _client(world))

    assert ack.response is not None
    answer = ack.response.body
    assert isinstance(answer, str) and '"response_action": "errors"' in answer
    assert '"email"' in answer
