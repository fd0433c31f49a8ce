"""Today's calendar rules: the local day's bounds across the clocks changing, birthdays' days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.services.today import birthday_days, day_bounds, local_day


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 8), 23),  # Los Angeles: the clocks go forward
        (date(2026, 11, 1), 25),  # and back
        (date(2026, 6, 1), 24),
    ],
)
def test_a_local_day_lasts_as_long_as_its_clocks_say(day: date, hours: int) -> None:
    start, end = day_bounds(day, "America/Los_Angeles")
    assert end - start == timedelta(hours=hours)
    assert local_day(start, "America/Los_Angeles") == day
    assert local_day(end - timedelta(microseconds=1), "America/Los_Angeles") == day
    assert local_day(end, "America/Los_Angeles") == day + timedelta(days=1)


def test_the_same_instant_is_another_day_elsewhere() -> None:
    now = datetime(2026, 3, 14, 11, 30, tzinfo=UTC)
    assert local_day(now, "Pacific/Auckland") == date(2026, 3, 15)
    assert local_day(now, "America/Los_Angeles") == date(2026, 3, 14)


def test_leap_day_birthdays_fall_on_28_february_in_other_years() -> None:
    assert birthday_days(date(2027, 2, 28)) == (2, (28, 29))
    assert birthday_days(date(2028, 2, 28)) == (2, (28,))
    assert birthday_days(date(2028, 2, 29)) == (2, (29,))
    assert birthday_days(date(2027, 3, 1)) == (3, (1,))
