"""The indexed customer search and list agree with the plain queries, and use their indexes."""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column, create_engine, func, insert, select, table, text
from sqlalchemy.engine import make_url

from core.actor import Actor
from core.db import Database, UnitOfWork
from core.demo.customers import load_demo_customers
from core.migrations.runner import alembic_config
from core.models import Customer, CustomerStatus, Role
from core.models.customer import SEARCH_INDEXES
from core.services.account import merge_customers
from core.services.customer_search import (
    LETTERS,
    PUNCTUATION,
    Finder,
    Terms,
    about,
    plain_list,
    plain_search,
)
from core.services.customers import (
    CustomerInput,
    CustomerPage,
    SortOrder,
    activate_customer,
    archive_customer,
    create_customer,
    delete_customer,
    edit_contact,
    get_customer,
    list_customers,
    name_key,
    search_customers,
)
from core.services.workspaces import ensure_workspace
from tests.conftest import make_settings, scratch_database
from tests.statements import captured

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

# Finder settings that force each path on a handful of rows: a window of one row, a sample of
# two candidates, a cap of three before totals become estimates, matches beyond the window
# counted as far (so the first are fetched in name order through the indexes); and the defaults.
FINDERS = [
    {"window": 1, "candidates": 2, "cap": 3},
    {"window": 1, "candidates": 2, "cap": 3, "walk": 0},
    {"window": 3, "candidates": 0, "cap": 1},
    {},
]


def _new_team(uow: UnitOfWork) -> str:
    team_id = f"TS{uuid.uuid4().hex[:12]}"
    ensure_workspace(uow, team_id)
    return team_id


def _row(
    team_id: str, first: str, last: str, email: str, mobile: str, status: CustomerStatus
) -> dict[str, object]:
    return {
        "team_id": team_id,
        "uid": uuid.uuid4().hex[:12].upper(),
        "first_name": first,
        "last_name": last,
        "name_key": name_key(first, last),
        "email": email,
        "mobile": mobile,
        "password_hash": None,
        "status": status,
        "merged_into_id": None,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        "updated_by": "test",
    }


def _insert(db: Database, rows: list[tuple[str, str, str, str, CustomerStatus]]) -> str:
    """A fresh workspace holding `rows` (first, last, email, mobile, status); its team id."""
    with db.unit_of_work() as uow:
        team_id = _new_team(uow)
        if rows:
            uow.session.execute(insert(Customer), [_row(team_id, *row) for row in rows])
    return team_id


def _uids(customers: list[Customer]) -> list[str]:
    return [customer.uid for customer in customers]


# --- property: the indexed paths return exactly what the plain queries return ---------------

NAME_ALPHABET = "aAeEnNoOsSzZéÉëËøØåÅßñÑ _%\\'-.0123"
EMAIL_ALPHABET = "anoszé_%+-.0123"
names = st.text(NAME_ALPHABET, min_size=1, max_size=10).filter(lambda s: s.strip() != "")
emails = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(EMAIL_ALPHABET, min_size=1, max_size=8),
    st.sampled_from(["ex.org", "zoe.example", "a_b.example", "50%.example"]),
)
mobiles = st.builds(
    lambda country, rest: f"+{country}{rest}",
    st.sampled_from(["44", "353", "49"]),
    st.text("0123456789", min_size=6, max_size=10),
)
customers = st.lists(
    st.tuples(names, names, emails, mobiles, st.sampled_from(list(CustomerStatus))),
    min_size=0,
    max_size=30,
    unique_by=lambda row: row[2],
)


@st.composite
def queries(draw: st.DrawFn, rows: list[tuple[str, str, str, str, CustomerStatus]]) -> str:
    """Mostly a piece of someone's name, email or mobile, its case changed; or any short text."""
    if not rows or draw(st.integers(0, 3)) == 0:
        return draw(st.text(NAME_ALPHABET + "@", min_size=1, max_size=5))
    first, last, email, mobile, _ = draw(st.sampled_from(rows))
    source = draw(st.sampled_from([f"{first} {last}", email, mobile, "0" + mobile[3:]]))
    start = draw(st.integers(0, len(source) - 1))
    piece = source[start : draw(st.integers(start + 1, min(len(source), start + 7)))]
    return str(draw(st.sampled_from([piece, piece.upper(), piece.swapcase()])))


