"""The one place that turns money, credits, durations, dates and phone numbers into text for people."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision

LOCALE = "en_GB"
DATE_PATTERN = "d MMM yyyy"
NOTHING = "—"


def counted(count: int, one: str, other: str) -> str:
    """'1 pass', '2 passes', '1,234 customers': the count, and the noun its plural rule asks for."""
    noun = one if Locale.parse(LOCALE).plural_form(count) == "one" else other
    return f"{format_decimal(count, locale=LOCALE)} {noun}"


def format_phone(e164: str) -> str:
    """'+447700900123' → '+44 7700 900123'; anything unparsable is returned as stored."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_when(moment: datetime, timezone: str, *, with_zone: bool = True) -> str:
    """A UTC instant shown in the business time zone: '14 Mar 2026, 09:30 GMT'."""
    zone = ZoneInfo(timezone)
    text = format_datetime(moment, f"{DATE_PATTERN}, HH:mm", tzinfo=zone, locale=LOCALE)
    # tzdata's abbreviations (BST, EDT, JST) read better than CLDR's mixed long names.
    return f"{text} {moment.astimezone(zone).tzname()}" if with_zone else text


def format_date(day: date) -> str:
    """A calendar date: '14 Mar 2026'."""
    return babel_format_date(day, DATE_PATTERN, locale=LOCALE)


def format_money(minor: int, currency: str) -> str:
    """Integer minor units of `currency` as money: (1000, 'GBP') → '£10.00', (1200, 'JPY') → 'JP¥1,200'."""
    # Decimal keeps the amount exact; the exponent comes from ISO 4217 via CLDR (JPY 0, BHD 3).
    amount = Decimal(minor).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=LOCALE)


def plain_amount(minor: int, currency: str) -> str:
    """Minor units as the plain number a person types: (1250, 'GBP') → '12.50', (0, 'GBP') → '0.00'."""
    places = get_currency_precision(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def format_credits(credits: int) -> str:
    """Pass credits: '1 CR', '2 CR'."""
    return f"{credits} CR"


def format_price(price_minor: int | None, credits: int | None, currency: str) -> str:
    """What was paid: credits if paid with a pass, else money, else '—'."""
    if credits is not None:
        return format_credits(credits)
    if price_minor is not None:
        return format_money(price_minor, currency)
    return NOTHING


def format_duration(minutes: int) -> str:
    """A length of time: '45 min', '1 h', '1 h 30 min'."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
