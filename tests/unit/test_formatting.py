"""Money, credits, durations, dates and times as people read them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.formatting import (
    counted,
    format_credits,
    format_date,
    format_duration,
    format_money,
    format_phone,
    format_price,
    format_when,
)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1000, "GBP", "£10.00"),
        (750, "EUR", "€7.50"),
        (1200, "USD", "US$12.00"),  # en_GB tells dollars apart
        (0, "GBP", "£0.00"),
        (5, "GBP", "£0.05"),
        (123456789, "GBP", "£1,234,567.89"),
        (-250, "GBP", "-£2.50"),
        (1200, "JPY", "JP¥1,200"),  # no minor unit: 1200 is twelve hundred yen
        (1234, "BHD", "BHD1.234"),  # three decimals
    ],
)
def test_money_uses_the_currencys_own_minor_unit(minor: int, currency: str, text: str) -> None:
    assert format_money(minor, currency) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_money_never_loses_a_penny(minor: int) -> None:
    text = format_money(minor, "GBP")
    assert int(text.removeprefix("£").replace(",", "").replace(".", "")) == minor


def test_credits() -> None:
    assert format_credits(1) == "1 CR"
    assert format_credits(2) == "2 CR"


@pytest.mark.parametrize(
    ("price", "credits", "text"),
    [
        (1000, None, "£10.00"),
        (None, 1, "1 CR"),
        (None, 3, "3 CR"),
        (0, None, "£0.00"),
        (None, None, "—"),
    ],
)
def test_price_is_money_or_credits(price: int | None, credits: int | None, text: str) -> None:
    assert format_price(price, credits, "GBP") == text


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0, "0 min"),
        (45, "45 min"),
        (60, "1 h"),
        (90, "1 h 30 min"),
        (125, "2 h 5 min"),
    ],
)
def test_durations(minutes: int, text: str) -> None:
    assert format_duration(minutes) == text


def test_dates_read_day_month_year() -> None:
    assert format_date(date(2026, 3, 14)) == "14 Mar 2026"
    assert format_date(date(2026, 1, 2)) == "2 Jan 2026"


def test_date_and_time_are_shown_in_the_given_zone_with_its_abbreviation() -> None:
    winter = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert format_when(winter, "Europe/London") == "14 Mar 2026, 09:30 GMT"
    assert format_when(summer, "Europe/London") == "2 Jul 2026, 00:30 BST"
    assert format_when(summer, "America/New_York") == "1 Jul 2026, 19:30 EDT"
    assert format_when(winter, "Europe/Madrid", with_zone=False) == "14 Mar 2026, 10:30"
    # One date style everywhere: the date part of a time reads like a date.
    assert format_when(winter, "Europe/London").startswith(format_date(date(2026, 3, 14)))


def test_phone_numbers_are_grouped_for_reading() -> None:
    assert format_phone("+447700900123") == "+44 7700 900123"
    assert format_phone("not a number") == "not a number"


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 passes"), (1, "1 pass"), (2, "2 passes"), (1234, "1,234 passes")],
)
def test_a_count_agrees_with_its_noun(count: int, text: str) -> None:
    assert counted(count, "pass", "passes") == text
