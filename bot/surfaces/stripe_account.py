"""The studio's Stripe account on screen: the modal opened from Home, checking a pasted key
with Stripe before it is stored, and disconnecting."""

from __future__ import annotations

from slack_bolt import Ack

from bot.context.request import Request, Submission
from bot.surfaces.form_answers import saved_or_answered
from bot.surfaces.hub import HubControl, show_hub
from bot.views.notice import Notice
from bot.views.origin import Origin
from bot.views.stripe_account import (
    CONNECT_START,
    FIELDS,
    StripeMeta,
    connect_modal,
    stripe_message,
    stripe_modal,
    submitted_stripe,
)
from core.adapters.payments import PaymentError, StripeAccess
from core.errors import DomainError, ValidationFailed
from core.services.stripe_account import (
    ADMINS_ONLY,
    clean_stripe_form,
    save_stripe_key,
    stripe_status,
)
from core.services.stripe_connect import disconnect_studio, start_connect
from core.services.stripe_webhooks import WEBHOOK_PATH

# Checking a key must end within Slack's 3 s for the modal's answer: one short try.
CHECK_TIMEOUT = 2.0


def webhook_url(request: Request) -> str:
    """Where this studio's Stripe webhook endpoint points."""
    base = (request.deps.settings.public_base_url or "https://<this server>").rstrip("/")
    return f"{base}{WEBHOOK_PATH}{request.actor.team_id}"


def open_stripe(control: HubControl) -> None:
    """Open the Stripe modal over Home for an admin; tell anyone else why not."""
    request = control.request
    if not request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return
    status = request.read(lambda uow, actor: stripe_status(uow, actor.team_id))
    control.open(stripe_modal(status, webhook_url(request), StripeMeta(hub=control.origin.hub)))


def connect_pressed(control: HubControl) -> None:
    """Connect with Stripe pressed on Home: a link made now, for this admin, in a modal (the
    link's own press was opened by Slack); tell anyone else why it can't connect."""
    request = control.request
    if not request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return
    connect = request.deps.stripe_connect
    if control.value != CONNECT_START or connect is None:
        return
    control.open(connect_modal(connect.authorize_url(request.write(start_connect))))


def disconnect(control: HubControl) -> None:
    """Disconnect pressed (and confirmed) on Home; a Connect account is ended with Stripe too."""
    connect = control.request.deps.stripe_connect
    try:
        ok, text = control.request.steps(lambda db, actor: disconnect_studio(db, actor, connect))
    except DomainError as exc:
        control.tell(exc.message)
        return
    control.tell(text, ok=ok)


def _checked(request: Request, key: str, secret: str) -> tuple[str, str]:
    """The form's values once valid and, when a new key is given, accepted by Stripe."""
    has_key = request.read(lambda uow, actor: stripe_status(uow, actor.team_id)).source == "own key"
    key, secret = clean_stripe_form(key, secret, has_key=has_key)
    if key:
        gateway = request.deps.gateways.build(
            StripeAccess(key), timeout=CHECK_TIMEOUT, max_network_retries=0
        )
        try:
            gateway.check_access()
        except PaymentError as exc:
            raise ValidationFailed({"stripe_key": exc.message}) from None
    return key, secret


def save_stripe(ack: Ack, form: Submission[StripeMeta]) -> None:
    """Check and store what was submitted and redraw Home, or answer the problems under fields."""
    typed = submitted_stripe(form.state)

    def save() -> tuple[str, str]:
        key, secret = _checked(form.request, *typed)
        hint = form.request.write(lambda uow, actor: save_stripe_key(uow, actor, key, secret))
        return key, hint

    done = saved_or_answered(ack, save, FIELDS, stripe_message)
    if done is None:
        return
    ack()
    key, hint = done.value
    text = f"Stripe connected with key {hint}." if key else "Saved the webhook signing secret."
    show_hub(form.request, Origin(surface="home", hub=form.meta.hub), notice=Notice(text, ok=True))
