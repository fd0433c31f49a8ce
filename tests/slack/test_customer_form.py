"""Create Customer and Edit Contact, end to end: field errors, saving, concurrent edits."""

from __future__ import annotations

import json
import threading
import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core import security
from core.models import Customer, OutboxMail
from core.services.customers import delete_customer
from core.validation import password_problems
from tests.slack.conftest import ADMIN, STAFF, World
from tests.slack.details_helpers import details_after, go_to_tab, open_details
from tests.slack.helpers import (
    ADMIN_ACTOR,
    DETAILS,
    FORM,
    HUB,
    JSON,
    acked,
    after,
    customer_count,
    fill_form,
    interaction,
    is_view,
    open_hub,
    post_signed,
    row_menu,
    rows,
    seed,
    text_of,
    typed_values,
    updated,
)

GOOD = {
    "first_name": "Zoe",
    "last_name": "Adams",
    "email": "Zoe.Adams@Example.com",
    "mobile": "07700 900123",
}


def _create_form(world: World) -> JSON:
    driver = world.admin
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    return driver.wait_for_view(is_view(FORM, "Create Customer"))


def _customer(world: World, email: str) -> Customer:
    with world.db.unit_of_work(readonly=True) as uow:
        found = uow.session.scalars(select(Customer).where(Customer.email == email)).one()
        uow.session.expunge(found)
    return found


def _outbox(world: World) -> list[tuple[str, str | None, str]]:
    with world.db.unit_of_work(readonly=True) as uow:
        found = uow.session.execute(
            select(OutboxMail.to_address, OutboxMail.secret, OutboxMail.kind)
        ).all()
    return [(row.to_address, row.secret, row.kind) for row in found]


def _slack_traffic(world: World) -> str:
    """Everything the app sent to Slack's Web API, as one string."""
    return json.dumps([call.params for call in world.api.calls()], ensure_ascii=False)


# ----------------------------------------------------------------- create


def test_create_updates_the_hub_in_place_and_queues_the_welcome_mail(world: World) -> None:
    _create_form(world)
    driver = world.admin
    fill_form(driver, GOOD)
    r = driver.submit()
    view = updated(driver, r)
    # The form closed; the hub underneath shows the new row and a short confirmation.
    assert view["callback_id"] == HUB
    assert len(world.api.stack(driver.user_id)) == 1
    assert "Created Zoe Adams. Their portal login is on its way by email." in text_of(view)
    assert rows(view) == ["Zoe Adams"]

    customer = _customer(world, "zoe.adams@example.com")
    assert (customer.first_name, customer.mobile) == ("Zoe", "+447700900123")
    assert customer.updated_by == ADMIN
    ((to, secret, kind),) = _outbox(world)
    assert to == "zoe.adams@example.com"
    assert kind == "welcome"
    # A strong password was generated (the form's password was blank)...
    assert secret is not None and password_problems(secret) is None
    # ...and it never reaches Slack.
    assert secret not in _slack_traffic(world)


def test_a_typed_password_never_reaches_slack(world: World) -> None:
    _create_form(world)
    driver = world.admin
    fill_form(driver, {**GOOD, "password": "Tr1cky&Secret"})
    updated(driver, driver.submit())
    ((_, secret, _),) = _outbox(world)
    assert secret == "Tr1cky&Secret"
    assert "Tr1cky&Secret" not in _slack_traffic(world)
    assert "Tr1cky" not in str(driver.current_view("modal"))


