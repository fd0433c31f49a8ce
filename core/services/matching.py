"""What makes two customers a possible match: pure rules, and the candidates a form checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import collate, or_, select, union

from core.actor import Actor
from core.db import UnitOfWork
from core.models import Customer, CustomerStatus, NotDuplicate
from core.services.customer_search import prefix_range
from core.text import fold

# Mail hosts that ignore dots in the local part and treat googlemail.com as gmail.com.
_DOTLESS_HOSTS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
# Candidates read for one form's check; the form shows only the best few.
FORM_CANDIDATES = 200
FORM_MATCHES = 3


class Evidence(StrEnum):
    """Why two customers may be one person, strongest first."""

    MOBILE = "same mobile"
    EMAIL = "same email"
    SAME_NAME = "same name"
    EMAIL_NAME = "same email name"
    SIMILAR_NAME = "similar name"


_WEIGHTS = {
    Evidence.MOBILE: 8,
    Evidence.EMAIL: 8,
    Evidence.SAME_NAME: 3,
    Evidence.EMAIL_NAME: 2,
    Evidence.SIMILAR_NAME: 2,
}


@dataclass(frozen=True)
class Contact:
    """What matching compares: the names, email and mobile (E.164) as stored."""

    first_name: str
    last_name: str
    email: str
    mobile: str


def normalise_email(email: str) -> str:
    """The mailbox an address reaches: lower case, no +tag; gmail also ignores dots."""
    lowered = email.strip().lower()
    if "+" not in lowered and not lowered.endswith(tuple(_DOTLESS_HOSTS)):
        return lowered  # the common case, taken 100,000 times by the report
    local, at, host = lowered.rpartition("@")
    if not at:
        return lowered
    local = local.split("+", 1)[0] or local
    host = _DOTLESS_HOSTS.get(host, host)
    if host == "gmail.com":
        local = local.replace(".", "")
    return f"{local}@{host}"


def email_name(email: str) -> str:
    """The normalised local part: 'Zoe.Adams+yoga@gmail.com' → 'zoeadams'."""
    return normalise_email(email).rpartition("@")[0]


def _within(a: str, b: str, limit: int) -> bool:
    """Whether the edit distance of `a` and `b` is at most `limit` (banded, early exit)."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit


@lru_cache(maxsize=8192)
def _folded(name: str) -> str:
    # The report compares one customer with several others; folding is the costly part.
    return fold(name)


def name_evidence(a: str, b: str) -> Evidence | None:
    """SAME_NAME for equal folded names, SIMILAR_NAME for a small edit, else None.

    `a` and `b` are full names; case, accents and spacing never count ("Zoë Adams" = "zoe adams")."""
    folded_a, folded_b = _folded(a), _folded(b)
    if not folded_a or not folded_b:
        return None
    if folded_a == folded_b:
        return Evidence.SAME_NAME
    # One slip in a short name, two in a longer one; swapped first and last names count too.
    limit = 1 if min(len(folded_a), len(folded_b)) < 10 else 2
    swapped = " ".join(reversed(folded_b.split(" ", 1)))
    if _within(folded_a, folded_b, limit) or folded_a == swapped:
        return Evidence.SIMILAR_NAME
    return None


def evidence(a: Contact, b: Contact) -> tuple[Evidence, ...]:
    """Everything two customers share, strongest first (empty: nothing in common)."""
    found: list[Evidence] = []
    if a.mobile and a.mobile == b.mobile:
        found.append(Evidence.MOBILE)
    if normalise_email(a.email) == normalise_email(b.email):
        found.append(Evidence.EMAIL)
    names = name_evidence(f"{a.first_name} {a.last_name}", f"{b.first_name} {b.last_name}")
    if names is not None:
        found.append(names)
    if Evidence.EMAIL not in found and email_name(a.email) == email_name(b.email):
        found.append(Evidence.EMAIL_NAME)
    return tuple(sorted(found, key=list(Evidence).index))


def score(found: Iterable[Evidence]) -> int:
    """How strongly the evidence says one person: the report's ranking."""
    return sum(_WEIGHTS[item] for item in found)


