"""The App Home's Today page through signed requests: the local day in the studio's time zone,
each alert's rule at its boundary, the switch, and the refresh when a booking changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.local import SlackDriver
from bot.views.today import CALLBACK_ID as TODAY
from core.actor import Actor
from core.db import Database
from core.models import (
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    Event,
    EventOccurrence,
    Facilitator,
    Pass,
    PassState,
    PassType,
    PaymentMethod,
    Role,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Workspace,
)
from core.services import bookings
from core.services.checkout import ManualPayment
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, STAFF, TEAM, World
from tests.slack.details_helpers import customer_id
from tests.slack.helpers import (
    DETAILS,
    HUB,
    JSON,
    after,
    customers_home,
    is_view,
    published,
    seed,
    text_of,
)
from tests.views_check import assert_valid_view

ADMIN_ACTOR = Actor(TEAM, ADMIN, Role.ADMIN)


def _today(driver: SlackDriver) -> JSON:
    """Open the Home tab; it must show Today."""
    after(driver, driver.open_home(), "views.publish")
    home = driver.wait_for_view(surface="home")
    assert home["callback_id"] == TODAY
    assert_valid_view(home)
    return home


def _block_texts(home: JSON, prefix: str) -> list[str]:
    return [
        str(b["text"]["text"])
        for b in home["blocks"]
        if str(b.get("block_id", "")).startswith(prefix)
    ]


@dataclass
class Studio:
    """Seeds a studio's day straight into the database."""

    db: Database
    zone: str = "Europe/London"
    _keys: int = 0

    def in_zone(self, zone: str) -> Studio:
        with self.db.unit_of_work() as uow:
            uow.session.execute(
                update(Workspace).where(Workspace.team_id == TEAM).values(timezone=zone)
            )
        self.zone = zone
        return self

    def local(self, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(self.zone)).astimezone(UTC)

    def _key(self) -> str:
        self._keys += 1
        return f"k{self._keys}"

    def event(self, name: str, starts_at: datetime, *, capacity: int = 10) -> int:
        with self.db.unit_of_work() as uow:
            event = Event(
                team_id=TEAM,
                key=self._key(),
                name=name,
                timezone=self.zone,
                price_minor=1000,
                credit_price=1,
                capacity=capacity,
            )
            uow.session.add(event)
            uow.session.flush()
            occurrence = EventOccurrence(
                team_id=TEAM,
                event_id=event.id,
                starts_at=starts_at,
                duration_minutes=60,
                timezone=self.zone,
                capacity=capacity,
                price_minor=1000,
            )
            uow.session.add(occurrence)
            uow.session.flush()
            return occurrence.id

    def booking(
        self,
        uid: str,
        occurrence_id: int,
        *,
        attendance: Attendance | None = None,
        state: BookingState = BookingState.MANUAL,
    ) -> int:
        with self.db.unit_of_work() as uow:
            row = Booking(
                team_id=TEAM,
                customer_id=customer_id(uow, uid),
                occurrence_id=occurrence_id,
                booked_at=uow.now() - timedelta(days=40),
                price_minor=1000,
                credits=None,
                currency="GBP",
                state=state,
                payment_method=PaymentMethod.MANUAL,
                attendance=attendance,
            )
            uow.session.add(row)
            uow.session.flush()
            return row.id

    def no_show(self, uid: str, starts_at: datetime) -> None:
        self.booking(uid, self.event("Missed class", starts_at), attendance=Attendance.NO_SHOW)

    def appointment(self, uid: str, starts_at: datetime, *, no_show: bool = False) -> None:
        with self.db.unit_of_work() as uow:
            service = AppointmentService(
                team_id=TEAM,
                key=self._key(),
                name="Sports massage",
                duration_minutes=45,
                price_minor=4000,
            )
            facilitator = Facilitator(team_id=TEAM, key=self._key(), name="Mo Okafor")
            uow.session.add_all([service, facilitator])
            uow.session.flush()
            uow.session.add(
                Appointment(
                    team_id=TEAM,
                    customer_id=customer_id(uow, uid),
                    service_id=service.id,
                    facilitator_id=facilitator.id,
                    booked_at=starts_at - timedelta(days=3),
                    starts_at=starts_at,
                    duration_minutes=45,
                    price_minor=4000,
                    credits=None,
                    currency="GBP",
                    payment_method=PaymentMethod.MANUAL,
                    state=AppointmentState.SCHEDULED,
                    attendance=Attendance.NO_SHOW if no_show else None,
                )
            )

    def pass_(self, uid: str, valid_to: date, credits: int) -> None:
        with self.db.unit_of_work() as uow:
            kind = PassType(
                team_id=TEAM,
                key=self._key(),
                name="10-class pass",
                credits=10,
                validity_days=90,
                price_minor=9000,
            )
            uow.session.add(kind)
            uow.session.flush()
            uow.session.add(
                Pass(
                    team_id=TEAM,
                    customer_id=customer_id(uow, uid),
                    pass_type_id=kind.id,
                    purchased_at=uow.now() - timedelta(days=30),
                    valid_from=valid_to - timedelta(days=90),
                    valid_to=valid_to,
                    credits_total=10,
                    credits_remaining=credits,
                    price_minor=9000,
                    currency="GBP",
                    payment_method=PaymentMethod.MANUAL,
                    state=PassState.MANUAL,
                )
            )

    def subscription(self, uid: str, state: SubscriptionState) -> None:
        with self.db.unit_of_work() as uow:
            plan = SubscriptionPlan(
                team_id=TEAM, key=self._key(), name="Monthly unlimited", price_minor=8000
            )
            plan.interval = "month"
            uow.session.add(plan)
            uow.session.flush()
            now = uow.now()
            uow.session.add(
                Subscription(
                    team_id=TEAM,
                    customer_id=customer_id(uow, uid),
                    plan_id=plan.id,
                    created_at=now - timedelta(days=60),
                    next_payment_at=now + timedelta(days=3),
                    price_minor=8000,
                    currency="GBP",
                    state=state,
                )
            )

    def born(self, uid: str, day: date) -> None:
        with self.db.unit_of_work() as uow:
            uow.session.execute(
                update(Customer).where(Customer.uid == uid).values(date_of_birth=day)
            )


