"""The driver plays Slack against a real Bolt app over signed HTTP, using the app's own views."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.local import AppEndpoint, DriverError, LocalSlackAPI, SlackDriver, SlackUser, serve_wsgi

SECRET = "driver-test-signing-secret"
USER = "U0STAFF"


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value}


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": text(label), "value": value}


def row(block_id: str, name: str) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": f"*{name}*"},
        "accessory": {
            "type": "overflow",
            "action_id": "row.menu",
            "options": [
                option("Manage", f"manage:{block_id}"),
                option("Archive", f"archive:{block_id}"),
            ],
        },
    }


def hub(query: str = "", note: str = "") -> dict[str, Any]:
    """A small stand-in for the product's hub: as-you-type search, rows, a form, buttons."""
    return {
        "type": "modal",
        "callback_id": "hub",
        "notify_on_close": True,
        "private_metadata": query,
        "title": text("Customers"),
        "submit": text("Save"),
        "close": text("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "search",
                "dispatch_action": True,
                "optional": True,
                "label": text("Search"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "hub.search",
                    "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
                },
            },
            {
                "type": "section",
                "block_id": "status",
                "text": {"type": "mrkdwn", "text": f"Showing {query or 'everyone'}. {note}"},
            },
            row("zoe", "Zoe Smith"),
            row("adam", "Adam Jones"),
            {
                "type": "input",
                "block_id": "name",
                "label": text("Name"),
                "element": {"type": "plain_text_input", "action_id": "name.value"},
            },
            {
                "type": "input",
                "block_id": "plan",
                "optional": True,
                "label": text("Plan"),
                "element": {
                    "type": "static_select",
                    "action_id": "plan.pick",
                    "options": [option("Gold", "gold"), option("Silver", "silver")],
                },
            },
            {
                "type": "input",
                "block_id": "city",
                "optional": True,
                "label": text("City"),
                "element": {"type": "external_select", "action_id": "city.pick"},
            },
            {
                "type": "actions",
                "block_id": "buttons",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "hub.delete",
                        "text": text("Delete everyone"),
                        "style": "danger",
                        "confirm": {
                            "title": text("Delete everyone?"),
                            "text": text("This cannot be undone."),
                            "confirm": text("Delete"),
                            "deny": text("Keep"),
                        },
                    },
                    {"type": "button", "action_id": "hub.details", "text": text("Details")},
                ],
            },
        ],
    }


DETAILS = {
    "type": "modal",
    "callback_id": "details",
    "title": text("Details"),
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Zoe Smith"}}],
}


def home(count: int) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"Opened {count} times"}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "action_id": "home.refresh", "text": text("Refresh")}
                ],
            },
        ],
    }