def _all_pages(
    finder: Finder, team: str, status: CustomerStatus, query: str, descending: bool
) -> Iterator[list[str]]:
    """Page after page by Next (keyset), as the hub moves through them."""
    page = finder.page(status, query, descending=descending, page=1, page_size=3)
    for _ in range(100):
        yield _uids(page.rows)
        if page.page >= page.pages or not page.rows:
            return
        after = page.rows[-1].uid
        following = finder.page(
            status, query, descending=descending, page=page.page + 1, page_size=3, after_uid=after
        )
        assert following.page == page.page + 1, (page, following)
        page = following


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), rows=customers)
def test_indexed_search_and_list_agree_with_the_plain_queries(
    db: Database, data: st.DataObject, rows: list[tuple[str, str, str, str, CustomerStatus]]
) -> None:
    team = _insert(db, rows)
    for _ in range(3):
        query = data.draw(queries(rows))
        status = data.draw(st.sampled_from([None, *CustomerStatus]))
        limit = data.draw(st.sampled_from([1, 3, 20]))
        descending = data.draw(st.booleans())
        with db.unit_of_work(readonly=True) as uow:
            expected = _uids(plain_search(uow, team, query, status, limit))
            statuses = list(CustomerStatus) if status is None else [status]
            listed = status or CustomerStatus.ACTIVE
            everything = plain_list(
                uow, team, listed, query, descending=descending, page=1, page_size=100
            )
            for options in FINDERS:
                finder = Finder(uow, team, **options)
                assert _uids(finder.search(query, statuses, limit)) == expected, (query, options)
                paged = [
                    uid
                    for page in _all_pages(finder, team, listed, query, descending)
                    for uid in page
                ]
                assert paged == _uids(everything.rows), (query, options)
                for number in (1, 2, 5):
                    want = plain_list(
                        uow, team, listed, query, descending=descending, page=number, page_size=3
                    )
                    got = finder.page(
                        listed, query, descending=descending, page=number, page_size=3
                    )
                    if not got.estimated:
                        assert (got.total, got.page) == (want.total, want.page), (query, options)
                    if got.page == want.page:
                        assert _uids(got.rows) == _uids(want.rows), (query, number, options)


# --- by example ----------------------------------------------------------------------------


@pytest.fixture
def team(db: Database) -> str:
    rows = [
        ("Zoë", "Smith", "zoe.smith@example.com", "+447700900123", CustomerStatus.ACTIVE),
        ("Zoe", "Åberg", "za@example.org", "+46701234567", CustomerStatus.ACTIVE),
        ("Ann", "Lee", "ann@example.com", "+447700900456", CustomerStatus.ACTIVE),
        ("Joann", "Lee", "jl@example.com", "+33612345678", CustomerStatus.ACTIVE),
        ("Marianne", "Ward", "mw@example.com", "+353831234567", CustomerStatus.ARCHIVED),
        ("Ali", "Zoeller", "ali@example.com", "+4915123456789", CustomerStatus.ACTIVE),
    ]
    # Filler so windows and samples are smaller than the workspace.
    rows += [
        (f"Filler{n:03d}", "Person", f"f{n}@filler.example", f"+4420{n:08d}", CustomerStatus.ACTIVE)
        for n in range(60)
    ]
    return _insert(db, rows)


QUERIES = {
    "1 character": ["z", "A", "é", "7", "@"],
    "2 characters": ["zo", "AN", "Le", "0.", "ë "],
    "3+ characters": [
        "zoe",
        "ZOË",
        "ann",
        "lee",
        "oel",
        "example.org",
        "zoe.s",
        "oë sm",
        "filler01",
    ],
    "phone digits": ["07700 900123", "0770", "077", "+44 7700", "0353 83", "01512", "1234"],
}


