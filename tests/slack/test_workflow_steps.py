"""Workflow Builder steps end to end: Slack's function_executed over signed HTTP in, the step
ended with functions.completeSuccess or functions.completeError at the stand-in, and the records
changed (or not) as the runner, who must be staff, would change them in the app itself."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.local import SlackDriver, StepDelivery, StepRun
from core.models import Booking, BookingState, Customer, Event, EventOccurrence, Note
from tests.conftest import MutableClock
from tests.slack.conftest import TEAM, World, running_world
from tests.slack.helpers import JSON, acked, customer_count, seed

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
ZOE = [("Zoë", "Ørsted")]
ZOE_EMAIL = "zoë.ørsted.100@example.com".lower()
ZOE_MOBILE = "+447700900100"


@pytest.fixture
def world(database_url: str, clock: MutableClock) -> Iterator[World]:
    # One listener thread: a retry is handled after the delivery it repeats.
    with running_world(database_url, clock, listeners=ThreadPoolExecutor(1)) as running:
        yield running


def ran(driver: SlackDriver, callback_id: str, **inputs: Any) -> StepRun:
    """Run the step as `driver`'s user and wait until the app ended it."""
    delivery = driver.run_step(callback_id, inputs)
    acked(delivery.response)
    return driver.api.wait_for_end(delivery.run)


def succeeded(run: StepRun) -> dict[str, Any]:
    """The outputs of a step that completed, checked against what the manifest declares."""
    assert run.error is None, run.error
    assert run.outputs is not None
    declared = MANIFEST["functions"][run.callback_id]["output_parameters"]
    required = {name for name, p in declared.items() if p.get("is_required")}
    assert required <= set(run.outputs) <= set(declared)
    for name, value in run.outputs.items():
        kind = declared[name]["type"]
        assert isinstance(value, int if kind == "integer" else str), (name, value)
    return run.outputs


def failed(run: StepRun) -> str:
    assert run.outputs is None, run.outputs
    assert run.error
    return run.error


def zoe(world: World) -> str:
    return seed(world.db, ZOE)[0].uid


def count(world: World, model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    with world.db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(query) or 0


def an_event(
    world: World, name: str, *starts: datetime, capacity: int = 10, zone: str = "Europe/London"
) -> list[int]:
    """An event of the catalog with sessions at `starts` (UTC); their ids."""
    with world.db.unit_of_work() as uow:
        event = Event(
            team_id=TEAM,
            key=name.lower().replace(" ", "-"),
            name=name,
            timezone=zone,
            price_minor=1200,
            credit_price=1,
            capacity=capacity,
        )
        uow.session.add(event)
        uow.session.flush()
        sessions = [
            EventOccurrence(
                team_id=TEAM,
                event_id=event.id,
                starts_at=start,
                duration_minutes=60,
                timezone=zone,
                capacity=capacity,
                price_minor=1200,
            )
            for start in starts
        ]
        uow.session.add_all(sessions)
        uow.session.flush()
        return [s.id for s in sessions]


# ----------------------------------------------------------------- Find customer


def test_find_customer_by_email_gives_uid_name_and_status(world: World) -> None:
    uid = zoe(world)
    outputs = succeeded(ran(world.staff, "find_customer", email=ZOE_EMAIL.upper()))
    assert outputs["customer_id"] == uid
    assert outputs["name"] == "Zoë Ørsted"
    assert outputs["status"] == "active"
    assert outputs["mobile"] == ZOE_MOBILE


def test_find_customer_by_mobile_as_people_type_it(world: World) -> None:
    uid = zoe(world)
    outputs = succeeded(ran(world.staff, "find_customer", mobile="+44 7700 900100"))
    assert outputs["customer_id"] == uid


def test_find_customer_falls_back_to_the_mobile_when_the_email_finds_nobody(world: World) -> None:
    uid = zoe(world)
    run = ran(world.staff, "find_customer", email="new@example.com", mobile=ZOE_MOBILE)
    assert succeeded(run)["customer_id"] == uid


def test_find_customer_that_finds_nobody_fails_saying_so(world: World) -> None:
    zoe(world)
    error = failed(ran(world.staff, "find_customer", email="nobody@example.com"))
    assert error == "No customer has the email nobody@example.com."


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "Give the customer's email or mobile to find them."),
        ({"email": "not an email"}, "Enter a valid email address"),
        ({"mobile": "12"}, "Check the mobile number"),
    ],
)
def test_find_customer_with_unusable_inputs_fails_with_the_reason(
    world: World, inputs: dict[str, str], message: str
) -> None:
    assert message in failed(ran(world.staff, "find_customer", **inputs))


