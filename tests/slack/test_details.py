"""A customer's details end to end: opening, the eight tabs, search, pages, commerce, chart."""

from __future__ import annotations

import json
import time

from slack_sdk import WebClient

from bot.context.deps import Deps
from bot.context.request import Request
from bot.surfaces.customer_details import render_details
from bot.views.tabs import DetailsMeta
from core.actor import Actor
from core.chart_links import chart_key, verify_chart_token
from core.models import Role
from core.services.settings import StudioSettings
from tests.conftest import make_settings
from tests.slack.conftest import ADMIN, World
from tests.slack.details_helpers import (
    details_after,
    go_to_tab,
    notice_of,
    open_details,
    row_texts,
    seed_history,
    state_of,
)
from tests.slack.helpers import (
    DETAILS,
    FORM,
    HUB,
    JSON,
    acked,
    after,
    customers_home,
    interaction,
    is_view,
    open_hub,
    post_signed,
    row_menu,
    seed,
    text_of,
    watch_logs,
)

PEOPLE = [("Zoe", "Adams"), ("Adam", "Smith")]


def _zoe(world: World, bookings: int = 25) -> str:
    zoe, _ = seed(world.db, PEOPLE)
    seed_history(world.db, zoe.uid, bookings=bookings)
    return zoe.uid


# ----------------------------------------------------------------- opening


def test_manage_opens_details_with_account_information_sales_and_bookings(world: World) -> None:
    uid = _zoe(world)
    driver = world.staff
    hub = open_hub(driver)
    after(driver, row_menu(driver, hub, "Zoe Adams", "Manage"), "views.push")
    view = driver.wait_for_view(is_view(DETAILS, "Zoe Adams"))
    assert len(world.api.stack(driver.user_id)) == 2
    shown = text_of(view)
    assert uid in shown and "zoe.adams.100@example.com" in shown
    assert "<mailto:zoe.adams.100@example.com|zoe.adams.100@example.com>" in json.dumps(view)
    assert "<tel:+447700900100|+44 7700 900100>" in json.dumps(view)
    assert "14 Mar 2026, 09:30 GMT" in shown
    # 25 bookings over 250 days, a pass and a video in the last 12 months.
    assert "Sales activity" in shown and "Mar 26" in shown and "Apr 25" in shown
    assert "Bookings · 1–10 of 25 bookings" in shown
    assert len(row_texts(view, "booking_")) == 10
    assert "Completed :credit_card: Stripe" in shown and "£10.00" in shown and "1 CR" in shown
    assert state_of(view) == {"tab": "bookings", "q": "", "page": 1}
    # Stacked on the hub: closing it goes back to the list.
    driver.close()
    assert (driver.current_view("modal") or {})["callback_id"] == HUB


