"""A customer's video purchases (the Videos tab): assigning a video; extending, cancelling it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, NotFound, ValidationFailed
from core.formatting import format_when
from core.models import Customer, PaymentMethod, Video, VideoPurchase, VideoState
from core.services import history
from core.services.checkout import (
    LinkPayment,
    ManualPayment,
    PackagePayment,
    business_date,
    lock_for_change,
    mark_awaiting,
    refuse_archived,
    return_paid_credits,
    settle,
)
from core.services.customers import load_for_change
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope
from core.services.workspaces import ensure_workspace

_VIDEOS = NamedCatalog(Video.id, Video.title, Video.team_id)


@dataclass(frozen=True)
class VideoRow:
    """One video purchase; `state` is computed at the request's time."""

    id: int
    purchased_at: datetime
    title: str
    expires_at: datetime | None
    price_minor: int | None
    credits: int | None
    currency: str
    payment_method: PaymentMethod
    state: VideoState
    # Unpaid, with a payment link the customer can still pay.
    awaiting_link: bool = False


def list_videos(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[VideoRow]:
    """One page of customer `uid`'s video purchases, newest first; `query` is a title or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_VIDEOS])
    statement = (
        select(VideoPurchase, Video.title)
        .join(Video, Video.id == VideoPurchase.video_id)
        .where(
            VideoPurchase.team_id == actor.team_id,
            VideoPurchase.customer_id == scope.customer_id,
            scope.condition(VideoPurchase.id, [VideoPurchase.video_id]),
        )
        .order_by(VideoPurchase.purchased_at.desc(), VideoPurchase.id.desc())
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    now = uow.now()
    listed = [_row(v, title, now) for v, title in rows]
    return Page(mark_awaiting(uow, actor.team_id, "video", listed), total, page, page_size)


def _row(v: VideoPurchase, title: str, now: datetime) -> VideoRow:
    return VideoRow(
        id=v.id,
        purchased_at=v.purchased_at,
        title=title,
        expires_at=v.expires_at,
        price_minor=v.price_minor,
        credits=v.credits,
        currency=v.currency,
        payment_method=v.payment_method,
        state=v.state_at(now),
    )


# -- actions --------------------------------------------------------------------------------

ASSIGNED = "video assigned"
EXTENDED = "video extended"
CANCELLED = "video cancelled"
MAX_EXTRA_DAYS = 3660


@dataclass(frozen=True)
class VideoOption:
    """A video staff can assign; `credit_price` None: money only; `access_days` None: no expiry."""

    id: int
    title: str
    price_minor: int
    credit_price: int | None
    access_days: int | None
    currency: str


def video_options(uow: UnitOfWork, actor: Actor) -> list[VideoOption]:
    """The workspace's videos that are not archived, by title."""
    currency = ensure_workspace(uow, actor.team_id).currency
    videos = uow.session.scalars(
        select(Video)
        .where(Video.team_id == actor.team_id, Video.archived.is_(False))
        .order_by(Video.title, Video.id)
    )
    return [
        VideoOption(v.id, v.title, v.price_minor, v.credit_price, v.access_days, currency)
        for v in videos
    ]


def _until(expires_at: datetime | None, timezone: str) -> str:
    return "no expiry" if expires_at is None else f"until {format_when(expires_at, timezone)}"


def assign_video(
    uow: UnitOfWork,
    actor: Actor,
    uid: str,
    video_id: int,
    *,
    payment: ManualPayment | PackagePayment | LinkPayment,
) -> VideoRow:
    """Give customer `uid` access to the video for its access days (or for good).

    Manual: its price unless overridden (0: free); Package: its credit price from a pass valid
    today. An archived video is refused, and so is one they can already watch: extend that."""
    customer = load_for_change(uow, actor, uid)
    refuse_archived(customer, "assigning a video")
    video = uow.session.scalars(
        select(Video).where(Video.id == video_id, Video.team_id == actor.team_id)
    ).first()
    if video is None:
        raise NotFound("That video no longer exists; choose another.")
    if video.archived:
        raise ValidationFailed({"video_id": f"{video.title} is archived; choose another video."})
    workspace = ensure_workspace(uow, actor.team_id)
    now = uow.now()
    current = uow.session.scalars(
        select(VideoPurchase).where(
            VideoPurchase.customer_id == customer.id,
            VideoPurchase.video_id == video.id,
            VideoPurchase.cancelled_at.is_(None),
            or_(VideoPurchase.expires_at.is_(None), VideoPurchase.expires_at > now),
        )
    ).first()
    if current is not None:
        raise DomainError(
            f"{customer.full_name} can already watch {video.title} "
            f"({_until(current.expires_at, workspace.timezone)}, purchase #{current.id}); "
            "extend that instead."
        )
    settled, credit_changes = settle(
        uow,
        customer,
        payment,
        intent=None,
        price_minor=video.price_minor,
        credit_price=video.credit_price,
        on=business_date(now, workspace.timezone),
        currency=workspace.currency,
        what=video.title,
    )
    purchase = VideoPurchase(
        team_id=actor.team_id,
        customer_id=customer.id,
        video_id=video.id,
        purchased_at=now,
        expires_at=None if video.access_days is None else now + timedelta(days=video.access_days),
        price_minor=settled.price_minor,
        credits=settled.credits,
        currency=workspace.currency,
        payment_method=settled.method,
        pass_id=settled.pass_id,
        version=1,
    )
    uow.session.add(purchase)
    uow.session.flush()
    history.record(
        uow,
        actor.user_id,
        customer,
        ASSIGNED,
        changes=credit_changes,
        detail=f"assigned {video.title}, {_until(purchase.expires_at, workspace.timezone)} "
        f"{settled.describe(workspace.currency)}, purchase #{purchase.id}",
    )
    return _row(purchase, video.title, now)


def _for_change(
    uow: UnitOfWork, actor: Actor, purchase_id: int, uid: str | None
) -> tuple[VideoPurchase, Customer, str]:
    purchase, customer = lock_for_change(
        uow, actor, VideoPurchase, purchase_id, "Video purchase", uid=uid
    )
    title = uow.session.scalar(select(Video.title).where(Video.id == purchase.video_id)) or ""
    if purchase.cancelled_at is not None:
        raise DomainError(
            f"{title} (purchase #{purchase.id}) is cancelled; assign it anew instead."
        )
    return purchase, customer, title


def extend_video(
    uow: UnitOfWork,
    actor: Actor,
    purchase_id: int,
    *,
    expires_at: datetime | None = None,
    extra_days: int | None = None,
    uid: str | None = None,
) -> VideoRow:
    """Give longer access: to `expires_at`, or `extra_days` more (from now if already expired)."""
    if expires_at is not None and extra_days is not None:
        raise ValueError("give expires_at or extra_days, not both")
    purchase, customer, title = _for_change(uow, actor, purchase_id, uid)
    timezone = ensure_workspace(uow, actor.team_id).timezone
    now = uow.now()
    before = purchase.expires_at
    if before is None:
        raise DomainError(f"{title} (purchase #{purchase.id}) never expires; nothing to extend.")
    if extra_days is not None:
        if not 1 <= extra_days <= MAX_EXTRA_DAYS:
            raise ValidationFailed({"extra_days": f"Give between 1 and {MAX_EXTRA_DAYS} days."})
        # Extra days count from now once access has run out, so they are days to watch.
        expires_at = max(before, now) + timedelta(days=extra_days)
    elif expires_at is None:
        raise ValueError("give expires_at or extra_days")
    if expires_at <= max(before, now):
        raise ValidationFailed(
            {"expires_at": f"Choose an end after {format_when(max(before, now), timezone)}."}
        )
    purchase.expires_at = expires_at
    purchase.version += 1
    history.record(
        uow,
        actor.user_id,
        customer,
        EXTENDED,
        changes={"expires": [format_when(before, timezone), format_when(expires_at, timezone)]},
        detail=f"extended {title} (purchase #{purchase.id}) {_until(expires_at, timezone)}",
    )
    uow.session.flush()
    return _row(purchase, title, now)


def cancel_video(
    uow: UnitOfWork, actor: Actor, purchase_id: int, *, uid: str | None = None
) -> VideoRow:
    """End the access now; credits go back to the pass that paid."""
    purchase, customer, title = _for_change(uow, actor, purchase_id, uid)
    now = uow.now()
    purchase.cancelled_at = now
    purchase.version += 1
    returned, changes = return_paid_credits(uow, actor.team_id, purchase)
    outcome = f"; {returned}" if returned else ""
    history.record(
        uow,
        actor.user_id,
        customer,
        CANCELLED,
        changes=changes,
        detail=f"cancelled {title} (purchase #{purchase.id}){outcome}",
    )
    uow.session.flush()
    return _row(purchase, title, now)
