"""Posting the workspace's retention report (chart and numbers) where everyone is staff, else
to the requester's DM, by the same rule and fallbacks as the sales chart."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk.errors import SlackApiError

from bot.context.request import Request
from bot.surfaces.audience import Destination, destination, dm_with
from bot.surfaces.charts import FALLBACK_ERRORS
from bot.views.blocks import escape
from bot.views.retention import retention_text
from bot.views.unavailable import chart_failed
from core.adapters.charts import RETENTION_TITLE, render_retention_chart
from core.services.retention import retention_report

log = logging.getLogger(__name__)
CHART = "the retention report"


def post_retention(request: Request, channel_id: str | None) -> Destination:
    """Build, draw and upload the report to `channel_id` if everyone there is staff, otherwise
    (or with no conversation, or when Slack refuses it) to the requester's DM."""
    # Writes: the workspace's facts are brought up to date first.
    report = request.write(retention_report)
    png = render_retention_chart(report)
    user_id = request.actor.user_id
    where = destination(request, channel_id)

    def upload(channel: str, comment: str) -> None:
        request.client.files_upload_v2(
            channel=channel,
            content=png,
            filename="retention.png",
            title=RETENTION_TITLE,
            initial_comment=comment,
        )

    if where.redirected:
        upload(
            where.channel_id,
            f"Only you can see this here: {escape(where.why_not or '')}, and customer figures "
            f"go only into conversations where everyone is staff.\n{retention_text(report)}",
        )
        return where
    try:
        upload(where.channel_id, retention_text(report, asked_by=user_id))
        return where
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error not in FALLBACK_ERRORS:
            raise
        log.info("retention upload to %s refused (%s); sending it by DM", where.channel_id, error)
    dm = dm_with(request.client, user_id)
    upload(
        dm,
        "I couldn't post the retention report where you asked: I'm not a member of that "
        "conversation. Invite me there (`/invite @Customer Records`) and ask again to share it; "
        f"meanwhile here it is, just for you.\n{retention_text(report)}",
    )
    return Destination(dm, why_not="I'm not a member of that conversation")


def said(where: Destination, here: str) -> str:
    """What to tell the requester: posted `here`, or to their DM and why."""
    if where.redirected:
        return f"Posted the retention report to your DM with the app: {where.why_not}."
    return f"Posted the retention report {here}."


def retention_command(request: Request, respond: Respond, *, channel_id: str) -> None:
    """`/customers retention` after the ack: posted here, or by DM saying why; a failure is
    said rather than leaving the person waiting."""
    try:
        where = post_retention(request, channel_id)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.warning("posting the retention report failed: %s", error)
        respond(response_type="ephemeral", text=chart_failed(error, chart=CHART))
        return
    except Exception:
        log.exception("building or posting the retention report failed")
        respond(response_type="ephemeral", text=chart_failed(None, chart=CHART))
        return
    if where.redirected:
        respond(response_type="ephemeral", text=escape(said(where, "here")))


def post_retention_to_dm(request: Request) -> None:
    """Home's *Retention report*: no conversation, so the report goes to the person's DM; a
    failure is said there too."""
    try:
        post_retention(request, None)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.warning("sending the retention report failed: %s", error)
        _tell(request, chart_failed(error, chart=CHART))
    except Exception:
        log.exception("building or sending the retention report failed")
        _tell(request, chart_failed(None, chart=CHART))


def _tell(request: Request, text: str) -> None:
    try:
        request.client.chat_postMessage(
            channel=dm_with(request.client, request.actor.user_id), text=text
        )
    except SlackApiError as exc:
        log.warning("telling about the retention report failed: %s", exc.response.get("error"))