@pytest.mark.parametrize("kind", QUERIES)
def test_short_and_long_queries_find_what_the_plain_search_finds(
    db: Database, team: str, kind: str
) -> None:
    with db.unit_of_work(readonly=True) as uow:
        for query in QUERIES[kind]:
            for status in (None, CustomerStatus.ACTIVE):
                statuses = list(CustomerStatus) if status is None else [status]
                expected = _uids(plain_search(uow, team, query, status, 20))
                for options in FINDERS:
                    found = Finder(uow, team, **options).search(query, statuses, 20)
                    assert _uids(found) == expected, (query, options)


@pytest.fixture
def crowd(db: Database) -> str:
    """Many customers in each tier of one search ("smi"): a word, a later word, an email."""
    rows: list[tuple[str, str, str, str, CustomerStatus]] = []
    people = [
        *[(f"Ann{n}", f"Smith{n}") for n in range(6)],  # second word
        *[(f"Bo{n}", f"van Smit{n}") for n in range(4)],  # third word
        *[(f"Smithy{n}", "Jones") for n in range(3)],  # first word
        *[(f"Cy{n}", f"Kasmir{n}") for n in range(3)],  # inside a word
        *[(f"Dee{n}", "Lo van de Smits") for n in range(2)],  # fourth word
        *[(f"Abe{n}", "Smith Smithers") for n in range(3)],  # second and third word
    ]
    for n, (first, last) in enumerate(people):
        status = CustomerStatus.ARCHIVED if n % 5 == 4 else CustomerStatus.ACTIVE
        rows.append((first, last, f"p{n}@crowd.example", f"+4420{n:08d}", status))
    for n in range(7):
        rows.append(
            (f"Eve{n}", "Hall", f"smi.{n}@crowd.example", f"+4421{n:08d}", CustomerStatus.ACTIVE)
        )
    rows += [
        (f"Filler{n:03d}", "Person", f"f{n}@filler.example", f"+4422{n:08d}", CustomerStatus.ACTIVE)
        for n in range(40)
    ]
    return _insert(db, rows)


@pytest.mark.parametrize("query", ["smi", "SMIT", "sm", "van smi", "smi.", "n sm", "ith"])
def test_crowded_tiers_are_read_in_name_order_as_the_plain_search_ranks_them(
    db: Database, crowd: str, query: str
) -> None:
    with db.unit_of_work(readonly=True) as uow:
        for status in (None, CustomerStatus.ACTIVE):
            statuses = list(CustomerStatus) if status is None else [status]
            for limit in (1, 3, 5, 20):
                expected = _uids(plain_search(uow, crowd, query, status, limit))
                for options in FINDERS:
                    found = Finder(uow, crowd, **options).search(query, statuses, limit)
                    assert _uids(found) == expected, (query, limit, options)


def test_phone_digits_with_a_leading_trunk_zero_find_the_international_number(
    db: Database, team: str
) -> None:
    actor = Actor(team_id=team, user_id="U1")
    with db.unit_of_work(readonly=True) as uow:
        found = {c.full_name for c in search_customers(uow, actor, "07700 900123")}
        assert found == {"Zoë Smith"}
        assert {c.full_name for c in search_customers(uow, actor, "0770")} == {
            "Zoë Smith",
            "Ann Lee",
        }
        assert {c.full_name for c in search_customers(uow, actor, "0353 83")} == {"Marianne Ward"}
    assert Terms.parse("0770") == Terms("0770", "0770", ("0770", "770"))
    assert Terms.parse("077") == Terms("077", "077", ("077",))


def test_search_ranks_exact_then_word_starts_then_email_starts(db: Database, team: str) -> None:
    actor = Actor(team_id=team, user_id="U1")
    with db.unit_of_work(readonly=True) as uow:
        # Any word starting with the text ranks first, in name order.
        assert [c.full_name for c in search_customers(uow, actor, "zoe")] == [
            "Ali Zoeller",
            "Zoe Åberg",
            "Zoë Smith",
        ]
        assert [c.full_name for c in search_customers(uow, actor, "ann")] == [
            "Ann Lee",
            "Joann Lee",  # the text inside a word, by name (any status unless asked)
            "Marianne Ward",
        ]
        assert [c.full_name for c in search_customers(uow, actor, "jl@")] == ["Joann Lee"]


