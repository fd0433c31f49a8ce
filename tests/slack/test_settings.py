"""Studio settings end to end: admins change them in a modal from Home, staff only read them,
and every date and price follows the workspace's own time zone and currency."""

from __future__ import annotations

from sqlalchemy import select

from bot.local import SlackDriver, SlackUser
from core.actor import Actor
from core.models import Role, Workspace, WorkspaceAuditEntry
from core.services.staff import add_staff
from tests.slack.commerce_helpers import open_form
from tests.slack.conftest import TEAM, World
from tests.slack.details_helpers import open_details, seed_history
from tests.slack.helpers import (
    JSON,
    acked,
    after,
    customers_home,
    forged_action,
    interaction,
    post_signed,
    published,
    seed,
    text_of,
)
from tests.views_check import assert_valid_view

SETTINGS = "settings.submit"
OTHER_TEAM, OTHER_ADMIN = "T0002", "UOTHERADMIN"


def _home(driver: SlackDriver) -> JSON:
    return customers_home(driver)


def _open_settings(driver: SlackDriver) -> JSON:
    _home(driver)
    after(driver, driver.click("Settings", surface="home"), "views.open")
    modal = driver.wait_for_view(lambda v: v["callback_id"] == SETTINGS)
    assert_valid_view(modal)
    return modal


def _choose_zone_and_currency(driver: SlackDriver, zone: str, currency: str) -> JSON:
    """Change the time zone and currency in the Settings modal and save; Home as redrawn."""
    _open_settings(driver)
    # Token mode learns no workspace name from Slack; the form asks for one.
    driver.type(f"Studio {driver.team_id}", into="Business name")
    driver.choose(zone, menu="Time zone")
    driver.choose(currency, menu="Currency")
    home = published(driver, driver.submit())
    assert "Saved the studio settings (Business name, Time zone, Currency)" in text_of(home)
    return home


def _workspace(world: World, team_id: str = TEAM) -> Workspace:
    with world.db.unit_of_work(readonly=True) as uow:
        workspace = uow.session.get(Workspace, team_id)
        assert workspace is not None
        uow.session.expunge(workspace)
        return workspace