def test_the_name_button_and_home_open_details_too(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    view = open_details(driver, "Zoe Adams")
    assert "1–3 of 3 bookings" in text_of(view)
    home = customers_home(driver)
    assert home["type"] == "home"
    after(driver, driver.click("Zoe Adams", surface="home"), "views.open")
    view = driver.wait_for_view(is_view(DETAILS, "Zoe Adams"))
    assert len(world.api.stack(driver.user_id)) == 1
    assert json.loads(view["private_metadata"])["origin"]["surface"] == "home"


def test_every_tab_switches_inside_the_same_view(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    view = open_details(driver, "Zoe Adams")
    view_id = view["id"]
    expected = {
        "Appointments": ("Sports massage", "Alex Kim", "45 min", "£40.00", "Scheduled"),
        "Passes": ("10-class pass", "9 of 10 credits left", "£90.00", "Completed :credit_card"),
        "Videos": ("Yin basics", "Expires —", "1 CR", "Active"),
        "Subscriptions": ("Unlimited monthly", "£60.00 per month", "Paused", "Next payment"),
        "Questionnaires": ("No questionnaires yet — use Assign Questionnaire",),
        "Notes": ("No notes yet — use Add Note",),
        "Account": ("Archive Customer", "Account History"),
        "Bookings": ("Vinyasa Flow", "Book an Event"),
    }
    for label, needles in expected.items():
        view = go_to_tab(driver, label, *needles)
        assert view["id"] == view_id
        assert state_of(view)["tab"] == label.lower()
    assert len(world.api.stack(driver.user_id)) == 2


def test_empty_tabs_say_what_to_do(world: World) -> None:
    seed(world.db, PEOPLE)
    driver = world.staff
    open_details(driver, "Zoe Adams", text="zoe")
    driver.wait_for_view(is_view(DETAILS, "No bookings yet — use Book an Event"))
    go_to_tab(driver, "Appointments", "No appointments yet — use Book Appointment")
    go_to_tab(driver, "Passes", "No passes yet — use Assign Pass")
    go_to_tab(driver, "Videos", "No videos yet — use Assign Video")
    go_to_tab(driver, "Subscriptions", "No subscriptions yet")


# ----------------------------------------------------------------- search and pages


def test_search_as_you_type_filters_the_tab(world: World) -> None:
    _zoe(world)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    view = details_after(driver, driver.type("pilates", into="customer_details.search"), "of 8")
    rows = row_texts(view, "booking_")
    assert len(rows) == 8 and all("Pilates Core" in row for row in rows)
    # Event times in the event's own time zone.
    assert "EDT" in rows[0] or "EST" in rows[0]
    assert state_of(view) == {"tab": "bookings", "q": "pilates", "page": 1}
    view = details_after(driver, driver.type("zzz", into="customer_details.search"), "No bookings")
    assert "No bookings match 'zzz' — clear the search" in text_of(view)
    view = details_after(driver, driver.type("", into="customer_details.search"), "of 25")
    assert state_of(view)["q"] == ""


def test_search_text_stays_with_its_tab(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    details_after(driver, driver.type("pilates", into="customer_details.search"), "no matches")
    view = go_to_tab(driver, "Appointments", "Sports massage")
    assert state_of(view)["q"] == ""
    values = view["state"]["values"]
    assert values["details_search_appointments"]["customer_details.search"]["value"] is None
    assert "details_search_bookings" not in values
    view = go_to_tab(driver, "Bookings", "1–3 of 3")
    assert view["state"]["values"]["details_search_bookings"]["customer_details.search"][
        "value"
    ] in (None, "")


def test_every_listing_tab_searches(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    cases = [
        ("Appointments", "alex", "1 appointment", "appointments"),
        ("Passes", "10-class", "1 pass", "passes"),
        ("Videos", "yin", "1 video", "videos"),
        ("Subscriptions", "unlimited", "1 subscription", "subscriptions"),
    ]
    for tab, found, count, noun in cases:
        go_to_tab(driver, tab, count)
        details_after(driver, driver.type(found, into="customer_details.search"), count)
        view = details_after(driver, driver.type("qqq", into="customer_details.search"), "match")
        assert f"No {noun} match 'qqq' — clear the search" in text_of(view)


def test_a_late_keystroke_never_overwrites_a_newer_one(world: World) -> None:
    _zoe(world)
    driver = world.staff
    stale = open_details(driver, "Zoe Adams")
    earlier = f"{time.time():.6f}"
    details_after(driver, driver.type("pilates", into="customer_details.search"), "of 8")
    # An earlier keystroke's request arrives last, carrying the old view hash.
    payload = interaction(driver, "block_actions", stale)
    payload["actions"] = [
        {
            "type": "plain_text_input",
            "action_id": "customer_details.search",
            "block_id": "details_search_bookings",
            "value": "pil",
            "action_ts": earlier,
        }
    ]
    with watch_logs() as logs:
        response = acked(post_signed(driver, payload))
        logs.wait_for("details update skipped: a newer action's redraw is on screen")
    assert world.api.calls("views.update", since=response.mark) == []
    assert state_of(driver.current_view() or {})["q"] == "pilates"


def test_pages_previous_and_next(world: World) -> None:
    _zoe(world)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    view = details_after(driver, driver.click("Next ▶"), "11–20 of 25")
    assert "Page 2 of 3" in text_of(view)
    view = details_after(driver, driver.click("Next ▶"), "21–25 of 25")
    assert len(row_texts(view, "booking_")) == 5 and "Next ▶" not in text_of(view)
    view = details_after(driver, driver.click("◀ Previous"), "11–20 of 25")
    assert state_of(view)["page"] == 2
    # Searching starts again from the first page.
    view = details_after(
        driver, driver.type("vinyasa", into="customer_details.search"), "1–10 of 17"
    )


def test_the_search_button_submits_the_typed_text(world: World) -> None:
    _zoe(world)
    driver = world.staff
    view = open_details(driver, "Zoe Adams")
    world.api.set_value(
        view["id"],
        "details_search_bookings",
        "customer_details.search",
        {"type": "plain_text_input", "value": "#" + str(_first_booking_id(view))},
    )
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    view = driver.wait_for_view(is_view(DETAILS, "1 booking"))
    assert len(world.api.stack(driver.user_id)) == 2


def _first_booking_id(view: JSON) -> int:
    block = next(b for b in view["blocks"] if str(b.get("block_id", "")).startswith("booking_"))
    return int(block["block_id"].removeprefix("booking_"))


# ----------------------------------------------------------------- commerce


def test_commerce_buttons_open_their_forms_without_stripe_when_unconfigured(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    cases = [
        ("Bookings", "Book an Event", "book_event.submit"),
        ("Appointments", "Book Appointment", "book_appointment.submit"),
        ("Passes", "Assign Pass", "assign_pass.submit"),
        ("Videos", "Assign Video", "assign_video.submit"),
    ]
    for tab, button, callback_id in cases:
        go_to_tab(driver, tab)
        after(driver, driver.click(button), "views.push")
        form = driver.wait_for_view(is_view(callback_id, "Zoe Adams"))
        assert len(world.api.stack(driver.user_id)) == 3
        # No STRIPE_API_KEY here: recording a Stripe payment is not offered.
        assert "Record a Stripe payment" not in text_of(form)
        driver.close()


def test_row_menus_offer_what_each_row_allows(world: World) -> None:
    zoe, _ = seed(world.db, PEOPLE)
    seeded = seed_history(world.db, zoe.uid, bookings=3)
    driver = world.admin
    view = open_details(driver, "Zoe Adams")
    stripe, manual = f"booking_{seeded.stripe_booking}", f"booking_{seeded.manual_booking}"
    rows = {b.get("block_id"): b for b in view["blocks"]}
    options = [o["text"]["text"] for o in rows[stripe]["accessory"]["options"]]
    assert options == ["Transfer", "Cancel", "Refund"]
    assert [o["text"]["text"] for o in rows[manual]["accessory"]["options"]] == [
        "Transfer",
        "Cancel",
    ]
    # This app has no Stripe key: Refund says so before any amount is typed.
    response = driver.choose("Refund", menu="customer_details.row", in_block=stripe)
    details_after(driver, response, "Refunds are made through Stripe, which isn't set up")
    go_to_tab(driver, "Subscriptions", "Paused")
    response = driver.choose("Resume", menu="customer_details.row")
    view = details_after(driver, response, "Resumed Unlimited monthly subscription")
    assert notice_of(view).startswith(":white_check_mark:")


# ----------------------------------------------------------------- chart


def test_post_chart_posts_the_png_where_customers_was_typed(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    response = driver.click("Post chart")
    view = details_after(driver, response, "Posted Zoe Adams's sales chart")
    assert "conversation you opened Customer Records from" in notice_of(view)
    (upload,) = world.api.files()
    assert upload.channels == [driver.channel_id]
    assert upload.content is not None and upload.content.startswith(b"\x89PNG")
    assert upload.name.endswith(".png")


def test_post_chart_from_home_goes_to_a_direct_message(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    customers_home(driver)
    after(driver, driver.click("Zoe Adams", surface="home"), "views.open")
    driver.wait_for_view(is_view(DETAILS, "Zoe Adams"))
    view = details_after(driver, driver.click("Post chart"), "Posted Zoe Adams's sales chart")
    assert "messages with the app" in notice_of(view)
    (upload,) = world.api.files()
    assert upload.channels == [world.api.dm_channel(driver.user_id)]


def _request(deps: Deps, actor: Actor) -> Request:
    studio = StudioSettings.defaults(deps.settings)
    return Request(deps, actor, WebClient(token="xoxb-unused"), studio)


def test_the_chart_image_shows_only_with_a_public_base_url(world: World) -> None:
    uid = _zoe(world, bookings=3)
    actor = Actor("T0001", ADMIN, Role.ADMIN)
    meta = DetailsMeta(uid=uid)
    plain = render_details(_request(Deps(world.db, world.db.settings), actor), meta)
    assert not any(b["type"] == "image" for b in plain["blocks"])
    settings = make_settings(
        str(world.db.settings.database_url.get_secret_value()),
        public_base_url="https://records.example.com",
        slack_signing_secret="s3cret",
    )
    view = render_details(_request(Deps(world.db, settings), actor), meta)
    (image,) = [b for b in view["blocks"] if b["type"] == "image"]
    url = image["image_url"]
    assert url.startswith("https://records.example.com/charts/")
    token = url.rsplit("/", 1)[1].removesuffix(".png")
    grant = verify_chart_token(token, secret=chart_key("s3cret"), now=time.time() - 10**9)
    assert (grant.team_id, grant.customer_uid) == ("T0001", uid)
    # The text chart is there either way.
    assert "```" in json.dumps(view["blocks"])


# ----------------------------------------------------------------- edit and tenancy


def test_edit_from_details_comes_back_to_the_same_tab(world: World) -> None:
    _zoe(world, bookings=3)
    driver = world.staff
    open_details(driver, "Zoe Adams")
    go_to_tab(driver, "Videos", "Yin basics")
    after(driver, driver.click("Edit"), "views.push")
    driver.wait_for_view(is_view(FORM, "Edit Contact"))
    assert len(world.api.stack(driver.user_id)) == 3
    driver.type("Adamson", into="Last name")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Zoe Adamson", "Yin basics"))
    assert state_of(view)["tab"] == "videos"
    assert len(world.api.stack(driver.user_id)) == 2


def test_another_tenants_customer_cannot_be_reached(world: World) -> None:
    _zoe(world, bookings=3)
    (theirs,) = seed(world.db, [("Secret", "Person")], team_id="T0002", mobile_start=500)
    seed_history(world.db, theirs.uid, bookings=2, team_id="T0002", key="other")
    driver = world.staff
    view = open_details(driver, "Zoe Adams")
    # A forged metadata UID on a tab switch.
    forged = dict(view)
    meta = json.loads(view["private_metadata"])
    meta["uid"] = theirs.uid
    forged["private_metadata"] = json.dumps(meta)
    for action in ("customer_details.tab.bookings", "customer_details.tab.notes"):
        payload = interaction(driver, "block_actions", forged)
        payload["actions"] = [
            {
                "type": "button",
                "action_id": action,
                "block_id": "details_tabs",
                "value": action.rsplit(".", 1)[1],
                "action_ts": str(time.time()),
            }
        ]
        response = acked(post_signed(driver, payload))
        call = world.api.wait_for("views.update", since=response.mark)
        shown = text_of(call.params["view"])
        assert f"No customer with UID {theirs.uid} exists" in shown
        assert "Secret" not in shown and "Vinyasa" not in shown
    # A forged UID on the hub's name button.
    hub = open_hub(driver)
    payload = interaction(driver, "block_actions", hub)
    payload["actions"] = [
        {
            "type": "button",
            "action_id": "customer.open",
            "block_id": "row_X",
            "value": theirs.uid,
            "action_ts": str(time.time()),
        }
    ]
    response = acked(post_signed(driver, payload))
    call = world.api.wait_for("views.update", since=response.mark)
    assert f"No customer with UID {theirs.uid} exists" in text_of(call.params["view"])
    assert not world.api.calls("views.push", since=response.mark)
