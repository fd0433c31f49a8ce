"""Posting a customer's sales chart into a conversation, with a DM fallback where the app can't post."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps
from bot.views.blocks import escape
from core.actor import Actor
from core.adapters.charts import render_sales_chart, sales_chart_title
from core.services.customers import search_customers
from core.services.paging import MAX_PAGE_SIZE
from core.services.sales import SalesSeries, monthly_sales

log = logging.getLogger(__name__)

# Slack's answers when the bot may not post where it was asked (a channel it hasn't joined,
# a private channel, or a DM between other people).
FALLBACK_ERRORS = frozenset({"not_in_channel", "channel_not_found"})
CHART_USAGE = "Usage: `/customers chart NAME` — posts that customer's 12-month sales chart here."


def post_chart(
    client: WebClient,
    *,
    channel_id: str,
    user_id: str,
    series: SalesSeries,
    customer_name: str,
    customer_uid: str,
) -> None:
    """Render the chart and upload it to `channel_id`, or to a DM with the user if not allowed."""
    png = render_sales_chart(series, title=sales_chart_title(customer_name))
    name = escape(customer_name)

    def upload(channel: str, comment: str) -> None:
        client.files_upload_v2(
            channel=channel,
            content=png,
            filename=f"sales-{customer_uid}.png",
            title=f"Sales — {customer_name}",
            initial_comment=comment,
        )

    try:
        upload(
            channel_id,
            f"Sales of the last 12 months for *{name}* (UID `{customer_uid}`): bookings, passes "
            f"and videos per month. Asked for by <@{user_id}>.",
        )
        return
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error not in FALLBACK_ERRORS:
            raise
        log.info("chart upload to %s refused (%s); sending it by DM", channel_id, error)
    dm = client.conversations_open(users=user_id)["channel"]["id"]
    upload(
        dm,
        f"I couldn't post the chart for *{name}* where you asked: I'm not a member of that "
        "conversation. Invite me there (`/invite @Customer Records`) and ask again to share it; "
        "meanwhile here it is, just for you.",
    )


def chart_command(
    deps: Deps,
    actor: Actor,
    client: WebClient,
    respond: Respond,
    *,
    channel_id: str,
    query: str,
) -> None:
    """`/customers chart NAME` after the ack: find the customer, then post the chart here."""
    try:
        with deps.db.unit_of_work(readonly=True) as uow:
            matches = search_customers(uow, actor, query, limit=MAX_PAGE_SIZE)
            if not matches:
                respond(
                    response_type="ephemeral",
                    text=f"No customer matches '{escape(query)}'. Check the spelling, or try "
                    "part of the name or the email address.",
                )
                return
            best = matches[0]
            series = monthly_sales(uow, actor, best.uid)
        if len(matches) > 1:
            others = len(matches) - 1
            count = f"at least {others}" if len(matches) == MAX_PAGE_SIZE else str(others)
            noun = "other matches" if others == 1 else "others match"
            respond(
                response_type="ephemeral",
                text=f"Showing {escape(best.full_name)}; {count} {noun} — be more specific.",
            )
        post_chart(
            client,
            channel_id=channel_id,
            user_id=actor.user_id,
            series=series,
            customer_name=best.full_name,
            customer_uid=best.uid,
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("posting the sales chart failed: %s", error)
        respond(
            response_type="ephemeral",
            text=f"Slack didn't accept the chart (`{error}`). Please try again in a minute; "
            "if it keeps failing, ask an admin to check the app's files:write permission.",
        )
    except Exception:
        # The ack already promised a chart: say it failed rather than leave the person waiting.
        log.exception("posting the sales chart failed")
        respond(
            response_type="ephemeral",
            text="Sorry, I couldn't draw the sales chart just now. Please try again in a minute.",
        )
