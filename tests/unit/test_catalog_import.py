"""The catalog YAML file: import, idempotent re-import, exact prices, errors with their lines."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.actor import Actor
from core.db import Database
from core.demo.catalog import DEMO_CATALOG
from core.models import (
    AppointmentService,
    Event,
    EventOccurrence,
    Facilitator,
    PassType,
    QuestionnaireTemplate,
    SubscriptionPlan,
    Video,
    facilitator_services,
)
from core.services.catalog_export import export_catalog
from core.services.catalog_import import (
    EXAMPLE_CATALOG,
    CatalogError,
    CatalogProblem,
    import_catalog,
    parse_catalog,
)
from core.services.questionnaires import list_templates
from tests.conftest import MutableClock, make_settings

ROOT = Path(__file__).resolve().parents[2]

TERM = """\
currency: GBP
events:
  - key: yoga
    name: Morning Yoga
    timezone: Europe/London
    duration_minutes: 60
    capacity: 12
    price: "12.50"
    weekly:
      weekday: monday
      time: "07:00"
      from: 2026-03-16
      until: 2026-04-06
    occurrences:
      - "2026-03-30 07:00"
      - start: "2026-04-11 10:00"
        capacity: 30
        price: "20.00"
appointment_services:
  - key: massage
    name: Sports Massage
    duration_minutes: 60
    price: 55
facilitators:
  - key: tom
    name: Tom Baker
    services: [massage]
