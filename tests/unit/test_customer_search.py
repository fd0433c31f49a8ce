"""Listing and as-you-type search on SQLite and PostgreSQL, by example and as a property."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.actor import Actor
from core.db import Database
from core.models import CustomerStatus
from core.services.customers import (
    MAX_PAGE_SIZE,
    CustomerInput,
    CustomerPage,
    CustomerRecord,
    SortOrder,
    archive_customer,
    create_customer,
    list_customers,
    name_key,
    search_customers,
)
from core.text import fold, squeeze
from tests.conftest import make_settings

_serial = itertools.count(1)


def add(db: Database, actor: Actor, first: str, last: str, **values: str) -> CustomerRecord:
    data = {
        "first_name": first,
        "last_name": last,
        "email": f"customer{next(_serial)}@example.com",
        "mobile": "+44 7700 900123",
    }
    with db.unit_of_work() as uow:
        return create_customer(uow, actor, CustomerInput(**(data | values)), send_welcome=False)


def add_all(db: Database, actor: Actor, names: list[str]) -> list[CustomerRecord]:
    """Customers named "First Last", created in the order given."""
    return [add(db, actor, *name.split(" ", 1)) for name in names]


def listing(db: Database, actor: Actor, **options: object) -> CustomerPage:
    with db.unit_of_work(readonly=True) as uow:
        return list_customers(uow, actor, **options)  # type: ignore[arg-type]


def names(page: CustomerPage) -> list[str]:
    return [row.full_name for row in page.rows]


def search(db: Database, actor: Actor, query: str, **options: object) -> list[str]:
    with db.unit_of_work(readonly=True) as uow:
        found = search_customers(uow, actor, query, **options)  # type: ignore[arg-type]
    return [row.full_name for row in found]


# --- listing -------------------------------------------------------------------------------

SHUFFLED = [
    "Zoe Baker",
    "Émile Zola",
    "adam Smith",
    "Ørjan Berg",
    "zoë Baker",
    "Ádám Kovács",
    "Eve Clark",
    "Oscar Wilde",
]
A_TO_Z = [
    "Ádám Kovács",
    "adam Smith",
    "Émile Zola",
    "Eve Clark",
    "Ørjan Berg",
    "Oscar Wilde",
    "Zoe Baker",  # ties keep the order the customers were created in
    "zoë Baker",
]


def test_list_sorts_by_full_name_ignoring_case_and_accents(db: Database, staff: Actor) -> None:
    add_all(db, staff, SHUFFLED)
    assert names(listing(db, staff, page_size=20)) == A_TO_Z
    descending = listing(db, staff, sort=SortOrder.NAME_DESC, page_size=20)
    assert names(descending) == list(reversed(A_TO_Z))


def test_list_sorts_word_by_word(db: Database, staff: Actor) -> None:
    add_all(db, staff, ["Anna Jones", "Annabel Lee", "Ann Zed", "Ann-Marie Fox", "Ann Smith"])
    assert names(listing(db, staff)) == [
        "Ann Smith",
        "Ann Zed",
        "Ann-Marie Fox",
        "Anna Jones",
        "Annabel Lee",
    ]


@pytest.mark.postgres
def test_list_order_does_not_depend_on_the_servers_locale(postgres_url: str, staff: Actor) -> None:
    # Many servers default to a locale that ignores spaces when sorting (glibc's en_US does;
    # ICU's "shifted" option reproduces it): the name order must be the same there.
    name = f"crtest_locale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(
            text(
                f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu '
                "ICU_LOCALE 'en-US-u-ka-shifted' LOCALE 'C.UTF-8'"
            )
        )
    db = Database(make_settings(make_url(postgres_url).set(database=name).render_as_string(False)))
    try:
        db.upgrade()
        add_all(db, staff, ["Anna Jones", "Ann Smith"])
        assert names(listing(db, staff)) == ["Ann Smith", "Anna Jones"]
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_paging_through_many_equal_names_shows_each_customer_once(
    db: Database, staff: Actor
) -> None:
    created = add_all(db, staff, ["Sam Lee", "Kim Park", "Sam Lee"] * 5)
    for sort in SortOrder:
        seen: list[str] = []
        for number in range(1, 5):
            seen += [
                row.uid for row in listing(db, staff, sort=sort, page=number, page_size=4).rows
            ]
        assert sorted(seen) == sorted(row.uid for row in created)
        assert len(set(seen)) == len(created)
    sams = [row.uid for row in created if row.first_name == "Sam"]
    ascending = listing(db, staff, page_size=20).rows
    assert [row.uid for row in ascending if row.first_name == "Sam"] == sams


def test_list_counts_and_pages(db: Database, staff: Actor) -> None:
    add_all(db, staff, [f"Customer {n:02d}" for n in range(23)])
    third = listing(db, staff, page=3, page_size=10)
    assert third.total == 23
    assert (third.page, third.pages) == (3, 3)
    assert (third.first_index, third.last_index) == (21, 23)
    assert names(third) == ["Customer 20", "Customer 21", "Customer 22"]
    second = listing(db, staff, page=2, page_size=10)
    assert (second.first_index, second.last_index) == (11, 20)


CLAMPED = {
    # (page, page_size) asked for: (page, page_size) shown
    (0, 10): (1, 10),
    (-3, 10): (1, 10),
    (99, 10): (3, 10),  # past the end shows the last page, not an empty one
    (1, 0): (1, 1),
    (1, 10_000): (1, MAX_PAGE_SIZE),
}


def test_page_and_page_size_are_clamped(db: Database, staff: Actor) -> None:
    add_all(db, staff, [f"Customer {n:02d}" for n in range(23)])
    shown = {}
    for page, page_size in CLAMPED:
        result = listing(db, staff, page=page, page_size=page_size)
        assert result.rows
        assert result.total == 23
        shown[page, page_size] = (result.page, result.page_size)
    assert shown == CLAMPED


def test_empty_list_is_page_one_of_one(db: Database, staff: Actor) -> None:
    empty = listing(db, staff, page=5)
    assert (empty.rows, empty.total, empty.page, empty.pages) == ([], 0, 1, 1)
    assert (empty.first_index, empty.last_index) == (0, 0)


def test_list_filters_by_status_and_query(db: Database, staff: Actor) -> None:
    ada, _, zoe = add_all(db, staff, ["Ada Lovelace", "Grace Hopper", "Zoë Adams"])
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, zoe.uid)
    assert names(listing(db, staff)) == ["Ada Lovelace", "Grace Hopper"]
    assert names(listing(db, staff, status=CustomerStatus.ARCHIVED)) == ["Zoë Adams"]
    matching = listing(db, staff, query="ad")
    assert (names(matching), matching.total) == (["Ada Lovelace"], 1)
    archived = listing(db, staff, status=CustomerStatus.ARCHIVED, query="ZOE")
    assert names(archived) == ["Zoë Adams"]
    assert listing(db, staff, query=ada.email).total == 1


# --- search --------------------------------------------------------------------------------


@pytest.fixture
def people(db: Database, staff: Actor) -> dict[str, CustomerRecord]:
    rows = [
        ("Zoë", "Smith", "zoe.smith@example.com", "+44 7700 900123"),
        ("Zoe", "Åberg", "za@example.org", "+46 70 123 45 67"),
        ("Grace", "Hopper", "grace.hopper@navy.example.com", "+1 201 555 0123"),
        ("Marianne", "Ward", "mw@example.com", "+44 7700 900456"),
        ("Anna", "Berg", "anna.b@example.com", "+33 6 12 34 56 78"),
        ("Joe", "Annand", "joe@example.com", "+49 1512 3456789"),
    ]
    return {
        first: add(db, staff, first, last, email=email, mobile=mobile)
        for first, last, email, mobile in rows
    }


FINDS = {
    "zoe": {"Zoë Smith", "Zoe Åberg"},
    "ZOË": {"Zoë Smith", "Zoe Åberg"},
    "  zoe  ": {"Zoë Smith", "Zoe Åberg"},
    "smi": {"Zoë Smith"},
    "oë sm": {"Zoë Smith"},  # across first and last name
    "zoe smith": {"Zoë Smith"},
    "abe": {"Zoe Åberg"},
    "ianne": {"Marianne Ward"},
    "grace.h": {"Grace Hopper"},  # email fragments
    "NAVY": {"Grace Hopper"},
    "@example.org": {"Zoe Åberg"},
    "7700 900": {"Zoë Smith", "Marianne Ward"},  # mobile digits
    "07700 900123": {"Zoë Smith"},  # as dialled at home, with the trunk 0
    "+44 7700 900 456": {"Marianne Ward"},
    "201-555": {"Grace Hopper"},
    "1512": {"Joe Annand"},
    "nobody": set(),
    "": set(),
    "   ": set(),
    "\t": set(),
}


def test_search_finds_by_any_part_of_name_email_or_mobile(
    db: Database, staff: Actor, people: dict[str, CustomerRecord]
) -> None:
    found = {query: set(search(db, staff, query)) for query in FINDS}
    assert found == FINDS


def test_exact_and_prefix_matches_come_first(db: Database, staff: Actor) -> None:
    add_all(db, staff, ["Joann Lee", "Ann Leeds", "Ann Lee", "Marianne Ward", "Anna Berg"])
    add(db, staff, "Zed", "Quinn", email="ann@example.com")
    add(db, staff, "Joe", "Annand")
    assert search(db, staff, "ann lee") == ["Ann Lee", "Ann Leeds", "Joann Lee"]
    assert search(db, staff, "ann") == [
        "Ann Lee",  # names starting with the text, by name
        "Ann Leeds",
        "Anna Berg",
        "Joe Annand",  # a word of the name starting with it
        "Zed Quinn",  # the email starting with it
        "Joann Lee",  # the text inside a word
        "Marianne Ward",
    ]


LITERAL = {
    "%": {"100% Fit"},
    "0%": {"100% Fit"},
    "_": {"Ann_Marie Fox", "Tim Lowe"},
    "n_m": {"Ann_Marie Fox"},
    "\\": {"Back\\Slash Doe"},
    "m_l": {"Tim Lowe"},  # an underscore in the email is literal too
}


def test_like_wildcards_in_the_query_are_literal(db: Database, staff: Actor) -> None:
    add_all(db, staff, ["100% Fit", "Ann_Marie Fox", "AnnXMarie Cox", "Back\\Slash Doe"])
    add(db, staff, "Tim", "Lowe", email="tim_lowe@example.com")
    add(db, staff, "Tia", "Lin", email="timxlowe@example.com")
    found = {query: set(search(db, staff, query)) for query in LITERAL}
    assert found == LITERAL


def test_search_can_be_limited_to_a_status(
    db: Database, staff: Actor, people: dict[str, CustomerRecord]
) -> None:
    with db.unit_of_work() as uow:
        archive_customer(uow, staff, people["Zoe"].uid)
    assert set(search(db, staff, "zoe")) == {"Zoë Smith", "Zoe Åberg"}
    assert search(db, staff, "zoe", status=CustomerStatus.ACTIVE) == ["Zoë Smith"]
    assert search(db, staff, "zoe", status=CustomerStatus.ARCHIVED) == ["Zoe Åberg"]


def test_search_returns_at_most_limit_rows(db: Database, staff: Actor) -> None:
    add_all(db, staff, [f"Sam Lee{n}" for n in range(12)])
    assert len(search(db, staff, "sam", limit=5)) == 5
    assert len(search(db, staff, "sam", limit=50)) == 12


# --- property: search agrees with a plain-Python filter -----------------------------------------

NAME_ALPHABET = "aAeEnNoOsSzZéÉëËøØåÅßñÑ _%\\'-"
name_text = st.text(NAME_ALPHABET, min_size=1, max_size=12).filter(lambda s: squeeze(s) != "")


def _reference(customers: list[CustomerRecord], query: str) -> set[str]:
    folded = fold(query)
    if not folded:
        return set()
    return {
        row.uid
        for row in customers
        if folded in name_key(row.first_name, row.last_name) or query.strip().lower() in row.email
    }


def _query(data: st.DataObject, customers: list[CustomerRecord]) -> tuple[str, str | None]:
    """Mostly a piece of one customer's name with its case changed, and their UID; or any text."""
    if data.draw(st.booleans()):
        return data.draw(st.text(NAME_ALPHABET, max_size=4)), None
    target = data.draw(st.sampled_from(customers))
    full = target.full_name
    start = data.draw(st.integers(0, len(full) - 1))
    piece = full[start : data.draw(st.integers(start + 1, len(full)))]
    cased = data.draw(st.sampled_from([piece, piece.upper(), piece.lower(), piece.swapcase()]))
    return cased, target.uid if fold(piece) else None


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), typed=st.lists(st.tuples(name_text, name_text), min_size=1, max_size=8))
def test_search_agrees_with_a_plain_python_filter(
    db: Database, data: st.DataObject, typed: list[tuple[str, str]]
) -> None:
    actor = Actor(team_id=f"TP{uuid.uuid4().hex[:12]}", user_id="UPROP")
    with db.unit_of_work() as uow:
        customers = [
            create_customer(
                uow,
                actor,
                CustomerInput(
                    first_name=first,
                    last_name=last,
                    email=f"q{next(_serial)}@qq.example",
                    mobile="+44 7700 900123",
                ),
                send_welcome=False,
            )
            for first, last in typed
        ]
    # Names are stored exactly as typed, trimmed and squeezed, on either database.
    assert [(c.first_name, c.last_name) for c in customers] == [
        (squeeze(first), squeeze(last)) for first, last in typed
    ]
    for _ in range(3):
        query, owner = _query(data, customers)
        with db.unit_of_work(readonly=True) as uow:
            found = {row.uid for row in search_customers(uow, actor, query, limit=MAX_PAGE_SIZE)}
        assert found == _reference(customers, query), query
        if owner is not None:
            assert owner in found, query