@pytest.fixture
def studio(world: World) -> Studio:
    return Studio(world.db)


def test_home_opens_on_today_with_the_switch_for_staff_only(world: World) -> None:
    home = _today(world.staff)
    switch = home["blocks"][0]
    assert switch["block_id"] == "home_switch"
    styles = {e["action_id"]: e.get("style") for e in switch["elements"]}
    assert styles == {"home.today": "primary", "home.customers": None}
    shown = text_of(home)
    assert "Today, Saturday 14 March" in shown
    assert "No events today." in shown and "Nothing needs anyone today." in shown

    call = after(world.stranger, world.stranger.open_home(), "views.publish")
    refused = call.params["view"]
    assert "don't have access yet" in text_of(refused)
    assert refused.get("callback_id") != TODAY


@pytest.mark.parametrize(
    ("zone", "now"),
    [
        # 22:30 on Saturday 14 March in Auckland (UTC+13), still the 14th in UTC.
        ("Pacific/Auckland", datetime(2026, 3, 14, 9, 30, tzinfo=UTC)),
        # 02:30 on Saturday 14 March in Los Angeles (UTC-7); UTC is at 09:30.
        ("America/Los_Angeles", datetime(2026, 3, 14, 9, 30, tzinfo=UTC)),
        # Sunday 8 March in Los Angeles: the clocks go forward, a day of 23 hours.
        ("America/Los_Angeles", datetime(2026, 3, 8, 20, 0, tzinfo=UTC)),
    ],
)
def test_today_is_the_local_day_across_midnight(
    world: World, studio: Studio, clock: MutableClock, zone: str, now: datetime
) -> None:
    clock.current = now
    studio.in_zone(zone)
    day = now.astimezone(ZoneInfo(zone)).date()
    before, after_ = day - timedelta(days=1), day + timedelta(days=1)
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    studio.event("Late yesterday", studio.local(before.year, before.month, before.day, 23, 30))
    first = studio.event("At midnight", studio.local(day.year, day.month, day.day, 0, 0))
    studio.event("Last class", studio.local(day.year, day.month, day.day, 23, 30))
    studio.event("Tomorrow at midnight", studio.local(after_.year, after_.month, after_.day, 0, 0))
    studio.booking(zoe.uid, first)
    studio.booking(zoe.uid, first, state=BookingState.CANCELLED)
    studio.appointment(zoe.uid, studio.local(day.year, day.month, day.day, 23, 0))
    studio.appointment(zoe.uid, studio.local(after_.year, after_.month, after_.day, 0, 15))

    home = _today(world.staff)
    events = _block_texts(home, "today_event_")
    assert [e.split("\n")[0] for e in events] == [
        "*00:00–01:00  At midnight*",
        "*23:30–00:30  Last class*",
    ]
    assert events[0].endswith("1 / 10 booked")
    (check_in,) = [
        b["accessory"] for b in home["blocks"] if b.get("block_id") == f"today_event_{first}"
    ]
    assert (check_in["action_id"], check_in["value"]) == ("open_checkin", str(first))
    (appointment,) = _block_texts(home, "today_appointment_")
    assert "23:00–23:45  Sports massage* with Mo Okafor" in appointment
    assert "Zoe Adams" in appointment
    assert f"in {zone}" in text_of(home)