"""


def _parse(text: str, currency: str | None = "GBP") -> object:
    return parse_catalog(text, currency=currency, timezone="Europe/London", source="t.yaml")


def _problems(text: str, currency: str | None = "GBP") -> list[CatalogProblem]:
    with pytest.raises(CatalogError) as failed:
        _parse(text, currency)
    return failed.value.problems


def _counts(db: Database, team_id: str) -> dict[str, int]:
    with db.unit_of_work(readonly=True) as uow:
        counts = {
            model.__tablename__: uow.session.scalar(
                select(func.count()).select_from(model).where(model.team_id == team_id)
            )
            or 0
            for model in (
                Event,
                EventOccurrence,
                AppointmentService,
                Facilitator,
                PassType,
                Video,
                SubscriptionPlan,
                QuestionnaireTemplate,
            )
        }
        counts["facilitator_services"] = (
            uow.session.scalar(select(func.count()).select_from(facilitator_services)) or 0
        )
        return counts


def _starts(db: Database, team_id: str) -> dict[datetime, tuple[int, int]]:
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(
            select(EventOccurrence.starts_at, EventOccurrence.capacity, EventOccurrence.price_minor)
            .where(EventOccurrence.team_id == team_id)
            .order_by(EventOccurrence.starts_at)
        )
        return {start: (capacity, price) for start, capacity, price in rows}


def test_the_example_file_imports_everything_and_again_changes_nothing(
    db: Database, admin: Actor
) -> None:
    text = EXAMPLE_CATALOG.read_text(encoding="utf-8")
    with db.unit_of_work() as uow:
        first = import_catalog(uow, admin.team_id, text, source="catalog.example.yaml")
    assert (first.events, first.services, first.facilitators, first.pass_types) == (6, 4, 4, 4)
    assert (first.videos, first.plans, first.questionnaires) == (6, 3, 4)
    assert first.occurrences_added > 0 and first.occurrences_updated == 0
    before = _counts(db, admin.team_id)
    assert before["facilitator_services"] == 8
    with db.unit_of_work() as uow:
        again = import_catalog(uow, admin.team_id, text, source="catalog.example.yaml")
    assert (again.occurrences_added, again.occurrences_updated) == (0, 0)
    assert _counts(db, admin.team_id) == before
    with db.unit_of_work(readonly=True) as uow:
        yoga = uow.session.scalars(select(Event).where(Event.key == "morning-yoga")).one()
        assert (yoga.name, yoga.price_minor, yoga.capacity, yoga.timezone) == (
            "Morning Yoga",
            1200,
            20,
            "Europe/London",
        )
        video = uow.session.scalars(select(Video).where(Video.key == "pilates-fundamentals")).one()
        assert (video.price_minor, video.credit_price, video.access_days) == (1500, None, None)


def test_the_demo_catalog_is_the_example_file() -> None:
    text = EXAMPLE_CATALOG.read_text(encoding="utf-8")
    assert _parse(text, None) == DEMO_CATALOG


def test_the_example_file_ships_inside_the_package() -> None:
    # `demo-data` and `catalog example` need the file in an installed copy too.
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    assert EXAMPLE_CATALOG.name in package_data["core"]
    assert EXAMPLE_CATALOG.parent == ROOT / "core"


def test_sessions_come_from_bounded_weekly_rules_and_explicit_starts(
    db: Database, admin: Actor
) -> None:
    with db.unit_of_work() as uow:
        summary = import_catalog(uow, admin.team_id, TERM, source="term.yaml")
    assert summary.occurrences_added == 5
    assert _starts(db, admin.team_id) == {
        # 07:00 in London is 07:00 UTC before the clocks go forward on 29 March, 06:00 after.
        datetime(2026, 3, 16, 7, tzinfo=UTC): (12, 1250),
        datetime(2026, 3, 23, 7, tzinfo=UTC): (12, 1250),
        datetime(2026, 3, 30, 6, tzinfo=UTC): (12, 1250),
        datetime(2026, 4, 6, 6, tzinfo=UTC): (12, 1250),
        datetime(2026, 4, 11, 9, tzinfo=UTC): (30, 2000),
    }
    with db.unit_of_work(readonly=True) as uow:
        massage = uow.session.scalars(select(AppointmentService)).one()
        assert massage.price_minor == 5500


def test_reimporting_a_changed_file_updates_by_key_and_only_future_sessions(
    db: Database, admin: Actor, clock: MutableClock
) -> None:
    clock.current = datetime(2026, 3, 25, 12, tzinfo=UTC)
    with db.unit_of_work() as uow:
        import_catalog(uow, admin.team_id, TERM, source="term.yaml")
    changed = (
        TERM.replace("name: Morning Yoga", "name: Sunrise Yoga")
        .replace("capacity: 12", "capacity: 10")
        .replace("services: [massage]", "services: [physio]")
        .replace(
            "facilitators:",
            "  - key: physio\n    name: Physio\n    duration_minutes: 30\n    price: 35\n"
            "facilitators:",
        )
    )
    with db.unit_of_work() as uow:
        summary = import_catalog(uow, admin.team_id, changed, source="term.yaml")
    # Past sessions keep what they were sold with; the two weekly ones still to come change.
    assert (summary.occurrences_added, summary.occurrences_updated) == (0, 2)
    starts = _starts(db, admin.team_id)
    assert starts[datetime(2026, 3, 23, 7, tzinfo=UTC)] == (12, 1250)
    assert starts[datetime(2026, 3, 30, 6, tzinfo=UTC)] == (10, 1250)
    assert starts[datetime(2026, 4, 11, 9, tzinfo=UTC)] == (30, 2000)
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalars(select(Event.name)).all() == ["Sunrise Yoga"]
        given = uow.session.execute(
            select(AppointmentService.key).join(
                facilitator_services,
                facilitator_services.c.service_id == AppointmentService.id,
            )
        ).scalars()
        assert list(given) == ["physio"]


def test_every_problem_is_reported_with_its_line_and_path() -> None:
    text = """\
currency: GBP
events:
  - key: yoga
    name: Yoga
    timezone: Europe/Londn
    duration_minutes: 60
    capacity: -3
    price: "12.00"
    weekly: {weekday: mondy, time: "25:00"}
  - key: barre
    name: Barre
    duration_minutes: 45
    capacity: 10
    price: "12.005"
    occurrences:
      - "2026-03-29 01:30"
      - start: "2026-10-25 01:30"
      - "2026-04-01 10:00"
      - start: "2026-04-01 10:00"
      - start: "2026-04-02 10:00"
        capacity: 0
