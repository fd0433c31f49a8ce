"""The studio's Stripe account on screen: the modal opened from Home, checking a pasted key
with Stripe before it is stored, and disconnecting."""

from __future__ import annotations

from slack_bolt import Ack

from bot.context.request import Request, Submission
from bot.surfaces.hub import HubControl, show_hub
from bot.views.notice import Notice
from bot.views.origin import Origin
from bot.views.stripe_account import (
    FIELDS,
    StripeMeta,
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
from core.services.stripe_connect import disconnect_studio

# Checking a key must end within Slack's 3 s for the modal's answer: one short try.
CHECK_TIMEOUT = 2.0
WEBHOOK_PATH = "/stripe/webhook/"


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
    """Connect with Stripe pressed: Slack opened its link (admins only see it); tell anyone else
    why it can't connect."""
    if not control.request.actor.is_admin:
        control.tell(ADMINS_ONLY)


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
    key, secret = submitted_stripe(form.state)
    try:
        key, secret = _checked(form.request, key, secret)
        hint = form.request.write(lambda uow, actor: save_stripe_key(uow, actor, key, secret))
    except ValidationFailed as exc:
        ack(response_action="errors", errors={f: m for f, m in exc.errors.items() if f in FIELDS})
        return
    except DomainError as exc:
        ack(response_action="update", view=stripe_message(exc.message))
        return
    ack()
    text = f"Stripe connected with key {hint}." if key else "Saved the webhook signing secret."
    show_hub(form.request, Origin(surface="home", hub=form.meta.hub), notice=Notice(text, ok=True))