def test_pass_alerts_at_their_boundaries(world: World, studio: Studio) -> None:
    people = seed(
        world.db, [("Seven", "Days"), ("Eight", "Days"), ("Last", "Credit"), ("Two", "Credits")]
    )
    day = date(2026, 3, 14)
    studio.pass_(people[0].uid, day + timedelta(days=7), credits=5)
    studio.pass_(people[1].uid, day + timedelta(days=8), credits=5)
    studio.pass_(people[2].uid, day + timedelta(days=60), credits=1)
    studio.pass_(people[3].uid, day + timedelta(days=60), credits=2)
    alerts = _block_texts(_today(world.staff), "today_pass_")
    assert alerts == [
        "*Seven Days*  ·  10-class pass: 5 credits left, ends Sat 21 Mar",
        "*Last Credit*  ·  10-class pass: last credit, ends Wed 13 May",
    ]


def test_failed_payments_alert(world: World, studio: Studio) -> None:
    late, paying = seed(world.db, [("Late", "Payer"), ("On", "Time")])
    studio.subscription(late.uid, SubscriptionState.PAST_DUE)
    studio.subscription(paying.uid, SubscriptionState.ACTIVE)
    alerts = _block_texts(_today(world.staff), "today_payment_")
    assert alerts == [
        "*Late Payer*  ·  Monthly unlimited: payment failed, past due; next attempt Tue 17 Mar"
    ]


def test_no_show_alerts_count_thirty_days(
    world: World, studio: Studio, clock: MutableClock
) -> None:
    three, two, old = seed(world.db, [("Three", "Misses"), ("Two", "Misses"), ("Old", "Miss")])
    now = clock.current
    studio.no_show(three.uid, now - timedelta(days=1))
    studio.no_show(three.uid, now - timedelta(days=29, hours=23))
    studio.appointment(three.uid, now - timedelta(days=10), no_show=True)
    studio.no_show(two.uid, now - timedelta(days=2))
    studio.no_show(two.uid, now - timedelta(days=3))
    studio.no_show(old.uid, now - timedelta(days=2))
    studio.no_show(old.uid, now - timedelta(days=3))
    studio.no_show(old.uid, now - timedelta(days=31))
    # Attended and unmarked bookings are no no-shows.
    attended = studio.event("Came along", now - timedelta(days=4))
    studio.booking(two.uid, attended, attendance=Attendance.ATTENDED)
    studio.booking(two.uid, attended)
    alerts = _block_texts(_today(world.staff), "today_no_show_")
    assert alerts == ["*Three Misses*  ·  3 no-shows"]


def test_birthdays_are_the_studios_today(world: World, studio: Studio, clock: MutableClock) -> None:
    # 19:00 on Friday 13 March in Los Angeles, already the 14th in UTC.
    clock.current = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)
    studio.in_zone("America/Los_Angeles")
    local, utc, _no_date = seed(
        world.db, [("Friday", "Born"), ("Saturday", "Born"), ("No", "Date")]
    )
    studio.born(local.uid, date(1990, 3, 13))
    studio.born(utc.uid, date(1990, 3, 14))
    home = _today(world.staff)
    assert _block_texts(home, "today_birthday_") == ["*Friday Born*  ·  Birthday: turns 36"]

    after(
        world.staff,
        world.staff.click("Friday Born", in_block="today_birthday_0", surface="home"),
        "views.open",
    )
    details = world.staff.wait_for_view(is_view(DETAILS, "Friday Born"))
    assert_valid_view(details)


