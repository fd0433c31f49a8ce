"""A customer's figures on their details: visits, attendance and spend, in one section."""

from __future__ import annotations

from bot.views.blocks import Block, fields
from bot.views.tabs import local_date
from core.formatting import counted, format_money
from core.services.figures import RECENT_DAYS, Figures


def _money(figures: Figures, per_month: bool) -> str:
    if not figures.spend:
        return "Nothing yet"
    return " · ".join(
        format_money(s.per_month_minor if per_month else s.total_minor, s.currency)
        for s in figures.spend
    )


def figures_block(figures: Figures, timezone: str) -> Block:
    """First and last visit (or "No visits yet"), recent visits, attendance, spend."""
    if figures.first_visit is None or figures.last_visit is None:
        visits = [("Visits", "No visits yet")]
    else:
        visits = [
            ("First visit", local_date(figures.first_visit, timezone)),
            ("Last visit", local_date(figures.last_visit, timezone)),
        ]
    block = fields(
        [
            *visits,
            (f"Last {RECENT_DAYS} days", counted(figures.recent_visits, "visit", "visits")),
            (
                "Attendance",
                f"Attended {figures.visits:,} · No-shows {figures.no_shows:,}",
            ),
            ("Lifetime spend", _money(figures, per_month=False)),
            ("Average per month", _money(figures, per_month=True)),
        ]
    )
    return {**block, "block_id": "details_figures"}
