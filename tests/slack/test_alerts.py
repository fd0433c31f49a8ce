"""Channel alerts, end to end: set up per channel by admins, posted only where everyone is
staff, paused when someone who isn't joins, and a flood folded into one digest updated in place."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import alert_worker
from bot.local.driver import SlackDriver
from bot.local.slack_api import SlackChannel
from core.models import AlertSubscription
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, GUEST, STAFF, STRANGER, World
from tests.slack.helpers import acked, after, customers_home, fill_form, is_view, seed, text_of

FORM = "alerts.submit"
STAFF_ONLY = "CSTAFF"
MIXED = "CMIXED"


def channel(world: World, channel_id: str, *members: str) -> str:
    """A channel of `members` and the app."""
    world.api.add_channel(
        SlackChannel(channel_id, channel_id.lower(), (*members, world.api.bot_user_id))
    )
    return channel_id


def set_up(world: World, channel_id: str, *kinds: str) -> None:
    """An admin ticks `kinds` in `/customers alerts #channel` and saves."""
    driver = world.admin
    mention = f"<#{channel_id}|{channel_id.lower()}>"
    after(driver, driver.slash("/customers", f"alerts {mention}"), "views.open")
    driver.wait_for_view(is_view(FORM, "Post alerts about"))
    for kind in kinds:
        driver.choose(kind, menu="alerts.kinds")
    acked(driver.submit())


def posted(world: World) -> int:
    """Run the alert worker over everything recorded so far; how many alerts it handled."""
    return alert_worker(world.app).drain()


def texts(world: World, channel_id: str) -> list[str]:
    return [m.text for m in world.api.messages(channel_id)]


def subscription(world: World, channel_id: str) -> tuple[str, str, bool] | None:
    """The channel's stored alerts: kinds, who enabled them, whether paused."""
    with world.db.unit_of_work(readonly=True) as uow:
        row = uow.session.scalars(
            select(AlertSubscription).where(AlertSubscription.channel_id == channel_id)
        ).first()
        return None if row is None else (row.kinds, row.enabled_by, row.paused_at is not None)


