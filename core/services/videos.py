"""A customer's video purchases (the Videos tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.actor import Actor
from core.db import UnitOfWork
from core.models import PaymentMethod, Video, VideoPurchase, VideoState
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope

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
    return Page(
        [
            VideoRow(
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
            for v, title in rows
        ],
        total,
        page,
        page_size,
    )
