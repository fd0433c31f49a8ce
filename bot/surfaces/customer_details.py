"""Putting a customer's details on screen: read the customer, sales and one tab page, render, update."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, TypeVar

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.redraws import Shown, redraw
from bot.views.blocks import Block, modal, section
from bot.views.customer_details import (
    CALLBACK_ID,
    SalesActivity,
    account_tab,
    customer_details,
    link_modal,
    with_link,
)
from bot.views.notes import notes_tab
from bot.views.notice import Notice
from bot.views.origin import DetailsState, Tab
from bot.views.payload import first_action
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
from bot.views.tags import profile_blocks, with_profile
from core.actor import Actor
from core.chart_links import chart_image_url
from core.customer_links import customer_link
from core.db import UnitOfWork
from core.errors import DomainError
from core.services.account import list_history
from core.services.appointments import list_appointments
from core.services.bookings import list_bookings
from core.services.consent import consent_of
from core.services.customers import CustomerRecord, get_customer
from core.services.figures import customer_figures
from core.services.household import household
from core.services.notes import list_notes
from core.services.paging import Page
from core.services.passes import list_passes
from core.services.questionnaires import list_questionnaires
from core.services.sales import monthly_sales
from core.services.subscriptions import list_subscriptions
from core.services.tags import customer_tags
from core.services.videos import list_videos

T = TypeVar("T")

GONE_CALLBACK = "customer_details.gone"


@dataclass(frozen=True)
class TabView:
    """What a tab's builder gets besides its page: the customer, the state shown, and when."""

    customer: CustomerRecord
    state: DetailsState
    timezone: str
    now: datetime
    # The person looking is an admin: admin-only actions are offered.
    admin: bool


Lister = Callable[..., Page[Any]]
Render = Callable[[TabView, Page[Any]], list[Block]]


def _page_only(build: Callable[..., list[Block]]) -> Render:
    """A tab builder that needs only the state, the page and the time zone."""
    return lambda tab, page: build(tab.state, page, timezone=tab.timezone)


# Each tab: the service listing its rows, and the builder showing a page of them.
TABS: dict[Tab, tuple[Lister, Render]] = {
    Tab.BOOKINGS: (
        list_bookings,
        lambda tab, page: bookings_tab(tab.state, page, timezone=tab.timezone, admin=tab.admin),
    ),
    Tab.APPOINTMENTS: (
        list_appointments,
        lambda tab, page: appointments_tab(tab.state, page, timezone=tab.timezone, now=tab.now),
    ),
    Tab.PASSES: (
        list_passes,
        lambda tab, page: passes_tab(tab.state, page, timezone=tab.timezone, now=tab.now),
    ),
    Tab.VIDEOS: (list_videos, _page_only(videos_tab)),
    Tab.SUBSCRIPTIONS: (
        list_subscriptions,
        lambda tab, page: subscriptions_tab(
            tab.state, page, timezone=tab.timezone, admin=tab.admin
        ),
    ),
    Tab.QUESTIONNAIRES: (list_questionnaires, _page_only(questionnaires_tab)),
    Tab.NOTES: (list_notes, _page_only(notes_tab)),
    Tab.ACCOUNT: (
        list_history,
        lambda tab, page: account_tab(
            tab.customer, tab.state, page, timezone=tab.timezone, admin=tab.admin
        ),
    ),
}


def _tab_body(
    uow: UnitOfWork, actor: Actor, customer: CustomerRecord, state: DetailsState, timezone: str
) -> tuple[list[Block], DetailsState]:
    """The tab's page as blocks, and the state with the page the service settled on."""
    lister, render = TABS[state.tab]
    page = lister(
        uow, actor, customer.uid, query=state.q, page=state.page, page_size=PAGE_SIZES[state.tab]
    )
    state = state.model_copy(update={"page": page.page})
    return render(TabView(customer, state, timezone, uow.now(), actor.is_admin), page), state