appointment_services:
  - key: massage
    name: Massage
    duration_minutes: 60
    price: "-5"
facilitators:
  - key: tom
    name: Tom
    services: [massage, masage]
    colour: blue
pass_types:
  - key: ten
    name: Ten
    credits: 10
    price: "100"
"""
    found = [(p.line, p.path) for p in _problems(text)]
    assert found == [
        (5, "events[0].timezone"),
        (7, "events[0].capacity"),
        (9, "events[0].weekly[0].time"),
        (9, "events[0].weekly[0].weekday[0]"),
        (14, "events[1].price"),
        (16, "events[1].occurrences[0].start"),
        (17, "events[1].occurrences[1].start"),
        (19, "events[1].occurrences[3].start"),
        (21, "events[1].occurrences[4].capacity"),
        (26, "appointment_services[0].price"),
        (30, "facilitators[0].services[1]"),
        (31, "facilitators[0].colour"),
        (33, "pass_types[0].validity_days"),
    ]
    messages = {p.path: p.message for p in _problems(text)}
    assert messages["events[0].timezone"] == (
        "unknown time zone 'Europe/Londn'; use an IANA name such as Europe/London"
    )
    assert messages["events[0].capacity"] == "must be at least 1"
    assert (
        messages["events[1].price"] == "12.005 has more decimals than GBP allows (2 decimal places)"
    )
    assert "does not exist in Europe/London" in messages["events[1].occurrences[0].start"]
    assert "happens twice in Europe/London" in messages["events[1].occurrences[1].start"]
    assert messages["appointment_services[0].price"] == "a price cannot be negative"
    assert messages["facilitators[0].services[1]"] == (
        "unknown appointment service 'masage' (appointment_services: massage)"
    )
    assert messages["events[1].occurrences[3].start"] == "same start as occurrences[2]"
    assert messages["pass_types[0].validity_days"] == "required, but missing"
    with pytest.raises(CatalogError) as failed:
        _parse(text)
    assert failed.value.message.startswith("t.yaml has 13 problems; nothing was imported:\n")
    assert "  line 5: events[0].timezone: unknown time zone" in failed.value.message


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "timezone: Europe/London",
            "timezone: Mars/Olympus",
            "events[0].timezone",
            "unknown time zone",
        ),
        ("capacity: 12", "capacity: -1", "events[0].capacity", "must be at least 1"),
        (
            "duration_minutes: 60",
            "duration_minutes: 1.5",
            "events[0].duration_minutes",
            "whole number",
        ),
        ('price: "12.50"', "price: £12", "events[0].price", 'write a price such as "12.50"'),
        ('price: "12.50"', "price: 1e3", "events[0].price", 'write a price such as "12.50"'),
        ('time: "07:00"', "time: 7am", "events[0].weekly[0].time", 'as "HH:MM"'),
        (
            '- "2026-03-30 07:00"',
            '- "2026-03-30"',
            "events[0].occurrences[0].start",
            "local date and time",
        ),
        (
            '- "2026-03-30 07:00"',
            '- "2026-02-30 07:00"',
            "events[0].occurrences[0].start",
            "not a real date",
        ),
    ],
)
def test_a_bad_value_names_its_field_and_line(old: str, new: str, path: str, message: str) -> None:
    line = next(n for n, text in enumerate(TERM.splitlines(), 1) if text.strip() == old)
    (problem,) = _problems(TERM.replace(old, new, 1))
    assert (problem.line, problem.path) == (line, path)
    assert message in problem.message


def test_an_unknown_facilitator_service_key_is_refused() -> None:
    (problem,) = _problems(TERM.replace("services: [massage]", "services: [massage, yoga]"))
    assert (problem.line, problem.path) == (27, "facilitators[0].services[1]")
    assert problem.message == "unknown appointment service 'yoga' (appointment_services: massage)"


def test_duplicate_keys_and_repeated_fields_are_refused() -> None:
    text = TERM + "  - key: tom\n    name: Tom again\n    services: [massage]\n    name: Twice\n"
    found = {(p.line, p.path): p.message for p in _problems(text)}
    assert found == {
        (28, "facilitators[1].key"): "key 'tom' is already used by facilitators[0]",
        (31, "facilitators[1].name"): "appears twice in the same mapping",
    }


def test_prices_are_exact_in_the_currencys_minor_units() -> None:
    def price(value: str, currency: str) -> int:
        text = (
            f"appointment_services:\n  - {{key: a, name: A, duration_minutes: 5, price: {value}}}\n"
        )
        spec = parse_catalog(text, currency=currency, timezone="UTC")
        return spec.services[0].price_minor  # type: ignore[no-any-return]

    # Unquoted 12.10 and 0.1 stay text, so no float ever rounds them.
    assert price("12.10", "GBP") == 1210
    assert price("0.1", "GBP") == 10
    assert price('"19.99"', "EUR") == 1999
    assert price("1200", "JPY") == 1200
    assert price('"1.005"', "BHD") == 1005
    with pytest.raises(CatalogError, match="more decimals than JPY allows"):
        price('"12.5"', "JPY")
    with pytest.raises(CatalogError, match="is too large"):
        price('"99999999999"', "GBP")


def test_the_currency_must_be_said_and_match_the_workspace() -> None:
    eur = "currency: EUR\n" + TERM.removeprefix("currency: GBP\n")
    (problem,) = _problems(eur)
    assert (problem.line, problem.message) == (
        1,
        "the prices are in EUR but this workspace uses GBP",
    )
    (problem,) = _problems(TERM.removeprefix("currency: GBP\n"), None)
    assert problem.message == "say which currency prices are in"
    (problem,) = _problems(TERM.replace("currency: GBP", "currency: XYZ"))
    assert problem.message == "XYZ is not an ISO 4217 currency"


def test_yaml_syntax_errors_and_wrong_shapes_are_located() -> None:
    (problem,) = _problems("events:\n  - key: a\n    name: [unclosed\n")
    assert problem.line == 4 and problem.message.startswith("not valid YAML")
    (problem,) = _problems("- just\n- a list\n")
    assert problem.message.startswith("expected a mapping")
    (problem,) = _problems("")
    assert problem.message.startswith("expected a mapping")
    (problem,) = _problems("events: [plain text]\n")
    assert (problem.line, problem.path) == (1, "events[0]")
    assert problem.message == "expected a mapping of fields (key: value lines)"


def test_weekly_rules_need_sane_bounds() -> None:
    backwards = TERM.replace("until: 2026-04-06", "until: 2026-03-01")
    (problem,) = _problems(backwards)
    assert (problem.line, problem.path, problem.message) == (
        13,
        "events[0].weekly[0].until",
        "is before `from`",
    )
    (problem,) = _problems(TERM.replace("until: 2026-04-06", "until: 2036-04-06"))
    assert "at most three years" in problem.message


def test_the_cli_imports_a_file_and_lists_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import cli
    from core.config import Settings

    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "300"}
    runner = CliRunner()
    example = runner.invoke(cli.app, ["catalog", "example"], env=env)
    assert example.exit_code == 0
    (tmp_path / "catalog.yaml").write_text(example.stdout, encoding="utf-8")
    done = runner.invoke(cli.app, ["catalog", "import", "catalog.yaml", "--team", "T0CLI"], env=env)
    assert done.exit_code == 0, done.output
    assert "Imported catalog.yaml into workspace T0CLI: 6 events" in " ".join(done.stdout.split())
    (tmp_path / "bad.yaml").write_text(TERM.replace("capacity: 12", "capacity: 0"), "utf-8")
    bad = runner.invoke(cli.app, ["catalog", "import", "bad.yaml"], env=env)
    assert bad.exit_code == 1
    assert "line 7: events[0].capacity: must be at least 1" in " ".join(bad.output.split())
    missing = runner.invoke(cli.app, ["catalog", "import", "nowhere.yaml"], env=env)
    assert missing.exit_code == 1 and "There is no file nowhere.yaml" in missing.output

    exported = runner.invoke(cli.app, ["catalog", "export", "--team", "T0CLI"], env=env)
    assert exported.exit_code == 0, exported.output
    assert "key: morning-yoga" in exported.stdout
    (tmp_path / "export.yaml").write_text(exported.stdout, encoding="utf-8")
    moved = runner.invoke(cli.app, ["catalog", "import", "export.yaml", "--team", "T0TWO"], env=env)
    assert moved.exit_code == 0, moved.output
    assert "Imported export.yaml into workspace T0TWO: 6 events" in " ".join(moved.stdout.split())
    again = runner.invoke(cli.app, ["catalog", "export", "--team", "T0TWO"], env=env)
    assert again.stdout == exported.stdout
    taken = runner.invoke(cli.app, ["catalog", "export", "-o", "export.yaml"], env=env)
    assert taken.exit_code == 2 and "already exists" in taken.output


def test_one_pass_reports_the_top_level_the_currency_and_every_item_together() -> None:
    text = """\
