"""What the catalog's forms share: admin-only changes, audited, with whole numbers and prices
read from what an admin typed."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, get_currency_symbol

from core.actor import Actor
from core.errors import Forbidden
from core.formatting import format_money
from core.services.checkout import MAX_PRICE_MINOR

ADMINS_ONLY = "Only an admin can change the catalog."
CREDITS_MAX = 1_000
# ASCII digits only: int() and Decimal() also read other scripts' digits, which no one types here.
_WHOLE = re.compile(r"[+-]?[0-9]{1,9}")
_AMOUNT = re.compile(r"-?[0-9]{1,12}(?:\.[0-9]{1,6})?")


def require_admin(actor: Actor) -> None:
    """Refuse anyone but an admin."""
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)


def whole_number(text: str, label: str, low: int, high: int) -> tuple[int, str | None]:
    """`text` as a whole number from `low` to `high`, or what to fix (`label` names it)."""
    cleaned = text.strip().replace(",", "")
    if not _WHOLE.fullmatch(cleaned):
        return 0, f"Enter {label} as a whole number, such as {max(low, 10)}."
    value = int(cleaned)
    if value < low:
        return value, f"{label.capitalize()} must be at least {low}."
    if value > high:
        return value, f"{label.capitalize()} can be at most {high:,}."
    return value, None


def money_amount(text: str, currency: str) -> tuple[int, str | None]:
    """`text` as a price in minor units of `currency`, or what to fix."""
    places = get_currency_precision(currency)
    example = format_money(1250 if places == 2 else 12 * 10**places, currency)
    symbol = get_currency_symbol(currency, locale="en_GB")
    cleaned = text.replace(",", "").replace(symbol, "").replace(currency, "").strip()
    try:
        amount = Decimal(cleaned) if _AMOUNT.fullmatch(cleaned) else None
    except InvalidOperation:
        amount = None
    if amount is None:
        return 0, f"Enter the price as an amount such as {example} (0 for free)."
    if amount < 0:
        return 0, "The price can't be negative; enter 0 for free."
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        return 0, f"Use at most {places} decimal places."
    if minor > MAX_PRICE_MINOR:
        return 0, f"The price can be at most {format_money(MAX_PRICE_MINOR, currency)}."
    return int(minor), None
