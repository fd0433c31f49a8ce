"""What staff type into the commerce forms, read as money, whole numbers and days."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision, get_currency_symbol

from core.formatting import format_money
from core.services.checkout import MAX_PRICE_MINOR

_WHOLE = re.compile(r"[+-]?\d{1,9}")
MONEY_MAX_CHARS = 20


def parse_money(text: str, currency: str) -> int:
    """'12', '12.5', '£1,200.00' → minor units of `currency`; ValueError says what is wrong."""
    symbol = get_currency_symbol(currency, locale="en_GB")
    cleaned = text.strip().replace(",", "").replace(symbol, "").replace(currency, "").strip()
    places = get_currency_precision(currency)
    example = format_money(1250 if places == 2 else 12 * 10**places, currency)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"Enter an amount such as {example}.") from None
    if not amount.is_finite():
        raise ValueError(f"Enter an amount such as {example}.")
    if amount < 0:
        raise ValueError("Enter zero or more.")
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        raise ValueError(f"Use at most {places} decimal places.")
    if minor > MAX_PRICE_MINOR:
        raise ValueError(f"That is more than {format_money(MAX_PRICE_MINOR, currency)}.")
    return int(minor)


def money_text(minor: int, currency: str) -> str:
    """Minor units as the plain number a person would type: 1250 → '12.50'."""
    return str(Decimal(minor).scaleb(-get_currency_precision(currency)))


def end_of_day(day: date, timezone: str) -> datetime:
    """The last minute of `day` in `timezone`, as an aware instant (an expiry chosen by date)."""
    return datetime.combine(day, time(23, 59), tzinfo=ZoneInfo(timezone))


def whole_number(text: str) -> int | None:
    """'+2', '-1', '30' → the number; None for anything else."""
    cleaned = text.replace(" ", "")
    return int(cleaned) if _WHOLE.fullmatch(cleaned) else None