def test_a_mobile_two_customers_share_is_refused_as_ambiguous(world: World) -> None:
    zoe(world)
    seed(world.db, [("Ann", "Twin")], mobile_start=100)
    error = failed(ran(world.staff, "find_customer", mobile=ZOE_MOBILE))
    assert "More than one customer has the mobile +447700900100" in error


def test_find_customer_never_finds_another_workspaces_customer(world: World) -> None:
    seed(world.db, [("Xavier", "Foreign")], team_id="T0OTHER")
    error = failed(ran(world.staff, "find_customer", email="xavier.foreign.100@example.com"))
    assert "Xavier" not in error and error.startswith("No customer has")


# ----------------------------------------------------------------- Create customer

NEW = {"first_name": " Ada ", "last_name": "Lovelace", "email": "ADA@example.com"}


def test_create_customer_saves_them_and_gives_their_uid(world: World) -> None:
    outputs = succeeded(ran(world.staff, "create_customer", **NEW, mobile="07700 900123"))
    assert outputs["name"] == "Ada Lovelace"
    assert outputs["email"] == "ada@example.com"
    assert outputs["mobile"] == "+447700900123"
    assert customer_count(world.db, uid=outputs["customer_id"], updated_by="USTAFF") == 1


def test_create_customer_with_invalid_fields_fails_with_every_reason(world: World) -> None:
    run = ran(world.staff, "create_customer", first_name="", last_name="X", email="x", mobile="1")
    error = failed(run)
    assert "Enter the customer's first name." in error
    assert "Enter a valid email address" in error
    assert "That doesn't look like a phone number" in error
    assert customer_count(world.db) == 0


def test_create_customer_with_a_taken_email_fails_naming_who_has_it(world: World) -> None:
    uid = zoe(world)
    run = ran(world.staff, "create_customer", **{**NEW, "email": ZOE_EMAIL}, mobile="+447700900999")
    assert failed(run) == f"Zoë Ørsted already uses this email (UID {uid})."
    assert customer_count(world.db) == 1


def test_a_retried_create_customer_creates_once_and_completes_once(world: World) -> None:
    delivery = world.staff.run_step("create_customer", {**NEW, "mobile": "+447700900123"})
    for attempt in (1, 2):
        acked(world.staff.redeliver(delivery, retry_num=attempt))
    run = world.api.wait_for_end(delivery.run)
    succeeded(run)
    # The two retries were handled after the first delivery (one listener thread).
    acked(world.staff.run_step("find_customer", {"email": "ada@example.com"}).response)
    world.api.wait_until(lambda: all(r.ended for r in world.api.step_runs()))
    assert customer_count(world.db, email="ada@example.com") == 1
    assert len(world.api.calls("functions.completeSuccess")) == 2
    assert not world.api.calls("functions.completeError")


def test_a_retried_refusal_is_refused_once(world: World) -> None:
    delivery = world.staff.run_step("create_customer", {**NEW, "email": "x", "mobile": "1"})
    acked(world.staff.redeliver(delivery))
    failed(world.api.wait_for_end(delivery.run))
    acked(world.staff.run_step("find_customer", {"email": "nobody@example.com"}).response)
    world.api.wait_until(lambda: all(r.ended for r in world.api.step_runs()))
    assert len(world.api.calls("functions.completeError")) == 2  # the refusal and the find


# ----------------------------------------------------------------- Add note to customer


def test_add_note_adds_it_as_the_runners(world: World) -> None:
    uid = zoe(world)
    outputs = succeeded(
        ran(world.staff, "add_customer_note", customer_id=uid.lower(), note="Asked about Pilates")
    )
    assert outputs["customer_id"] == uid
    with world.db.unit_of_work(readonly=True) as uow:
        note = uow.session.get(Note, outputs["note_id"])
        assert note is not None
        assert (note.content, note.author) == ("Asked about Pilates", "USTAFF")


@pytest.mark.parametrize(
    ("customer", "note", "message"),
    [
        ("NOSUCHUID000", "Hello", "No customer with UID NOSUCHUID000 exists"),
        (None, "   ", "Write something in the note."),
    ],
)
def test_add_note_to_nobody_or_with_no_text_fails(
    world: World, customer: str | None, note: str, message: str
) -> None:
    uid = customer or zoe(world)
    assert message in failed(ran(world.staff, "add_customer_note", customer_id=uid, note=note))
    assert count(world, Note) == 0


def test_a_retried_note_is_added_once(world: World) -> None:
    uid = zoe(world)
    delivery = world.staff.run_step("add_customer_note", {"customer_id": uid, "note": "Once"})
    acked(world.staff.redeliver(delivery))
    succeeded(world.api.wait_for_end(delivery.run))
    acked(world.staff.run_step("find_customer", {"email": ZOE_EMAIL}).response)
    world.api.wait_until(lambda: all(r.ended for r in world.api.step_runs()))
    assert count(world, Note, content="Once") == 1


