"""Posting a customer's sales chart where everyone is staff, else to the requester's DM."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.request import Request
from bot.surfaces.audience import Destination, destination, dm_with
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.views.blocks import escape
from bot.views.charts import chart_choices
from bot.views.notice import Notice
from bot.views.unavailable import chart_failed
from core.adapters.charts import render_sales_chart, sales_chart_title
from core.errors import DomainError
from core.services import customers
from core.services.customers import CustomerRecord, search_customers
from core.services.paging import MAX_PAGE_SIZE
from core.services.sales import SalesSeries, monthly_sales
from core.text import fold

log = logging.getLogger(__name__)

T = TypeVar("T")

# Slack's answers when the bot may not post where it was asked (a channel it hasn't joined,
# a private channel, or a DM between other people).
FALLBACK_ERRORS = frozenset({"not_in_channel", "channel_not_found"})
CHART_USAGE = "Usage: `/customers chart NAME` — posts that customer's 12-month sales chart here."


def post_chart(
    client: WebClient,
    where: Destination,
    *,
    user_id: str,
    series: SalesSeries,
    customer_name: str,
    customer_uid: str,
) -> Destination:
    """Render the chart and upload it where `where` says; to the user's DM if Slack refuses the
    conversation. Returns where it went."""
    png = render_sales_chart(series, title=sales_chart_title(customer_name))
    name = escape(customer_name)
    about = (
        f"Sales of the last 12 months for *{name}* (UID `{customer_uid}`): bookings, passes "
        "and videos per month."
    )

    def upload(channel: str, comment: str) -> None:
        client.files_upload_v2(
            channel=channel,
            content=png,
            filename=f"sales-{customer_uid}.png",
            title=f"Sales — {customer_name}",
            initial_comment=comment,
        )

    if where.redirected:
        upload(
            where.channel_id,
            f"{about} Only you can see it here: {escape(where.why_not or '')}, and customer "
            "details go only into conversations where everyone is staff.",
        )
        return where
    try:
        upload(where.channel_id, f"{about} Asked for by <@{user_id}>.")
        return where
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error not in FALLBACK_ERRORS:
            raise
        log.info("chart upload to %s refused (%s); sending it by DM", where.channel_id, error)
    dm = dm_with(client, user_id)
    upload(
        dm,
        f"I couldn't post the chart for *{name}* where you asked: I'm not a member of that "
        "conversation. Invite me there (`/invite @Customer Records`) and ask again to share it; "
        "meanwhile here it is, just for you.",
    )
    return Destination(dm, why_not="I'm not a member of that conversation")


@dataclass(frozen=True)
class Posted:
    """Whose chart was posted, and where."""

    record: CustomerRecord
    where: Destination

    def said(self, here: str) -> str:
        """What to tell the requester: posted `here`, or to their DM and why."""
        name = self.record.full_name
        if self.where.redirected:
            return f"Posted {name}'s sales chart to your DM with the app: {self.where.why_not}."
        return f"Posted {name}'s sales chart {here}."


@dataclass(frozen=True)
class Trouble:
    """Why a chart was not posted, worded for the person."""

    text: str


def attempt(post: Callable[[], T]) -> T | Trouble:
    """What `post` returned, or what went wrong (logged): the ack promised a chart, so a
    failure is said rather than leaving the person waiting."""
    try:
        return post()
    except DomainError as exc:
        return Trouble(exc.message)
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        log.warning("posting the sales chart failed: %s", error)
        return Trouble(chart_failed(error))
    except Exception:
        log.exception("drawing or posting the sales chart failed")
        return Trouble(chart_failed(None))


def chart_command(request: Request, respond: Respond, *, channel_id: str, query: str) -> None:
    """`/customers chart NAME` after the ack: the customer's chart posted here, or, when the name
    matches several, the matches to choose from (nobody's data is posted on a guess)."""

    def post() -> None:
        with request.deps.db.unit_of_work(readonly=True) as uow:
            matches = search_customers(uow, request.actor, query, limit=MAX_PAGE_SIZE)
        if not matches:
            respond(
                response_type="ephemeral",
                text=f"No customer matches '{escape(query)}'. Check the spelling, or try "
                "part of the name or the email address.",
            )
            return
        named = [m for m in matches if fold(m.full_name) == fold(query)]
        if len(matches) > 1 and len(named) != 1:
            more = len(matches) == MAX_PAGE_SIZE
            respond(
                response_type="ephemeral",
                blocks=chart_choices(query, matches, more=more),
                text=f"Several customers match '{query}'; choose whose chart to post.",
            )
            return
        posted = post_customer_chart(request, channel_id, (named or matches)[0].uid)
        if posted.where.redirected:
            respond(response_type="ephemeral", text=escape(posted.said("here")))

    outcome = attempt(post)
    if isinstance(outcome, Trouble):
        respond(response_type="ephemeral", text=outcome.text)


def post_customer_chart(request: Request, channel_id: str | None, uid: str) -> Posted:
    """Render customer `uid`'s chart and post it in `channel_id` if everyone there is staff,
    otherwise (or with no conversation) in the requester's DM."""
    with request.deps.db.unit_of_work(readonly=True) as uow:
        record = customers.get_customer(uow, request.actor, uid)
        series = monthly_sales(uow, request.actor, uid)
    where = post_chart(
        request.client,
        destination(request, channel_id),
        user_id=request.actor.user_id,
        series=series,
        customer_name=record.full_name,
        customer_uid=record.uid,
    )
    return Posted(record, where)


def post_chosen_chart(request: Request, respond: Respond, *, channel_id: str, uid: str) -> None:
    """One of the offered customers was chosen: post their chart, and say so in place of the
    choice."""
    outcome = attempt(lambda: post_customer_chart(request, channel_id, uid))
    if isinstance(outcome, Trouble):
        respond(response_type="ephemeral", replace_original=True, text=outcome.text)
    else:
        respond(response_type="ephemeral", replace_original=True, text=escape(outcome.said("here")))


def post_chart_from_details(control: DetailsControl) -> None:
    """Post chart in a customer's details: where the hub was opened, else to the person's DM."""
    request, details = control.request, control.details
    opened_in = details.origin.hub.channel_id

    # Opened from the Home tab: there is no conversation, so the chart goes to the DM.
    outcome = attempt(lambda: post_customer_chart(request, opened_in or None, details.uid))
    if isinstance(outcome, Trouble):
        notice = Notice(outcome.text, ok=False)
    elif not opened_in:
        notice = Notice(outcome.said("to you in your messages with the app"))
    else:
        notice = Notice(outcome.said("in the conversation you opened Customer Records from"))
    # Skipped if the person has moved on in the view meanwhile.
    show_details(request, control.view_id, details, notice=notice, shown=control.shown)