def test_an_admin_changes_zone_and_currency_and_details_show_them_at_once(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoë", "Adams")])
    seed_history(world.db, zoe.uid, bookings=3)
    admin = world.admin
    details = open_details(admin, "Zoë Adams")
    assert "14 Mar 2026, 09:30 GMT" in text_of(details)

    home = _choose_zone_and_currency(admin, "America/New_York", "USD")
    assert_valid_view(home)
    assert "America/New_York" in text_of(home) and "USD · US Dollar" in text_of(home)
    stored = _workspace(world)
    assert (stored.timezone, stored.currency) == ("America/New_York", "USD")
    with world.db.unit_of_work(readonly=True) as uow:
        entries = uow.session.execute(
            select(
                WorkspaceAuditEntry.actor, WorkspaceAuditEntry.action, WorkspaceAuditEntry.detail
            )
        ).all()
    ((actor, action, detail),) = entries
    assert (actor, action) == ("UADMIN", "settings changed")
    assert "Time zone: Europe/London → America/New_York" in detail
    assert "Currency: GBP → USD" in detail

    # The details' "Updated", the tabs' dates and the booking form's prices follow at once.
    details = open_details(admin, "Zoë Adams")
    assert "14 Mar 2026, 05:30 EDT" in text_of(details)
    form = open_form(admin, "Book an Event", "book_event.submit")
    assert "$10.00" in text_of(form) and "£" not in text_of(form)


def test_the_time_zone_and_currency_selects_search_as_you_type(world: World) -> None:
    admin = world.admin
    _open_settings(admin)
    zones = admin.block_suggestion("new york", action_id="settings.timezone")
    assert [o["value"] for o in zones] == ["America/New_York"]
    euro = admin.block_suggestion("euro", action_id="settings.currency")
    assert "EUR" in [o["value"] for o in euro]
    assert admin.block_suggestion("zz-nothing", action_id="settings.timezone") == []


def test_invalid_fields_are_refused_under_each_field_and_nothing_changes(world: World) -> None:
    admin = world.admin
    before = _workspace(world)
    _open_settings(admin)
    admin.type("Studio Nine", into="Business name")
    admin.type("ZZ", into="Phone region")
    admin.type("http://portal.example.com", into="Portal login URL")
    admin.type("not an address", into="Reply-to address")
    response = acked(admin.submit())
    assert response.data["response_action"] == "errors"
    errors = admin.errors()
    assert set(errors) == {"default_region", "portal_url", "mail_reply_to"}
    assert "two-letter country code" in errors["default_region"]
    assert "https" in errors["portal_url"]
    # What was typed stays in the modal to be corrected.
    modal = admin.current_view("modal")
    assert modal is not None and modal["callback_id"] == SETTINGS
    assert modal["state"]["values"]["default_region"]["settings.default_region"]["value"] == "ZZ"
    after_refusal = _workspace(world)
    assert (after_refusal.default_region, after_refusal.portal_url) == (
        before.default_region,
        before.portal_url,
    )

    admin.type("us", into="Phone region")
    admin.type("https://book.example.com/in", into="Portal login URL")
    admin.type("Desk@Example.com", into="Reply-to address")
    admin.type("Studio Nine", into="Mail sender name")
    published(admin, admin.submit())
    saved = _workspace(world)
    assert (saved.default_region, saved.portal_url) == ("US", "https://book.example.com/in")
    assert (saved.mail_sender_name, saved.mail_reply_to) == ("Studio Nine", "Desk@example.com")


def test_staff_see_the_settings_read_only_and_a_forged_save_is_refused(world: World) -> None:
    staff = world.staff
    home = _home(staff)
    shown = text_of(home)
    assert "Studio settings" in shown and "Europe/London" in shown
    assert "Read only: your admins change these settings." in shown
    assert "settings.open" not in [e.action_id for e in staff.find_elements("home")]

    # A forged Settings press, then a forged save of the modal an admin would see.
    press = {"type": "button", "action_id": "settings.open", "block_id": "settings_section"}
    home = published(staff, forged_action(staff, home, press))
    assert "Only an admin can change the studio settings." in text_of(home)
    modal = _open_settings(world.admin)
    forged = {**modal, "state": {"values": _filled(modal, timezone="Asia/Tokyo")}}
    response = acked(post_signed(staff, interaction(staff, "view_submission", forged)))
    assert "Only an admin can" in response.text
    assert _workspace(world).timezone == "Europe/London"


def test_an_admin_chooses_when_a_pass_credit_is_used_and_the_change_is_audited(
    world: World,
) -> None:
    admin = world.admin
    modal = _open_settings(admin)
    assert "At booking" in text_of(modal)
    admin.type(f"Studio {admin.team_id}", into="Business name")
    admin.choose("At check-in (when marked Attended)", menu="Pass credit used")
    home = published(admin, admin.submit())
    assert "Pass credit used" in text_of(home)
    assert "At check-in (when marked Attended)" in text_of(home)
    assert _workspace(world).credit_rule == "at_check_in"
    with world.db.unit_of_work(readonly=True) as uow:
        details = uow.session.scalars(select(WorkspaceAuditEntry.detail)).all()
    assert any(
        "Pass credit used: At booking → At check-in (when marked Attended)" in d for d in details
    )

    # A forged rule Slack's radio buttons never offer is refused under the field.
    modal = _open_settings(admin)
    forged = {**modal, "state": {"values": _filled(modal, credit_rule="at_random")}}
    response = acked(post_signed(admin, interaction(admin, "view_submission", forged)))
    assert response.data["response_action"] == "errors"
    assert "at booking or at check-in" in response.data["errors"]["credit_rule"]
    assert _workspace(world).credit_rule == "at_check_in"


def _filled(modal: JSON, **changes: str) -> JSON:
    """The modal's state as submitted with its initial values and `changes`."""
    values: JSON = {}
    for block in modal["blocks"]:
        element = block["element"]
        field, action_id = block["block_id"], element["action_id"]
        if element["type"] in ("external_select", "radio_buttons"):
            chosen = changes.get(field, element["initial_option"]["value"])
            state = {"type": element["type"], "selected_option": {"value": chosen}}
        else:
            state = {
                "type": element["type"],
                "value": changes.get(field, element.get("initial_value")),
            }
        values[field] = {action_id: state}
    return values


def test_the_same_data_shows_in_each_workspaces_own_zone_and_currency(world: World) -> None:
    with world.db.unit_of_work() as uow:
        add_staff(uow, Actor(OTHER_TEAM, OTHER_ADMIN, Role.ADMIN), OTHER_ADMIN, Role.ADMIN)
    world.api.add_user(SlackUser(OTHER_ADMIN, "tokyo", team_id=OTHER_TEAM))
    them = world.admin.as_user(OTHER_ADMIN, team_id=OTHER_TEAM)
    for team, key in ((TEAM, "a"), (OTHER_TEAM, "b")):
        (zoe,) = seed(world.db, [("Zoë", "Adams")], team_id=team)
        seed_history(world.db, zoe.uid, bookings=3, team_id=team, key=key)
    _choose_zone_and_currency(them, "Asia/Tokyo", "JPY")

    ours = text_of(open_details(world.admin, "Zoë Adams"))
    ours_form = text_of(open_form(world.admin, "Book an Event", "book_event.submit"))
    theirs = text_of(open_details(them, "Zoë Adams"))
    theirs_form = text_of(open_form(them, "Book an Event", "book_event.submit"))
    assert "14 Mar 2026, 09:30 GMT" in ours and "JST" not in ours
    assert "14 Mar 2026, 18:30 JST" in theirs and "09:30 GMT" not in theirs
    assert "£10.00" in ours_form and "e.g. 12.50" in ours_form and "¥" not in ours_form
    assert "¥1,000" in theirs_form and "e.g. 1250" in theirs_form and "£" not in theirs_form
    assert (_workspace(world).timezone, _workspace(world, OTHER_TEAM).timezone) == (
        "Europe/London",
        "Asia/Tokyo",
    )
