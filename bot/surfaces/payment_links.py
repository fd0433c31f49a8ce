"""Payment links from a customer's details: a commerce form's "Send a payment link", and
*Send payment link* on an unpaid row (which shows an open link again rather than resending)."""

from __future__ import annotations

from collections.abc import Callable

from bot.surfaces.commerce import CommerceForm, Done, Opening, StripeChange
from bot.views.commerce.form_state import PAYMENT_BLOCK
from bot.views.origin import Tab
from bot.views.payment_links import link_notice
from core.actor import Actor
from core.db import Transactions, UnitOfWork
from core.errors import DomainError
from core.services import payment_links
from core.services.payment_links import RecordKind

RowAction = Callable[[Opening, int], None]


def send_link_action(kind: RecordKind) -> RowAction:
    """*Send payment link* on a row of `kind`: mail it (or show the open one) and say so."""

    def act(opening: Opening, row_id: int) -> None:
        request, uid = opening.request, opening.details.uid
        gateway = request.gateway
        try:
            sent = request.steps(
                lambda db, actor: payment_links.send_link(
                    db, actor, kind, row_id, gateway=gateway, uid=uid
                )
            )
        except DomainError as exc:
            opening.tell(exc.message)
            return
        opening.tell(link_notice(sent, request.timezone), ok=True)

    return act


def finish_with_link(
    form: CommerceForm,
    kind: RecordKind,
    create: Callable[[UnitOfWork, Actor], int],
    fallback: str,
    tab: Tab,
) -> None:
    """A form's "Send a payment link": make the record unpaid with `create`, then mail its
    link; when Stripe fails nothing is kept, and the form says why under the payment."""
    gateway, timezone = form.request.gateway, form.request.timezone

    def make(db: Transactions, actor: Actor) -> Done:
        sent = payment_links.create_and_send(db, actor, kind, create, gateway=gateway)
        return Done(link_notice(sent, timezone), tab)

    form.finish(StripeChange(make, fallback, PAYMENT_BLOCK))
