"""What staff are told of a payment link: where it went, until when, and the link to copy."""

from __future__ import annotations

from core.formatting import format_money, format_when
from core.services.payment_links import SentLink


def link_notice(sent: SentLink, timezone: str) -> str:
    """'Payment link for booking #12 (…) (£12.00) mailed to zoe@example.com; it works until …'

    Slack can't put text on the clipboard, so the link is shown for staff to select and copy."""
    title = sent.title
    if sent.paid:
        return (
            f"{title[:1].upper()}{title[1:]} was paid through Stripe meanwhile; it is recorded now."
        )
    # A plan's title says its price already.
    money = "" if sent.subscription else f" ({format_money(sent.amount_minor, sent.currency)})"
    until = format_when(sent.expires_at, timezone)
    kind = "Subscription link" if sent.subscription else "Payment link"
    if sent.new:
        head = f"{kind} for {title}{money} mailed to {sent.sent_to}"
    else:
        head = (
            f"The {kind.lower()} for {title}{money} mailed to {sent.sent_to} is still open, "
            "so it was not sent again"
        )
    after = (
        " The subscription shows here once they have paid."
        if sent.subscription
        else " It shows Awaiting payment until they pay."
    )
    return (
        f"{head}; it works until {until}.{after} To give it another way, select the link "
        f"and copy it (Slack can't copy it for you): `{sent.url}`"
    )