# ----------------------------------------------------------------- Book customer on event

TOMORROW_7AM = datetime(2026, 3, 15, 7, 0, tzinfo=UTC)


def book(world: World, uid: str, **inputs: Any) -> StepRun:
    return ran(world.staff, "book_customer_on_event", customer_id=uid, **inputs)


def test_book_names_the_session_by_event_and_date(world: World) -> None:
    uid = zoe(world)
    (session,) = an_event(world, "Morning Yoga", TOMORROW_7AM)
    outputs = succeeded(book(world, uid, event="morning yoga", date="2026-03-15"))
    assert outputs["session"] == "Morning Yoga on 15 Mar 2026, 07:00 GMT"
    with world.db.unit_of_work(readonly=True) as uow:
        booking = uow.session.get(Booking, outputs["booking_id"])
        assert booking is not None
        assert booking.occurrence_id == session
        assert booking.price_minor == 1200


def test_book_reads_date_and_time_in_the_sessions_own_time_zone(world: World) -> None:
    uid = zoe(world)
    # 23:30 in New York on the 15th is the 16th in UTC.
    late = datetime(2026, 3, 16, 3, 30, tzinfo=UTC)
    early = datetime(2026, 3, 15, 13, 0, tzinfo=UTC)
    sessions = an_event(world, "Late Jazz", early, late, zone="America/New_York")
    outputs = succeeded(book(world, uid, event="Late Jazz", date="2026-03-15", time="23:30"))
    assert outputs["session"] == "Late Jazz on 15 Mar 2026, 23:30 EDT"
    with world.db.unit_of_work(readonly=True) as uow:
        booking = uow.session.get(Booking, outputs["booking_id"])
        assert booking is not None and booking.occurrence_id == sessions[1]


def test_book_free_marks_the_booking_free(world: World) -> None:
    uid = zoe(world)
    an_event(world, "Morning Yoga", TOMORROW_7AM)
    outputs = succeeded(book(world, uid, event="Morning Yoga", date="2026-03-15", payment="free"))
    with world.db.unit_of_work(readonly=True) as uow:
        booking = uow.session.get(Booking, outputs["booking_id"])
        assert booking is not None and booking.price_minor == 0


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"event": "Hot Yoga", "date": "2026-03-15"},
            "No event in the catalog is named 'Hot Yoga'",
        ),
        ({"event": "Morning Yoga", "date": "2026-03-16"}, "no session on 16 Mar 2026"),
        ({"event": "Morning Yoga", "date": "15/03/2026"}, "Give the session's date"),
        ({"event": "Morning Yoga", "date": "2026-03-15", "time": "7am"}, "24-hour HH:MM"),
        (
            {"event": "Morning Yoga", "date": "2026-03-15", "time": "09:00"},
            "no session at 09:00 on 15 Mar 2026; it has 07:00, 18:00",
        ),
        (
            {"event": "Morning Yoga", "date": "2026-03-15"},
            "has 2 sessions on 15 Mar 2026 (07:00, 18:00); give the time too",
        ),
        (
            {"event": "Morning Yoga", "date": "2026-03-15", "time": "07:00", "payment": "card"},
            "Payment must be manual, free or pass.",
        ),
        (
            {"event": "Morning Yoga", "date": "2026-03-15", "time": "07:00", "payment": "pass"},
            "no pass with enough credits",
        ),
    ],
)
def test_book_with_unusable_inputs_fails_with_the_reason(
    world: World, inputs: dict[str, str], message: str
) -> None:
    uid = zoe(world)
    an_event(world, "Morning Yoga", TOMORROW_7AM, TOMORROW_7AM + timedelta(hours=11))
    assert message in failed(book(world, uid, **inputs))
    assert count(world, Booking) == 0


def test_book_on_a_full_session_fails_saying_it_is_full(world: World) -> None:
    uid, other = (c.uid for c in seed(world.db, [("Zoë", "Ørsted"), ("Ann", "Early")]))
    an_event(world, "Small Group", TOMORROW_7AM, capacity=1)
    succeeded(book(world, other, event="Small Group", date="2026-03-15"))
    error = failed(book(world, uid, event="Small Group", date="2026-03-15"))
    assert "is full (1 of 1 places taken)" in error
    assert count(world, Booking, state=BookingState.MANUAL) == 1


