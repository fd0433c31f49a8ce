"""Channel alerts on screen and in channels: the form, saving it once the channel is judged
all staff, pausing a channel someone not staff joined, and the worker posting what core
recorded (core.services.alerts)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps
from bot.context.request import Request
from bot.context.slack_errors import error_code
from bot.surfaces.audience import dm_with, judge
from bot.surfaces.hub import HubControl
from bot.surfaces.segment_digests import deliver_digest
from bot.views.alerts import KINDS_BLOCK, alert_text, alerts_form, chosen_kinds
from bot.views.blocks import escape
from bot.views.payload import state_values
from core.errors import DomainError
from core.polling import PollingWorker
from core.services import alerts
from core.services.audience import Reason

log = logging.getLogger(__name__)

# `<#C123|name>` as Slack sends a channel mention (escaped commands), or a bare id.
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,31})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,31})$")
USAGE = "Usage: `/customers alerts #channel` (admins): choose what that channel hears about."


def channel_of(text: str) -> str | None:
    """The channel id a `/customers alerts` argument names, or None."""
    match = CHANNEL.match(text.strip())
    return (match.group(1) or match.group(2)) if match else None


def open_alerts_form(request: Request, trigger_id: str, channel_id: str) -> None:
    """The alerts form for `channel_id` (the caller checked the actor is an admin)."""
    current = request.read(lambda uow, actor: alerts.channel_alerts(uow, actor, channel_id))
    chosen = current.kinds if current is not None else ()
    paused = current.pause_reason if current is not None and current.paused else ""
    request.client.views_open(
        trigger_id=trigger_id, view=alerts_form(channel_id, chosen, paused=paused)
    )


def edit_alerts(control: HubControl) -> None:
    """Home's Edit: the channel's form, or why not."""
    channel_id = channel_of(control.value)
    if channel_id is None:
        control.tell(USAGE)
        return
    try:
        current = control.request.read(
            lambda uow, actor: alerts.channel_alerts(uow, actor, channel_id)
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    chosen = current.kinds if current is not None else ()
    paused = current.pause_reason if current is not None and current.paused else ""
    control.open(alerts_form(channel_id, chosen, paused=paused))


def remove_alerts(control: HubControl) -> None:
    """Home's Remove: the channel gets no more alerts."""
    channel_id = channel_of(control.value)
    if channel_id is None:
        control.tell(USAGE)
        return
    try:
        control.request.write(
            lambda uow, actor: alerts.set_channel_alerts(uow, actor, channel_id, ())
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    control.tell(f"<#{channel_id}> gets no more alerts.", ok=True)


def save_alerts(ack: Ack, request: Request, view: dict[str, Any]) -> None:
    """Save the form: refused under the field unless everyone in the channel is staff."""
    channel_id = channel_of(str(view.get("private_metadata") or ""))
    if channel_id is None:
        ack(
            response_action="errors",
            errors={KINDS_BLOCK: "This form lost its channel; open it again."},
        )
        return
    kinds = chosen_kinds(state_values(view))
    if kinds:
        judged = judge(request.deps, request.client, request.actor.team_id, channel_id)
        if not judged.verdict.all_staff:
            why = (
                f"I couldn't check who is in {judged.label}: invite the app there first."
                if judged.verdict.reason is Reason.UNCHECKED
                else f"{judged.label} has members who aren't staff: "
                "alerts may only go to staff-only channels."
            )
            ack(response_action="errors", errors={KINDS_BLOCK: why})
            return
    try:
        request.write(lambda uow, actor: alerts.set_channel_alerts(uow, actor, channel_id, kinds))
    except DomainError as exc:
        ack(response_action="errors", errors={KINDS_BLOCK: exc.message})
        return
    ack()


def recheck_channel(deps: Deps, client: WebClient, team_id: str, channel_id: str) -> None:
    """After someone joined `channel_id`: pause its alerts unless everyone is still staff, and
    tell the admin who enabled them."""
    with deps.db.unit_of_work(readonly=True) as uow:
        running = alerts.has_running_alerts(uow, team_id, channel_id)
    if not running or judge(deps, client, team_id, channel_id).verdict.all_staff:
        return
    _pause(deps, client, team_id, channel_id)


def _pause(deps: Deps, client: WebClient, team_id: str, channel_id: str) -> None:
    reason = "someone in it isn't staff"
    with deps.db.unit_of_work() as uow:
        admin = alerts.pause_channel(uow, team_id, channel_id, reason)
    if admin is None:
        return
    text = (
        f"Customer alerts in <#{channel_id}> are paused: {escape(reason)}. Alerts go only to "
        f"channels whose members are all staff; once they are, use `/customers alerts "
        f"<#{channel_id}>` to turn them on again."
    )
    try:
        client.chat_postMessage(channel=dm_with(client, admin), text=text)
    except SlackApiError as exc:
        log.warning("couldn't tell %s alerts paused (%s)", admin, exc.response.get("error"))


class _ChannelPoster:
    """Posts into one channel for core's digest logic."""

    def __init__(self, client: WebClient, channel_id: str) -> None:
        self.client = client
        self.channel_id = channel_id

    def post(self, text: str) -> str:
        try:
            answer = self.client.chat_postMessage(channel=self.channel_id, text=alert_text(text))
        except SlackApiError as exc:
            raise alerts.PostFailed(error_code(exc)) from exc
        return str(answer["ts"])

    def update(self, ts: str, text: str) -> None:
        try:
            self.client.chat_update(channel=self.channel_id, ts=ts, text=alert_text(text))
        except SlackApiError as exc:
            raise alerts.PostFailed(error_code(exc)) from exc


ClientFor = Callable[[str], WebClient | None]


def deliver_next(deps: Deps, client_for: ClientFor) -> bool:
    """Post the oldest undelivered happening to every channel asking for it; False: none."""
    with deps.db.unit_of_work() as uow:
        claimed = alerts.claim_next(uow)
    if claimed is None:
        return False
    client = client_for(claimed.team_id) if claimed.channel_ids else None
    if client is None:
        return True  # no channel asked for it, or the workspace uninstalled the app
    for channel_id in claimed.channel_ids:
        # Judged at every post, as membership can change without an event reaching us.
        if not judge(deps, client, claimed.team_id, channel_id).verdict.all_staff:
            _pause(deps, client, claimed.team_id, channel_id)
            continue
        poster = _ChannelPoster(client, channel_id)
        try:
            alerts.deliver(deps.db, claimed.team_id, channel_id, claimed.kind, claimed.text, poster)
        except alerts.PostFailed as exc:
            log.warning("alert %s not posted in %s (%s)", claimed.id, channel_id, exc)
    return True


def client_for(deps: Deps, base: WebClient) -> ClientFor:
    """Each workspace's client: its installation's bot token, else the single-workspace one."""

    def find(team_id: str) -> WebClient | None:
        if deps.installation_store is None:
            return base
        bot = deps.installation_store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            return None
        return WebClient(
            token=bot.bot_token, base_url=base.base_url, retry_handlers=base.retry_handlers
        )

    return find


class AlertWorker(PollingWorker):
    """A daemon thread posting into channels every `interval` seconds until stopped: recorded
    alerts, then saved segments' weekly digests that are due."""

    def __init__(self, deps: Deps, client_for: ClientFor, *, interval: float = 5.0) -> None:
        super().__init__(
            "channel alerts",
            lambda: deliver_next(deps, client_for) or deliver_digest(deps, client_for),
            interval=interval,
        )
