"""A form opened before a catalog item was archived and sent after it: the item is refused
under its picker, and the next form leaves it out; what was booked with it still moves."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

from sqlalchemy import update

from bot.local import SlackDriver
from core.models import (
    Appointment,
    AppointmentService,
    Facilitator,
    Pass,
    PassType,
    Video,
    VideoPurchase,
)
from tests.slack.commerce_helpers import (  # noqa: F401 - fixtures
    ZOE,
    Shop,
    open_form,
    redrawn,
    refused,
    row_action,
    shop,
    submitted,
    utc,
)
from tests.slack.details_helpers import go_to_tab, open_details, row_texts
from tests.slack.helpers import text_of
from tests.stripe_server import stripe_process, stripe_server  # noqa: F401 - fixtures
from tests.views_check import assert_valid_view

ASSIGN_PASS = "assign_pass.submit"
ASSIGN_VIDEO = "assign_video.submit"
BOOK = "book_appointment.submit"
RESCHEDULE = "appointment_reschedule.submit"
RESULT = "commerce.result"
Archivable = type[AppointmentService] | type[Facilitator] | type[PassType] | type[Video]


def _archive(shop: Shop, model: Archivable, row_id: int) -> None:
    """What an admin archiving the item in the catalog leaves in the database."""
    with shop.db.unit_of_work() as uow:
        uow.session.execute(update(model).where(model.id == row_id).values(archived=True))


def test_a_pass_type_archived_while_the_form_is_open_is_refused(shop: Shop) -> None:
    driver = shop.world.staff
    open_details(driver, ZOE)
    go_to_tab(driver, "Passes")
    open_form(driver, "Assign Pass", ASSIGN_PASS, "Assigning a pass to Zoë Adams")
    driver.choose("10-class pass", menu="Pass")
    _archive(shop, PassType, shop.pass_type_id)
    errors = refused(driver)
    assert errors == {"pass_type_id": "10-class pass is archived; choose another pass type."}
    assert shop.count(Pass) == 1
    # The only pass type is archived: a new form has none to offer.
    driver.close()
    form = open_form(driver, "Assign Pass", RESULT, "no pass types to assign")
    assert "10-class pass" not in text_of(form)


def test_a_video_archived_while_the_form_is_open_is_refused(shop: Shop) -> None:
    driver = shop.world.staff
    open_details(driver, ZOE)
    go_to_tab(driver, "Videos")
    open_form(driver, "Assign Video", ASSIGN_VIDEO, "Giving Zoë Adams access")
    redrawn(driver, driver.choose("Yoga for Runners", menu="Video"), "Blank charges")
    _archive(shop, Video, shop.videos["runners"])
    errors = refused(driver)
    assert errors == {"video_id": "Yoga for Runners is archived; choose another video."}
    assert shop.count(VideoPurchase) == 0


def _book_form(driver: SlackDriver, facilitator: str) -> None:
    """Book Appointment open over Zoë's Appointments tab: the massage with `facilitator`."""
    open_details(driver, ZOE)
    go_to_tab(driver, "Appointments", "no appointments yet")
    open_form(driver, "Book Appointment", BOOK, "Choose the service first")
    redrawn(driver, driver.choose("Sports massage", menu="Service"), facilitator)
    driver.choose(facilitator, menu="Facilitator")
    redrawn(driver, driver.pick("2026-03-20", into="Day"), "Blank charges")
    driver.pick("11:00", into="Starts at")


def test_a_service_archived_while_the_form_is_open_is_refused(shop: Shop) -> None:
    driver = shop.world.staff
    _book_form(driver, "Alex Kim")
    _archive(shop, AppointmentService, shop.service_id)
    errors = refused(driver)
    assert errors == {"service_id": "Sports massage is archived; choose another service."}
    # Only the appointment seeded for someone else.
    assert shop.count(Appointment) == 1


def test_a_facilitator_archived_while_the_form_is_open_is_refused(shop: Shop) -> None:
    driver = shop.world.staff
    _book_form(driver, "Priya Nair")
    _archive(shop, Facilitator, shop.facilitators["Priya Nair"])
    errors = refused(driver)
    assert errors == {"facilitator_id": "Priya Nair is archived; choose another facilitator."}
    # Choosing the service again redraws the form without her.
    form = redrawn(driver, driver.choose("Sports massage", menu="Service"), "Alex Kim")
    assert_valid_view(form)
    assert "Priya Nair" not in text_of(form)
    driver.choose("Alex Kim", menu="Facilitator")
    submitted(driver, "Booked Sports massage with Alex Kim on 20 Mar 2026, 11:00 GMT")
    booked = shop.latest(Appointment)

    _archive(shop, Facilitator, shop.facilitators["Alex Kim"])
    _archive(shop, AppointmentService, shop.service_id)
    # Already booked: it moves with its archived service and facilitator.
    row_action(driver, "appointment_", booked.id, "Reschedule", RESCHEDULE, "Alex Kim")
    driver.pick("2026-03-23", into="Day")
    view = submitted(driver, f"Moved appointment #{booked.id} to 23 Mar 2026, 11:00 GMT")
    assert "Sports massage* with Alex Kim" in row_texts(view, f"appointment_{booked.id}")[0]
    assert shop.latest(Appointment).starts_at == utc("2026-03-23 11:00")
    form = open_form(driver, "Book Appointment", RESULT, "no appointment services to book")
    assert "Sports massage" not in text_of(form)
