"""`customer-bot customers segment` on SQLite and PostgreSQL: the count and first page the
service gives, saving by name, the CSV of the matches, and filters it can't read."""

from __future__ import annotations

import csv
import io

from core.actor import Actor
from core.db import Database
from core.models import Role
from core.services.saved_segments import list_segments
from core.services.segments import SegmentFilters, segment
from tests.conftest import make_settings
from tests.unit.test_cli import invoke, workdir  # noqa: F401 - the imported fixture

TEAM = "T0001"
ADMIN = Actor(TEAM, "cli", Role.ADMIN)


def _expected(url: str, filters: SegmentFilters) -> tuple[int, list[str]]:
    # The CLI runs on the wall clock, as the demo history it loaded does.
    db = Database(make_settings(url))
    try:
        with db.unit_of_work() as uow:
            found = segment(uow, ADMIN, filters, page_size=20)
    finally:
        db.dispose()
    return found.page.total, [row.uid for row in found.page.rows]


def test_a_segment_counts_saves_and_exports_as_the_service_does(
    workdir: object,  # noqa: F811
    db: Database,
) -> None:
    url = db.url
    loaded = invoke(
        "demo-data", "--customers", "60", "--seed", "3", "--team", TEAM, DATABASE_URL=url
    )
    assert loaded.exit_code == 0, loaded.output
    total, first = _expected(url, SegmentFilters(lapsed_days=30, spend_at_least=1000))
    assert total > 0

    shown = invoke(
        "customers",
        "segment",
        "lapsed_days=30",
        "spend_at_least=10",
        "--save",
        "Lapsed",
        DATABASE_URL=url,
    )
    assert shown.exit_code == 0, shown.output
    assert f"{total} customer" in shown.stdout
    assert all(uid in shown.stdout for uid in first)
    assert 'Saved as "Lapsed"' in shown.stdout
    with db.unit_of_work() as uow:
        [saved] = list_segments(uow, ADMIN)
    assert (saved.name, saved.filters) == (
        "Lapsed",
        SegmentFilters(lapsed_days=30, spend_at_least=1000),
    )

    exported = invoke(
        "customers", "segment", "lapsed_days=30", "spend_at_least=10", "--csv", DATABASE_URL=url
    )
    assert exported.exit_code == 0, exported.output
    lines = list(csv.DictReader(io.StringIO(exported.stdout, newline="")))
    assert len(lines) == total
    assert [line["uid"] for line in lines][: len(first)] == first


def test_filters_it_cannot_read_are_refused_naming_them(
    workdir: object,  # noqa: F811
    db: Database,
) -> None:
    for args, said in (
        (["lapsed=30"], "'lapsed=30' is not a filter"),
        (["lapsed_days=soon"], "lapsed_days: Enter a whole number"),
        (["visits_min=2"], "visits_days: Say over how many days"),
        (["spend_at_least=12.345"], "spend_at_least: Use at most 2 decimal places"),
    ):
        refused = invoke("customers", "segment", *args, "--team", TEAM, DATABASE_URL=db.url)
        assert refused.exit_code == 2, refused.output
        assert said in refused.output, refused.output
