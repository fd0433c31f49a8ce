"""The Videos tab's commerce: Assign Video, and a video's Extend and Cancel."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import Deps, actor_of, deps_of
from bot.surfaces.commerce import (
    Done,
    Opening,
    Outcome,
    finish,
    redraw_form,
    refusal,
    refuse_now,
    row_of,
)
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method, PaymentForm
from bot.views.commerce.parsing import end_of_day, whole_number
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from bot.views.videos import (
    ASSIGN_CALLBACK,
    ASSIGN_PREFIX,
    DAYS_BLOCK,
    EXTEND_CALLBACK,
    UNTIL_BLOCK,
    VIDEO_ACTION,
    VIDEO_BLOCK,
    AssignVideoForm,
    assign_video_form,
    assigned_notice,
    cancel_video_confirmation,
    extend_video_form,
    extended_notice,
)
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError
from core.models import PaymentMethod
from core.services import videos
from core.services.checkout import ManualPayment, PackagePayment, business_date
from core.services.passes import usable_passes_on
from core.services.videos import VideoRow

METHODS: tuple[Method, ...] = ("manual", "package")


def _video(uow: UnitOfWork, actor: Actor, uid: str, purchase_id: int) -> VideoRow:
    page = videos.list_videos(uow, actor, uid, query=f"#{purchase_id}", page_size=1)
    return row_of(page, "Video purchase", purchase_id)


def _assign_form(
    deps: Deps, actor: Actor, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The form as filled in, with the passes that can pay for the chosen video today."""
    payment = PaymentForm.read(values, METHODS)
    video_id = values.row_id(VIDEO_BLOCK)
    with deps.db.unit_of_work(readonly=True) as uow:
        offered = videos.video_options(uow, actor)
        video = next((v for v in offered if v.id == video_id), None)
        passes = None
        if payment.method == "package" and video is not None and video.credit_price is not None:
            today = business_date(uow.now(), deps.settings.business_timezone)
            passes = usable_passes_on(uow, actor, meta.details.uid, today, video.credit_price)
    return assign_video_form(
        meta,
        AssignVideoForm(
            videos=offered,
            video=video,
            payment=payment,
            methods=METHODS,
            passes=passes,
            problem=problem,
        ),
        currency=deps.settings.currency,
    )


def open_assign_video(opening: Opening) -> None:
    """Assign Video: the form, empty."""
    customer = opening.customer_for("assigning a video")
    if customer is None:
        return
    meta = opening.meta(name=customer.full_name)
    opening.push(_assign_form(opening.deps, opening.actor, meta, FormValues()))


def _open_extend(opening: Opening, purchase_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _video(uow, actor, uid, purchase_id))
    if row is not None:
        timezone = opening.deps.settings.business_timezone
        opening.push(extend_video_form(opening.meta(row_id=row.id), row, timezone=timezone))


def _open_cancel(opening: Opening, purchase_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _video(uow, actor, uid, purchase_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.VIDEOS, verb="cancel")
        timezone = opening.deps.settings.business_timezone
        opening.push(cancel_video_confirmation(meta, row, timezone))


def _cancel(deps: Deps, actor: Actor, purchase_id: int, uid: str) -> str:
    with deps.db.unit_of_work() as uow:
        row = videos.cancel_video(uow, actor, purchase_id, uid=uid)
    returned = (
        f"; {row.credits} CR went back to its pass"
        if row.payment_method is PaymentMethod.PACKAGE and row.credits
        else ""
    )
    return f"Cancelled {row.title} (purchase #{row.id}): access has ended{returned}."


ROW_ACTIONS = {
    (Tab.VIDEOS, "extend"): _open_extend,
    (Tab.VIDEOS, "cancel"): _open_cancel,
}
CONFIRMED = {(Tab.VIDEOS, "cancel"): _cancel}


def register(app: App) -> None:
    """Wire the Assign Video form (and its redraws) and Extend."""

    changes = (VIDEO_ACTION, f"{ASSIGN_PREFIX}.payment")

    @app.action(re.compile("^(" + "|".join(map(re.escape, changes)) + ")$"))
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
        form = PaymentForm.read(values, METHODS)
        payment, errors = payment_choice(form, deps.settings.currency)
        video_id = values.row_id(VIDEO_BLOCK)
        if video_id is None:
            errors[VIDEO_BLOCK] = "Choose the video."

        def redraw(problem: str) -> dict[str, Any]:
            return _assign_form(deps, actor, meta, values, problem)

        if not isinstance(payment, ManualPayment | PackagePayment) or video_id is None:
            refuse_now(ack, view, errors, redraw)
            return
        video, paid = video_id, payment
        timezone = deps.settings.business_timezone

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = videos.assign_video(uow, actor, meta.details.uid, video, payment=paid)
            except DomainError as exc:
                return refusal(view, exc, fallback=VIDEO_BLOCK)
            return Done(assigned_notice(row, meta.name, form, timezone), Tab.VIDEOS)

        finish(ack, client, deps, actor, view, meta, work, redraw)

    @app.view(EXTEND_CALLBACK)
    def on_extend(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None or meta.row_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        purchase_id, uid = meta.row_id, meta.details.uid
        timezone = deps.settings.business_timezone

        def redraw(problem: str) -> dict[str, Any]:
            with deps.db.unit_of_work(readonly=True) as uow:
                row = _video(uow, actor, uid, purchase_id)
            return extend_video_form(
                meta,
                row,
                timezone=timezone,
                days=values.text(DAYS_BLOCK),
                until=values.day(UNTIL_BLOCK),
                problem=problem,
            )

        typed, until = values.text(DAYS_BLOCK), values.day(UNTIL_BLOCK)
        days = whole_number(typed)
        problem = ""
        if typed and until is not None:
            problem = "Give extra days or a new end date, not both."
        elif typed and days is None:
            problem = "Enter a whole number of days, such as 30."
        elif not typed and until is None:
            problem = "Give extra days, or choose a new end date."
        if problem:
            refuse_now(ack, view, {DAYS_BLOCK: problem}, redraw)
            return
        expires_at = end_of_day(until, timezone) if until is not None else None

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = videos.extend_video(
                        uow, actor, purchase_id, expires_at=expires_at, extra_days=days, uid=uid
                    )
            except DomainError as exc:
                return refusal(view, exc, fallback=DAYS_BLOCK)
            return Done(extended_notice(row, timezone))

        finish(ack, client, deps, actor, view, meta, work, redraw)