currency: EUR
colour: blue
events:
  - key: yoga
    name: Yoga
    duration_minutes: 60
    capacity: many
    price: "12.555"
pass_types:
  - key: ten
    name: Ten classes
    credits: 0
    validity_days: 90
    price: "80.001"
"""
    found = {(p.line, p.path): p.message for p in _problems(text)}
    assert found == {
        (1, "currency"): "the prices are in EUR but this workspace uses GBP",
        (2, "colour"): "unknown field; check its spelling against catalog.example.yaml",
        (7, "events[0].capacity"): "must be a whole number",
        (8, "events[0].price"): "12.555 has more decimals than GBP allows (2 decimal places)",
        (12, "pass_types[0].credits"): "must be at least 1",
        (14, "pass_types[0].price"): "80.001 has more decimals than GBP allows (2 decimal places)",
    }


ARCHIVED = """\
currency: GBP
appointment_services:
  - key: massage
    name: Sports Massage
    duration_minutes: 60
    price: "55.00"
  - key: reiki
    name: Reiki
    duration_minutes: 45
    price: "40.00"
    archived: true
facilitators:
  - key: tom
    name: Tom Baker
    services: [massage, reiki]
  - key: ines
    name: Inès Roche
    services: [massage]
    archived: true
  - key: noor
    name: Noor Haddad
