"""Plays the Slack client against an app over real HTTP: signed commands, clicks, typing, submits."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from bot.local.blockkit import (
    JSON,
    STATE_KEYS,
    TEXT_INPUTS,
    Element,
    elements,
    flat_options,
    plain,
    state_values,
    text_of,
)
from bot.local.signing import signed_headers
from bot.local.slack_api import WAIT_SECONDS, LocalSlackAPI, Message, SlackError, StepRun

Surface = Literal["modal", "home"]

CHOOSABLE = frozenset(
    {
        "overflow",
        "static_select",
        "external_select",
        "radio_buttons",
        "checkboxes",
        "multi_static_select",
        "multi_external_select",
    }
)
PICKERS = frozenset({"datepicker", "timepicker"})
EXTERNAL_SELECTS = frozenset({"external_select", "multi_external_select"})
# Slack still sends the legacy verification token in payloads; apps must not rely on it.
_LEGACY_VERIFICATION = "local-legacy-verification"
# Loopback requests must never be routed through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_event_ids = itertools.count(1)


class DriverError(Exception):
    """The user cannot do that: nothing to click, no open modal, or the app answered wrongly."""


@dataclass(frozen=True)
class AppResponse:
    """The app's HTTP answer to one request Slack sent it."""

    status: int
    text: str
    data: JSON
    # api.mark() before the request, so `api.wait_for(method, since=response.mark)` sees only
    # the Web API calls the app made after it.
    mark: int
    # Seconds until the app answered; Slack gives up after 3.
    elapsed: float


@dataclass(frozen=True)
class AppEndpoint:
    """Where the app takes Slack's requests, the secret they are signed with, how long to wait."""

    url: str
    signing_secret: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError(f"app url must be http(s): {self.url}")


@dataclass(frozen=True)
class _Target:
    """Where an element lives: a view (modal or home) or a message."""

    blocks: list[JSON]
    view: JSON | None = None
    message: Message | None = None


@dataclass(frozen=True)
class StepDelivery:
    """A workflow step's function_executed as the driver delivered it: the run it started, the
    event (to deliver again as Slack's retry), its id, and the app's answer."""

    run: StepRun
    event: JSON
    event_id: str
    response: AppResponse


def retry_headers(retry_num: int) -> dict[str, str]:
    """Slack's headers on a retried delivery: how many times it tried again, and why."""
    if not retry_num:
        return {}
    return {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}


