"""The Videos tab's listeners: the Assign Video form (and its redraws) and Extend."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.surfaces import videos as surface
from bot.surfaces.commerce import Change, Done, commerce_form, redraws
from bot.surfaces.payment_links import finish_with_link
from bot.views.commerce.form_state import PaymentForm
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
    assigned_notice,
    extended_notice,
)
from core.actor import Actor
from core.db import UnitOfWork
from core.services import videos
from core.services.checkout import LinkPayment, ManualPayment, PackagePayment

CHANGES = (VIDEO_ACTION, f"{ASSIGN_PREFIX}.payment")


on_change = redraws(surface.assign_form)


def on_assign(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Assign Video submitted: give access, or say what to fix."""
    form = commerce_form(ack, view, context, client, surface.assign_form)
    if form is None:
        return
    meta, values, request = form.meta, form.values, form.request
    filled = PaymentForm.read(values, surface.methods(request, meta))
    payment, errors = payment_choice(filled, request.currency)
    video_id = values.row_id(VIDEO_BLOCK)
    if video_id is None:
        errors[VIDEO_BLOCK] = "Choose the video."
    if not isinstance(payment, ManualPayment | PackagePayment | LinkPayment) or video_id is None:
        form.refuse(errors)
        return
    chosen, paid, timezone, uid = video_id, payment, request.timezone, meta.details.uid
    if isinstance(paid, LinkPayment):
        finish_with_link(
            form,
            "video",
            lambda uow, actor: videos.assign_video(uow, actor, uid, chosen, payment=paid).id,
            VIDEO_BLOCK,
            Tab.VIDEOS,
        )
        return

    def assign(uow: UnitOfWork, actor: Actor) -> Done:
        row = videos.assign_video(uow, actor, uid, chosen, payment=paid)
        return Done(assigned_notice(row, meta.name, filled, timezone), Tab.VIDEOS)

    form.finish(Change(assign, VIDEO_BLOCK))


def _extend_problem(typed: str, days: int | None, until: object) -> str:
    """What is wrong with the extension asked for ('' when nothing)."""
    if typed and until is not None:
        return "Give extra days or a new end date, not both."
    if typed and days is None:
        return "Enter a whole number of days, such as 30."
    if not typed and until is None:
        return "Give extra days, or choose a new end date."
    return ""


def on_extend(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Extend submitted: extra days or a new end date, not both."""
    form = commerce_form(ack, view, context, client, surface.extend, row=True)
    if form is None:
        return
    typed, until = form.values.text(DAYS_BLOCK), form.values.day(UNTIL_BLOCK)
    days = whole_number(typed)
    problem = _extend_problem(typed, days, until)
    if problem:
        form.refuse({DAYS_BLOCK: problem})
        return
    timezone, purchase_id, uid = form.request.timezone, form.row_id, form.meta.details.uid
    expires_at = end_of_day(until, timezone) if until is not None else None

    def extend(uow: UnitOfWork, actor: Actor) -> Done:
        row = videos.extend_video(
            uow, actor, purchase_id, expires_at=expires_at, extra_days=days, uid=uid
        )
        return Done(extended_notice(row, timezone))

    form.finish(Change(extend, DAYS_BLOCK))


def register(app: App) -> None:
    """Wire the Assign Video form (and its redraws) and Extend."""
    app.action(re.compile("^(" + "|".join(map(re.escape, CHANGES)) + ")$"))(on_change)
    app.view(ASSIGN_CALLBACK)(on_assign)
    app.view(EXTEND_CALLBACK)(on_extend)
