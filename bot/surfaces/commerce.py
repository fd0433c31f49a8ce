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

from bot.context.request import Request, Submission
from bot.logging_setup import ContextExecutor
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.surfaces.redraws import Shown, redraw
from bot.views.commerce.form_state import PAYER_MAX, CommerceMeta, FormValues, Method
from bot.views.commerce.modals import result_view, working_view
from bot.views.notice import Notice
from bot.views.origin import Tab
from core.actor import Actor
from core.adapters.payments import PaymentError
from core.db import Transactions, UnitOfWork
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.models import CustomerStatus
from core.services import customers
from core.services.customers import CustomerRecord
from core.services.household import household, payers
from core.services.paging import Page

log = logging.getLogger(__name__)

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


class Opening(DetailsControl):
    """A commerce control pressed in a customer's details: it opens a form over them."""

    def open_form(self, doing: str, render: Render) -> None:
        """A form for something new for the customer (`doing` it), empty; refused if archived."""
        found = self.customer_for(doing)
        if found is not None:
            customer, parents = found
            meta = self.meta(
                name=customer.full_name,
                mailable=bool(customer.email.strip()),
                payer=" or ".join(parents)[:PAYER_MAX],
            )
            self.push(render(self.request, meta, FormValues(), ""))

    def open_row_form(self, row_id: int, render: Render) -> None:
        """A form about one of the customer's rows, empty; why not, if the row is gone."""
        try:
            form = render(self.request, self.meta(row_id=row_id), FormValues(), "")
        except DomainError as exc:
            self.tell(exc.message)
            return
        self.push(form)

    def meta(self, **fields: Any) -> CommerceMeta:
        """Metadata for a form over these details."""
        return CommerceMeta(view_id=self.view_id, details=self.details, **fields)

    def customer_for(self, doing: str) -> tuple[CustomerRecord, list[str]] | None:
        """The details' customer, if they can take something new, and the names of their
        parents (who pay); else None after saying why."""
        uid = self.details.uid
        found = self.read(
            lambda uow, actor: (
                customers.get_customer(uow, actor, uid),
                payers(household(uow, actor, uid)),
            )
        )
        if found is not None and found[0].status is CustomerStatus.ARCHIVED:
            self.tell(
                f"{found[0].full_name} is archived; activate them on the Account tab before "
                f"{doing} for them."
            )
            return None
        return found


def row_of(page: Page[R], noun: str, row_id: int) -> R:
    """Row `row_id` of a tab page searched for '#id' (so it is the customer's own)."""
    for row in page.rows:
        if row.id == row_id:
            return row
    raise NotFound(f"{noun} #{row_id} is no longer on this customer's record.")


def payment_methods(request: Request, meta: CommerceMeta, *offered: Method) -> tuple[Method, ...]:
    """The payment methods to offer: Stripe's only when the studio has a Stripe account, and a
    payment link only to a customer with an email address."""
    stripe = request.gateway is not None
    return tuple(
        m
        for m in offered
        if (m not in ("stripe", "link") or stripe) and (m != "link" or meta.mailable)
    )


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
# Draws a form again as filled in, with a problem worded for its top.
Redraw = Callable[[str], dict[str, Any]]
# Draws a commerce form for a request from its metadata and what is filled in.
Render = Callable[[Request, CommerceMeta, FormValues, str], dict[str, Any]]
Listener = Callable[[Ack, dict[str, Any], BoltContext, WebClient], None]


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


@dataclass(frozen=True)
class Change:
    """What a form changes, in one unit of work; a refusal shows under `fallback` (or the
    payment field, for a payment provider's refusal)."""

    make: Callable[[UnitOfWork, Actor], Done]
    fallback: str
    payment_block: str = ""

    def attempt(self, form: Submission[CommerceMeta]) -> Outcome:
        """Make the change; a service's refusal becomes the form's errors."""
        return _attempt(
            form, lambda: form.request.write(self.make), self.fallback, self.payment_block
        )


@dataclass(frozen=True)
class StripeChange:
    """A change calling Stripe: `make` commits its own short units of work around the call,
    so no database lock is held while Stripe answers; a refusal shows under `fallback`."""

    make: Callable[[Transactions, Actor], Done]
    fallback: str
    payment_block: str = ""

    def attempt(self, form: Submission[CommerceMeta]) -> Outcome:
        """Make the change; a service's refusal becomes the form's errors."""
        return _attempt(
            form, lambda: form.request.steps(self.make), self.fallback, self.payment_block
        )


