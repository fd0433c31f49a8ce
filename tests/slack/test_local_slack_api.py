"""The Web API stand-in answers the real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.local import LocalSlackAPI, SlackUser
from bot.local.signing import signature

USER = "U0USER"


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api(clock: ManualClock) -> Iterator[LocalSlackAPI]:
    with LocalSlackAPI(clock=clock) as running:
        running.add_user(SlackUser(USER, "zoe", real_name="Zoe Smith"))
        yield running


@pytest.fixture
def client(api: LocalSlackAPI) -> WebClient:
    return WebClient(token=api.bot_token, base_url=api.base_url)


def modal(title: str = "Customers", **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": "hub",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}],
    }
    view.update(extra)
    return view


def form(name_block: str = "name") -> dict[str, Any]:
    return modal(
        submit={"type": "plain_text", "text": "Save"},
        blocks=[
            {
                "type": "input",
                "block_id": name_block,
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "plan",
                "optional": True,
                "label": {"type": "plain_text", "text": "Plan"},
                "element": {
                    "type": "static_select",
                    "action_id": "choice",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Gold"}, "value": "gold"},
                    ],
                },
            },
        ],
    )


def error_of(method: Callable[..., Any], /, **kwargs: Any) -> str:
    """The error code Slack answers a call with."""
    with pytest.raises(SlackApiError) as caught:
        method(**kwargs)
    return str(caught.value.response["error"])


def test_auth_test_names_the_bot_and_refuses_bad_tokens(
    api: LocalSlackAPI, client: WebClient
) -> None:
    answer = client.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T0001", "UBOT", "BBOT")
    assert api.last("auth.test").token == api.bot_token
    wrong = WebClient(token="xoxb-wrong", base_url=api.base_url)
    assert error_of(wrong.auth_test) == "invalid_auth"
    assert error_of(WebClient(base_url=api.base_url).auth_test) == "not_authed"


def test_users_info_answers_from_the_directory(api: LocalSlackAPI, client: WebClient) -> None:
    api.add_user(SlackUser("UGUEST", "gus", is_restricted=True))
    user = client.users_info(user=USER)["user"]
    assert (user["id"], user["team_id"], user["real_name"], user["is_admin"]) == (
        USER,
        "T0001",
        "Zoe Smith",
        False,
    )
    assert client.users_info(user="UGUEST")["user"]["is_restricted"] is True
    assert error_of(client.users_info, user="UNOBODY") == "user_not_found"


def test_messages_are_posted_updated_and_deleted(api: LocalSlackAPI, client: WebClient) -> None:
    channel = client.conversations_open(users=USER)["channel"]["id"]
    assert channel == api.dm_channel(USER)
    posted = client.chat_postMessage(channel=USER, text="hi")
    assert posted["channel"] == channel
    client.chat_update(channel=channel, ts=posted["ts"], text="edited")
    assert [m.text for m in api.messages(channel)] == ["edited"]
    client.chat_delete(channel=channel, ts=posted["ts"])
    assert api.messages(channel) == []
    assert error_of(client.chat_delete, channel=channel, ts=posted["ts"]) == "message_not_found"
    assert error_of(client.api_call, api_method="chat.postMessage", json={"channel": "C1"}) == (
        "no_text"
    )


def test_ephemeral_messages_are_seen_by_one_user(api: LocalSlackAPI, client: WebClient) -> None:
    client.chat_postEphemeral(channel="C1", user=USER, text="only you")
    assert [m.text for m in api.ephemeral_messages(USER)] == ["only you"]
    assert api.ephemeral_messages("UOTHER") == [] and api.messages("C1") == []


def test_a_message_over_fifty_blocks_is_refused(client: WebClient) -> None:
    blocks = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x", blocks=blocks)
    assert caught.value.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in caught.value.response["response_metadata"]["messages"][0]


def test_views_open_starts_a_stack_with_ids_and_hash(api: LocalSlackAPI, client: WebClient) -> None:
    view = client.views_open(trigger_id=api.issue_trigger_id(USER), view=modal())["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert view["blocks"][0]["block_id"], "Slack fills in missing block ids"
    assert [v["id"] for v in api.stack(USER)] == [view["id"]]
    again = client.views_open(trigger_id=api.issue_trigger_id(USER), view=modal("Other"))["view"]
    assert [v["id"] for v in api.stack(USER)] == [again["id"]]


def test_an_external_id_names_one_open_view(api: LocalSlackAPI, client: WebClient) -> None:
    root = client.views_open(trigger_id=api.issue_trigger_id(USER), view=modal(external_id="x"))
    trigger = api.issue_trigger_id(USER, view_id=root["view"]["id"])
    assert error_of(client.views_push, trigger_id=trigger, view=modal(external_id="x")) == (
        "duplicate_external_id"
    )
    reopened = client.views_open(trigger_id=api.issue_trigger_id(USER), view=modal(external_id="x"))
    assert reopened["view"]["external_id"] == "x", "a new modal replaces the user's open one"


def test_a_form_encoded_view_is_accepted(api: LocalSlackAPI, client: WebClient) -> None:
    data = {"trigger_id": api.issue_trigger_id(USER), "view": json.dumps(modal())}
    answer = client.api_call("views.open", data=data)
    assert answer["view"]["title"]["text"] == "Customers"
    assert api.last("views.open").params["view"]["callback_id"] == "hub"


def test_triggers_are_single_use_known_and_short_lived(
    api: LocalSlackAPI, client: WebClient, clock: ManualClock
) -> None:
    trigger = api.issue_trigger_id(USER)
    client.views_open(trigger_id=trigger, view=modal())
    assert error_of(client.views_open, trigger_id=trigger, view=modal()) == "exchanged_trigger_id"
    assert error_of(client.views_open, trigger_id="1.2.made-up", view=modal()) == (
        "invalid_trigger_id"
    )
    late = api.issue_trigger_id(USER)
    clock.now += 3.5
    assert error_of(client.views_open, trigger_id=late, view=modal()) == "expired_trigger_id"


def test_push_stacks_three_views_at_most(api: LocalSlackAPI, client: WebClient) -> None:
    root = client.views_open(trigger_id=api.issue_trigger_id(USER), view=modal())["view"]
    top = root
    for _ in range(2):
        trigger = api.issue_trigger_id(USER, view_id=top["id"])
        top = client.views_push(trigger_id=trigger, view=modal("Pushed"))["view"]
    assert top["root_view_id"] == root["id"] and top["previous_view_id"] != root["id"]
    assert len(api.stack(USER)) == 3
    trigger = api.issue_trigger_id(USER, view_id=top["id"])
    assert error_of(client.views_push, trigger_id=trigger, view=modal()) == "push_limit_reached"
    api.close_view(USER)
    assert api.current_view(USER)["id"] == top["previous_view_id"]  # type: ignore[index]


def test_push_needs_a_trigger_from_the_open_modal(api: LocalSlackAPI, client: WebClient) -> None:
    client.views_open(trigger_id=api.issue_trigger_id(USER), view=modal())
    outside = api.issue_trigger_id(USER)
    assert error_of(client.views_push, trigger_id=outside, view=modal()) == "invalid_arguments"


def test_views_update_checks_the_hash_and_changes_it(api: LocalSlackAPI, client: WebClient) -> None:
    opened = client.views_open(
        trigger_id=api.issue_trigger_id(USER), view=modal(external_id="hub-1")
    )["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Two"))[
        "view"
    ]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = {"view_id": opened["id"], "hash": opened["hash"], "view": modal()}
    assert error_of(client.views_update, **stale) == "hash_conflict"
    by_external = client.views_update(external_id="hub-1", view=modal("Three"))["view"]
    assert api.current_view(USER)["title"]["text"] == "Three"  # type: ignore[index]
    assert by_external["root_view_id"] == opened["id"]
    api.close_view(USER)
    assert error_of(client.views_update, view_id=opened["id"], view=modal()) == "not_found"


def test_typed_values_survive_an_update_only_where_ids_are_unchanged(
    api: LocalSlackAPI, client: WebClient
) -> None:
    view = client.views_open(trigger_id=api.issue_trigger_id(USER), view=form())["view"]
    assert view["state"]["values"]["name"]["value"] == {"type": "plain_text_input", "value": None}
    api.set_value(view["id"], "name", "value", {"type": "plain_text_input", "value": "Zoe"})
    client.views_update(view_id=view["id"], view=form())
    state = api.view(view["id"])["state"]["values"]
    assert state["name"]["value"]["value"] == "Zoe"
    client.views_update(view_id=view["id"], view=form(name_block="name-2"))
    assert api.view(view["id"])["state"]["values"]["name-2"]["value"]["value"] is None


def test_views_publish_keeps_one_home_per_user_with_hash(
    api: LocalSlackAPI, client: WebClient
) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "A"}}],
    }
    first = client.views_publish(user_id=USER, view=home)["view"]
    second = client.views_publish(user_id=USER, view=home, hash=first["hash"])["view"]
    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    stale = {"user_id": USER, "view": home, "hash": first["hash"]}
    assert error_of(client.views_publish, **stale) == "hash_conflict"
    assert api.home_view(USER)["hash"] == second["hash"]  # type: ignore[index]
    assert error_of(client.views_publish, user_id=USER, view=modal()) == "invalid_arguments"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"title": {"type": "plain_text", "text": "x" * 25}}, "/view/title/text"),
        ({"submit": {"type": "plain_text", "text": "x" * 25}}, "/view/submit/text"),
        ({"close": {"type": "mrkdwn", "text": "Close"}}, "/view/close/type"),
        ({"private_metadata": "x" * 3001}, "/view/private_metadata"),
        ({"blocks": [{"type": "divider"}] * 101}, "/view/blocks"),
        (
            {"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]},
            "/view/blocks/0/text/text",
        ),
        (
            {
                "blocks": [
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": "row"},
                        "accessory": {"type": "overflow", "action_id": "m", "options": []},
                    }
                ]
            },
            "/view/blocks/0/accessory/options",
        ),
        ({"blocks": [{"type": "divider", "block_id": "a"}] * 2}, "/view/blocks/1/block_id"),
        ({"blocks": form()["blocks"]}, "/view"),
    ],
)
def test_invalid_views_are_refused_with_slacks_messages(
    api: LocalSlackAPI, client: WebClient, change: dict[str, Any], pointer: str
) -> None:
    view = {**modal(), **change}
    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id=api.issue_trigger_id(USER), view=view)
    response = caught.value.response
    assert response["error"] == "invalid_arguments"
    messages = response["response_metadata"]["messages"]
    assert any(
        m.startswith("[ERROR]") and m.endswith(f"[json-pointer:{pointer}]") for m in messages
    )
    assert api.stack(USER) == []


def test_files_upload_v2_records_the_file_and_shares_it(
    api: LocalSlackAPI, client: WebClient
) -> None:
    answer = client.files_upload_v2(
        channel="C1", content=b"png", filename="chart.png", initial_comment="Sales"
    )
    assert answer["file"]["name"] == "chart.png"
    [uploaded] = api.files()
    assert (uploaded.content, uploaded.title, uploaded.channels) == (b"png", "chart.png", ["C1"])
    [shared] = api.messages("C1")
    assert shared.text == "Sales" and shared.files[0]["id"] == uploaded.id
    with urllib.request.urlopen(shared.files[0]["url_private"]) as download:  # noqa: S310
        assert download.read() == b"png"
    assert [c.method for c in api.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_completing_an_upload_that_never_arrived_fails(
    api: LocalSlackAPI, client: WebClient
) -> None:
    file_id = client.files_getUploadURLExternal(filename="a.png", length=3)["file_id"]
    assert error_of(client.files_completeUploadExternal, files=[{"id": file_id}]) == (
        "file_not_found"
    )


def test_rate_limits_are_retried_by_the_sdk_handler(api: LocalSlackAPI) -> None:
    client = WebClient(
        token=api.bot_token,
        base_url=api.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    api.rate_limit("chat.postMessage", retry_after=0)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [c.error for c in api.calls("chat.postMessage")] == ["ratelimited", None]


def test_injected_failures_come_back_as_slack_errors(api: LocalSlackAPI, client: WebClient) -> None:
    api.fail("users.info", "fatal_error", times=2)
    assert error_of(client.users_info, user=USER) == "fatal_error"
    assert error_of(client.users_info, user=USER) == "fatal_error"
    assert client.users_info(user=USER)["ok"]
    api.rate_limit("auth.test", retry_after=30)
    with pytest.raises(SlackApiError) as caught:
        client.auth_test()
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "30"


def test_oauth_exchanges_an_issued_code_once(api: LocalSlackAPI, client: WebClient) -> None:
    code = api.issue_oauth_code("T0002", team_name="Second")
    answer = client.oauth_v2_access(
        client_id=api.client_id, client_secret=api.client_secret, code=code
    )
    assert answer["team"] == {"id": "T0002", "name": "Second"}
    installed = WebClient(token=answer["access_token"], base_url=api.base_url)
    assert installed.auth_test()["team_id"] == "T0002"
    credentials = {"client_id": api.client_id, "client_secret": api.client_secret}
    assert error_of(client.oauth_v2_access, **credentials, code=code) == "invalid_code"
    wrong = {**credentials, "client_secret": "nope", "code": api.issue_oauth_code("T0003")}
    assert error_of(client.oauth_v2_access, **wrong) == "bad_client_secret"


def test_response_urls_post_replace_and_delete(api: LocalSlackAPI) -> None:
    url = api.new_response_url("C1", USER)
    hook = WebhookClient(url)
    assert hook.send(text="just you").status_code == 200
    assert [m.text for m in api.ephemeral_messages(USER)] == ["just you"]
    hook.send(text="replaced", replace_original=True)
    assert [m.text for m in api.ephemeral_messages(USER)] == ["replaced"]
    hook.send(text="everyone", response_type="in_channel")
    assert [m.text for m in api.messages("C1")] == ["everyone"]
    hook.send(delete_original=True)
    assert api.messages("C1") == []
    assert api.last("response_url").params["delete_original"] is True


def test_wait_for_sees_calls_made_later_and_times_out(
    api: LocalSlackAPI, client: WebClient
) -> None:
    mark = api.mark()
    worker = threading.Thread(target=lambda: client.chat_postMessage(channel="C1", text="late"))
    worker.start()
    call = api.wait_for("chat.postMessage", lambda c: c.params["text"] == "late", since=mark)
    worker.join()
    assert call.ok and call.response["channel"] == "C1"
    with pytest.raises(TimeoutError, match=r"chat\.postMessage"):
        api.wait_for("views.open", timeout=0.05)


def test_signature_matches_slack_sdk_verifier() -> None:
    body = b"command=%2Fcustomers&text=zoe"
    now = int(time.time())
    assert SignatureVerifier("secret").is_valid(body, str(now), signature("secret", now, body))
    assert not SignatureVerifier("other").is_valid(body, str(now), signature("secret", now, body))


def test_a_workflow_step_is_completed_once_with_its_workflow_token(api: LocalSlackAPI) -> None:
    run = api.start_step("find_customer")
    assert run.token.startswith("xwfp-")
    workflow = WebClient(token=run.token, base_url=api.base_url)
    # The workflow token acts as the app's bot in the workspace while the step runs.
    assert workflow.users_info(user=USER)["user"]["id"] == USER
    workflow.functions_completeSuccess(function_execution_id=run.execution_id, outputs={"a": 1})
    assert api.wait_for_end(run).outputs == {"a": 1}
    for complete in (
        lambda: workflow.functions_completeSuccess(
            function_execution_id=run.execution_id, outputs={}
        ),
        lambda: workflow.functions_completeError(function_execution_id=run.execution_id, error="x"),
    ):
        with pytest.raises(SlackApiError) as refused:
            complete()
        assert refused.value.response["error"] == "execution_not_in_running_state"


def test_a_step_is_completed_only_as_slack_allows(api: LocalSlackAPI, client: WebClient) -> None:
    run = api.start_step("create_customer")
    elsewhere = api.start_step("create_customer", "T0ELSEWHERE")
    foreign = WebClient(token=elsewhere.token, base_url=api.base_url)
    cases: list[tuple[Callable[[], Any], str]] = [
        (
            lambda: client.functions_completeError(function_execution_id="Fx0NONE", error="x"),
            "function_execution_not_found",
        ),
        (
            lambda: foreign.functions_completeError(
                function_execution_id=run.execution_id, error="x"
            ),
            "function_execution_not_found",
        ),
        (
            lambda: client.functions_completeError(
                function_execution_id=run.execution_id, error=" "
            ),
            "invalid_arguments",
        ),
        (
            lambda: client.api_call(
                "functions.completeSuccess",
                json={"function_execution_id": run.execution_id, "outputs": [1]},
            ),
            "invalid_arguments",
        ),
    ]
    for call, error in cases:
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == error
    client.functions_completeError(function_execution_id=run.execution_id, error="No customer.")
    ended = api.wait_for_end(run)
    assert (ended.outputs, ended.error) == (None, "No customer.")
    assert not api.step_runs("create_customer")[1].ended
