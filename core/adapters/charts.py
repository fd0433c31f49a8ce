"""The 12-month sales and retention charts as PNGs; matplotlib is imported only when a chart is
drawn."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from core.services.retention import RetentionReport
from core.services.sales import SalesSeries, chart_data

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Text

WIDTH_PX = 800
HEIGHT_PX = 350
DPI = 100
TITLE_GAP_PX = 16
SERIES_NAMES = ("Bookings", "Passes", "Videos")
# Okabe–Ito colours, told apart with any colour vision; each has at least 3:1 contrast
# against the white panel (WCAG's minimum for graphics), hence vermillion, not orange.
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73")
RETENTION_TITLE = "Retention — customers per month"
RETENTION_NAMES = ("Active", "New", "Returning", "Lapsed")
# Reddish purple is the fourth Okabe–Ito colour with 3:1 contrast on white; markers tell the
# lines apart where they cross or a print is grey.
RETENTION_COLOURS = ("#0072B2", "#009E73", "#D55E00", "#CC79A7")
RETENTION_MARKERS = ("o", "^", "s", "v")
# The chart draws its own opaque white panel with near-black text rather than relying on
# transparency: Slack shows the image on a white or a near-black background depending on
# the theme, and only a panel of its own keeps text contrast high on both (and in previews).
PANEL = "#FFFFFF"
INK = "#1D1C1D"
MUTED = "#616061"
GRID = "#DDDDDD"

# pyplot is never used (it keeps global state); Figure objects are independent, but
# matplotlib's font and text caches are shared, so renders in server threads take turns.
_render_lock = threading.Lock()


def sales_chart_title(customer_name: str) -> str:
    """The heading drawn on a customer's chart."""
    return f"Sales — {customer_name}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit_title(heading: Text, title: str, *, right: float, renderer: RendererBase) -> None:
    """Clip `heading` with an ellipsis until it ends left of `right` (pixels)."""
    length = len(title)
    box = heading.get_window_extent(renderer)
    while length > 1 and box.x1 > right:
        # Jump to the proportional length first, then settle one character at a time.
        guess = int(length * (right - box.x0) / max(box.width, 1.0)) + 1
        length = max(1, min(length - 1, guess))
        heading.set_text(_clip(title, length))
        box = heading.get_window_extent(renderer)


def _panel() -> tuple[Figure, Axes]:
    """An 800×350 px figure with its rounded white panel and one set of axes on it."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    # Transparent outside the rounded panel, so the card's corners blend into either theme.
    fig = Figure(
        figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI),
        dpi=DPI,
        facecolor="none",
    )
    # Fixed margins rather than a layout engine: the size and labels never change, and the
    # engine's extra measuring pass would cost a fifth of every render.
    fig.subplots_adjust(left=0.085, right=0.975, top=0.85, bottom=0.16)
    fig.add_artist(
        FancyBboxPatch(
            (0.004, 0.006),
            0.992,
            0.988,
            boxstyle="round,pad=0,rounding_size=0.035",
            transform=fig.transFigure,
            facecolor=PANEL,
            edgecolor=GRID,
            linewidth=1.0,
            zorder=-10,
            mutation_aspect=WIDTH_PX / HEIGHT_PX,
        )
    )
    ax = fig.add_subplot()
    ax.set_facecolor(PANEL)
    return fig, ax


def _dress(ax: Axes, labels: list[str], tallest: int, *, xlabel: str, ylabel: str) -> None:
    """Month ticks, an integer y axis from zero, the grid and the colours both charts share."""
    from matplotlib.ticker import MaxNLocator

    positions = list(range(len(labels)))
    ax.set_xticks(positions, labels)
    ax.set_xlim(-0.6, max(len(labels), 1) - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylim(0, max(tallest * 1.1, 1))
    ax.set_xlabel(xlabel, color=MUTED)
    ax.set_ylabel(ylabel, color=MUTED)
    ax.tick_params(colors=INK, labelsize=9)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)


def _head(fig: Figure, ax: Axes, title: str, *, columns: int, empty: str | None) -> None:
    """The title, clipped to end left of the legend, and `empty` across an empty chart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    heading = ax.set_title(title, loc="left", color=INK, fontsize=12, fontweight="bold")
    legend = ax.legend(
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=columns,
        frameon=False,
        fontsize=9,
        labelcolor=INK,
        handlelength=1.2,
        borderaxespad=0.2,
    )
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]  # untyped in its stubs
    right = legend.get_window_extent(renderer).x0 - TITLE_GAP_PX
    _fit_title(heading, title, right=right, renderer=renderer)
    if empty is not None:
        ax.text(
            0.5,
            0.5,
            empty,
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=MUTED,
            fontsize=11,
        )


def sales_figure(series: SalesSeries, *, title: str) -> Figure:
    """The chart as a matplotlib Figure (800×350 px at DPI); tests read the bars from it."""
    rows = chart_data(series)
    fig, ax = _panel()
    positions = list(range(len(rows)))
    width = 0.27
    for index, (name, colour) in enumerate(zip(SERIES_NAMES, SERIES_COLOURS, strict=True)):
        offset = (index - 1) * width
        heights = [row[index + 1] for row in rows]
        ax.bar([x + offset for x in positions], heights, width, label=name, color=colour, zorder=3)
    tallest = max((max(row[1:]) for row in rows), default=0)
    _dress(
        ax,
        [row[0] for row in rows],
        tallest,
        xlabel=f"Month ({series.timezone})",
        ylabel="Purchases",
    )
    _head(fig, ax, title, columns=3, empty="No purchases in these months" if not tallest else None)
    return fig


def retention_figure(report: RetentionReport, *, title: str = RETENTION_TITLE) -> Figure:
    """The retention chart as a Figure: one line per series over the months; tests read it."""
    rows = report.rows()
    fig, ax = _panel()
    positions = list(range(len(rows)))
    for index, (name, colour, marker) in enumerate(
        zip(RETENTION_NAMES, RETENTION_COLOURS, RETENTION_MARKERS, strict=True)
    ):
        values = [row[index + 1] for row in rows]
        ax.plot(positions, values, label=name, color=colour, marker=marker, linewidth=2, zorder=3)
    tallest = max((max(row[1:]) for row in rows), default=0)
    _dress(
        ax,
        [row[0] for row in rows],
        tallest,
        xlabel=f"Month ({report.timezone})",
        ylabel="Customers",
    )
    _head(fig, ax, title, columns=4, empty="No visits in these months" if not tallest else None)
    return fig


def render_retention_chart(report: RetentionReport) -> bytes:
    """The retention chart as PNG bytes, 800×350 px, readable on Slack's light and dark themes."""
    with _render_lock:
        fig = retention_figure(report)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def render_sales_chart(series: SalesSeries, *, title: str) -> bytes:
    """The chart as PNG bytes, 800×350 px, readable on Slack's light and dark themes."""
    with _render_lock:
        fig = sales_figure(series, title=title)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
