"""The retention report's chart and text: the lines plot the report's numbers, and the message
carries the same numbers as a table with what each column means."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from bot.views.retention import retention_table, retention_text
from core.adapters.charts import RETENTION_NAMES, render_retention_chart, retention_figure
from core.services.retention import RetentionReport

MONTHS = [date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]
REPORT = RetentionReport(
    months=MONTHS,
    active=[120, 1310, 0],
    new=[14, 210, 0],
    returning=[106, 1100, 0],
    lapsed=[9, 31, 2],
    timezone="Europe/London",
)


def test_the_lines_plot_the_reports_numbers_in_order() -> None:
    ax = retention_figure(REPORT).axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == list(RETENTION_NAMES)
    plotted = [[int(y) for y in line.get_ydata()] for line in lines]
    assert plotted == [REPORT.active, REPORT.new, REPORT.returning, REPORT.lapsed]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Apr 25", "May 25", "Jun 25"]
    assert ax.get_xlabel() == "Month (Europe/London)"


def test_a_workspace_without_visits_still_renders_with_a_note() -> None:
    empty = RetentionReport(MONTHS, [0] * 3, [0] * 3, [0] * 3, [0] * 3, "UTC")
    texts = [t.get_text() for t in retention_figure(empty).axes[0].texts]
    assert texts == ["No visits in these months"]
    png = render_retention_chart(empty)
    assert Image.open(io.BytesIO(png)).size == (800, 350)


def test_the_table_aligns_every_column_under_its_heading() -> None:
    assert retention_table(REPORT).splitlines() == [
        "```",
        "Month   Active  New  Returning  Lapsed",
        "Apr 25     120   14        106       9",
        "May 25    1310  210       1100      31",
        "Jun 25       0    0          0       2",
        "```",
    ]


def test_the_message_says_what_each_column_means_and_who_asked() -> None:
    text = retention_text(REPORT, asked_by="USTAFF")
    assert text.startswith("*Retention of the last 3 months* (calendar months, Europe/London).")
    assert "Asked for by <@USTAFF>." in text
    assert "Lapsed: customers who reached 60 days without a visit during the month" in text
    assert "New: active whose first visit ever was that month" in text
    assert "Asked for" not in retention_text(REPORT)