def test_an_admin_sets_up_alerts_and_a_customer_created_in_the_app_is_posted(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    set_up(world, STAFF_ONLY, "New customer", "Booking made")
    assert subscription(world, STAFF_ONLY) == ("customer_created,booking_made", ADMIN, False)
    driver = world.staff
    after(driver, driver.slash("/customers", "new"), "views.open")
    driver.wait_for_view(is_view("customer_form.submit"))
    fill_form(
        driver,
        {
            "first_name": "Zoe",
            "last_name": "Adams",
            "email": "zoe@example.com",
            "mobile": "07700 900123",
        },
    )
    acked(driver.submit())
    driver.wait_for_view(is_view("hub.view", "Created Zoe Adams"))
    assert posted(world) == 1
    [alert] = texts(world, STAFF_ONLY)
    assert "New customer: Zoe Adams (" in alert
    # Name and UID only: contact details stay out of channels.
    assert "zoe@example.com" not in alert and "900123" not in alert


def test_the_form_shows_what_is_chosen_and_choosing_nothing_turns_alerts_off(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    set_up(world, STAFF_ONLY, "Refund")
    driver = world.admin
    after(driver, driver.slash("/customers", f"alerts <#{STAFF_ONLY}>"), "views.open")
    form = driver.wait_for_view(is_view(FORM))
    [kinds] = [b for b in form["blocks"] if b.get("block_id") == "kinds"]
    assert [o["value"] for o in kinds["element"]["initial_options"]] == ["refund"]
    driver.choose("Refund", menu="alerts.kinds")
    acked(driver.submit())
    assert subscription(world, STAFF_ONLY) is None


def test_a_channel_with_a_guest_is_refused_under_the_field(world: World) -> None:
    channel(world, MIXED, ADMIN, STAFF, GUEST)
    driver = world.admin
    after(driver, driver.slash("/customers", f"alerts <#{MIXED}|cmixed>"), "views.open")
    driver.wait_for_view(is_view(FORM))
    driver.choose("New customer", menu="alerts.kinds")
    driver.submit()
    assert driver.errors() == {
        "kinds": "#cmixed has members who aren't staff: alerts may only go to staff-only channels."
    }
    assert subscription(world, MIXED) is None


def test_staff_are_refused_and_no_form_opens(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    answer = acked(world.staff.slash("/customers", f"alerts <#{STAFF_ONLY}|cstaff>"))
    assert "Only an admin can set up channel alerts" in answer.text
    assert not world.api.calls("views.open")


def test_a_guest_joining_pauses_alerts_and_tells_the_admin_who_set_them_up(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    set_up(world, STAFF_ONLY, "New customer")
    world.staff.join(STAFF_ONLY, GUEST)
    dm = world.api.dm_channel(ADMIN)
    world.api.wait_until(lambda: bool(texts(world, dm)), timeout=10, description="the admin's DM")
    assert f"Customer alerts in <#{STAFF_ONLY}> are paused" in texts(world, dm)[0]
    assert subscription(world, STAFF_ONLY) == ("customer_created", ADMIN, True)
    seed(world.db, [("Zoë", "Ørsted")])
    assert posted(world) == 1
    assert texts(world, STAFF_ONLY) == []


def test_a_staff_member_joining_leaves_alerts_running(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN)
    set_up(world, STAFF_ONLY, "New customer")
    acked(world.admin.join(STAFF_ONLY, STAFF))
    seed(world.db, [("Zoë", "Ørsted")])
    posted(world)
    assert len(texts(world, STAFF_ONLY)) == 1
    assert texts(world, world.api.dm_channel(ADMIN)) == []


def test_nothing_about_a_customer_is_posted_where_someone_is_not_staff(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    set_up(world, STAFF_ONLY, "New customer")
    # Someone who isn't staff is added without Slack telling the app.
    world.api.join(STAFF_ONLY, STRANGER)
    world.app.deps.audience.forget(world.admin.team_id, STAFF_ONLY)  # type: ignore[attr-defined]
    seed(world.db, [("Zoë", "Ørsted")])
    posted(world)
    assert texts(world, STAFF_ONLY) == []
    assert subscription(world, STAFF_ONLY) == ("customer_created", ADMIN, True)
    assert "paused" in texts(world, world.api.dm_channel(ADMIN))[0]


def test_the_sixth_alert_within_ten_minutes_folds_into_a_digest_updated_in_place(
    world: World, clock: MutableClock
) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    set_up(world, STAFF_ONLY, "New customer")
    seed(world.db, [(f"Cust{n}", "Flood") for n in range(1, 6)])
    assert posted(world) == 5
    assert len(texts(world, STAFF_ONLY)) == 5
    seed(world.db, [("Cust6", "Flood")], mobile_start=200)
    posted(world)
    digest = world.api.messages(STAFF_ONLY)[-1]
    assert "1 more new customers in the last 10 minutes:" in digest.text
    assert "Cust6 Flood" in digest.text
    seed(world.db, [("Cust7", "Flood"), ("Cust8", "Flood")], mobile_start=300)
    posted(world)
    messages = world.api.messages(STAFF_ONLY)
    assert len(messages) == 6
    assert messages[-1].ts == digest.ts
    assert "3 more new customers in the last 10 minutes:" in messages[-1].text
    assert all(f"Cust{n} Flood" in messages[-1].text for n in (6, 7, 8))
    assert len(world.api.calls("chat.update")) == 2
    # Once the ten minutes have passed, alerts are posted one by one again.
    clock.advance(minutes=11)
    seed(world.db, [("Cust9", "Flood")], mobile_start=400)
    posted(world)
    assert len(world.api.messages(STAFF_ONLY)) == 7
    assert "New customer: Cust9 Flood" in texts(world, STAFF_ONLY)[-1]


def home(world: World, driver: SlackDriver) -> str:
    """The driver's Home tab, freshly published, as text."""
    return text_of(customers_home(driver))


def test_home_lists_each_channels_alerts_with_edit_and_remove_for_admins(world: World) -> None:
    channel(world, STAFF_ONLY, ADMIN, STAFF)
    set_up(world, STAFF_ONLY, "New customer", "Refund")
    shown = home(world, world.admin)
    assert f"<#{STAFF_ONLY}>: New customer, Refund" in shown
    driver = world.admin
    after(
        driver,
        driver.click("alerts.edit", in_block=f"alerts.{STAFF_ONLY}", surface="home"),
        "views.open",
    )
    form = driver.wait_for_view(is_view(FORM))
    [kinds] = [b for b in form["blocks"] if b.get("block_id") == "kinds"]
    assert [o["value"] for o in kinds["element"]["initial_options"]] == [
        "customer_created",
        "refund",
    ]
    driver.close()
    acked(driver.click("alerts.remove", in_block=f"alerts.{STAFF_ONLY}", surface="home"))
    world.wait_text(driver, "gets no more alerts", surface="home")
    assert subscription(world, STAFF_ONLY) is None
    assert "Channel alerts" not in home(world, world.staff)