class SlackDriver:
    """One Slack user's client: sends what Slack sends when they act on the app's own views."""

    def __init__(
        self,
        api: LocalSlackAPI,
        app: AppEndpoint,
        *,
        user_id: str,
        team_id: str | None = None,
        channel_id: str = "C0LOCAL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.app = app
        self.user_id = user_id
        self.team_id = team_id or api.team_id
        self.channel_id = channel_id
        self._clock = clock

    def as_user(self, user_id: str, team_id: str | None = None) -> SlackDriver:
        """The same workspace seen by another user (and optionally another team)."""
        return SlackDriver(
            self.api,
            self.app,
            user_id=user_id,
            team_id=team_id or self.team_id,
            channel_id=self.channel_id,
            clock=self._clock,
        )

    # ----------------------------------------------------------------- looking

    def current_view(self, surface: Surface | None = None) -> JSON | None:
        """The view the user looks at: the top modal, else the App Home (or the one asked for)."""
        if surface == "home":
            return self._seen(self.api.home_view(self.user_id))
        view = self.api.current_view(self.user_id)
        if view is None and surface is None:
            return self._seen(self.api.home_view(self.user_id))
        return self._seen(view)

    def _seen(self, view: JSON | None) -> JSON | None:
        """The view as Slack describes it to this user: in the workspace it was opened in."""
        # The stand-in holds one installation and stamps every view with its team; in Slack a
        # user of another workspace works through that workspace's own install.
        if view is None or view.get("team_id") == self.team_id:
            return view
        return {**view, "team_id": self.team_id, "app_installed_team_id": self.team_id}

    def find_elements(
        self, surface: Surface | None = None, *, message: Message | None = None
    ) -> list[Element]:
        """Every interactive element of the current view (or a message), in reading order."""
        return elements(self._target(surface, message).blocks)

    def errors(self) -> dict[str, str]:
        """Field errors shown in the top modal (block_id → message)."""
        view = self.api.current_view(self.user_id)
        try:
            return self.api.view_errors(view["id"]) if view else {}
        except LookupError:
            # The modal closed between the two looks: nothing is shown any more.
            return {}

    def ephemeral_messages(self) -> list[Message]:
        """What only this user sees: acks, response_url replies, chat.postEphemeral."""
        return self.api.ephemeral_messages(self.user_id)

    def messages(self, channel_id: str | None = None) -> list[Message]:
        """Messages everyone sees in the driver's channel (or another one)."""
        return self.api.messages(channel_id or self.channel_id)

    def wait_for_view(
        self,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        surface: Surface | None = None,
        timeout: float = WAIT_SECONDS,
    ) -> JSON:
        """Wait until the current view exists and satisfies `predicate`; returns it."""
        found: list[JSON] = []

        def ready() -> bool:
            view = self.current_view(surface)
            if view is not None and (predicate is None or predicate(view)):
                found.append(view)
                return True
            return False

        self.api.wait_until(ready, timeout=timeout, description=f"a view for {self.user_id}")
        return found[-1]

    # ----------------------------------------------------------------- doing

    def slash(self, command: str, text: str = "", *, channel_id: str | None = None) -> AppResponse:
        """Run a slash command; an immediate reply in the ack is shown like Slack shows it."""
        channel = channel_id or self.channel_id
        form = {
            "token": _LEGACY_VERIFICATION,
            "team_id": self.team_id,
            "team_domain": "local",
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": self.user_id,
            "user_name": self._user_name(),
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": self.api.app_id,
            "is_enterprise_install": "false",
            "response_url": self.api.new_response_url(channel, self.user_id),
            "trigger_id": self.api.issue_trigger_id(self.user_id),
        }
        response = self._post(urlencode(form).encode(), "application/x-www-form-urlencoded")
        if response.status == 200 and response.text.strip():
            # Bolt acks with plain text for `ack("...")` and with JSON otherwise.
            body = response.data or {"text": response.text}
            self._show(lambda: self.api.deliver_response(channel, self.user_id, body, via="ack"))
        return response

    def open_home(self) -> AppResponse:
        """Open the app's Home tab (`app_home_opened`)."""
        event: JSON = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": self.api.dm_channel(self.user_id),
            "tab": "home",
            "event_ts": f"{self._clock():.6f}",
        }
        home = self.api.home_view(self.user_id)
        if home is not None:
            event["view"] = home
        return self.send_event(event)

    def send_event(
        self, event: Mapping[str, Any], *, retry_num: int = 0, event_id: str | None = None
    ) -> AppResponse:
        """Deliver an Events API event in its `event_callback` envelope; a retry (`retry_num`)
        carries the `event_id` of the delivery it repeats."""
        envelope = {
            "token": _LEGACY_VERIFICATION,
            "team_id": self.team_id,
            "api_app_id": self.api.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(self._clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.api.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self._post(json.dumps(envelope).encode(), "application/json", retry_num=retry_num)

    def share_links(
        self,
        urls: Collection[str],
        *,
        channel_id: str | None = None,
        retry_num: int = 0,
        event_id: str | None = None,
    ) -> tuple[Message, AppResponse]:
        """Post a message with `urls` as this user and deliver Slack's link_shared for it."""
        channel = channel_id or self.channel_id
        message = self.api.say(channel, self.user_id, " ".join(urls))
        event = {
            "type": "link_shared",
            "channel": channel,
            "is_bot_user_member": True,
            "user": self.user_id,
            "message_ts": message.ts,
            "unfurl_id": f"{channel}.{message.ts}.unfurl",
            "source": "conversations_history",
            "links": [{"domain": urlsplit(url).netloc, "url": url} for url in urls],
            "event_ts": message.ts,
        }
        return message, self.send_event(event, retry_num=retry_num, event_id=event_id)

    def open_work_object(
        self,
        entity: Mapping[str, Any],
        message: Message,
        *,
        retry_num: int = 0,
        event_id: str | None = None,
    ) -> AppResponse:
        """Click an unfurled Work Object: Slack asks the app for this user's flexpane."""
        url = str(entity.get("url") or "")
        event = {
            "type": "entity_details_requested",
            "user": self.user_id,
            "external_ref": dict(entity.get("external_ref") or {}),
            "entity_url": url,
            "link": {"url": url, "domain": urlsplit(url).netloc},
            "app_unfurl_url": entity.get("app_unfurl_url") or url,
            "trigger_id": self.api.issue_trigger_id(self.user_id),
            "user_locale": "en-GB",
            "channel": message.channel,
            "message_ts": message.ts,
            "event_ts": self._action_ts(),
        }
        return self.send_event(event, retry_num=retry_num, event_id=event_id)

    def run_step(
        self, callback_id: str, inputs: Mapping[str, Any], *, runner: bool = True
    ) -> StepDelivery:
        """Run one of the app's workflow steps in a workflow this user started: Slack's
        function_executed, with `inputs` and, unless `runner` is False, this user as the
        `runner` input's user context."""
        run = self.api.start_step(callback_id, self.team_id)
        given = dict(inputs)
        if runner:
            given["runner"] = {"id": self.user_id, "secret": f"uc-{next(_event_ids):08d}"}
        now = int(self._clock())
        event = {
            "type": "function_executed",
            "function": {
                "id": f"Fn{sum(map(ord, callback_id)):08d}",
                "callback_id": callback_id,
                "title": callback_id.replace("_", " ").capitalize(),
                "type": "app",
                "app_id": self.api.app_id,
                "date_created": now,
                "date_updated": now,
                "date_deleted": 0,
            },
            "inputs": given,
            "function_execution_id": run.execution_id,
            "workflow_execution_id": f"Wx{next(_event_ids):08d}",
            "event_ts": self._action_ts(),
            "bot_access_token": run.token,
        }
        event_id = f"Ev{next(_event_ids):08d}"
        return StepDelivery(run, event, event_id, self.send_event(event, event_id=event_id))

    def redeliver(self, delivery: StepDelivery, *, retry_num: int = 1) -> AppResponse:
        """Slack's retry of a step's event it thinks the app missed: the same event and id."""
        return self.send_event(delivery.event, retry_num=retry_num, event_id=delivery.event_id)

    def global_shortcut(self, callback_id: str, *, retry_num: int = 0) -> AppResponse:
        """Run one of the app's global shortcuts (the ⚡ menu or search); `retry_num` sends it
        as Slack's retry of a delivery it thinks was missed."""
        payload = self._payload("shortcut")
        payload.update(
            callback_id=callback_id,
            trigger_id=self.api.issue_trigger_id(self.user_id),
            action_ts=self._action_ts(),
        )
        return self._post_payload(payload, retry_num=retry_num)

    def message_shortcut(
        self, callback_id: str, message: Message, *, trigger_id: str = "", retry_num: int = 0
    ) -> AppResponse:
        """Run a message shortcut (a message's ⋯ menu) on `message`; a retry (`retry_num`)
        carries the same `trigger_id` as the delivery it repeats."""
        payload = self._payload("message_action")
        payload.update(
            callback_id=callback_id,
            trigger_id=trigger_id or self.api.issue_trigger_id(self.user_id),
            action_ts=self._action_ts(),
            channel={"id": message.channel, "name": message.channel.lower()},
            message_ts=message.ts,
            message=message.as_payload(),
            response_url=self.api.new_response_url(message.channel, self.user_id),
        )
        return self._post_payload(payload, retry_num=retry_num)

    def resubmit(self, view: JSON, *, retry_num: int = 1) -> AppResponse:
        """Send the submission of `view` (as it was submitted) again, as Slack's retry does."""
        payload = self._payload("view_submission")
        payload["trigger_id"] = self.api.issue_trigger_id(self.user_id, view_id=view["id"])
        payload["view"] = view
        payload["response_urls"] = []
        return self._post_payload(payload, retry_num=retry_num)

    def join(self, channel_id: str, user_id: str | None = None) -> AppResponse:
        """`user_id` (this user by default) joins a set-up channel, added by this user; Slack
        tells the app with `member_joined_channel`."""
        joiner = user_id or self.user_id
        self.api.join(channel_id, joiner)
        return self.send_event(self._membership_event("member_joined_channel", channel_id, joiner))

    def leave(self, channel_id: str, user_id: str | None = None) -> AppResponse:
        """`user_id` (this user by default) leaves a channel: `member_left_channel`."""
        leaver = user_id or self.user_id
        self.api.leave(channel_id, leaver)
        return self.send_event(self._membership_event("member_left_channel", channel_id, leaver))

    def _membership_event(self, kind: str, channel_id: str, user_id: str) -> JSON:
        channel = self.api.channel(channel_id)
        private = channel is not None and (channel.is_private or channel.is_mpim)
        event: JSON = {
            "type": kind,
            "user": user_id,
            "channel": channel_id,
            "channel_type": "G" if private else "C",
            "team": self.team_id,
            "event_ts": f"{self._clock():.6f}",
        }
        if kind == "member_joined_channel" and user_id != self.user_id:
            event["inviter"] = self.user_id
        return event

    def click(
        self,
        target: str,
        *,
        in_block: str | None = None,
        surface: Surface | None = None,
        message: Message | None = None,
        confirm: bool = True,
    ) -> AppResponse | None:
        """Press a button found by its text or action_id; None when its confirm dialog is cancelled."""
        where = self._target(surface, message)
        element = _find(where.blocks, target, {"button"}, in_block)
        if element.element.get("confirm") and not confirm:
            return None
        shown = {key: element.element[key] for key in ("value", "style") if key in element.element}
        action = self._action(element, text=element.element.get("text"), **shown)
        return self._block_actions(where, action)

    def choose(
        self,
        option: str,
        *,
        menu: str,
        in_block: str | None = None,
        surface: Surface | None = None,
        message: Message | None = None,
        confirm: bool = True,
    ) -> AppResponse | None:
        """Pick an option (by text or value) in an overflow, select, radio or checkbox group.

        Checkboxes and multi-selects toggle the option. Returns None when nothing is sent to
        the app: an input without dispatch_action, or a cancelled confirm dialog.
        """
        where = self._target(surface, message)
        element = _find(where.blocks, menu, CHOOSABLE, in_block)
        if element.element.get("confirm") and not confirm:
            return None
        external = element.kind in EXTERNAL_SELECTS
        offered = self._suggestions(where, element, option) if external else element.options
        picked = _option(element, offered, option)
        if element.kind == "overflow":
            return self._block_actions(where, self._action(element, selected_option=picked))
        key = STATE_KEYS[element.kind][0]
        chosen: object = picked
        if key == "selected_options":
            chosen = _toggled(_state_of(where, element).get(key) or [], picked)
        self._set_state(where, element, chosen)
        where = self._refresh(where)
        if not _reports_changes(element):
            return None
        return self._block_actions(where, self._action(element, **{key: chosen}))

    def type(
        self,
        text: str,
        *,
        into: str,
        in_block: str | None = None,
        surface: Surface | None = None,
        enter: bool = True,
    ) -> AppResponse | None:
        """Replace the text of an input found by its label or action_id.

        When the input block has dispatch_action, sends block_actions as Slack does (on each
        character, or on Enter when `enter`); otherwise nothing is sent until submit.
        """
        where = self._target(surface, None)
        element = _find(where.blocks, into, TEXT_INPUTS, in_block)
        assert where.view is not None
        value = text or None
        self._set_state(where, element, value)
        config = element.element.get("dispatch_action_config") or {}
        triggers = config.get("trigger_actions_on") or ["on_enter_pressed"]
        dispatched = "on_character_entered" in triggers or (
            enter and "on_enter_pressed" in triggers
        )
        if not (element.dispatch and dispatched):
            return None
        return self._block_actions(self._refresh(where), self._action(element, value=value))

    def pick(
        self,
        value: str,
        *,
        into: str,
        in_block: str | None = None,
        surface: Surface | None = None,
    ) -> AppResponse | None:
        """Set a date picker ('2026-03-20') or time picker ('10:30') found by label or action_id.

        Sends block_actions when the picker is in an actions block or an input block with
        dispatch_action, as Slack does; otherwise nothing is sent until submit.
        """
        where = self._target(surface, None)
        element = _find(where.blocks, into, PICKERS, in_block)
        try:
            if element.kind == "datepicker":
                date.fromisoformat(value)
            else:
                time.strptime(value, "%H:%M")
        except ValueError:
            shape = "YYYY-MM-DD" if element.kind == "datepicker" else "HH:MM"
            raise DriverError(f"{value!r} is not a {shape} for {element.label!r}") from None
        self._set_state(where, element, value)
        where = self._refresh(where)
        if not _reports_changes(element):
            return None
        key = STATE_KEYS[element.kind][0]
        return self._block_actions(where, self._action(element, **{key: value}))

    def choose_user(
        self, user_id: str, *, into: str, surface: Surface | None = None
    ) -> AppResponse | None:
        """Choose a person ('' for no one) in a users select found by its label or action_id."""
        where = self._target(surface, None)
        element = _find(where.blocks, into, {"users_select"}, None)
        self._set_state(where, element, user_id or None)
        where = self._refresh(where)
        if not _reports_changes(element):
            return None
        return self._block_actions(where, self._action(element, selected_user=user_id or None))

    def choose_conversation(
        self, channel_id: str, *, into: str, surface: Surface | None = None
    ) -> AppResponse | None:
        """Choose a channel ('' for none) in a conversations select found by label or action_id."""
        where = self._target(surface, None)
        element = _find(where.blocks, into, {"conversations_select"}, None)
        self._set_state(where, element, channel_id or None)
        where = self._refresh(where)
        if not _reports_changes(element):
            return None
        chosen = channel_id or None
        return self._block_actions(where, self._action(element, selected_conversation=chosen))

    def attach(self, name: str, content: bytes, *, into: str) -> JSON:
        """Put a file in a file_input found by its label or action_id, as picking it does.

        Slack's client offers only the input's `filetypes`; the file is stored as this user's
        and the submission's state carries it. Returns the file as the state holds it."""
        where = self._target("modal", None)
        element = _find(where.blocks, into, {"file_input"}, None)
        kinds = element.element.get("filetypes")
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kinds and extension not in kinds:
            raise DriverError(f"{element.label!r} takes {', '.join(kinds)} files, not {name!r}")
        info = self.api.user_upload(self.user_id, name, content, team_id=self.team_id)
        self._set_state(where, element, [info])
        return info

    def submit(self, *, client_checks: bool = True) -> AppResponse | None:
        """Press the top modal's submit button and apply the app's response_action.

        With `client_checks`, required and length rules are enforced first like Slack's client
        does: the errors are shown and nothing is sent (returns None).
        """
        view = self._modal()
        if view.get("submit") is None:
            raise DriverError("this modal has no submit button")
        self.api.set_errors(view["id"], {})
        if client_checks:
            problems = _client_side_errors(view)
            if problems:
                self.api.set_errors(view["id"], problems)
                return None
        payload = self._payload("view_submission")
        payload["trigger_id"] = self.api.issue_trigger_id(self.user_id, view_id=view["id"])
        payload["view"] = view
        payload["response_urls"] = []
        response = self._post_payload(payload)
        if response.status == 200:
            self._apply_response_action(view, response)
        return response

    def close(self) -> AppResponse | None:
        """Press Close/Cancel on the top modal; `view_closed` is sent when it asks to be told."""
        view = self._modal()
        cleared = bool(view.get("clear_on_close"))
        response = None
        if view.get("notify_on_close"):
            payload = self._payload("view_closed")
            payload["view"] = view
            payload["is_cleared"] = cleared
            response = self._post_payload(payload)
        if cleared:
            self.api.clear_stack(self.user_id)
        else:
            self.api.close_view(self.user_id, view_id=view["id"])
        return response

    def block_suggestion(
        self,
        query: str,
        *,
        action_id: str,
        in_block: str | None = None,
        surface: Surface | None = None,
        message: Message | None = None,
    ) -> list[JSON]:
        """Ask the app for an external select's options, as Slack does while the user types."""
        where = self._target(surface, message)
        element = _find(where.blocks, action_id, EXTERNAL_SELECTS, in_block)
        return self._suggestions(where, element, query)

    # ----------------------------------------------------------------- plumbing

    def _target(self, surface: Surface | None, message: Message | None) -> _Target:
        if message is not None:
            return _Target(blocks=message.blocks, message=message)
        view = self.current_view(surface)
        if view is None:
            missing = {"modal": "no modal is open", "home": "no App Home is published"}.get(
                surface or "", "no modal is open and no App Home is published"
            )
            raise DriverError(f"{missing} for {self.user_id}")
        return _Target(blocks=view["blocks"], view=view)

    def _refresh(self, where: _Target) -> _Target:
        if where.view is None:
            return where
        view = self.api.view(where.view["id"])
        return _Target(blocks=view["blocks"], view=self._seen(view))

    def _modal(self) -> JSON:
        view = self._seen(self.api.current_view(self.user_id))
        if view is None:
            raise DriverError(f"no modal is open for {self.user_id}")
        return view

    def _suggestions(self, where: _Target, element: Element, query: str) -> list[JSON]:
        payload = self._payload("block_suggestion")
        payload.update(self._context(where))
        payload.update(action_id=element.action_id, block_id=element.block_id, value=query)
        response = self._post_payload(payload)
        if response.status != 200:
            raise DriverError(f"options request failed with HTTP {response.status}")
        return flat_options(response.data)

    def _set_state(self, where: _Target, element: Element, value: object) -> None:
        """Record what the user put in `element`, as the view's state.values will show it."""
        if where.view is not None:
            key = STATE_KEYS[element.kind][0]
            state: JSON = {"type": element.kind, key: value}
            self.api.set_value(where.view["id"], element.block_id, element.action_id, state)

    def _action(self, element: Element, **fields: Any) -> JSON:
        """The `actions` entry Slack sends when the user acts on `element`."""
        return {
            "type": element.kind,
            "action_id": element.action_id,
            "block_id": element.block_id,
            **fields,
            "action_ts": self._action_ts(),
        }

    def _block_actions(self, where: _Target, action: JSON) -> AppResponse:
        payload = self._payload("block_actions")
        payload.update(self._context(where))
        view_id = where.view["id"] if where.view is not None else None
        payload["trigger_id"] = self.api.issue_trigger_id(self.user_id, view_id=view_id)
        if where.message is not None:
            message = where.message
            payload["state"] = {"values": state_values(message.blocks, {})}
            payload["response_url"] = self.api.new_response_url(
                message.channel, self.user_id, message_ts=message.ts
            )
        payload["actions"] = [action]
        return self._post_payload(payload)

    @staticmethod
    def _context(where: _Target) -> JSON:
        """The container (and view, or channel and message) Slack describes a surface with."""
        if where.view is not None:
            return {"container": {"type": "view", "view_id": where.view["id"]}, "view": where.view}
        assert where.message is not None
        message = where.message
        context: JSON = {
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": message.ephemeral_to is not None,
            },
            "channel": {"id": message.channel, "name": message.channel.lower()},
        }
        # Slack leaves out the message itself when it was ephemeral.
        if message.ephemeral_to is None:
            context["message"] = message.as_payload()
        return context

    def _apply_response_action(self, view: JSON, response: AppResponse) -> None:
        """Do to the modal stack what Slack does with a view_submission answer."""
        if not response.text.strip():
            self.api.close_view(self.user_id, view_id=view["id"])
            return
        action = response.data.get("response_action")
        if action == "errors":
            errors = response.data.get("errors") or {}
            self._show(lambda: self.api.set_errors(view["id"], errors))
        elif action == "update":
            self._show(lambda: self.api.replace_view(view["id"], response.data.get("view") or {}))
        elif action == "push":
            self._show(lambda: self.api.push_view(self.user_id, response.data.get("view") or {}))
        elif action == "clear":
            self.api.clear_stack(self.user_id)
        else:
            raise DriverError(
                f"Slack cannot use this view_submission answer: {response.text[:300]}"
            )

    @staticmethod
    def _show(apply: Callable[[], object]) -> None:
        """Apply an app answer to the screen; Slack refusing it is the app's bug."""
        try:
            apply()
        except SlackError as exc:
            raise DriverError(f"Slack refused the app's answer: {exc}") from exc

    def _payload(self, kind: str) -> JSON:
        return {
            "type": kind,
            "team": {"id": self.team_id, "domain": "local"},
            "user": {
                "id": self.user_id,
                "username": self._user_name(),
                "name": self._user_name(),
                "team_id": self.team_id,
            },
            "api_app_id": self.api.app_id,
            "token": _LEGACY_VERIFICATION,
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def _user_name(self) -> str:
        user = self.api.user(self.user_id)
        return str(user["name"]) if user else self.user_id.lower()

    def _action_ts(self) -> str:
        return f"{self._clock():.6f}"

    def _post_payload(self, payload: JSON, *, retry_num: int = 0) -> AppResponse:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._post(body, "application/x-www-form-urlencoded", retry_num=retry_num)

    def _post(self, body: bytes, content_type: str, *, retry_num: int = 0) -> AppResponse:
        mark = self.api.mark()
        headers = {
            "Content-Type": content_type,
            **signed_headers(self.app.signing_secret, int(self._clock()), body),
        }
        headers.update(retry_headers(retry_num))
        request = urllib.request.Request(self.app.url, data=body, headers=headers, method="POST")  # noqa: S310 - AppEndpoint checks the scheme
        started = time.perf_counter()
        try:
            with _OPENER.open(request, timeout=self.app.timeout) as reply:
                status, raw = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except (urllib.error.URLError, TimeoutError) as error:
            raise DriverError(f"the app at {self.app.url} did not answer: {error}") from error
        elapsed = time.perf_counter() - started
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text) if text.strip() else {}
        except ValueError:
            parsed = {}
        return AppResponse(status, text, parsed if isinstance(parsed, dict) else {}, mark, elapsed)


def _find(blocks: list[JSON], query: str, kinds: Collection[str], in_block: str | None) -> Element:
    """The one element matching by action_id or label, else by a unique part of label or row."""
    candidates = [
        e
        for e in elements(blocks)
        if e.kind in kinds and (in_block is None or e.block_id == in_block)
    ]
    wanted = plain(query).casefold()
    exact = [
        e for e in candidates if query in (e.action_id, e.label) or e.label.casefold() == wanted
    ]
    matches = exact or [
        e for e in candidates if wanted in e.label.casefold() or wanted in e.context.casefold()
    ]
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(
        f"{e.kind} {e.label!r} (action_id={e.action_id}, block_id={e.block_id})"
        for e in (matches or candidates)
    )
    problem = "is ambiguous" if matches else "matches nothing"
    raise DriverError(f"{query!r} {problem}; candidates: {listed or 'none'}")


def _option(element: Element, offered: list[JSON], wanted: str) -> JSON:
    labels = [plain(text_of(o.get("text"))) for o in offered]
    for option, label in zip(offered, labels, strict=True):
        if wanted in (label, option.get("value")):
            return dict(option)
    # A person picks by what they read, so a unique case-insensitive piece of a label will do.
    needle = wanted.casefold()
    hits = [o for o, label in zip(offered, labels, strict=True) if needle in label.casefold()]
    if len(hits) == 1:
        return dict(hits[0])
    which = "matches several options" if hits else "matches no option"
    raise DriverError(f"{wanted!r} {which} of {element.label!r}; options: {labels}")


def _toggled(selected: list[JSON], option: JSON) -> list[JSON]:
    """A multiple choice's selection once `option` is clicked: dropped if selected, else added."""
    if option.get("value") in [o.get("value") for o in selected]:
        return [o for o in selected if o.get("value") != option.get("value")]
    return [*selected, option]


def _reports_changes(element: Element) -> bool:
    """Slack reports a change in an input block only when the block asks for dispatch."""
    return element.block_type != "input" or element.dispatch


def _state_of(where: _Target, element: Element) -> JSON:
    values = where.view["state"]["values"] if where.view else state_values(where.blocks, {})
    found: JSON = values.get(element.block_id, {}).get(element.action_id, {})
    return found


def _client_side_errors(view: JSON) -> dict[str, str]:
    """What Slack's client refuses before sending: empty required inputs, text length limits."""
    problems: dict[str, str] = {}
    values = view["state"]["values"]
    for block in view["blocks"]:
        if block.get("type") != "input" or not isinstance(block.get("element"), dict):
            continue
        element = block["element"]
        kind = element.get("type")
        if kind not in STATE_KEYS:
            continue
        key = STATE_KEYS[kind][0]
        value = values.get(block["block_id"], {}).get(element.get("action_id"), {}).get(key)
        if not value:
            if not block.get("optional", False):
                problems[block["block_id"]] = "Please fill out this field."
            continue
        if kind in TEXT_INPUTS and isinstance(value, str):
            low, high = element.get("min_length"), element.get("max_length")
            if low is not None and len(value) < low:
                problems[block["block_id"]] = f"Please enter at least {low} characters."
            elif high is not None and len(value) > high:
                problems[block["block_id"]] = f"Please enter no more than {high} characters."
    return problems
