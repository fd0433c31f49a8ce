"""The customers hub (the spec's Manage page): tabs, search, sort, rows, pager."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    header,
    modal,
    option,
    overflow,
    section,
)
from bot.views.home import home_metadata, home_switch
from bot.views.inputs import TextField, text_input
from bot.views.notice import Notice, notice_block
from bot.views.payload import load_json, validated
from core.formatting import format_phone
from core.models import CustomerStatus
from core.services.customers import CustomerPage, CustomerRecord, SortOrder

PAGE_SIZE = 10
SEARCH_MAX = 100
CALLBACK_ID = "hub.view"
SEARCH_BLOCK = "hub_search"
SEARCH_ACTION = "hub.search"
TAB_ACTION_PREFIX = "hub.tab."
SORT_ACTION = "hub.sort"
PREV_ACTION = "hub.page.prev"
NEXT_ACTION = "hub.page.next"
CREATE_ACTION = "hub.create"
EXPORT_ACTION = "hub.export"
OPEN_ACTION = "customer.open"
ROW_MENU_ACTION = "customer.row_menu"
SEARCH_FIELD = TextField(
    SEARCH_BLOCK,
    "Search",
    SEARCH_ACTION,
    placeholder="Name, email or mobile",
    optional=True,
    max_length=SEARCH_MAX,
    dispatch=True,
)


class HubState(BaseModel):
    """What the staff member is looking at; kept in the view's private_metadata."""

    tab: Literal["active", "archived"] = "active"
    q: str = Field(default="", max_length=SEARCH_MAX)
    sort: SortOrder = SortOrder.NAME_ASC
    page: int = Field(default=1, ge=1, le=1_000_000)
    # Set by Next (the last UID shown) or Previous (the first): the page is then read on from
    # that row by keyset instead of skipping every row before it. Cleared once rendered.
    after: str = Field(default="", pattern=r"^[0-9A-Z]{0,16}$")
    before: str = Field(default="", pattern=r"^[0-9A-Z]{0,16}$")
    # The conversation `/customers` was typed in: where "Post chart" posts (blank: a DM).
    channel_id: str = Field(default="", max_length=32)

    @property
    def status(self) -> CustomerStatus:
        """The customer status this tab lists."""
        return CustomerStatus(self.tab)

    def to_metadata(self) -> str:
        """Compact JSON for private_metadata."""
        return self.model_dump_json()

    @classmethod
    def from_metadata(cls, raw: object) -> HubState:
        """Parse private_metadata; anything unreadable or forged falls back to the defaults."""
        data = load_json(raw)
        if isinstance(data, dict) and isinstance(data.get("hub"), dict):
            data = data["hub"]
        return validated(cls, data) or cls()


def _tabs(state: HubState) -> Block:
    return actions(
        [
            button(
                "Active",
                TAB_ACTION_PREFIX + "active",
                value="active",
                style="primary" if state.tab == "active" else None,
            ),
            button(
                "Archived",
                TAB_ACTION_PREFIX + "archived",
                value="archived",
                style="primary" if state.tab == "archived" else None,
            ),
            button("+ Create Customer", CREATE_ACTION, value="create"),
        ],
        block_id="hub_tabs",
    )


def _sort_and_count(state: HubState, page: CustomerPage) -> Block:
    arrow = "Name A→Z ▲" if state.sort is SortOrder.NAME_ASC else "Name Z→A ▼"
    if page.total == 1:
        summary = f"*1* {state.tab} customer"
    elif page.total:
        about = "about " if page.estimated else ""
        shown = f"{page.first_index:,}–{page.last_index:,} of {about}{page.total:,}"
        summary = f"*{shown}* {state.tab} customers"
    else:
        summary = "*No customers*"
    return section(
        summary,
        accessory=button(arrow, SORT_ACTION, value=state.sort.value),
        block_id="hub_sort",
    )


