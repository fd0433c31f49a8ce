"""The Passes tab's forms over a customer's details: Assign Pass, Adjust credits, Extend, Cancel."""

from __future__ import annotations

from typing import Any

from bot.context.request import Request
from bot.surfaces.commerce import Opening, payment_methods, row_of
from bot.surfaces.payment_links import send_link_action
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method, PaymentForm
from bot.views.origin import Tab
from bot.views.passes import (
    DELTA_BLOCK,
    REASON_BLOCK,
    TYPE_BLOCK,
    VALID_FROM_BLOCK,
    VALID_TO_BLOCK,
    AssignPassForm,
    adjust_form,
    assign_pass_form,
    cancel_pass_confirmation,
    extend_pass_form,
)
from core.actor import Actor
from core.db import UnitOfWork
from core.services import passes
from core.services.passes import PassRow


def methods(request: Request, meta: CommerceMeta) -> tuple[Method, ...]:
    """How a pass can be paid here."""
    return payment_methods(request, meta, "manual", "stripe", "link")


def pass_row(uow: UnitOfWork, actor: Actor, uid: str, pass_id: int) -> PassRow:
    """Pass `pass_id` of customer `uid`, as its tab shows it."""
    page = passes.list_passes(uow, actor, uid, query=f"#{pass_id}", page_size=1)
    return row_of(page, "Pass", pass_id)


def _row(request: Request, meta: CommerceMeta) -> PassRow:
    """The pass a row form in `meta` is about."""
    assert meta.row_id is not None
    pass_id, uid = meta.row_id, meta.details.uid
    return request.read(lambda uow, actor: pass_row(uow, actor, uid, pass_id))


def assign_form(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Assign Pass form as filled in."""
    kinds = request.read(passes.pass_type_options)
    return assign_pass_form(
        meta,
        AssignPassForm(
            kinds=kinds,
            kind=values.option(TYPE_BLOCK),
            valid_from=values.day(VALID_FROM_BLOCK),
            payment=PaymentForm.read(values, methods(request, meta)),
            methods=methods(request, meta),
            problem=problem,
        ),
        currency=request.currency,
    )


def adjust(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Adjust credits form for the pass in `meta`, as filled in."""
    return adjust_form(
        meta,
        _row(request, meta),
        delta=values.text(DELTA_BLOCK),
        reason=values.text(REASON_BLOCK),
        problem=problem,
    )


def extend(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Extend form for the pass in `meta`, as filled in."""
    valid_to = values.day(VALID_TO_BLOCK)
    return extend_pass_form(meta, _row(request, meta), valid_to=valid_to, problem=problem)


def _open_with(opening: Opening, pass_id: int) -> PassRow | None:
    """The pass a row action is about; None after telling the details why it can't be had."""
    uid = opening.details.uid
    return opening.read(lambda uow, actor: pass_row(uow, actor, uid, pass_id))


def _open_adjust(opening: Opening, pass_id: int) -> None:
    row = _open_with(opening, pass_id)
    if row is not None:
        opening.push(adjust_form(opening.meta(row_id=row.id), row))


def _open_extend(opening: Opening, pass_id: int) -> None:
    row = _open_with(opening, pass_id)
    if row is not None:
        opening.push(extend_pass_form(opening.meta(row_id=row.id), row))


def _open_cancel(opening: Opening, pass_id: int) -> None:
    row = _open_with(opening, pass_id)
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.PASSES, verb="cancel")
        opening.push(cancel_pass_confirmation(meta, row))


def _cancel(request: Request, pass_id: int, uid: str) -> str:
    row = request.write(lambda uow, actor: passes.cancel_pass(uow, actor, pass_id, uid=uid))
    return (
        f"Cancelled {row.name} #{row.id}; its {row.credits_remaining} unused credits can no "
        "longer be used."
    )


ROW_ACTIONS = {
    (Tab.PASSES, "link"): send_link_action("pass"),
    (Tab.PASSES, "adjust"): _open_adjust,
    (Tab.PASSES, "extend"): _open_extend,
    (Tab.PASSES, "cancel"): _open_cancel,
}
CONFIRMED = {(Tab.PASSES, "cancel"): _cancel}
