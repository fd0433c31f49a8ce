"""The 12-month sales activity as a monospace text bar chart, which every Slack client can show."""

from __future__ import annotations

import math

from core.services.sales import SalesSeries, chart_data

BAR_WIDTH = 6
BAR = "█"
LEGEND = "B bookings · P passes · V videos, per month (cancelled ones not counted)"


def _bar(count: int, top: int) -> str:
    # Rounded up, so a single purchase still shows next to a month of many.
    length = math.ceil(count / top * BAR_WIDTH) if count and top else 0
    return (BAR * length).ljust(BAR_WIDTH)


def text_chart(series: SalesSeries) -> str:
    """One line per month, oldest first: a bar and a count for bookings, passes and videos."""
    rows = chart_data(series)
    top = max((max(b, p, v) for _, b, p, v in rows), default=0)
    width = max((len(str(n)) for _, *counts in rows for n in counts), default=1)
    lines = [
        f"{label}  B {_bar(b, top)} {b:>{width}}  P {_bar(p, top)} {p:>{width}}"
        f"  V {_bar(v, top)} {v:>{width}}"
        for label, b, p, v in rows
    ]
    return "```\n" + "\n".join(lines) + "\n```"