def build_app(api: LocalSlackAPI) -> App:
    """A tiny Bolt app exercising every interaction the driver offers."""
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=api.bot_token, base_url=api.base_url),
        token_verification_enabled=False,
    )

    @app.command("/demo")
    def demo(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        if body["text"] == "help":
            ack("Type /demo NAME to search")
            return
        ack()
        if body["text"] == "archive":
            undo = {"type": "button", "action_id": "undo", "text": text("Undo"), "value": "zoe"}
            respond(
                text="Archived Zoe",
                blocks=[
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Archived Zoe"}},
                    {"type": "actions", "elements": [undo]},
                ],
            )
            return
        client.views_open(trigger_id=body["trigger_id"], view=hub(body["text"]))

    def refresh(body: dict[str, Any], client: WebClient, query: str, note: str = "") -> None:
        view = body["view"]
        try:
            client.views_update(view_id=view["id"], hash=view["hash"], view=hub(query, note))
        except SlackApiError as error:
            # A newer keystroke already replaced the view.
            if error.response["error"] != "hash_conflict":
                raise

    @app.action("hub.search")
    def search(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        refresh(body, client, body["actions"][0]["value"] or "")

    @app.action("row.menu")
    def menu(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        picked = body["actions"][0]["selected_option"]["value"]
        refresh(body, client, body["view"]["private_metadata"], f"Picked {picked}.")

    @app.action("hub.delete")
    def delete(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        refresh(body, client, body["view"]["private_metadata"], "Deleted everyone.")

    @app.action("hub.details")
    def details(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_push(trigger_id=body["trigger_id"], view=DETAILS)

    @app.options("city.pick")
    def cities(ack: Ack, body: dict[str, Any]) -> None:
        wanted = body["value"].lower()
        ack(options=[option(c, c.lower()) for c in ("London", "Paris") if wanted in c.lower()])

    @app.view("hub")
    def save(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        name = values["name"]["name.value"]["value"] or ""
        plan = (values["plan"]["plan.pick"]["selected_option"] or {}).get("value")
        city = (values["city"]["city.pick"]["selected_option"] or {}).get("value")
        if name == "push":
            ack(response_action="push", view=DETAILS)
        elif name == "update":
            ack(response_action="update", view=hub("updated"))
        elif name == "clear":
            ack(response_action="clear")
        elif name == "broken":
            ack(
                response_action="update",
                view={**DETAILS, "title": text("A title far, far too long for Slack")},
            )
        elif len(name.strip()) < 3:
            ack(response_action="errors", errors={"name": "Enter at least 3 characters"})
        else:
            ack()
            client.chat_postMessage(channel=body["user"]["id"], text=f"Saved {name} {plan} {city}")

    @app.view_closed("hub")
    def closed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel=body["user"]["id"], text="Closed the hub")

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view=home(1))

    @app.action("home.refresh")
    def home_refresh(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        client.views_publish(user_id=body["user"]["id"], view=home(2), hash=view["hash"])

    @app.action("undo")
    def undo(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="Restored Zoe", replace_original=True)

    return app


@pytest.fixture
def api() -> Iterator[LocalSlackAPI]:
    with LocalSlackAPI() as running:
        running.add_user(SlackUser(USER, "sam"))
        yield running


@pytest.fixture
def app_url(api: LocalSlackAPI) -> Iterator[str]:
    root, stop = serve_wsgi(SlackRequestHandler(build_app(api)))
    try:
        yield f"{root}/slack/events"
    finally:
        stop()


@pytest.fixture
def driver(api: LocalSlackAPI, app_url: str) -> SlackDriver:
    return SlackDriver(api, AppEndpoint(app_url, SECRET), user_id=USER)


def open_hub(driver: SlackDriver, query: str = "") -> dict[str, Any]:
    assert driver.slash("/demo", query).status == 200
    return driver.wait_for_view(lambda v: v["callback_id"] == "hub")


def status_of(view: dict[str, Any]) -> str:
    return str(next(b for b in view["blocks"] if b["block_id"] == "status")["text"]["text"])


def test_a_slash_command_opens_the_apps_modal(driver: SlackDriver, api: LocalSlackAPI) -> None:
    response = driver.slash("/demo", "zo")
    assert response.status == 200
    view = driver.wait_for_view(lambda v: v["callback_id"] == "hub")
    assert status_of(view).startswith("Showing zo.")
    call = api.last("views.open")
    assert call.ok and call.token == api.bot_token
    assert driver.ephemeral_messages() == [], "an empty ack shows nothing"


def test_an_ack_with_text_is_shown_only_to_the_user(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    response = driver.slash("/demo", "help")
    assert (response.status, response.text) == (200, "Type /demo NAME to search")
    [shown] = driver.ephemeral_messages()
    assert (shown.text, shown.via, shown.channel) == ("Type /demo NAME to search", "ack", "C0LOCAL")
    assert driver.as_user("U0OTHER").ephemeral_messages() == []


def test_find_elements_lists_what_a_person_can_use(driver: SlackDriver) -> None:
    open_hub(driver)
    listed = [(e.kind, e.label, e.action_id) for e in driver.find_elements()]
    assert listed == [
        ("plain_text_input", "Search", "hub.search"),
        ("overflow", "Zoe Smith", "row.menu"),
        ("overflow", "Adam Jones", "row.menu"),
        ("plain_text_input", "Name", "name.value"),
        ("static_select", "Plan", "plan.pick"),
        ("external_select", "City", "city.pick"),
        ("button", "Delete everyone", "hub.delete"),
        ("button", "Details", "hub.details"),
    ]


def test_typing_dispatches_each_keystroke_and_keeps_what_was_typed(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    open_hub(driver)
    assert driver.type("Zoe", into="Name") is None, "a plain input sends nothing"
    response = driver.type("zo", into="Search")
    assert response is not None and response.status == 200
    api.wait_for("views.update", lambda c: c.ok, since=response.mark)
    view = driver.wait_for_view(lambda v: status_of(v).startswith("Showing zo."))
    action = api.calls("views.update")[-1]
    assert action.params["hash"], "the app passes the view hash"
    values = view["state"]["values"]
    assert values["name"]["name.value"]["value"] == "Zoe"
    assert values["search"]["hub.search"]["value"] == "zo"


def test_a_stale_keystroke_loses_to_the_newer_one(driver: SlackDriver, api: LocalSlackAPI) -> None:
    old = open_hub(driver)
    driver.type("z", into="Search")
    api.wait_for("views.update", lambda c: c.ok)
    # Replay the first keystroke's view hash: the app's update must be refused.
    client = WebClient(token=api.bot_token, base_url=api.base_url)
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=old["id"], hash=old["hash"], view=hub("stale"))


def test_a_confirmed_button_acts_and_a_cancelled_one_sends_nothing(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    open_hub(driver)
    mark = api.mark()
    assert driver.click("Delete everyone", confirm=False) is None
    response = driver.click("hub.delete")
    assert response is not None and response.status == 200
    driver.wait_for_view(lambda v: "Deleted everyone." in status_of(v))
    assert [c.method for c in api.calls(since=mark)] == ["views.update"]


def test_choosing_an_overflow_option_in_a_row(driver: SlackDriver) -> None:
    open_hub(driver)
    driver.choose("Archive", menu="Adam")
    driver.wait_for_view(lambda v: "Picked archive:adam." in status_of(v))
    with pytest.raises(DriverError, match="ambiguous"):
        driver.choose("Archive", menu="row.menu")
    driver.choose("Manage", menu="row.menu", in_block="zoe")
    driver.wait_for_view(lambda v: "Picked manage:zoe." in status_of(v))


def test_submit_shows_errors_then_closes_on_success(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    open_hub(driver)
    driver.type("Zo", into="Name")
    response = driver.submit()
    assert response is not None and response.data["response_action"] == "errors"
    assert driver.errors() == {"name": "Enter at least 3 characters"}
    kept = driver.current_view()
    assert kept is not None and kept["state"]["values"]["name"]["name.value"]["value"] == "Zo"
    driver.type("Zoe", into="Name")
    assert driver.choose("Gold", menu="Plan") is None, "a select in an input sends nothing"
    assert driver.choose("Paris", menu="City") is None
    response = driver.submit()
    assert response is not None and response.status == 200 and response.text == ""
    assert api.stack(USER) == []
    saved = api.wait_for("chat.postMessage", since=response.mark)
    assert saved.params["text"] == "Saved Zoe gold paris"


def test_response_actions_update_in_place_and_clear(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    opened = open_hub(driver)
    driver.type("update", into="Name")
    driver.submit()
    view = driver.current_view()
    assert view is not None and view["id"] == opened["id"] and view["hash"] != opened["hash"]
    assert status_of(view).startswith("Showing updated.")
    assert view["state"]["values"]["name"]["name.value"]["value"] == "update"
    driver.type("clear", into="Name")
    driver.submit()
    assert api.stack(USER) == []


def test_an_invalid_view_in_a_response_action_is_the_apps_bug(driver: SlackDriver) -> None:
    open_hub(driver)
    driver.type("broken", into="Name")
    with pytest.raises(DriverError, match=r"json-pointer:/view/title/text"):
        driver.submit()


def test_external_select_options_come_from_the_app(driver: SlackDriver) -> None:
    open_hub(driver)
    assert driver.block_suggestion("lon", action_id="city.pick") == [option("London", "london")]
    with pytest.raises(DriverError, match="'Rome' matches no option"):
        driver.choose("Rome", menu="City")


def test_required_fields_are_checked_before_anything_is_sent(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    open_hub(driver)
    mark = api.mark()
    assert driver.submit() is None
    assert driver.errors() == {"name": "Please fill out this field."}
    assert api.calls(since=mark) == []


def test_push_from_a_button_and_from_a_submission_then_close(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    open_hub(driver)
    driver.click("Details")
    driver.wait_for_view(lambda v: v["callback_id"] == "details")
    assert driver.close() is None, "details does not ask to be told"
    driver.type("push", into="Name")
    driver.submit()
    assert [v["callback_id"] for v in api.stack(USER)] == ["hub", "details"]
    driver.close()
    response = driver.close()
    assert response is not None and response.status == 200
    assert api.stack(USER) == []
    closed = api.wait_for("chat.postMessage", since=response.mark)
    assert closed.params["text"] == "Closed the hub"


def test_app_home_is_published_on_open_and_updated_on_click(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    response = driver.open_home()
    assert response.status == 200
    api.wait_for("views.publish", since=response.mark)
    first = driver.wait_for_view(surface="home")
    driver.click("Refresh", surface="home")
    updated = driver.wait_for_view(lambda v: v["hash"] != first["hash"], surface="home")
    assert updated["id"] == first["id"]
    assert updated["blocks"][0]["text"]["text"] == "Opened 2 times"
    assert api.last("views.publish").params["hash"] == first["hash"]


def test_a_button_in_a_message_replies_through_its_response_url(
    driver: SlackDriver, api: LocalSlackAPI
) -> None:
    response = driver.slash("/demo", "archive")
    api.wait_for("response_url", since=response.mark)
    [archived] = driver.ephemeral_messages()
    assert archived.text == "Archived Zoe"
    clicked = driver.click("Undo", message=archived)
    assert clicked is not None
    api.wait_for("response_url", since=clicked.mark)
    assert [m.text for m in driver.ephemeral_messages()] == ["Restored Zoe"]


def test_a_wrongly_signed_or_stale_request_is_refused(api: LocalSlackAPI, app_url: str) -> None:
    forger = SlackDriver(api, AppEndpoint(app_url, "not-the-secret"), user_id=USER)
    assert forger.slash("/demo").status == 401
    stale = SlackDriver(
        api, AppEndpoint(app_url, SECRET), user_id=USER, clock=lambda: time.time() - 600
    )
    assert stale.slash("/demo").status == 401
    assert api.calls() == []
    assert api.stack(USER) == []


def test_an_unreachable_app_is_reported_plainly(api: LocalSlackAPI) -> None:
    root, stop = serve_wsgi(SlackRequestHandler(build_app(api)))
    stop()
    endpoint = AppEndpoint(f"{root}/slack/events", SECRET)
    with pytest.raises(DriverError, match="did not answer"):
        SlackDriver(api, endpoint, user_id=USER).slash("/demo")


def test_another_user_sees_their_own_surfaces(driver: SlackDriver) -> None:
    open_hub(driver)
    other = driver.as_user("U0OTHER")
    assert other.current_view() is None
    with pytest.raises(DriverError, match="no modal is open"):
        other.click("Details")