def test_totals_beyond_the_cap_are_estimates_until_the_last_page(db: Database, team: str) -> None:
    with db.unit_of_work(readonly=True) as uow:
        finder = Finder(uow, team, window=1, candidates=2, cap=10)
        first = finder.page(CustomerStatus.ACTIVE, "filler", descending=False, page=1, page_size=10)
        assert first.estimated
        assert first.total > 10
        assert [c.first_name for c in first.rows] == [f"Filler{n:03d}" for n in range(10)]
        last = finder.page(CustomerStatus.ACTIVE, "filler", descending=False, page=6, page_size=10)
        assert (last.estimated, last.total, last.page, len(last.rows)) == (False, 60, 6, 10)
        beyond = finder.page(
            CustomerStatus.ACTIVE, "filler", descending=False, page=99, page_size=10
        )
        assert not beyond.estimated
        assert (beyond.total, beyond.page) == (60, 6)
    assert [about(n) for n in (7, 1001, 12_345, 987_654)] == [7, 1000, 12_000, 990_000]


def test_next_and_previous_by_uid_show_the_same_pages_as_page_numbers(
    db: Database, team: str
) -> None:
    actor = Actor(team_id=team, user_id="U1")
    for sort in SortOrder:
        with db.unit_of_work(readonly=True) as uow:
            by_number = [
                list_customers(uow, actor, query="e", sort=sort, page=n, page_size=7)
                for n in range(1, 5)
            ]
            page = by_number[0]
            for number in range(2, 5):
                page = list_customers(
                    uow,
                    actor,
                    query="e",
                    sort=sort,
                    page=number,
                    page_size=7,
                    after_uid=page.rows[-1].uid,
                )
                assert (page.page, _uids_of(page)) == (number, _uids_of(by_number[number - 1]))
            for number in range(3, 0, -1):
                page = list_customers(
                    uow,
                    actor,
                    query="e",
                    sort=sort,
                    page=number,
                    page_size=7,
                    before_uid=page.rows[0].uid,
                )
                assert (page.page, _uids_of(page)) == (number, _uids_of(by_number[number - 1]))


def _uids_of(page: CustomerPage) -> list[str]:
    return [row.uid for row in page.rows]


def test_a_cursor_customer_deleted_meanwhile_falls_back_to_the_page_number(
    db: Database, team: str
) -> None:
    actor = Actor(team_id=team, user_id="U1", role=Role.ADMIN)
    with db.unit_of_work(readonly=True) as uow:
        first = list_customers(uow, actor, page=1, page_size=5)
        second = list_customers(uow, actor, page=2, page_size=5)
    with db.unit_of_work() as uow:
        delete_customer(uow, actor, first.rows[-1].uid)
    with db.unit_of_work(readonly=True) as uow:
        again = list_customers(uow, actor, page=2, page_size=5, after_uid=first.rows[-1].uid)
    assert again.page == 2
    assert _uids_of(again)[:4] == _uids_of(second)[1:]


# --- the indexes: kept in step with the rows, and used -------------------------------------


def _fts_ids(db: Database, column: str, phrase: str) -> set[int]:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT rowid FROM customer_search WHERE customer_search MATCH :q"),
            {"q": f'{column} : "{phrase}"'},
        )
        return set(found.scalars())