def _attempt(
    form: Submission[CommerceMeta], make: Callable[[], Done], fallback: str, payment_block: str
) -> Outcome:
    try:
        return make()
    except DomainError as exc:
        return refusal(form.view, exc, fallback=fallback, payment_block=payment_block)


def finish(
    ack: Ack, form: Submission[CommerceMeta], change: Change | StripeChange, redraw: Redraw
) -> None:
    """Make the change and answer within Slack's 3 seconds: close and refresh, or errors.

    A change outlasting that (Stripe slow) shows a "working" view, then its result or the form."""
    future = _POOL.submit(change.attempt, form)
    try:
        outcome = future.result(timeout=ACK_BUDGET)
    except TimeoutError:
        ack(response_action="update", view=working_view(form.meta.name))
        answered = time.monotonic()
        outcome_or_error = _wait(future)
        time.sleep(max(0.0, ANSWER_SETTLE - (time.monotonic() - answered)))
        _finish_late(form, outcome_or_error, redraw)
        return
    if isinstance(outcome, Refused):
        ack(response_action="errors", errors=outcome.errors)
        return
    ack()
    _show_done(form, outcome)


def _wait(future: Future[Outcome]) -> Outcome | None:
    """The change's outcome once it ends; None if it failed unexpectedly (logged)."""
    try:
        return future.result()
    except Exception:
        log.exception("a commerce change failed after its form was answered")
        return None


def _finish_late(form: Submission[CommerceMeta], outcome: Outcome | None, redraw: Redraw) -> None:
    form_id, client = str(form.view.get("id") or ""), form.request.client
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
    _show_done(form, outcome)


def _show_done(form: Submission[CommerceMeta], outcome: Done) -> None:
    meta = form.meta
    details = meta.details if outcome.tab is None else meta.details.showing(outcome.tab)
    show_details(form.request, meta.view_id, details, notice=Notice(outcome.notice))


@dataclass(frozen=True)
class CommerceForm:
    """A commerce form as submitted, and how to answer it: problems under its fields, or the
    change made and the details refreshed."""

    ack: Ack
    submission: Submission[CommerceMeta]
    render: Render
    # The row a row action's form is about (0 for a form about something new).
    row_id: int = 0

    @property
    def meta(self) -> CommerceMeta:
        """The form's metadata."""
        return self.submission.meta

    @property
    def request(self) -> Request:
        """Who submitted it."""
        return self.submission.request

    @property
    def values(self) -> FormValues:
        """What was filled in."""
        return self.submission.values

    def redraw(self, problem: str) -> dict[str, Any]:
        """The form again as filled in, with `problem` at its top; why not, if its row is gone."""
        return drawn(self.render, self.request, self.meta, self.values, problem)

    def refuse(self, errors: dict[str, str]) -> None:
        """Answer with the problems, changing nothing."""
        refuse_now(self.ack, self.submission.view, errors, self.redraw)

    def finish(self, change: Change | StripeChange) -> None:
        """Make the change and answer; see `finish`."""
        finish(self.ack, self.submission, change, self.redraw)


def commerce_form(
    ack: Ack,
    view: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    render: Render,
    *,
    row: bool = False,
) -> CommerceForm | None:
    """The commerce form submitted (`row`: a row's form); None, already answered, if it isn't."""
    form = Submission.of(CommerceMeta, view, context, client)
    row_id = form.meta.row_id if form is not None else None
    if form is None or (row and row_id is None):
        ack()
        return None
    return CommerceForm(ack, form, render, row_id or 0)


def redraws(render: Render) -> Listener:
    """The listener for a choice that shapes the rest of a form: it draws the form again."""

    def on_change(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        redraw_form(body, Request.of(context, client), render)

    return on_change


def drawn(
    render: Render, request: Request, meta: CommerceMeta, values: FormValues, problem: str
) -> dict[str, Any]:
    """The form `render` draws; if what it is about is gone (or never was), why not."""
    try:
        return render(request, meta, values, problem)
    except DomainError as exc:
        return result_view(exc.message, ok=False)


def redraw_form(body: dict[str, Any], request: Request, render: Render) -> None:
    """A choice that shapes the rest of the form was made: draw it again from what is filled in."""
    view = body.get("view") or {}
    meta = CommerceMeta.parse(view.get("private_metadata"))
    if meta is None or not view.get("id"):
        return
    values = FormValues.of(view)
    # Drawn from what this action saw, so a newer action's redraw wins over it.
    redraw(request, Shown.of(body), lambda: drawn(render, request, meta, values, ""), "form redraw")
