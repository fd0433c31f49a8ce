"""The catalog's items in Slack: each kind's list opened from Home, and forged controls and
forms that name no item or no kind of ours answered without changing anything."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.local import SlackDriver
from core.models import AppointmentService
from tests.slack.conftest import World
from tests.slack.helpers import (
    JSON,
    acked,
    after,
    forged_choice,
    interaction,
    post_signed,
    text_of,
)

LIST = "catalog_items.list"
ITEM = "catalog_item.submit"


def _services(driver: SlackDriver) -> JSON:
    after(driver, driver.open_home(), "views.publish")
    driver.wait_for_view(surface="home")
    after(driver, driver.click("Services", surface="home"), "views.open")
    return driver.wait_for_view(lambda v: v["callback_id"] == LIST)


def _service_count(world: World) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count(AppointmentService.id))) or 0)


def test_an_item_form_naming_questionnaires_is_out_of_date(world: World) -> None:
    """Found by fuzzing: questionnaires are a kind of catalog item with no form here, and an
    item form whose metadata named them failed instead of being refused."""
    admin = world.admin
    _services(admin)
    after(admin, admin.click("Add service"), "views.push")
    form = admin.wait_for_view(lambda v: v["callback_id"] == ITEM)
    meta = {**json.loads(form["private_metadata"]), "kind": "questionnaire"}
    name = {"catalog_item.name": {"type": "plain_text_input", "value": "Intake form"}}
    forged = {**form, "private_metadata": json.dumps(meta), "state": {"values": {"name": name}}}
    response = acked(post_signed(admin, interaction(admin, "view_submission", forged)))
    assert response.data.get("response_action") == "update"
    assert "This form is out of date; open it again." in text_of(response.data["view"])
    assert _service_count(world) == 0


def test_a_menu_naming_item_zero_says_it_is_out_of_date(world: World) -> None:
    """No item has id 0, which the item form reads as a new one: Edit of item 0 had pushed an
    empty Add form."""
    admin = world.admin
    shown = _services(admin)
    response = acked(forged_choice(admin, shown, "catalog_items.menu", "item_0", "edit|0"))
    call = world.api.wait_for("views.update", since=response.mark)
    assert "That menu is out of date; choose again." in json.dumps(call.params["view"])
    assert not world.api.calls("views.push", since=response.mark)
