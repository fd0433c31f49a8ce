"""The check-in views: button values read back strictly, what each state offers, long lists."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.views.attendance import (
    CHECKIN_ROWS_MAX,
    checkin_modal,
    mark_of,
    read_row_value,
    row_value,
)
from core.models import Attendance, PaymentMethod
from core.services.attendance import CheckInList, CheckInRow
from tests.views_check import assert_valid_view

NOW = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)


def test_a_button_value_is_read_back_only_when_well_formed() -> None:
    assert read_row_value(row_value("booking", 12, 3)) == ("booking", 12, 3)
    assert read_row_value("appointment|7|1") == ("appointment", 7, 1)
    for value in ("", "booking|12", "booking|12|3|4", "pass|1|1", "booking|x|1", "booking|1|-1"):
        assert read_row_value(value) is None
    assert read_row_value(f"booking|{2**63}|1") is None
    assert mark_of("checkin.attended") is Attendance.ATTENDED
    assert mark_of("attendance.no_show") is Attendance.NO_SHOW
    assert mark_of("attendance.undo") is None


def _row(n: int, mark: Attendance | None = None) -> CheckInRow:
    at = NOW if mark else None
    return CheckInRow(
        n, f"UID{n}", f"Person {n}", PaymentMethod.MANUAL, 1200, None, "GBP", mark, "U1", at, 1
    )


def _listing(rows: list[CheckInRow], *, open_now: bool = True) -> CheckInList:
    return CheckInList(9, "Morning Yoga", NOW, "Europe/London", 60, False, open_now, rows)


def _buttons(view: dict, booking_id: int) -> list[str]:
    for block in view["blocks"]:
        if block.get("block_id") == f"checkin_{booking_id}":
            return [e["text"]["text"] for e in block["elements"]]
    return []


def test_each_state_offers_the_other_marks_and_undo_once_recorded() -> None:
    view = checkin_modal(
        _listing([_row(1), _row(2, Attendance.ATTENDED), _row(3, Attendance.NO_SHOW)]),
        timezone="Europe/London",
    )
    assert_valid_view(view)
    assert _buttons(view, 1) == ["Attended", "No-show"]
    assert _buttons(view, 2) == ["No-show", "Undo"]
    assert _buttons(view, 3) == ["Attended", "Undo"]
    closed = checkin_modal(_listing([_row(1)], open_now=False), timezone="Europe/London")
    assert _buttons(closed, 1) == []


def test_a_long_list_stays_within_slacks_block_limit() -> None:
    rows = [_row(n) for n in range(1, 60)]
    view = checkin_modal(_listing(rows), timezone="Europe/London")
    assert_valid_view(view)
    assert len(view["blocks"]) <= 100
    assert _buttons(view, CHECKIN_ROWS_MAX) and not _buttons(view, CHECKIN_ROWS_MAX + 1)
    assert f"Showing {CHECKIN_ROWS_MAX} of 59 bookings" in str(view)