def row_menu_options(customer: CustomerRecord, *, admin: bool) -> list[dict[str, Any]]:
    """Manage, Edit Contact, Archive or Activate, and for admins Delete — values carry the UID."""
    toggle = (
        option("Activate", f"activate|{customer.uid}")
        if customer.status is CustomerStatus.ARCHIVED
        else option("Archive", f"archive|{customer.uid}")
    )
    offered = [
        option("Manage", f"manage|{customer.uid}"),
        option("Edit Contact", f"edit|{customer.uid}"),
        toggle,
    ]
    return [*offered, option("Delete", f"delete|{customer.uid}")] if admin else offered


def _row(customer: CustomerRecord, *, admin: bool) -> list[Block]:
    details = f"{escape(customer.email)}  ·  {escape(format_phone(customer.mobile))}"
    return [
        actions(
            [
                button(customer.full_name, OPEN_ACTION, value=customer.uid),
                overflow(ROW_MENU_ACTION, row_menu_options(customer, admin=admin)),
            ],
            block_id=f"row_{customer.uid}",
        ),
        context(details),
    ]


def _empty(state: HubState) -> Block:
    if state.q:
        quoted = escape(clip(state.q, 60))
        # Archived customers are found, not created: the search is the only way on.
        then = (
            "clear the search to see them all"
            if state.tab == "archived"
            else "clear the search or create one with *+ Create Customer*"
        )
        return section(f"No {state.tab} customers match '{quoted}' — {then}.")
    if state.tab == "archived":
        return section("No archived customers. Archived customers appear here and can be restored.")
    return section("No customers yet — add your first with *+ Create Customer*.")


def _pager(page: CustomerPage) -> list[Block]:
    if page.pages <= 1:
        return []
    buttons = []
    # The values carry the rows the neighbouring pages start after or end before.
    if page.page > 1 and page.rows:
        buttons.append(button("◀ Previous", PREV_ACTION, value=page.rows[0].uid))
    if page.page < page.pages and page.rows:
        buttons.append(button("Next ▶", NEXT_ACTION, value=page.rows[-1].uid))
    about = "about " if page.estimated else ""
    return [
        actions(buttons, block_id="hub_pager"),
        context(f"Page {page.page:,} of {about}{page.pages:,}"),
    ]


def hub_blocks(
    state: HubState, page: CustomerPage, notice: Notice | None = None, *, admin: bool = False
) -> list[Block]:
    """Everything the hub shows, top to bottom (at most 10 rows: 2 blocks each); `admin`: the
    person looking may delete, so the rows offer it."""
    blocks: list[Block] = [_tabs(state), text_input(SEARCH_FIELD, state.q)]
    if notice is not None:
        blocks.append(notice_block(notice))
    blocks.append(_sort_and_count(state, page))
    if page.rows:
        for customer in page.rows[:PAGE_SIZE]:
            blocks.extend(_row(customer, admin=admin))
    else:
        blocks.append(_empty(state))
    blocks.extend(_pager(page))
    return blocks


def hub_modal(
    state: HubState, page: CustomerPage, notice: Notice | None = None, *, admin: bool = False
) -> dict[str, Any]:
    """The hub as a modal, opened by `/customers [text]`; admins get Export CSV at its foot."""
    blocks = hub_blocks(state, page, notice, admin=admin)
    if admin:
        # Exporting lets the list out of Slack: offered to admins only (core refuses staff).
        # Last, under the list it exports, so no control above it moves.
        export = button("Export CSV", EXPORT_ACTION, value="export")
        blocks.append(actions([export], block_id="hub_export"))
    return modal(
        "Customers",
        blocks,
        callback_id=CALLBACK_ID,
        private_metadata=state.to_metadata(),
        submit="Search",
    )


def hub_home(
    state: HubState,
    page: CustomerPage,
    notice: Notice | None = None,
    *,
    day: date,
    admin: bool = False,
) -> dict[str, Any]:
    """The hub as the App Home tab's Customers page, shown on local day `day`."""
    return {
        "type": "home",
        "callback_id": CALLBACK_ID,
        "private_metadata": home_metadata("customers", state.model_dump(mode="json"), day),
        "blocks": [
            home_switch("customers"),
            header("Customers"),
            *hub_blocks(state, page, notice, admin=admin),
        ],
    }