pass_types:
  - key: ten
    name: 10-class pass
    credits: 10
    validity_days: 90
    price: "100.00"
    archived: true
  - key: intro
    name: Intro pass
    credits: 3
    validity_days: 14
    price: "25.00"
videos:
  - key: runners
    title: Yoga for Runners
    price: "8.00"
    archived: true
  - key: pilates
    title: Pilates Fundamentals
    price: "15.00"
subscription_plans:
  - key: monthly
    name: Monthly unlimited
    price: "89.00"
    interval: month
    archived: true
  - key: yearly
    name: Yearly unlimited
    price: "890.00"
    interval: year
"""
ARCHIVED_KEYS = {
    "appointment_services": ["reiki"],
    "facilitators": ["ines"],
    "pass_types": ["ten"],
    "videos": ["runners"],
    "subscription_plans": ["monthly"],
}


def _archived_keys(db: Database, team_id: str) -> dict[str, list[str]]:
    with db.unit_of_work(readonly=True) as uow:
        return {
            model.__tablename__: list(
                uow.session.scalars(
                    select(model.key)
                    .where(model.team_id == team_id, model.archived.is_(True))
                    .order_by(model.key)
                )
            )
            for model in (AppointmentService, Facilitator, PassType, Video, SubscriptionPlan)
        }


def test_archived_items_and_a_facilitator_giving_nothing_travel_through_the_file(
    db: Database, admin: Actor
) -> None:
    with db.unit_of_work() as uow:
        summary = import_catalog(uow, admin.team_id, ARCHIVED, source="archived.yaml")
        first = export_catalog(uow, admin.team_id)
    assert summary.facilitators == 3
    assert _archived_keys(db, admin.team_id) == ARCHIVED_KEYS
    document = yaml.safe_load(first)
    assert document["facilitators"][1] == {"key": "noor", "name": "Noor Haddad", "services": []}
    # Only what is archived says so.
    assert sum(
        item.get("archived") is True for section in ARCHIVED_KEYS for item in document[section]
    ) == len(ARCHIVED_KEYS)
    with db.unit_of_work() as uow:
        import_catalog(uow, "T0TWO", first, source="export.yaml")
        second = export_catalog(uow, "T0TWO")
    assert second == first
    assert _archived_keys(db, "T0TWO") == ARCHIVED_KEYS
    # A file without the flag (an older export, say) leaves what was archived archived;
    # `archived: false` makes an item available again.
    with db.unit_of_work() as uow:
        import_catalog(uow, "T0TWO", ARCHIVED.replace("    archived: true\n", ""), source="a.yaml")
    assert _archived_keys(db, "T0TWO") == ARCHIVED_KEYS
    with db.unit_of_work() as uow:
        restored = ARCHIVED.replace("archived: true", "archived: false")
        import_catalog(uow, "T0TWO", restored, source="b.yaml")
    assert _archived_keys(db, "T0TWO") == {section: [] for section in ARCHIVED_KEYS}


def test_the_cli_round_trips_archived_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import cli
    from core.config import Settings

    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"DATABASE_URL": url, "COLUMNS": "300"}
    runner = CliRunner()
    (tmp_path / "archived.yaml").write_text(ARCHIVED, encoding="utf-8")
    done = runner.invoke(
        cli.app, ["catalog", "import", "archived.yaml", "--team", "T0ONE"], env=env
    )
    assert done.exit_code == 0, done.output
    first = runner.invoke(
        cli.app, ["catalog", "export", "-o", "first.yaml", "--team", "T0ONE"], env=env
    )
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli.app, ["catalog", "import", "first.yaml", "--team", "T0TWO"], env=env)
    assert again.exit_code == 0, again.output
    second = runner.invoke(
        cli.app, ["catalog", "export", "-o", "second.yaml", "--team", "T0TWO"], env=env
    )
    assert second.exit_code == 0, second.output
    exported = (tmp_path / "first.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "second.yaml").read_text(encoding="utf-8") == exported
    assert "archived: true" in exported and "services: []" in exported
    db = Database(make_settings(url))
    try:
        assert _archived_keys(db, "T0ONE") == _archived_keys(db, "T0TWO") == ARCHIVED_KEYS
    finally:
        db.dispose()


QUESTIONNAIRES = """\
currency: GBP
questionnaires:
  - key: intake
    name: Intake
    questions:
      - Any injuries? [this stays text]
      - text: Tell us more
        type: long
      - text: Do you agree to the waiver?
        type: Yes / No
      - text: How did you hear of us?
        type: choice
        choices: [Friend, Instagram, Walk-in, 5]
      - {text: Date of birth, type: date}
      - {text: Years of practice, type: number}
  - key: old-waiver
    name: Old waiver
    archived: true
    questions:
      - Do you agree?
