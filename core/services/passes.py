"""A customer's passes (the Passes tab)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from core.actor import Actor
from core.db import UnitOfWork
from core.models import Pass, PassState, PassType, PaymentMethod
from core.services.paging import Page, fetch_page
from core.services.tabs import NamedCatalog, tab_scope

_PASS_TYPES = NamedCatalog(PassType.id, PassType.name, PassType.team_id)


@dataclass(frozen=True)
class PassRow:
    """One pass as the tab shows it."""

    id: int
    purchased_at: datetime
    name: str
    valid_from: date
    valid_to: date
    credits_total: int
    credits_remaining: int
    price_minor: int
    currency: str
    payment_method: PaymentMethod
    state: PassState


def list_passes(
    uow: UnitOfWork, actor: Actor, uid: str, *, query: str = "", page: int = 1, page_size: int = 10
) -> Page[PassRow]:
    """One page of customer `uid`'s passes, newest first; `query` is a pass name or '#id'."""
    scope = tab_scope(uow, actor, uid, query, [_PASS_TYPES])
    statement = (
        select(Pass, PassType.name.label("pass_name"))
        .join(PassType, PassType.id == Pass.pass_type_id)
        .where(
            Pass.team_id == actor.team_id,
            Pass.customer_id == scope.customer_id,
            scope.condition(Pass.id, [Pass.pass_type_id]),
        )
        .order_by(Pass.purchased_at.desc(), Pass.id.desc())
    )
    rows, total, page, page_size = fetch_page(uow, statement, page=page, page_size=page_size)
    return Page(
        [
            PassRow(
                id=p.id,
                purchased_at=p.purchased_at,
                name=name,
                valid_from=p.valid_from,
                valid_to=p.valid_to,
                credits_total=p.credits_total,
                credits_remaining=p.credits_remaining,
                price_minor=p.price_minor,
                currency=p.currency,
                payment_method=p.payment_method,
                state=p.state,
            )
            for p, name in rows
        ],
        total,
        page,
        page_size,
    )