def render_details(
    request: Request, meta: DetailsMeta, *, notice: Notice | None = None
) -> dict[str, Any]:
    """Read what the details show (one read-only unit of work) and build the view."""
    deps, actor, timezone = request.deps, request.actor, request.timezone
    with deps.db.unit_of_work(readonly=True) as uow:
        customer = get_customer(uow, actor, meta.uid)
        # The customer was found just now, and the zone read with the actor.
        sales = monthly_sales(uow, actor, meta.uid, timezone=timezone)
        figures = customer_figures(uow, actor, meta.uid)
        members = household(uow, actor, meta.uid)
        body, state = _tab_body(uow, actor, customer, meta.state, timezone)
        held = customer_tags(uow, actor, meta.uid)
        now = uow.now()
    chart_url = chart_image_url(
        deps.settings, team_id=actor.team_id, customer_uid=customer.uid, now=now
    )
    view = customer_details(
        meta.model_copy(update={"state": state}),
        customer,
        SalesActivity(sales, chart_url, figures, members),
        body,
        timezone=timezone,
        notice=notice,
    )
    editable = customer.anonymised_at is None and customer.merged_into_uid is None
    profile = profile_blocks(held, consent_of(customer), timezone, editable=editable)
    view = with_profile(view, profile)
    return with_link(view, customer.uid) if _link_to(request, customer) else view


def _link_to(request: Request, customer: CustomerRecord) -> str | None:
    """The customer's link, or None when there is none to share (no public address, or the
    record anonymised: its link unfurls as "no longer available")."""
    if customer.anonymised_at is not None:
        return None
    return customer_link(request.deps.settings.public_base_url, customer.uid)


def show_link(control: DetailsControl) -> None:
    """*Copy link*: the customer's link in a small modal over the details, to copy."""
    uid = control.details.uid
    customer = control.read(lambda uow, actor: get_customer(uow, actor, uid))
    if customer is None:
        return
    link = _link_to(control.request, customer)
    if link is None:
        control.tell("This customer has no link to share.")
        return
    control.push(link_modal(customer.full_name, link))


def gone_view(message: str) -> dict[str, Any]:
    """What replaces the details when the customer can't be shown (deleted, or not ours)."""
    return modal("Customer", [section(message)], callback_id=GONE_CALLBACK)


def details_or_gone(
    request: Request, meta: DetailsMeta, *, notice: Notice | None = None
) -> dict[str, Any]:
    """The details, or a view saying why they can't be shown."""
    try:
        return render_details(request, meta, notice=notice)
    except DomainError as exc:
        return gone_view(exc.message)


def show_details(
    request: Request,
    view_id: str,
    meta: DetailsMeta,
    *,
    notice: Notice | None = None,
    shown: Shown | None = None,
) -> None:
    """Re-render the details in view `view_id`, in its turn (`shown`: as the action saw it)."""
    redraw(
        request,
        shown or Shown(view_id),
        lambda: details_or_gone(request, meta, notice=notice),
        "details update",
    )


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


@dataclass(frozen=True)
class DetailsControl:
    """A control pressed in a customer's details: the request, which details, the pressed action."""

    request: Request
    view_id: str
    details: DetailsMeta
    action: dict[str, Any]
    trigger_id: str
    shown: Shown

    @classmethod
    def of(cls, body: dict[str, Any], context: BoltContext, client: WebClient) -> Self | None:
        """The details the control was pressed in; None if it wasn't a details view."""
        found = details_of(body)
        if found is None:
            return None
        view_id, meta = found
        return cls(
            Request.of(context, client),
            view_id,
            meta,
            first_action(body),
            str(body.get("trigger_id") or ""),
            Shown.of(body),
        )

    @property
    def value(self) -> str:
        """The pressed button's value ('' when none)."""
        value = self.action.get("value")
        return value if isinstance(value, str) else ""

    def push(self, view: dict[str, Any]) -> None:
        """Open `view` on top of the details."""
        self.request.client.views_push(trigger_id=self.trigger_id, view=view)

    def show(
        self,
        details: DetailsMeta | None = None,
        *,
        notice: Notice | None = None,
    ) -> None:
        """Re-render these details with a change's `notice`, or `details` in their place (a
        newer action's redraw wins over that one)."""
        shown = self.shown if details is not None and notice is None else self.shown.changed()
        show_details(
            self.request, self.view_id, details or self.details, notice=notice, shown=shown
        )

    def tell(self, text: str, *, ok: bool = False) -> None:
        """Refresh the details with a notice (a problem unless `ok`)."""
        self.show(notice=Notice(text, ok=ok))

    def read(self, what: Callable[[UnitOfWork, Actor], T]) -> T | None:
        """`what` in a read-only unit of work; None after telling the details why it failed."""
        try:
            return self.request.read(what)
        except DomainError as exc:
            self.tell(exc.message)
            return None

    def write(self, what: Callable[[UnitOfWork, Actor], T]) -> T | None:
        """`what` in a unit of work that commits; None after telling the details why it failed."""
        try:
            return self.request.write(what)
        except DomainError as exc:
            self.tell(exc.message)
            return None