def warns_on_form(found: tuple[Evidence, ...]) -> bool:
    """A form warns for the same mobile or mailbox, or a (very) similar name with the same
    email name; a name alone is too common to interrupt anyone."""
    named = Evidence.SAME_NAME in found or Evidence.SIMILAR_NAME in found
    return (
        Evidence.MOBILE in found
        or Evidence.EMAIL in found
        or (named and Evidence.EMAIL_NAME in found)
    )


def suggested(found: tuple[Evidence, ...]) -> bool:
    """The report lists what a form would warn about: a shared name alone is too common."""
    return warns_on_form(found)


def contact_of(customer: Customer) -> Contact:
    return Contact(customer.first_name, customer.last_name, customer.email, customer.mobile)


@dataclass(frozen=True)
class Match:
    """A customer who may be the person typed into a form, and why."""

    customer: Customer
    evidence: tuple[Evidence, ...]

    @property
    def field(self) -> str:
        """The form field the warning belongs under."""
        if Evidence.MOBILE in self.evidence:
            return "mobile"
        if Evidence.EMAIL in self.evidence or Evidence.EMAIL_NAME in self.evidence:
            return "email"
        return "first_name"


def dismissed_pairs(uow: UnitOfWork, team_id: str, ids: Iterable[int]) -> set[tuple[int, int]]:
    """The pairs among `ids` an admin said are two people, as (low, high)."""
    wanted = list(set(ids))
    if not wanted:
        return set()
    rows = uow.session.execute(
        select(NotDuplicate.low_id, NotDuplicate.high_id).where(
            NotDuplicate.team_id == team_id,
            or_(NotDuplicate.low_id.in_(wanted), NotDuplicate.high_id.in_(wanted)),
        )
    )
    return {(low, high) for low, high in rows}


def ordered_pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def form_matches(
    uow: UnitOfWork, actor: Actor, typed: Contact, *, exclude_id: int | None = None
) -> list[Match]:
    """Customers the contact being saved may duplicate, most likely first (at most a few).

    Every warning needs the same mobile or the same email name, so only customers sharing
    the mobile or the email's first letters are read, each through an index."""
    name = email_name(typed.email)
    head = name[:3]
    team = Customer.team_id == actor.team_id
    # Any workspace's few customers with the mobile: the outer query keeps this one's.
    shares = [select(Customer.id).where(Customer.mobile == typed.mobile)] if typed.mobile else []
    if head:
        # Starting with `head` is a range in code point order (byte order on both databases):
        # of the (team_id, status, email) index PostgreSQL keeps for search (migration 0005),
        # or of the unique (team_id, email) one on SQLite.
        postgres = uow.session.get_bind().dialect.name == "postgresql"
        email = collate(Customer.email.expression, "C") if postgres else Customer.email.expression
        starting = select(Customer.id).where(
            team, Customer.status.in_(list(CustomerStatus)), prefix_range(email, head)
        )
        shares.append(starting)
    if not shares:
        return []
    query = (
        select(Customer.id, Customer.email, Customer.mobile)
        .where(team, Customer.merged_into_id.is_(None), Customer.id.in_(union(*shares)))
        .order_by(Customer.id)
        .limit(FORM_CANDIDATES)
    )
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    # Only these can warn; a common start ("mar…") has hundreds of others not worth loading.
    sharing = [
        row.id
        for row in uow.session.execute(query)
        if (typed.mobile and row.mobile == typed.mobile) or email_name(row.email) == name
    ]
    if not sharing:
        return []
    loaded = uow.session.scalars(select(Customer).where(Customer.id.in_(sharing)))
    found = [(c, evidence(typed, contact_of(c))) for c in sorted(loaded, key=lambda c: c.id)]
    found = [(c, ev) for c, ev in found if warns_on_form(ev)]
    if exclude_id is not None and found:
        dismissed = dismissed_pairs(uow, actor.team_id, [exclude_id])
        found = [(c, ev) for c, ev in found if ordered_pair(c.id, exclude_id) not in dismissed]
    # Active before archived, then strongest evidence, then oldest record.
    found.sort(key=lambda item: (item[0].status is CustomerStatus.ARCHIVED, -score(item[1])))
    return [Match(c, ev) for c, ev in found[:FORM_MATCHES]]