def test_a_leap_day_birthday_is_marked_on_28_february(
    world: World, studio: Studio, clock: MutableClock
) -> None:
    leap, march = seed(world.db, [("Leap", "Day"), ("March", "First")])
    studio.born(leap.uid, date(2000, 2, 29))
    studio.born(march.uid, date(2000, 3, 1))
    clock.current = datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert _block_texts(_today(world.staff), "today_birthday_") == [
        "*Leap Day*  ·  Birthday (29 Feb, marked on 28 Feb this year): turns 27"
    ]
    clock.current = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert _block_texts(_today(world.staff), "today_birthday_") == [
        "*March First*  ·  Birthday: turns 27"
    ]


def test_a_busy_day_stays_within_the_home_tabs_limits(
    world: World, studio: Studio, clock: MutableClock
) -> None:
    people = seed(world.db, [(f"Cust{n:02d}", "Busy") for n in range(10)])
    start = studio.local(2026, 3, 14, 6, 0)
    for n in range(50):
        studio.event(f"Class {n:02d}", start + timedelta(minutes=15 * n))
    for n in range(20):
        studio.appointment(people[n % 10].uid, start + timedelta(minutes=30 * n))
    for person in people:
        studio.pass_(person.uid, date(2026, 3, 15), credits=1)
        studio.subscription(person.uid, SubscriptionState.PAST_DUE)
        studio.born(person.uid, date(1980, 3, 14))
        for days in (1, 2, 3):
            studio.no_show(person.uid, clock.current - timedelta(days=days))
    home = _today(world.staff)
    assert len(home["blocks"]) <= 100
    shown = text_of(home)
    assert "…and 14 more events later today." in shown
    assert "…and 4 more appointments later today." in shown
    assert shown.count("…and 4 more.") == 4


def test_the_switch_and_reopening_keep_the_persons_place_for_the_day(
    world: World, clock: MutableClock
) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    _today(driver)
    home = published(driver, driver.click("home.customers", surface="home"))
    assert home["callback_id"] == HUB
    home = published(driver, driver.type("zoe", into="Search", surface="home"))

    after(driver, driver.open_home(), "views.publish")
    home = driver.wait_for_view(surface="home")
    assert home["callback_id"] == HUB
    assert home["state"]["values"]["hub_search"]["hub.search"]["value"] == "zoe"

    home = published(driver, driver.click("home.today", surface="home"))
    assert home["callback_id"] == TODAY
    # Back to Customers: the search it was left with.
    home = published(driver, driver.click("home.customers", surface="home"))
    assert "Zoe Adams" in text_of(home) and "1 active customer" in text_of(home)

    clock.advance(days=1)
    _today(driver)


def _watching(world: World, driver: SlackDriver, needle: str, since: int) -> JSON:
    call = world.api.wait_for(
        "views.publish",
        since=since,
        predicate=lambda c: (
            c.params["user_id"] == driver.user_id and needle in str(c.params["view"])
        ),
    )
    return dict(call.params["view"])


def test_today_is_republished_to_staff_watching_it_when_a_booking_changes(
    world: World, studio: Studio
) -> None:
    zoe, bea = seed(world.db, [("Zoe", "Adams"), ("Bea", "Zoeller")])
    yoga = studio.event("Morning Yoga", studio.local(2026, 3, 14, 18, 0))
    studio.booking(zoe.uid, yoga)
    _today(world.staff)
    customers_home(world.admin)

    mark = world.api.mark()
    with world.db.unit_of_work() as uow:
        bookings.book_event(uow, ADMIN_ACTOR, bea.uid, yoga, ManualPayment())
    home = _watching(world, world.staff, "2 / 10 booked", mark)
    assert home["callback_id"] == TODAY
    assert_valid_view(home)
    # The admin left Home on Customers: theirs is left alone.
    assert [c.params["user_id"] for c in world.api.calls("views.publish", since=mark)] == [STAFF]


def test_check_in_opens_from_today_and_the_check_in_refreshes_it(
    world: World, studio: Studio, clock: MutableClock
) -> None:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    yoga = studio.event("Morning Yoga", studio.local(2026, 3, 14, 9, 0))
    booking = studio.booking(zoe.uid, yoga)
    clock.current = studio.local(2026, 3, 14, 9, 5)
    driver = world.staff
    _today(driver)
    after(
        driver,
        driver.click("Check in", in_block=f"today_event_{yoga}", surface="home"),
        "views.open",
    )
    driver.wait_for_view(lambda v: v["callback_id"] == "checkin.view")

    mark = world.api.mark()
    after(driver, driver.click("Attended", in_block=f"checkin_{booking}"), "views.update")
    home = _watching(world, driver, "1 checked in", mark)
    assert "1 / 10 booked  ·  1 checked in" in text_of(home)
