"""The sales chart PNG: size, plotted values, labels, themes, and that matplotlib stays off other paths."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy
import pytest
from matplotlib.text import Text
from PIL import Image

from core.adapters.charts import (
    HEIGHT_PX,
    WIDTH_PX,
    render_sales_chart,
    sales_chart_title,
    sales_figure,
)
from core.services.sales import SalesSeries, chart_data, month_label

ROOT = Path(__file__).resolve().parents[2]
COLD_RENDER = """
import time
from datetime import date
from core.services.sales import SalesSeries, chart_data, month_label
data = SalesSeries([date(2025, m, 1) for m in range(1, 13)], [9] * 12, [3] * 12, [1] * 12, "UTC")
started = time.perf_counter()
from core.adapters.charts import render_sales_chart
render_sales_chart(data, title="Sales")
print(time.perf_counter() - started)
"""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONTHS = [date(2025, m, 1) for m in range(4, 13)] + [date(2026, m, 1) for m in range(1, 4)]


def series(
    bookings: list[int] | None = None,
    passes: list[int] | None = None,
    videos: list[int] | None = None,
    months: list[date] = MONTHS,
) -> SalesSeries:
    zeros = [0] * len(months)
    return SalesSeries(
        months=months,
        bookings=bookings if bookings is not None else zeros,
        passes=passes if passes is not None else zeros,
        videos=videos if videos is not None else zeros,
        timezone="Europe/London",
    )


BUSY = series(
    bookings=[3, 5, 0, 12, 7, 8, 4, 2, 9, 11, 6, 1],
    passes=[1, 0, 2, 1, 0, 0, 3, 1, 0, 2, 1, 0],
    videos=[0, 1, 0, 0, 4, 0, 0, 1, 0, 0, 2, 5],
)


def image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(png))


def test_the_png_is_800_by_350_pixels() -> None:
    png = render_sales_chart(BUSY, title=sales_chart_title("Zoë Ørsted"))
    assert image(png).size == (WIDTH_PX, HEIGHT_PX) == (800, 350)


def test_plotted_bar_heights_equal_the_series() -> None:
    ax = sales_figure(BUSY, title="Sales").axes[0]
    bookings, passes, videos = ax.containers
    assert [c.get_label() for c in ax.containers] == ["Bookings", "Passes", "Videos"]
    assert [bar.get_height() for bar in bookings] == BUSY.bookings
    assert [bar.get_height() for bar in passes] == BUSY.passes
    assert [bar.get_height() for bar in videos] == BUSY.videos


def test_each_month_has_a_group_of_three_bars_in_order() -> None:
    ax = sales_figure(BUSY, title="Sales").axes[0]
    centres = [[bar.get_x() + bar.get_width() / 2 for bar in c] for c in ax.containers]
    ticks = list(ax.get_xticks())
    for month, (booking, pass_, video) in enumerate(zip(*centres, strict=True)):
        assert booking < ticks[month] < video
        assert pass_ == pytest.approx(ticks[month])


def test_chart_data_is_what_the_renderer_draws() -> None:
    rows = chart_data(BUSY)
    ax = sales_figure(BUSY, title="Sales").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [row[0] for row in rows]
    assert rows[0] == ("Apr 25", 3, 1, 0)
    assert rows[-1] == ("Mar 26", 1, 0, 5)


def test_month_labels_are_short_english_names_whatever_the_locale() -> None:
    assert month_label(date(2025, 12, 1)) == "Dec 25"
    assert month_label(date(2026, 1, 1)) == "Jan 26"
    assert month_label(date(2009, 5, 1)) == "May 09"


def test_axes_legend_and_title_are_labelled() -> None:
    ax = sales_figure(BUSY, title="Sales — Zoë Ørsted").axes[0]
    assert ax.get_xlabel() == "Month (Europe/London)"
    assert ax.get_ylabel() == "Purchases"
    assert ax.get_title(loc="left") == "Sales — Zoë Ørsted"
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["Bookings", "Passes", "Videos"]


def test_y_ticks_are_whole_numbers() -> None:
    small = series(bookings=[0] * 11 + [1], passes=[0] * 10 + [1, 0])
    for data in (small, BUSY):
        ticks = sales_figure(data, title="Sales").axes[0].get_yticks()
        assert all(float(t).is_integer() for t in ticks)


@pytest.mark.parametrize("name", ["Zoë Ørsted", "Maximiliana Wolfeschlegelsteinhausenberger " * 3])
def test_the_title_never_runs_into_the_legend(name: str) -> None:
    fig = sales_figure(BUSY, title=sales_chart_title(name))
    ax = fig.axes[0]
    shown = ax.get_title(loc="left")
    assert shown == sales_chart_title(name) or (shown.endswith("…") and len(shown) > 30)
    heading = next(c for c in ax.get_children() if isinstance(c, Text) and c.get_text() == shown)
    legend = ax.get_legend()
    assert legend is not None
    assert heading.get_window_extent().x1 < legend.get_window_extent().x0


def test_months_without_purchases_still_render_with_a_note() -> None:
    empty = series()
    fig = sales_figure(empty, title="Sales")
    ax = fig.axes[0]
    assert all(bar.get_height() == 0 for c in ax.containers for bar in c)
    assert "No purchases in these months" in [t.get_text() for t in ax.texts]
    assert ax.get_ylim() == (0, 1)
    assert image(render_sales_chart(empty, title="Sales")).size == (800, 350)


def test_a_series_without_months_renders() -> None:
    none = series(months=[])
    assert chart_data(none) == []
    assert image(render_sales_chart(none, title="Sales")).size == (800, 350)


def test_mismatched_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="one count of each kind per month"):
        chart_data(series(bookings=[1, 2]))


def test_an_opaque_white_panel_with_transparent_rounded_corners() -> None:
    # Readable on both themes: the panel is opaque white under dark text wherever Slack shows
    # it; only the corners outside the rounded panel let the theme's background through.
    pixels = numpy.asarray(image(render_sales_chart(BUSY, title="Sales")).convert("RGBA"))
    assert pixels.shape == (HEIGHT_PX, WIDTH_PX, 4)
    assert pixels[0, 0, 3] == pixels[-1, -1, 3] == 0
    assert tuple(pixels[12, WIDTH_PX // 2]) == (255, 255, 255, 255)
    assert (pixels[:, :, 3] == 255).mean() > 0.97


def test_renders_from_several_threads_at_once() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        pngs = list(pool.map(lambda _: render_sales_chart(BUSY, title="Sales"), range(8)))
    assert all(image(png).size == (800, 350) for png in pngs)


def test_render_time_cold_and_warm() -> None:
    cold = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", COLD_RENDER], capture_output=True, text=True, check=True, cwd=ROOT
    )
    render_sales_chart(BUSY, title="Sales")
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        render_sales_chart(BUSY, title="Sales")
        runs.append(time.perf_counter() - started)
    print(
        f"\nsales chart render: cold {float(cold.stdout) * 1000:.0f} ms (incl. imports), "
        f"warm {sorted(runs)[2] * 1000:.0f} ms (median of 5)"
    )


@pytest.mark.parametrize(
    "module", ["bot.app", "bot.transport.wsgi", "bot.transport.server", "core.adapters.charts"]
)
def test_importing_the_app_does_not_import_matplotlib(module: str) -> None:
    # Every request path must stay free of matplotlib's import cost; only drawing loads it.
    code = f"import sys, {module}; print('matplotlib' in sys.modules)"
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"