def _counts(db: Database, team_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """The trigger-kept counts and the counted ones, by status."""
    with db.engine.connect() as conn:
        kept = conn.execute(
            text("SELECT status, total FROM customer_counts WHERE team_id = :t AND total > 0"),
            {"t": team_id},
        )
        counted = conn.execute(
            select(Customer.status, func.count())
            .where(Customer.team_id == team_id)
            .group_by(Customer.status)
        )
        return {row.status: row.total for row in kept}, {s.value: n for s, n in counted}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_triggers_keep_the_text_index_and_counts_in_step(db: Database) -> None:
    admin = Actor(team_id="TTRIG", user_id="UADMIN", role=Role.ADMIN)

    def add(first: str, last: str, email: str) -> str:
        with db.unit_of_work() as uow:
            data = CustomerInput(
                first_name=first, last_name=last, email=email, mobile="07700 900123"
            )
            return create_customer(uow, admin, data, send_welcome=False).uid

    def row_id(uid: str) -> int:
        with db.unit_of_work(readonly=True) as uow:
            return int(uow.session.scalar(select(Customer.id).where(Customer.uid == uid)) or 0)

    kept = add("Wilhelmina", "Quist", "wq@example.com")
    gone = add("Bartholomew", "Quist", "bq@example.com")
    merged = add("Wilma", "Quist", "wilma@example.com")
    assert _fts_ids(db, "name_tail", " quis") == {row_id(kept), row_id(gone), row_id(merged)}
    with db.unit_of_work() as uow:
        current = get_customer(uow, admin, kept)
        edit_contact(
            uow,
            admin,
            kept,
            CustomerInput(
                first_name="Mina",
                last_name="Quist",
                email="mq@example.org",
                mobile="+353 83 123 4567",
            ),
            expected_version=current.version,
        )
    assert _fts_ids(db, "name_key", "wilhelmina") == set()
    assert _fts_ids(db, "name_key", "mina quist") == {row_id(kept)}
    assert _fts_ids(db, "email", " mq@") == {row_id(kept)}
    assert _fts_ids(db, "mobile", "35383") == {row_id(kept)}
    assert _fts_ids(db, "mobile", "447700") == {row_id(gone), row_id(merged)}
    with db.unit_of_work() as uow:
        archive_customer(uow, admin, gone)
    assert _counts(db, "TTRIG")[0] == {"active": 2, "archived": 1}
    with db.unit_of_work() as uow:
        activate_customer(uow, admin, gone)
        merge_customers(uow, admin, merged, kept, reason="Same person")
    kept_counts, counted = _counts(db, "TTRIG")
    assert kept_counts == counted == {"active": 2, "archived": 1}
    with db.unit_of_work() as uow:
        delete_customer(uow, admin, gone)
    assert _fts_ids(db, "name_key", "bartholomew") == set()
    assert _counts(db, "TTRIG")[0] == {"active": 1, "archived": 1}
    # A workspace's customers go with it (ON DELETE CASCADE), and so do their index entries.
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM workspaces WHERE team_id = 'TTRIG'"))
    assert _fts_ids(db, "name_tail", " quis") == set()
    assert _counts(db, "TTRIG")[0] == {}


def _load_demo(db: Database, team_id: str, count: int) -> None:
    with db.unit_of_work() as uow:
        load_demo_customers(uow, team_id, count, seed=7)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE customers")


TRIGRAM_INDEXES = {
    "ix_customers_name_trgm",
    "ix_customers_email_trgm",
    "ix_customers_mobile_trgm",
    "ix_customers_third_words_trgm",
}


def _index_names(plan: Any) -> set[str]:
    names = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        names |= _index_names(child)
    return names


def test_three_character_lookups_go_through_the_text_index(db: Database) -> None:
    _load_demo(db, "TDEMO", 5000)
    for query in ("zoey", "o'bri", "smith", "j.mu", "0770 1"):
        # A window of one row sends every tier to the text index.
        statements = captured(
            db,
            lambda uow, query=query: Finder(uow, "TDEMO", window=1).search(
                query, [CustomerStatus.ACTIVE], 10
            ),
        )
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                _assert_trigram_lookups(conn, statements)
            else:
                asked = [(s, p) for s, p in statements if "customer_search MATCH" in s]
                assert asked, query
                for statement, parameters in asked:
                    plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    details = " | ".join(row[-1] for row in plan)
                    assert "VIRTUAL TABLE INDEX" in details, details


def _assert_trigram_lookups(conn: Any, statements: list[tuple[str, Any]]) -> None:
    # On a few thousand rows reading the whole table costs the planner about as much as an
    # index, so only index lookups are left to it: the statements must be able to use the
    # trigram indexes (the benchmark's EXPLAIN at 100,000 rows shows them chosen).
    for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
        conn.exec_driver_sql(f"SET LOCAL {setting} = off")
    asked = [(s, p) for s, p in statements if "AS MATERIALIZED" in s]
    assert asked
    for statement, parameters in asked:
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
        used = _index_names((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
        # (An email prefix may take the email's own b-tree, as good for it; word starts take
        # migration 0005's ranges.)
        assert used & {*SEARCH_INDEXES, "uq_customers_team_id_email"}, (statement, plan)


@pytest.mark.postgres
def test_the_database_function_turns_punctuation_into_letters_as_python_does(
    postgres_url: str,
) -> None:
    db = Database(make_settings(postgres_url))
    try:
        with db.engine.connect() as conn:
            mapped = conn.execute(
                text("SELECT customer_search_text(:p)"), {"p": PUNCTUATION + " a1é"}
            )
            assert mapped.scalar() == LETTERS + " a1é"
    finally:
        db.dispose()
    # The stand-in letters are ones no normalised text holds.
    for letter in LETTERS:
        assert unicodedata.normalize("NFC", letter) != letter
        assert unicodedata.normalize("NFKD", letter) != letter


def _scratch_name() -> str:
    return f"crtest_search_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the parameter's kind with no schema at all."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with scratch_database(database_url, _scratch_name(), owner="postgres") as url:
        yield url


def test_the_migration_indexes_customers_already_there(empty_database_url: str) -> None:
    db = Database(make_settings(empty_database_url))
    try:
        command.upgrade(alembic_config(db.engine), "0002")
        team = f"TS{uuid.uuid4().hex[:12]}"
        team_rows = [
            ("Zoë", "Quist", "zq@example.com", "+447700900123", CustomerStatus.ACTIVE),
            *(
                (f"Filler{n}", "Person", f"f{n}@example.com", "+44770090", CustomerStatus.ARCHIVED)
                for n in range(5)
            ),
        ]
        # Written as revision 0002's tables were (the models describe the newest schema).
        fields = ("team_id", "name", "timezone", "currency", "default_region", "created_at")
        workspaces = table("workspaces", *(column(name) for name in fields))
        with db.engine.begin() as conn:
            conn.execute(
                insert(workspaces).values(
                    team_id=team,
                    name="",
                    timezone="UTC",
                    currency="GBP",
                    default_region="GB",
                    created_at=datetime.now(UTC),
                )
            )
            conn.execute(insert(Customer.__table__), [_row(team, *row) for row in team_rows])
        db.upgrade()
        with db.unit_of_work(readonly=True) as uow:
            finder = Finder(uow, team, window=1, candidates=10)
            assert [c.last_name for c in finder.search("quist", [CustomerStatus.ACTIVE], 10)] == [
                "Quist"
            ]
            archived = finder.page(
                CustomerStatus.ARCHIVED, "", descending=False, page=1, page_size=10
            )
            assert (archived.total, archived.estimated) == (5, False)
        if db.dialect == "sqlite":
            assert _counts(db, team)[0] == {"active": 1, "archived": 5}
    finally:
        db.dispose()


@pytest.mark.postgres
def test_without_rights_to_create_pg_trgm_the_migration_says_what_to_run(postgres_url: str) -> None:
    role = f"crtest_noext_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        with scratch_database(postgres_url, _scratch_name(), owner="postgres") as url:
            # May create tables and functions, but not extensions (no CREATE on the database).
            owner = create_engine(url, isolation_level="AUTOCOMMIT")
            with owner.connect() as conn:
                conn.execute(text(f'GRANT CREATE ON SCHEMA public TO "{role}"'))
            owner.dispose()
            db = Database(make_settings(make_url(url).set(username=role).render_as_string(False)))
            try:
                with pytest.raises(
                    RuntimeError, match=r"CREATE EXTENSION pg_trgm;.*customer-bot db upgrade"
                ):
                    db.upgrade()
            finally:
                db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