"""


def test_typed_questions_and_archived_questionnaires_import_and_export_unchanged(
    db: Database, admin: Actor, other_tenant: Actor
) -> None:
    with db.unit_of_work() as uow:
        import_catalog(uow, admin.team_id, QUESTIONNAIRES, source="q.yaml")
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.scalars(
            select(QuestionnaireTemplate)
            .where(QuestionnaireTemplate.team_id == admin.team_id)
            .order_by(QuestionnaireTemplate.key)
        ).all()
        assert [(t.key, t.archived) for t in rows] == [("intake", False), ("old-waiver", True)]
        assert rows[0].questions == [
            "Any injuries? [this stays text]",
            {"text": "Tell us more", "type": "long"},
            {"text": "Do you agree to the waiver?", "type": "yes/no"},
            {
                "text": "How did you hear of us?",
                "type": "choice",
                "choices": ["Friend", "Instagram", "Walk-in", "5"],
            },
            {"text": "Date of birth", "type": "date"},
            {"text": "Years of practice", "type": "number"},
        ]
        assert rows[1].questions == ["Do you agree?"]
        ours = [(t.questions, t.archived) for t in rows]
        text = export_catalog(uow, admin.team_id)
    assert "archived: true" in text and text.count("archived") == 1
    with db.unit_of_work() as uow:
        import_catalog(uow, other_tenant.team_id, text, source="export.yaml")
    with db.unit_of_work(readonly=True) as uow:
        again = export_catalog(uow, other_tenant.team_id)
        copied = uow.session.scalars(
            select(QuestionnaireTemplate)
            .where(QuestionnaireTemplate.team_id == other_tenant.team_id)
            .order_by(QuestionnaireTemplate.key)
        ).all()
        assert [(t.questions, t.archived) for t in copied] == ours
    assert again.replace(other_tenant.team_id, admin.team_id) == text


def test_reimporting_without_the_archived_flag_keeps_the_questionnaire_archived(
    db: Database, admin: Actor
) -> None:
    unmarked = QUESTIONNAIRES.replace("    archived: true\n", "")
    restored = QUESTIONNAIRES.replace("archived: true", "archived: false")
    offered = []
    for text in (QUESTIONNAIRES, unmarked, restored):
        with db.unit_of_work() as uow:
            import_catalog(uow, admin.team_id, text, source="q.yaml")
        with db.unit_of_work(readonly=True) as uow:
            offered.append([row.name for row in list_templates(uow, admin)])
    assert offered == [["Intake"], ["Intake"], ["Intake", "Old waiver"]]


def test_bad_questions_are_reported_with_their_line() -> None:
    text = """\
