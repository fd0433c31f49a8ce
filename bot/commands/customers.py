"""`/customers [text | new | help | segment | retention | duplicates | alerts #channel | staff … |
chart … | import]`."""

from __future__ import annotations

import html
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.alerts import USAGE, channel_of, open_alerts_form
from bot.surfaces.charts import CHART_USAGE, chart_command
from bot.surfaces.customer_import import open_import_form, refusal
from bot.surfaces.duplicates import open_report
from bot.surfaces.hub import render_hub
from bot.surfaces.retention import retention_command
from bot.surfaces.segments import segment_view
from bot.views.blocks import escape
from bot.views.customer_form import FormMeta, customer_form
from bot.views.hub import SEARCH_MAX, HubState
from bot.views.messages import help_blocks, staff_list_text
from core.errors import DomainError, ValidationFailed
from core.models import Role
from core.services import alerts, staff

# At most 32 characters, as the staff table stores user ids.
MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,31})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,31})$")
STAFF_USAGE = (
    "Usage: `/customers staff list`, `/customers staff add @someone [admin]` or "
    "`/customers staff remove @someone`."
)


def _staff_command(request: Request, args: list[str]) -> str:
    verb = args[0].lower() if args else "list"
    if verb == "list":
        if not request.actor.is_admin:
            return "Only an admin can list who has access."
        return staff_list_text(request.read(staff.list_staff))
    if verb not in {"add", "remove"} or len(args) < 2:
        return STAFF_USAGE
    match = MENTION.match(args[1])
    if match is None:
        return f"Mention the person with @ so Slack sends who they are. {STAFF_USAGE}"
    user_id = match.group(1) or match.group(2)
    role = Role.ADMIN if len(args) > 2 and args[2].lower() == "admin" else Role.STAFF
    try:
        if verb == "add":
            changed = request.write(lambda uow, actor: staff.add_staff(uow, actor, user_id, role))
            return (
                f"<@{user_id}> can now use Customer Records as {role.value}."
                if changed
                else f"<@{user_id}> already has {role.value} access."
            )
        removed = request.write(lambda uow, actor: staff.remove_staff(uow, actor, user_id))
    except ValidationFailed as exc:
        return " ".join(exc.errors.values())
    except DomainError as exc:
        return exc.message
    return (
        f"<@{user_id}> no longer has access to Customer Records."
        if removed
        else f"<@{user_id}> didn't have access."
    )


def _alerts_command(ack: Ack, request: Request, command: dict[str, Any], args: list[str]) -> None:
    if not request.actor.is_admin:
        ack(response_type="ephemeral", text=alerts.ADMINS_ONLY)
        return
    channel_id = channel_of(args[0]) if len(args) == 1 else None
    if channel_id is None:
        ack(response_type="ephemeral", text=USAGE)
        return
    ack()
    open_alerts_form(request, command["trigger_id"], channel_id)


def _chart_command(
    ack: Ack, request: Request, respond: Respond, channel_id: str, sub: str, rest: str
) -> None:
    """`/customers chart NAME` or `/customers retention`: acknowledged first, then posted."""
    if sub == "retention":
        ack(response_type="ephemeral", text="Building the retention report…")
        retention_command(request, respond, channel_id=channel_id)
        return
    query = rest[:SEARCH_MAX]
    if not query:
        ack(response_type="ephemeral", text=CHART_USAGE)
        return
    ack(response_type="ephemeral", text=f"Finding '{escape(query)}' to post their sales chart…")
    # Bolt has already answered Slack at ack() (process_before_response is off), so
    # searching, rendering and uploading below never delay the acknowledgement.
    chart_command(request, respond, channel_id=channel_id, query=query)


def on_customers(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """`/customers`: the hub, or help, staff, chart, segment, retention, duplicates, new or
    import."""
    request = Request.of(context, client)
    # should_escape makes Slack send &amp; &lt; &gt; and <@U…> mentions in the text.
    text = html.unescape((command.get("text") or "").strip())
    words = text.split()
    sub = words[0].lower() if words else ""
    if sub == "help":
        ack(response_type="ephemeral", blocks=help_blocks(), text="How to use /customers")
        return
    if sub == "staff":
        ack(response_type="ephemeral", text=_staff_command(request, words[1:]))
        return
    if sub in {"chart", "retention"}:
        rest = text[len(words[0]) :].strip()
        _chart_command(ack, request, respond, command["channel_id"], sub, rest)
        return
    if sub == "import":
        refused = refusal(request)
        if refused is not None:
            ack(response_type="ephemeral", text=refused)
            return
        ack()
        open_import_form(request, command["trigger_id"])
        return
    if sub == "alerts":
        _alerts_command(ack, request, command, words[1:])
        return
    if sub == "segment":
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=segment_view(request))
        return
    if sub == "duplicates":
        if not request.actor.is_admin:
            ack(
                response_type="ephemeral", text="Only an admin can review duplicates; ask an admin."
            )
            return
        ack()
        open_report(request, command["trigger_id"])
        return
    ack()
    if sub == "new":
        form = customer_form(FormMeta(), {}, admin=request.actor.is_admin)
        client.views_open(trigger_id=command["trigger_id"], view=form)
        return
    channel = str(command.get("channel_id") or "")[:32]
    state = HubState(q=text[:SEARCH_MAX], channel_id=channel)
    view = render_hub(request, state, home=False)
    client.views_open(trigger_id=command["trigger_id"], view=view)


def register(app: App) -> None:
    """Wire `/customers`."""
    app.command("/customers")(on_customers)
