"""The retention report's numbers as text, posted with its chart: every client can read them."""

from __future__ import annotations

from bot.views.blocks import Block, actions, button, context, divider, header
from core.services.retention import DEFINITIONS, RetentionReport

HEADINGS = ("Month", "Active", "New", "Returning", "Lapsed")
POST_ACTION = "retention.post"


def retention_table(report: RetentionReport) -> str:
    """A monospace table, one line per month (oldest first), in a code block."""
    rows = [[str(value) for value in row] for row in report.rows()]
    widths = [max(len(cell) for cell in column) for column in zip(HEADINGS, *rows, strict=True)]

    def line(cells: tuple[str, ...] | list[str]) -> str:
        first, *numbers = cells
        return "  ".join(
            [
                first.ljust(widths[0]),
                *(n.rjust(w) for n, w in zip(numbers, widths[1:], strict=True)),
            ]
        )

    return "```\n" + "\n".join([line(HEADINGS), *map(line, rows)]) + "\n```"


def retention_text(report: RetentionReport, *, asked_by: str | None = None) -> str:
    """The message posted with the chart: what it is, the table and what each column means."""
    asked = f" Asked for by <@{asked_by}>." if asked_by else ""
    return (
        f"*Retention of the last {len(report.months)} months* (calendar months, "
        f"{report.timezone}).{asked}\n{retention_table(report)}\n_{DEFINITIONS}_"
    )


def retention_section() -> list[Block]:
    """Home's *Retention*: what the report is, and the button sending it to the person's DM."""
    return [
        divider(),
        header("Retention"),
        context(
            "Active, new, returning and lapsed (60 days without a visit) customers per month, "
            "for the last 12 months: a chart and its numbers, sent to your messages with the "
            "app. `/customers retention` posts it in a channel of staff."
        ),
        actions([button("Retention report", POST_ACTION, value="post")], block_id="retention.home"),
    ]