currency: GBP
questionnaires:
  - key: intake
    name: Intake
    archived: maybe
    questions:
      - Fine
      - {text: Born, type: birthday}
      - {text: Pick, type: choice, choices: [only]}
      - {text: Pick, type: choice, choices: [a, A]}
      - {text: Agree, type: yes/no, choices: [Yes, No]}
      - {text: Colour, typ: choice}
      - {type: date}
      - "   "
      - 12
"""
    found = {(p.line, p.path): p.message for p in _problems(text)}
    assert found == {
        (
            5,
            "questionnaires[0].archived",
        ): "Input should be a valid boolean, unable to interpret input",
        (8, "questionnaires[0].questions[1]"): (
            "unknown type 'birthday'; use one of text, long, yes/no, choice, date, number"
        ),
        (9, "questionnaires[0].questions[2]"): "a choice question needs 2 to 50 options "
        "(this one has 1)",
        (10, "questionnaires[0].questions[3]"): "the option 'A' is listed twice",
        (11, "questionnaires[0].questions[4]"): "only a question of type choice has choices",
        (12, "questionnaires[0].questions[5]"): (
            "unknown field 'typ'; a question has text, type and choices"
        ),
        (13, "questionnaires[0].questions[6]"): "a question needs its text",
        (14, "questionnaires[0].questions[7]"): "the question is empty",
        (15, "questionnaires[0].questions[8]"): (
            "write a question as text, or as a mapping of text, type and choices"
        ),
    }
