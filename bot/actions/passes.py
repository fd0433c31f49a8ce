"""The Passes tab's commerce: Assign Pass, and a pass's Adjust credits, Extend and Cancel."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import Deps, actor_of, deps_of
from bot.surfaces.commerce import (
    Done,
    Opening,
    Outcome,
    finish,
    payment_methods,
    redraw_form,
    refusal,
    refuse_now,
    row_of,
)
from bot.views.commerce.form_state import (
    INTENT_BLOCK,
    CommerceMeta,
    FormValues,
    Method,
    PaymentForm,
)
from bot.views.commerce.parsing import whole_number
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from bot.views.passes import (
    ADJUST_CALLBACK,
    ASSIGN_CALLBACK,
    ASSIGN_PREFIX,
    DELTA_BLOCK,
    EXTEND_CALLBACK,
    REASON_BLOCK,
    TYPE_BLOCK,
    VALID_FROM_BLOCK,
    VALID_TO_BLOCK,
    AssignPassForm,
    adjust_form,
    adjusted_notice,
    assign_pass_form,
    assigned_notice,
    cancel_pass_confirmation,
    extend_pass_form,
    extended_notice,
)
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError
from core.services import passes
from core.services.checkout import ManualPayment, StripePayment
from core.services.passes import PassRow


def _methods(deps: Deps) -> tuple[Method, ...]:
    return payment_methods(deps, "manual", "stripe")


def _pass(uow: UnitOfWork, actor: Actor, uid: str, pass_id: int) -> PassRow:
    page = passes.list_passes(uow, actor, uid, query=f"#{pass_id}", page_size=1)
    return row_of(page, "Pass", pass_id)


def _assign_form(
    deps: Deps, actor: Actor, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    with deps.db.unit_of_work(readonly=True) as uow:
        kinds = passes.pass_type_options(uow, actor)
    return assign_pass_form(
        meta,
        AssignPassForm(
            kinds=kinds,
            kind=values.option(TYPE_BLOCK),
            valid_from=values.day(VALID_FROM_BLOCK),
            payment=PaymentForm.read(values, _methods(deps)),
            methods=_methods(deps),
            problem=problem,
        ),
        currency=deps.settings.currency,
    )


def open_assign_pass(opening: Opening) -> None:
    """Assign Pass: the form, empty."""
    customer = opening.customer_for("assigning a pass")
    if customer is None:
        return
    meta = opening.meta(name=customer.full_name)
    opening.push(_assign_form(opening.deps, opening.actor, meta, FormValues()))


def _open_adjust(opening: Opening, pass_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _pass(uow, actor, uid, pass_id))
    if row is not None:
        opening.push(adjust_form(opening.meta(row_id=row.id), row))


def _open_extend(opening: Opening, pass_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _pass(uow, actor, uid, pass_id))
    if row is not None:
        opening.push(extend_pass_form(opening.meta(row_id=row.id), row))


def _open_cancel(opening: Opening, pass_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _pass(uow, actor, uid, pass_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.PASSES, verb="cancel")
        opening.push(cancel_pass_confirmation(meta, row))


def _cancel(deps: Deps, actor: Actor, pass_id: int, uid: str) -> str:
    with deps.db.unit_of_work() as uow:
        row = passes.cancel_pass(uow, actor, pass_id, uid=uid)
    return (
        f"Cancelled {row.name} #{row.id}; its {row.credits_remaining} unused credits can no "
        "longer be used."
    )


ROW_ACTIONS = {
    (Tab.PASSES, "adjust"): _open_adjust,
    (Tab.PASSES, "extend"): _open_extend,
    (Tab.PASSES, "cancel"): _open_cancel,
}
CONFIRMED = {(Tab.PASSES, "cancel"): _cancel}


def register(app: App) -> None:
    """Wire the Assign Pass form (and its redraw), Adjust credits and Extend."""

    @app.action(f"{ASSIGN_PREFIX}.payment")
    def on_change(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        deps, actor = deps_of(context), actor_of(context)
        redraw_form(body, client, lambda meta, values: _assign_form(deps, actor, meta, values))

    @app.view(ASSIGN_CALLBACK)
    def on_assign(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        payment, errors = payment_choice(
            PaymentForm.read(values, _methods(deps)), deps.settings.currency
        )
        kind_id = values.row_id(TYPE_BLOCK)
        if kind_id is None:
            errors[TYPE_BLOCK] = "Choose the pass type."

        def redraw(problem: str) -> dict[str, Any]:
            return _assign_form(deps, actor, meta, values, problem)

        if not isinstance(payment, ManualPayment | StripePayment) or kind_id is None:
            refuse_now(ack, view, errors, redraw)
            return
        kind, paid, first = kind_id, payment, values.day(VALID_FROM_BLOCK)

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = passes.assign_pass(
                        uow,
                        actor,
                        meta.details.uid,
                        kind,
                        valid_from=first,
                        payment=paid,
                        gateway=deps.gateway,
                    )
            except DomainError as exc:
                return refusal(view, exc, fallback=TYPE_BLOCK, payment_block=INTENT_BLOCK)
            return Done(assigned_notice(row, meta.name), Tab.PASSES)

        finish(ack, client, deps, actor, view, meta, work, redraw)

    @app.view(ADJUST_CALLBACK)
    def on_adjust(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None or meta.row_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        pass_id, uid = meta.row_id, meta.details.uid

        def redraw(problem: str) -> dict[str, Any]:
            with deps.db.unit_of_work(readonly=True) as uow:
                row = _pass(uow, actor, uid, pass_id)
            return adjust_form(
                meta,
                row,
                delta=values.text(DELTA_BLOCK),
                reason=values.text(REASON_BLOCK),
                problem=problem,
            )

        delta = whole_number(values.text(DELTA_BLOCK))
        if delta is None:
            refuse_now(ack, view, {DELTA_BLOCK: "Enter a whole number, such as 2 or -1."}, redraw)
            return
        change, reason = delta, values.text(REASON_BLOCK)

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = passes.adjust_pass_credits(uow, actor, pass_id, change, reason, uid=uid)
            except DomainError as exc:
                return refusal(view, exc, fallback=DELTA_BLOCK)
            return Done(adjusted_notice(row))

        finish(ack, client, deps, actor, view, meta, work, redraw)

    @app.view(EXTEND_CALLBACK)
    def on_extend(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None or meta.row_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        pass_id, uid = meta.row_id, meta.details.uid

        def redraw(problem: str) -> dict[str, Any]:
            with deps.db.unit_of_work(readonly=True) as uow:
                row = _pass(uow, actor, uid, pass_id)
            return extend_pass_form(meta, row, valid_to=values.day(VALID_TO_BLOCK), problem=problem)

        valid_to = values.day(VALID_TO_BLOCK)
        if valid_to is None:
            refuse_now(ack, view, {VALID_TO_BLOCK: "Choose the new last day."}, redraw)
            return
        last_day = valid_to

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = passes.extend_pass(uow, actor, pass_id, last_day, uid=uid)
            except DomainError as exc:
                return refusal(view, exc, fallback=VALID_TO_BLOCK)
            return Done(extended_notice(row))

        finish(ack, client, deps, actor, view, meta, work, redraw)