def test_book_an_unknown_customer_fails(world: World) -> None:
    an_event(world, "Morning Yoga", TOMORROW_7AM)
    error = failed(book(world, "NOSUCHUID000", event="Morning Yoga", date="2026-03-15"))
    assert "No customer with UID NOSUCHUID000 exists" in error


def test_a_retried_booking_books_once(world: World) -> None:
    uid = zoe(world)
    an_event(world, "Morning Yoga", TOMORROW_7AM)
    inputs = {"customer_id": uid, "event": "Morning Yoga", "date": "2026-03-15"}
    delivery = world.staff.run_step("book_customer_on_event", inputs)
    acked(world.staff.redeliver(delivery, retry_num=1))
    succeeded(world.api.wait_for_end(delivery.run))
    acked(world.staff.run_step("find_customer", {"email": ZOE_EMAIL}).response)
    world.api.wait_until(lambda: all(r.ended for r in world.api.step_runs()))
    assert count(world, Booking) == 1
    assert not world.api.calls("functions.completeError")


# ----------------------------------------------------------------- who may run them

STEPS = {
    "find_customer": {"email": ZOE_EMAIL},
    "create_customer": {**NEW, "mobile": "+447700900123"},
    "add_customer_note": {"note": "From a workflow"},
    "book_customer_on_event": {"event": "Morning Yoga", "date": "2026-03-15"},
}


def _inputs(world: World, callback_id: str) -> dict[str, Any]:
    inputs = dict(STEPS[callback_id])
    if callback_id in {"add_customer_note", "book_customer_on_event"}:
        inputs["customer_id"] = zoe(world)
    if callback_id == "find_customer":
        zoe(world)
    an_event(world, "Morning Yoga", TOMORROW_7AM)
    return inputs


def unchanged(world: World) -> bool:
    return count(world, Note) == 0 and count(world, Booking) == 0 and count(world, Customer) <= 1


@pytest.mark.parametrize("callback_id", sorted(STEPS))
@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("stranger", "don't have access yet"),
        ("guest", "guest accounts can't use Customer Records"),
    ],
)
def test_a_runner_who_is_not_staff_is_refused(
    world: World, callback_id: str, who: str, refusal: str
) -> None:
    inputs = _inputs(world, callback_id)
    run = ran(getattr(world, who), callback_id, **inputs)
    assert refusal in failed(run)
    assert "Zoë" not in run.error  # type: ignore[operator]
    assert unchanged(world)


@pytest.mark.parametrize("callback_id", sorted(STEPS))
def test_a_step_without_its_runner_is_refused_saying_how_to_set_it(
    world: World, callback_id: str
) -> None:
    delivery: StepDelivery = world.staff.run_step(
        callback_id, _inputs(world, callback_id), runner=False
    )
    acked(delivery.response)
    error = failed(world.api.wait_for_end(delivery.run))
    assert "Person running the workflow" in error
    assert unchanged(world)


@pytest.mark.parametrize("callback_id", sorted(STEPS))
def test_staff_and_admins_run_every_step(world: World, callback_id: str) -> None:
    inputs = _inputs(world, callback_id)
    succeeded(ran(world.staff, callback_id, **inputs))
    if callback_id == "create_customer":
        inputs = {**inputs, "email": "ada2@example.com", "mobile": "+447700900124"}
    if callback_id == "book_customer_on_event":
        inputs["customer_id"] = seed(world.db, [("Ann", "Admin")], mobile_start=200)[0].uid
    succeeded(ran(world.admin, callback_id, **inputs))


def test_the_step_completes_with_the_workflow_token_slack_sent(world: World) -> None:
    delivery = world.staff.run_step("find_customer", {"email": "nobody@example.com"})
    world.api.wait_for_end(delivery.run)
    (call,) = world.api.calls("functions.completeError")
    assert call.token == delivery.run.token
    assert call.params["function_execution_id"] == delivery.run.execution_id


def test_a_database_outage_ends_the_step_saying_so(world: World) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connect", {}, Exception("connection refused"))

    with mock.patch.object(world.db, "unit_of_work", refuse):
        run = ran(world.staff, "add_customer_note", customer_id="NOSUCHUID000", note="Hello")
    assert "database" in failed(run)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "function_executed", "function": "find_customer", "function_execution_id": "Fx1"},
        {"type": "function_executed", "function": {"callback_id": "find_customer"}},
        {
            "type": "function_executed",
            "function": {"callback_id": "find_customer"},
            "function_execution_id": "Fx1",
            "inputs": ["runner"],
        },
    ],
)
def test_a_step_event_unlike_any_slack_sends_is_refused(world: World, event: JSON) -> None:
    response = world.staff.send_event(event)
    assert response.status == 400
    assert not world.api.calls("functions.completeSuccess")
    assert not world.api.calls("functions.completeError")