class _HeldHasher:
    """The test's hasher, each hash held until the test lets it go."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.release = threading.Event()
        self.done = threading.Event()

    def hash(self, password: str) -> str:
        self.release.wait(10)
        self.done.set()
        return self.hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self.hasher.verify(password_hash, password)


def _password_hash(world: World, email: str) -> str | None:
    with world.db.engine.connect() as conn:
        query = select(Customer.password_hash).where(Customer.email == email)
        return conn.scalar(query)


def test_the_form_is_answered_and_redrawn_before_the_password_is_hashed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _HeldHasher(security._hasher)
    monkeypatch.setattr(security, "_hasher", held)
    _create_form(world)
    driver = world.admin
    fill_form(driver, GOOD)
    view = updated(driver, driver.submit())
    # Acknowledged and the hub redrawn while argon2 had not finished: it never held them up.
    assert not held.done.is_set()
    assert "Created Zoe Adams." in text_of(view)
    assert _password_hash(world, "zoe.adams@example.com") is None
    held.release.set()
    deadline = time.monotonic() + 10
    while (stored := _password_hash(world, "zoe.adams@example.com")) is None:
        assert time.monotonic() < deadline, "the password was never hashed"
        time.sleep(0.02)
    ((_, secret, _),) = _outbox(world)
    assert secret is not None and security.verify_password(stored, secret)


LONG = "x" * 101

FIELD_ERRORS: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("blank first name", {"first_name": "   "}, {"first_name": "Enter the customer's first name."}),
    ("blank last name", {"last_name": ""}, {"last_name": "Enter the customer's last name."}),
    (
        "long first name",
        {"first_name": LONG},
        {"first_name": "First name can be at most 100 characters (this has 101)."},
    ),
    (
        "invisible characters",
        {"last_name": "Ad\u200bams"},
        {"last_name": "Last name contains invisible control characters; retype it."},
    ),
    (
        "blank email",
        {"email": ""},
        {"email": "Enter the customer's email address; it is their login."},
    ),
    ("bad email", {"email": "zoe-at-example"}, {"email": "Enter a valid email address like"}),
    ("blank mobile", {"mobile": ""}, {"mobile": "Enter the customer's mobile number"}),
    ("not a number", {"mobile": "call me"}, {"mobile": "doesn't look like a phone number"}),
    ("short number", {"mobile": "+44 12"}, {"mobile": "Check the mobile number: it is too short"}),
    ("weak password", {"password": "password"}, {"password": "an uppercase letter"}),
    ("short password", {"password": "Ab1!"}, {"password": "at least 8 characters"}),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(change, expected, id=name) for name, change, expected in FIELD_ERRORS],
)
def test_each_invalid_field_is_reported_under_it(
    world: World, change: dict[str, str], expected: dict[str, str]
) -> None:
    _create_form(world)
    driver = world.admin
    typed = {**GOOD, **change}
    fill_form(driver, typed)
    # Slack's client would stop blank required fields itself; the server must not rely on it.
    r = acked(driver.submit(client_checks=False))
    assert r.data["response_action"] == "errors"
    errors = driver.errors()
    assert errors.keys() == expected.keys()
    for field, message in expected.items():
        assert message in errors[field]
    # The form stays open with everything the person typed.
    form = driver.current_view("modal") or {}
    assert form["callback_id"] == FORM
    shown = typed_values(form)
    for field, value in typed.items():
        assert shown[field] == (value or None)
    assert customer_count(world.db) == 0
    assert _outbox(world) == []


def test_every_field_wrong_at_once_is_reported_at_once(world: World) -> None:
    _create_form(world)
    driver = world.admin
    fill_form(
        driver,
        {
            "first_name": " ",
            "last_name": " ",
            "email": "nope",
            "mobile": "12",
            "password": "short",
        },
    )
    acked(driver.submit())
    assert set(driver.errors()) == {"first_name", "last_name", "email", "mobile", "password"}


def test_a_duplicate_email_names_the_existing_customer(world: World) -> None:
    (bea,) = seed(world.db, [("Bea", "Zoeller")])
    _create_form(world)
    driver = world.admin
    fill_form(driver, {**GOOD, "email": "  BEA.zoeller.100@EXAMPLE.com "})
    acked(driver.submit())
    assert driver.errors() == {"email": f"Bea Zoeller already uses this email (UID {bea.uid})."}
    assert customer_count(world.db) == 1


def test_errors_clear_once_corrected(world: World) -> None:
    _create_form(world)
    driver = world.admin
    fill_form(driver, {**GOOD, "mobile": "12"})
    acked(driver.submit())
    assert set(driver.errors()) == {"mobile"}
    driver.type("+44 7700 900123", into="Mobile")
    view = updated(driver, driver.submit())
    assert "Created Zoe Adams" in text_of(view)
    assert driver.errors() == {}


# ----------------------------------------------------------------- edit


def _open_edit(world: World, driver_name: str, name: str) -> JSON:
    driver = getattr(world, driver_name)
    view = open_hub(driver)
    after(driver, row_menu(driver, view, name, "Edit Contact"), "views.push")
    form: JSON = driver.wait_for_view(is_view(FORM, "Edit Contact"))
    return form


def test_edit_saves_and_keeps_the_password_when_blank(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    before = _customer(world, "zoe.adams.100@example.com")
    _open_edit(world, "staff", "Zoe Adams")
    driver = world.staff
    driver.type("+1 (415) 555-0123", into="Mobile")
    driver.type("  Zoë   Ann ", into="First name")
    view = updated(driver, driver.submit())
    assert "Saved Zoë Ann Adams's contact details." in text_of(view)
    assert rows(view) == ["Zoë Ann Adams"]
    after_edit = _customer(world, "zoe.adams.100@example.com")
    assert (after_edit.first_name, after_edit.mobile) == ("Zoë Ann", "+14155550123")
    assert after_edit.password_hash == before.password_hash
    assert after_edit.updated_by == STAFF
    assert after_edit.version == before.version + 1
    assert _outbox(world) == []
    assert zoe.uid == after_edit.uid


def test_edit_with_a_new_password_resets_it(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    before = _customer(world, "zoe.adams.100@example.com")
    _open_edit(world, "admin", "Zoe Adams")
    driver = world.admin
    driver.type("N3w&Better", into="Password")
    updated(driver, driver.submit())
    assert _customer(world, "zoe.adams.100@example.com").password_hash != before.password_hash
    assert "N3w&Better" not in _slack_traffic(world)


def test_staff_are_not_offered_the_password_and_a_forged_one_is_refused(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    before = _customer(world, "zoe.adams.100@example.com")
    form = _open_edit(world, "staff", "Zoe Adams")
    assert "password" not in {b.get("block_id") for b in form["blocks"]}
    assert "Send password reset" in text_of(form)
    forged = {
        **form,
        "state": {
            "values": {
                **form["state"]["values"],
                "password": {
                    "customer_form.password": {"type": "plain_text_input", "value": "N3w&Better"}
                },
            }
        },
    }
    answer = acked(post_signed(world.staff, interaction(world.staff, "view_submission", forged)))
    assert answer.data["response_action"] == "errors"
    assert answer.data["errors"]["password"].startswith("Only an admin can set a password.")
    assert _customer(world, "zoe.adams.100@example.com").password_hash == before.password_hash


def test_staff_send_a_password_reset_from_the_account_tab(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    open_details(driver, "Zoe Adams")
    go_to_tab(driver, "Account", "Send password reset")
    response = driver.click("Send password reset", confirm=True)
    view = details_after(driver, response, "A new password is on its way to Zoe Adams")
    assert "the old one no longer works" in text_of(view)
    [(to, secret, kind)] = _outbox(world)
    assert (to, kind) == (zoe.email, "password_reset") and secret is not None
    assert secret not in _slack_traffic(world)


def test_edit_errors_keep_the_record_unchanged(world: World) -> None:
    seed(world.db, [("Zoe", "Adams"), ("Bea", "Zoeller")])
    _open_edit(world, "staff", "Zoe Adams")
    driver = world.staff
    driver.type("bea.zoeller.101@example.com", into="Email")
    driver.type("", into="Last name")
    acked(driver.submit(client_checks=False))
    errors = driver.errors()
    assert set(errors) == {"email", "last_name"}
    assert "Bea Zoeller already uses this email" in errors["email"]
    assert typed_values(driver.current_view("modal") or {})["email"] == (
        "bea.zoeller.101@example.com"
    )
    assert _customer(world, "zoe.adams.100@example.com").last_name == "Adams"


def test_a_stale_edit_shows_who_changed_the_record_and_keeps_what_was_typed(
    world: World,
) -> None:
    seed(world.db, [("Zoe", "Adams")])
    first, second = world.staff, world.admin
    _open_edit(world, "staff", "Zoe Adams")
    _open_edit(world, "admin", "Zoe Adams")

    # A saves first.
    first.type("Adams-Smith", into="Last name")
    updated(first, first.submit())
    assert _customer(world, "zoe.adams.100@example.com").last_name == "Adams-Smith"

    # B saves a form opened before A's change.
    second.type("+44 7700 900999", into="Mobile")
    second.type("Zoey", into="First name")
    r = acked(second.submit())
    assert r.data["response_action"] == "update"
    form = second.current_view("modal") or {}
    assert form["callback_id"] == FORM
    shown = text_of(form)
    assert "<@USTAFF> changed this customer at" in json.dumps(form, ensure_ascii=False)
    assert "after you opened this form" in shown
    assert typed_values(form) == {
        "first_name": "Zoey",
        "last_name": "Adams",
        "email": "zoe.adams.100@example.com",
        "mobile": "+44 7700 900999",
        "password": None,
        # A multi-select holds options, not a typed value.
        "tags": None,
    }
    # Nothing of B's was saved over A's change.
    stored = _customer(world, "zoe.adams.100@example.com")
    assert (stored.first_name, stored.last_name, stored.mobile) == (
        "Zoe",
        "Adams-Smith",
        "+447700900100",
    )

    # B, having seen the warning, saves again: now it goes through.
    view = updated(second, second.submit())
    assert "Saved Zoey Adams's contact details." in text_of(view)
    stored = _customer(world, "zoe.adams.100@example.com")
    assert (stored.first_name, stored.mobile, stored.updated_by) == ("Zoey", "+447700900999", ADMIN)


def test_saving_a_customer_deleted_meanwhile_says_so(world: World) -> None:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    _open_edit(world, "staff", "Zoe Adams")
    with world.db.unit_of_work() as uow:
        delete_customer(uow, ADMIN_ACTOR, zoe.uid)
    driver = world.staff
    r = acked(driver.submit())
    assert r.data["response_action"] == "update"
    shown = text_of(driver.current_view("modal"))
    assert f"No customer with UID {zoe.uid} exists; they may have been deleted." in shown
    assert customer_count(world.db) == 0


def test_edit_from_the_details_view_updates_details_and_hub(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    view = open_hub(driver)
    after(driver, row_menu(driver, view, "Zoe Adams", "Manage"), "views.push")
    driver.wait_for_view(is_view(DETAILS))
    after(driver, driver.click("Edit"), "views.push")
    driver.wait_for_view(is_view(FORM, "Edit Contact"))
    assert len(world.api.stack(driver.user_id)) == 3
    driver.type("Adamson", into="Last name")
    r = acked(driver.submit())
    hub = driver.api.wait_for(
        "views.update", lambda c: c.params["view"]["callback_id"] == HUB, since=r.mark
    )
    assert hub.ok
    # The form closed onto the details, which show the change.
    driver.wait_for_view(is_view(DETAILS, "Zoe Adamson"))
    assert len(world.api.stack(driver.user_id)) == 2
    driver.close()
    view = driver.wait_for_view(is_view(HUB, "Saved Zoe Adamson's contact details."))
    assert rows(view) == ["Zoe Adamson"]
