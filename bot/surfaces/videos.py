"""The Videos tab's forms over a customer's details: Assign Video, Extend and Cancel."""

from __future__ import annotations

from typing import Any

from bot.context.request import Request
from bot.surfaces.commerce import Opening, payment_methods, row_of
from bot.surfaces.payment_links import send_link_action
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method, PaymentForm
from bot.views.origin import Tab
from bot.views.videos import (
    DAYS_BLOCK,
    UNTIL_BLOCK,
    VIDEO_BLOCK,
    AssignVideoForm,
    assign_video_form,
    cancel_video_confirmation,
    extend_video_form,
)
from core.actor import Actor
from core.db import UnitOfWork
from core.models import PaymentMethod
from core.services import videos
from core.services.checkout import business_date
from core.services.passes import usable_passes_on
from core.services.videos import VideoRow


def methods(request: Request, meta: CommerceMeta) -> tuple[Method, ...]:
    """How a video can be paid here (never a Stripe payment recorded by hand)."""
    return payment_methods(request, meta, "manual", "package", "link")


def video(uow: UnitOfWork, actor: Actor, uid: str, purchase_id: int) -> VideoRow:
    """Video purchase `purchase_id` of customer `uid`, as its tab shows it."""
    page = videos.list_videos(uow, actor, uid, query=f"#{purchase_id}", page_size=1)
    return row_of(page, "Video purchase", purchase_id)


def assign_form(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The form as filled in, with the passes that can pay for the chosen video today."""
    payment = PaymentForm.read(values, methods(request, meta))
    video_id = values.row_id(VIDEO_BLOCK)
    actor = request.actor
    with request.deps.db.unit_of_work(readonly=True) as uow:
        offered = videos.video_options(uow, actor)
        chosen = next((v for v in offered if v.id == video_id), None)
        passes = None
        if payment.method == "package" and chosen is not None and chosen.credit_price is not None:
            today = business_date(uow.now(), request.timezone)
            passes = usable_passes_on(uow, actor, meta.details.uid, today, chosen.credit_price)
    return assign_video_form(
        meta,
        AssignVideoForm(
            videos=offered,
            video=chosen,
            payment=payment,
            methods=methods(request, meta),
            passes=passes,
            problem=problem,
        ),
        currency=request.currency,
    )


def extend(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Extend form for the video purchase in `meta`, as filled in."""
    assert meta.row_id is not None
    purchase_id, uid = meta.row_id, meta.details.uid
    row = request.read(lambda uow, actor: video(uow, actor, uid, purchase_id))
    return extend_video_form(
        meta,
        row,
        timezone=request.timezone,
        days=values.text(DAYS_BLOCK),
        until=values.day(UNTIL_BLOCK),
        problem=problem,
    )


def _open_extend(opening: Opening, purchase_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: video(uow, actor, uid, purchase_id))
    if row is not None:
        timezone = opening.request.timezone
        opening.push(extend_video_form(opening.meta(row_id=row.id), row, timezone=timezone))


def _open_cancel(opening: Opening, purchase_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: video(uow, actor, uid, purchase_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.VIDEOS, verb="cancel")
        opening.push(cancel_video_confirmation(meta, row, opening.request.timezone))


def _cancel(request: Request, purchase_id: int, uid: str) -> str:
    row = request.write(lambda uow, actor: videos.cancel_video(uow, actor, purchase_id, uid=uid))
    returned = (
        f"; {row.credits} CR went back to its pass"
        if row.payment_method is PaymentMethod.PACKAGE and row.credits
        else ""
    )
    return f"Cancelled {row.title} (purchase #{row.id}): access has ended{returned}."


ROW_ACTIONS = {
    (Tab.VIDEOS, "link"): send_link_action("video"),
    (Tab.VIDEOS, "extend"): _open_extend,
    (Tab.VIDEOS, "cancel"): _open_cancel,
}
CONFIRMED = {(Tab.VIDEOS, "cancel"): _cancel}
