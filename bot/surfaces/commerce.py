"""How the commerce listeners open forms over a customer's details and answer their submissions.

A form closes and refreshes the details when done, or shows errors under its fields."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps, actor_of, deps_of
from bot.logging_setup import ContextExecutor
from bot.surfaces.customer_details import details_of, show_details
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method
from bot.views.commerce.modals import result_view, working_view
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.tabs import DetailsMeta
from core.actor import Actor
from core.adapters.payments import PaymentError
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.models import CustomerStatus
from core.services import customers
from core.services.customers import CustomerRecord
from core.services.paging import Page

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R", bound="HasId")

# Slack drops a submission not answered within 3 seconds; this leaves room for the network.
ACK_BUDGET = 2.0
ERROR_MAX = 1000
# Slack applies a submission's answer when the answer reaches it; an update of the same view
# sent sooner could land first and be overwritten by the "working" view.
ANSWER_SETTLE = 1.0
# Changes still running when the budget is spent finish here, after the answer went out;
# each keeps its request's context, so what it logs carries the request id.
_POOL = ContextExecutor(ThreadPoolExecutor(max_workers=8, thread_name_prefix="commerce"))


class HasId(Protocol):
    """Anything with an integer `id` (the tab rows)."""

    @property
    def id(self) -> int:
        """The row's id."""


@dataclass(frozen=True)
class Opening:
    """A commerce control pressed in a customer's details: who, where, and the trigger to use."""

    client: WebClient
    deps: Deps
    actor: Actor
    view_id: str
    details: DetailsMeta
    trigger_id: str

    @classmethod
    def of(cls, body: dict[str, Any], context: BoltContext, client: WebClient) -> Opening | None:
        """The details the control was pressed in; None if it wasn't a details view."""
        found = details_of(body)
        if found is None:
            return None
        view_id, meta = found
        trigger_id = str(body.get("trigger_id") or "")
        return cls(client, deps_of(context), actor_of(context), view_id, meta, trigger_id)

    def meta(self, **fields: Any) -> CommerceMeta:
        """Metadata for a form over these details."""
        return CommerceMeta(view_id=self.view_id, details=self.details, **fields)

    def push(self, view: dict[str, Any]) -> None:
        """Open `view` on top of the details."""
        self.client.views_push(trigger_id=self.trigger_id, view=view)

    def tell(self, text: str, *, ok: bool = False) -> None:
        """Refresh the details with a notice (a problem unless `ok`)."""
        show_details(
            self.client,
            self.deps,
            self.actor,
            self.view_id,
            self.details,
            notice=Notice(text, ok=ok),
        )

    def read(self, what: Callable[[UnitOfWork, Actor], T]) -> T | None:
        """`what` in a read-only unit of work; None after telling the details why it failed."""
        try:
            with self.deps.db.unit_of_work(readonly=True) as uow:
                return what(uow, self.actor)
        except DomainError as exc:
            self.tell(exc.message)
            return None

    def customer_for(self, doing: str) -> CustomerRecord | None:
        """The details' customer, if they can take something new; else None after saying why."""
        customer = self.read(
            lambda uow, actor: customers.get_customer(uow, actor, self.details.uid)
        )
        if customer is not None and customer.status is CustomerStatus.ARCHIVED:
            self.tell(
                f"{customer.full_name} is archived; activate them on the Account tab before "
                f"{doing} for them."
            )
            return None
        return customer


def row_of(page: Page[R], noun: str, row_id: int) -> R:
    """Row `row_id` of a tab page searched for '#id' (so it is the customer's own)."""
    for row in page.rows:
        if row.id == row_id:
            return row
    raise NotFound(f"{noun} #{row_id} is no longer on this customer's record.")


def payment_methods(deps: Deps, *offered: Method) -> tuple[Method, ...]:
    """The payment methods to offer: Stripe only when the app has a Stripe key."""
    return tuple(m for m in offered if m != "stripe" or deps.gateway is not None)


@dataclass(frozen=True)
class Done:
    """The change was made: the notice for the details, and the tab to show (None: as shown)."""

    notice: str
    tab: Tab | None = None


@dataclass(frozen=True)
class Refused:
    """Nothing changed: the reasons, by the input block they are about."""

    errors: dict[str, str]

    @property
    def text(self) -> str:
        """All reasons as one line."""
        return " ".join(self.errors.values())


Outcome = Done | Refused


def input_blocks(view: dict[str, Any]) -> set[str]:
    """The block_ids of the view's input blocks."""
    return {
        str(b.get("block_id"))
        for b in view.get("blocks", [])
        if isinstance(b, dict) and b.get("type") == "input"
    }


