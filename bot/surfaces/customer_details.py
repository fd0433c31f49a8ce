"""Putting a customer's details on screen: read the customer, sales and one tab page, render, update."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps
from bot.views.blocks import Block, modal, section
from bot.views.customer_details import CALLBACK_ID, SalesActivity, account_tab, customer_details
from bot.views.notes import notes_tab
from bot.views.notice import Notice
from bot.views.origin import DetailsState, Tab
from bot.views.questionnaires import questionnaires_tab
from bot.views.tabs import (
    PAGE_SIZES,
    DetailsMeta,
    appointments_tab,
    bookings_tab,
    passes_tab,
    subscriptions_tab,
    videos_tab,
)
from core.actor import Actor
from core.chart_links import chart_image_url
from core.db import UnitOfWork
from core.errors import DomainError
from core.services.account import list_history
from core.services.appointments import list_appointments
from core.services.bookings import list_bookings
from core.services.customers import CustomerRecord, get_customer
from core.services.notes import list_notes
from core.services.passes import list_passes
from core.services.questionnaires import list_questionnaires
from core.services.sales import monthly_sales
from core.services.subscriptions import list_subscriptions
from core.services.videos import list_videos

log = logging.getLogger(__name__)

GONE_CALLBACK = "customer_details.gone"


def _tab_body(
    uow: UnitOfWork, actor: Actor, customer: CustomerRecord, state: DetailsState, timezone: str
) -> tuple[list[Block], DetailsState]:
    """The tab's page as blocks, and the state with the page the service settled on."""
    uid, q, size = customer.uid, state.q, PAGE_SIZES[state.tab]
    paging: dict[str, Any] = {"page": state.page, "page_size": size}
    if state.tab is Tab.ACCOUNT:
        history = list_history(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": history.page})
        return account_tab(customer, state, history, timezone=timezone), state
    if state.tab is Tab.APPOINTMENTS:
        appointments = list_appointments(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": appointments.page})
        return appointments_tab(state, appointments, timezone=timezone), state
    if state.tab is Tab.PASSES:
        passes = list_passes(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": passes.page})
        return passes_tab(state, passes, timezone=timezone, now=uow.now()), state
    if state.tab is Tab.VIDEOS:
        videos = list_videos(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": videos.page})
        return videos_tab(state, videos, timezone=timezone), state
    if state.tab is Tab.SUBSCRIPTIONS:
        subscriptions = list_subscriptions(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": subscriptions.page})
        return subscriptions_tab(state, subscriptions, timezone=timezone), state
    if state.tab is Tab.QUESTIONNAIRES:
        questionnaires = list_questionnaires(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": questionnaires.page})
        return questionnaires_tab(state, questionnaires, timezone=timezone), state
    if state.tab is Tab.NOTES:
        notes = list_notes(uow, actor, uid, query=q, **paging)
        state = state.model_copy(update={"page": notes.page})
        return notes_tab(state, notes, timezone=timezone), state
    bookings = list_bookings(uow, actor, uid, query=q, **paging)
    state = state.model_copy(update={"page": bookings.page})
    return bookings_tab(state, bookings, timezone=timezone), state


def render_details(
    deps: Deps, actor: Actor, meta: DetailsMeta, *, notice: Notice | None = None
) -> dict[str, Any]:
    """Read what the details show (one read-only unit of work) and build the view."""
    with deps.db.unit_of_work(readonly=True) as uow:
        customer = get_customer(uow, actor, meta.uid)
        sales = monthly_sales(uow, actor, meta.uid)
        timezone = deps.settings.business_timezone
        body, state = _tab_body(uow, actor, customer, meta.state, timezone)
        now = uow.now()
    chart_url = chart_image_url(
        deps.settings, team_id=actor.team_id, customer_uid=customer.uid, now=now
    )
    return customer_details(
        meta.model_copy(update={"state": state}),
        customer,
        SalesActivity(sales, chart_url),
        body,
        timezone=timezone,
        notice=notice,
    )


def gone_view(message: str) -> dict[str, Any]:
    """What replaces the details when the customer can't be shown (deleted, or not ours)."""
    return modal("Customer", [section(message)], callback_id=GONE_CALLBACK)


def details_or_gone(
    deps: Deps, actor: Actor, meta: DetailsMeta, *, notice: Notice | None = None
) -> dict[str, Any]:
    """The details, or a view saying why they can't be shown."""
    try:
        return render_details(deps, actor, meta, notice=notice)
    except DomainError as exc:
        return gone_view(exc.message)


def show_details(
    client: WebClient,
    deps: Deps,
    actor: Actor,
    view_id: str,
    meta: DetailsMeta,
    *,
    notice: Notice | None = None,
    view_hash: str | None = None,
) -> None:
    """Re-render the details in view `view_id`; a hash conflict means a newer update already won."""
    view = details_or_gone(deps, actor, meta, notice=notice)
    try:
        client.views_update(view_id=view_id, view=view, hash=view_hash)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        log.debug("details update skipped: a newer update of the view won")


def details_of(body: dict[str, Any]) -> tuple[str, DetailsMeta] | None:
    """The details view an action was taken in: its id and metadata (None if not a details view)."""
    view = body.get("view") or {}
    if view.get("callback_id") != CALLBACK_ID:
        return None
    meta = DetailsMeta.parse(view.get("private_metadata"))
    view_id = str(view.get("id") or "")
    if meta is None or not view_id:
        return None
    return view_id, meta


def first_action(body: dict[str, Any]) -> dict[str, Any]:
    """The (only) action of a block_actions payload, or {}."""
    acted = body.get("actions") or [{}]
    first = acted[0]
    return first if isinstance(first, dict) else {}
