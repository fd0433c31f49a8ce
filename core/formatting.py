"""The one place that turns money, dates and phone numbers into text for people."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import format_datetime

LOCALE = "en_GB"


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
    text = format_datetime(moment, "d MMM yyyy, HH:mm", tzinfo=zone, locale=LOCALE)
    # tzdata's abbreviations (BST, EDT, JST) read better than CLDR's mixed long names.
    return f"{text} {moment.astimezone(zone).tzname()}" if with_zone else text
