"""Assign Video, and a video's Extend and Cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.views.blocks import Block, clip, context, escape, form_modal, named_option, section
from bot.views.commerce.form_state import CommerceMeta, Method, PaymentForm
from bot.views.commerce.modals import confirmation, nothing_to_offer, problem_block
from bot.views.commerce.payment import PaymentOffer, payment_blocks
from bot.views.commerce.payment_text import cancelled_payment
from bot.views.inputs import date_picker, input_block, number_input, static_select
from bot.views.tabs import local_date
from core.formatting import format_credits, format_money
from core.models import PaymentMethod
from core.services.passes import PassRow
from core.services.videos import MAX_EXTRA_DAYS, VideoOption, VideoRow

ASSIGN_CALLBACK = "assign_video.submit"
EXTEND_CALLBACK = "video_extend.submit"
ASSIGN_PREFIX = "assign_video"
VIDEO_BLOCK = "video_id"
VIDEO_ACTION = "assign_video.video"
DAYS_BLOCK = "extra_days"
DAYS_ACTION = "video_extend.days"
UNTIL_BLOCK = "expires_at"
UNTIL_ACTION = "video_extend.until"


def video_option(video: VideoOption) -> dict[str, Any]:
    """'Yoga for Runners · £8.00 or 1 CR · 30 days', value its id."""
    price = format_money(video.price_minor, video.currency)
    if video.credit_price is not None:
        price += f" or {format_credits(video.credit_price)}"
    access = f"{video.access_days} days" if video.access_days else "no expiry"
    suffix = f" · {price} · {access}"
    return named_option(video.title, suffix, str(video.id))


@dataclass(frozen=True)
class AssignVideoForm:
    """Assign Video as filled in so far, with what the chosen video offers."""

    videos: list[VideoOption]
    video: VideoOption | None = None
    payment: PaymentForm = field(default_factory=PaymentForm)
    methods: tuple[Method, ...] = ("manual", "package")
    # The passes that can pay for the chosen video today.
    passes: list[PassRow] | None = None
    problem: str = ""


def _payment_offer(form: AssignVideoForm, name: str) -> PaymentOffer:
    video = form.video
    if video is None:
        no_passes = "Choose the video first; the passes that can pay for it appear here."
    elif video.credit_price is None:
        no_passes = f"{escape(video.title)} can't be paid with pass credits; choose Manual."
    else:
        no_passes = (
            f"{name} has no pass valid today with {format_credits(video.credit_price)} left. "
            "Assign one on the Passes tab, or choose Manual."
        )
    return PaymentOffer(
        form.methods,
        "Blank charges the video's price; 0 gives it free.",
        passes=form.passes if video is not None and video.credit_price is not None else None,
        passes_for=str(video.id) if video is not None else "",
        no_passes=no_passes,
    )


def assign_video_form(
    meta: CommerceMeta, form: AssignVideoForm, *, currency: str
) -> dict[str, Any]:
    """Video and payment; choosing either redraws the form (the passes depend on the video)."""
    if not form.videos:
        return nothing_to_offer("Assign Video", "videos to assign")
    name = escape(clip(meta.name, 200))
    blocks: list[Block] = [
        *problem_block(form.problem),
        context(f"Giving *{name}* access to a video, from now for its access days."),
        input_block(
            VIDEO_BLOCK,
            "Video",
            static_select(
                VIDEO_ACTION,
                [video_option(v) for v in form.videos],
                placeholder="Choose a video",
                chosen=video_option(form.video) if form.video is not None else None,
            ),
            dispatch=True,
        ),
        *payment_blocks(ASSIGN_PREFIX, form.payment, _payment_offer(form, name), currency),
    ]
    return form_modal("Assign Video", blocks, meta, callback_id=ASSIGN_CALLBACK, submit="Assign")


def assigned_notice(row: VideoRow, name: str, payment: PaymentForm, timezone: str) -> str:
    """'Gave Zoë Adams Yoga for Runners until 13 Apr 2026 (1 CR from 10-class pass #12).'"""
    if row.payment_method is PaymentMethod.PACKAGE:
        how = f"{format_credits(row.credits or 0)} from {payment.pass_label or 'their pass'}"
    elif row.price_minor:
        how = f"{format_money(row.price_minor, row.currency)}, paid manually"
    else:
        how = "free"
    until = f"until {local_date(row.expires_at, timezone)}" if row.expires_at else "for good"
    return f"Gave {name} {row.title} {until} ({how}), purchase #{row.id}."


def video_title(row: VideoRow, timezone: str) -> str:
    """'Yoga for Runners (purchase #3, expires 13 Apr 2026)'."""
    expires = f"expires {local_date(row.expires_at, timezone)}" if row.expires_at else "no expiry"
    return f"{row.title} (purchase #{row.id}, {expires})"


def extend_video_form(
    meta: CommerceMeta,
    row: VideoRow,
    *,
    timezone: str,
    days: str = "",
    until: date | None = None,
    problem: str = "",
) -> dict[str, Any]:
    """More days, or a new end date: one of the two."""
    blocks: list[Block] = [
        *problem_block(problem),
        section(f"*{escape(clip(video_title(row, timezone), 600))}*"),
        input_block(
            DAYS_BLOCK,
            "Extra days",
            number_input(
                DAYS_ACTION, initial=days, placeholder="e.g. 30", low=1, high=MAX_EXTRA_DAYS
            ),
            hint="Counted from the current end, or from now if it has already ended.",
            optional=True,
        ),
        input_block(
            UNTIL_BLOCK,
            "…or a new end date",
            date_picker(UNTIL_ACTION, initial=until, placeholder="Last day"),
            hint="Access ends at the end of that day.",
            optional=True,
        ),
    ]
    return form_modal(
        f"Extend video #{row.id}", blocks, meta, callback_id=EXTEND_CALLBACK, submit="Extend"
    )


def extended_notice(row: VideoRow, timezone: str) -> str:
    """'Yoga for Runners (purchase #3) now expires 13 May 2026.'"""
    expires = local_date(row.expires_at, timezone) if row.expires_at else "never"
    return f"{row.title} (purchase #{row.id}) now expires {expires}."


def cancel_video_confirmation(meta: CommerceMeta, row: VideoRow, timezone: str) -> dict[str, Any]:
    """Cancel a video purchase? Access ends now."""
    return confirmation(
        meta,
        title="Cancel video?",
        question=f"Cancel *{escape(clip(video_title(row, timezone), 600))}*? "
        "They lose access to it now.",
        consequences=[cancelled_payment(row)],
        submit="Cancel video",
    )