def refusal(
    view: dict[str, Any], exc: DomainError, *, fallback: str, payment_block: str = ""
) -> Refused:
    """A service's refusal under the form's fields; one about no shown field goes under `fallback`.

    A payment provider's refusal (or a payment already used) goes under `payment_block`."""
    shown = input_blocks(view)
    errors: dict[str, str] = {}

    def put(block: str, message: str) -> None:
        errors[block] = f"{errors[block]} {message}" if block in errors else message

    if isinstance(exc, ValidationFailed):
        for field, message in exc.errors.items():
            put(field if field in shown else fallback, message)
    elif isinstance(exc, PaymentError | Conflict) and payment_block in shown:
        put(payment_block, exc.message)
    else:
        put(fallback, exc.message)
    return Refused({block: message[:ERROR_MAX] for block, message in errors.items()})


def refuse_now(
    ack: Ack, view: dict[str, Any], errors: dict[str, str], redraw: Callable[[str], dict[str, Any]]
) -> None:
    """Answer a submission with its problems: under the fields, or in a redrawn form.

    Redrawn when a problem is about a field not shown yet (a redraw lost a race with a click)."""
    if set(errors) <= input_blocks(view):
        ack(response_action="errors", errors=errors)
    else:
        ack(response_action="update", view=redraw(" ".join(errors.values())))


def finish(
    ack: Ack,
    client: WebClient,
    deps: Deps,
    actor: Actor,
    view: dict[str, Any],
    meta: CommerceMeta,
    work: Callable[[], Outcome],
    redraw: Callable[[str], dict[str, Any]],
) -> None:
    """Run the change and answer within Slack's 3 seconds: close and refresh, or errors.

    A change outlasting that (Stripe slow) shows a "working" view, then its result or the form."""
    future = _POOL.submit(work)
    try:
        outcome = future.result(timeout=ACK_BUDGET)
    except TimeoutError:
        ack(response_action="update", view=working_view(meta.name))
        answered = time.monotonic()
        outcome_or_error = _wait(future)
        time.sleep(max(0.0, ANSWER_SETTLE - (time.monotonic() - answered)))
        _finish_late(client, deps, actor, str(view.get("id") or ""), meta, outcome_or_error, redraw)
        return
    if isinstance(outcome, Refused):
        ack(response_action="errors", errors=outcome.errors)
        return
    ack()
    _show_done(client, deps, actor, meta, outcome)


def _wait(future: Future[Outcome]) -> Outcome | None:
    """The change's outcome once it ends; None if it failed unexpectedly (logged)."""
    try:
        return future.result()
    except Exception:
        log.exception("a commerce change failed after its form was answered")
        return None


def _finish_late(
    client: WebClient,
    deps: Deps,
    actor: Actor,
    form_id: str,
    meta: CommerceMeta,
    outcome: Outcome | None,
    redraw: Callable[[str], dict[str, Any]],
) -> None:
    if outcome is None:
        problem = (
            "Something went wrong while saving. Check the customer's tab and account history "
            "before trying again."
        )
        client.views_update(view_id=form_id, view=result_view(problem, ok=False))
        return
    if isinstance(outcome, Refused):
        client.views_update(view_id=form_id, view=redraw(outcome.text))
        return
    client.views_update(view_id=form_id, view=result_view(outcome.notice, ok=True))
    _show_done(client, deps, actor, meta, outcome)


def _show_done(
    client: WebClient, deps: Deps, actor: Actor, meta: CommerceMeta, outcome: Done
) -> None:
    details = meta.details if outcome.tab is None else meta.details.showing(outcome.tab)
    show_details(client, deps, actor, meta.view_id, details, notice=Notice(outcome.notice))


def redraw_form(
    body: dict[str, Any],
    client: WebClient,
    render: Callable[[CommerceMeta, FormValues], dict[str, Any]],
) -> None:
    """A choice that shapes the rest of the form was made: draw it again from what is filled in."""
    # The view's hash makes Slack drop this redraw if a later one already landed.
    view = body.get("view") or {}
    meta = CommerceMeta.parse(view.get("private_metadata"))
    if meta is None or not view.get("id"):
        return
    try:
        form = render(meta, FormValues.of(view))
    except DomainError as exc:
        form = result_view(exc.message, ok=False)
    try:
        client.views_update(view_id=view["id"], view=form, hash=view.get("hash"))
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        log.debug("form redraw skipped: a newer one already landed")
