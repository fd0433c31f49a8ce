"""Segments: a workspace's customers filtered by their records, counted and listed a page at a time.

Periods are counted in the studio's calendar days, so a saved segment ("no visit in 60 days")
keeps its meaning as time passes: N days ago starts at local midnight of today minus N, and a
visit at any time that day is within the last N days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from core.actor import Actor
from core.db import UnitOfWork
from core.errors import ValidationFailed
from core.models import (
    TAG_MAX,
    ConsentState,
    Customer,
    CustomerFacts,
    CustomerStatus,
    CustomerTag,
    Pass,
    PassState,
    Subscription,
    SubscriptionState,
    Tag,
    Workspace,
)
from core.services import customer_facts
from core.services.paging import Page, fetch_page
from core.services.tags import tag_key
from core.services.today import day_bounds, local_day
from core.services.workspaces import ensure_workspace

PAGE_SIZE = 10
# A day count beyond ten years is a typing slip, not a period anyone means.
MAX_DAYS = 3660
MAX_VISITS = 10_000
MAX_MINOR = 10**12
NO_SUBSCRIPTION = "none"


class StatusFilter(StrEnum):
    """Which customers by status: Active (the default, as in the hub), Archived, or both."""

    ACTIVE = "active"
    ARCHIVED = "archived"
    ANY = "any"


@dataclass(frozen=True)
class SegmentFilters:
    """What a segment asks of a customer; None leaves a filter out."""

    status: StatusFilter = StatusFilter.ACTIVE
    # Last visit more than N days ago (before local day today - N); never visited: no match.
    lapsed_days: int | None = None
    # Last visit within the last N days (on or after local day today - N).
    seen_days: int | None = None
    # Visits in the last `visits_days` days: at least `visits_min`, at most `visits_max`.
    visits_days: int | None = None
    visits_min: int | None = None
    visits_max: int | None = None
    # Money kept in the workspace's currency, in minor units: at least / less than.
    spend_at_least: int | None = None
    spend_below: int | None = None
    # A pass with credits left that ends between today and N days from today.
    pass_ending_days: int | None = None
    # A subscription in this state, or NO_SUBSCRIPTION: none at all.
    subscription: str | None = None
    # Holding this tag (any case); marketing consent in this state.
    tag: str | None = None
    consent: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The filters set, as stored with a saved segment."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> SegmentFilters:
        """Filters as `to_json` stored them; unknown keys (from a newer version) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in stored.items() if key in known}
        if "status" in values:
            values["status"] = StatusFilter(values["status"])
        return validated(cls(**values))


def validated(filters: SegmentFilters) -> SegmentFilters:
    """`filters` if they make sense together; ValidationFailed names each field to fix."""
    errors: dict[str, str] = {}
    for name in ("lapsed_days", "seen_days", "visits_days", "pass_ending_days"):
        value = getattr(filters, name)
        if value is not None and not 0 <= value <= MAX_DAYS:
            errors[name] = f"Enter a number of days from 0 to {MAX_DAYS}."
    for name in ("visits_min", "visits_max"):
        value = getattr(filters, name)
        if value is not None and not 0 <= value <= MAX_VISITS:
            errors[name] = f"Enter a number of visits from 0 to {MAX_VISITS:,}."
    for name in ("spend_at_least", "spend_below"):
        value = getattr(filters, name)
        if value is not None and not 0 <= value <= MAX_MINOR:
            errors[name] = "Enter an amount of 0 or more."
    counted = filters.visits_min is not None or filters.visits_max is not None
    if counted and filters.visits_days is None and "visits_days" not in errors:
        errors["visits_days"] = "Say over how many days the visits are counted."
    if filters.visits_days is not None and not counted and "visits_min" not in errors:
        errors["visits_min"] = "Say how many visits (at least, at most, or both)."
    if (
        filters.visits_min is not None
        and filters.visits_max is not None
        and filters.visits_min > filters.visits_max
        and "visits_max" not in errors
    ):
        errors["visits_max"] = "At most can't be less than at least."
    if (
        filters.spend_at_least is not None
        and filters.spend_below is not None
        and filters.spend_at_least >= filters.spend_below
        and "spend_below" not in errors
    ):
        errors["spend_below"] = "Less than must be more than at least: no one could match."
    if filters.tag is not None and not 0 < len(filters.tag.strip()) <= TAG_MAX:
        errors["tag"] = "Choose a tag from the list."
    if filters.consent is not None and filters.consent not in {c.value for c in ConsentState}:
        errors["consent"] = "Choose granted, withdrawn or unknown."
    states = {state.value for state in SubscriptionState} | {NO_SUBSCRIPTION}
    if filters.subscription is not None and filters.subscription not in states:
        errors["subscription"] = "Choose a subscription state from the list."
    if errors:
        raise ValidationFailed(errors)
    return filters


@dataclass(frozen=True)
class SegmentRow:
    """One customer in a segment, with the facts staff judge them by."""

    uid: str
    name: str
    email: str
    status: CustomerStatus
    last_visit_at: datetime | None
    visits: int
    spend_minor: int


@dataclass(frozen=True)
class SegmentResult:
    """How many customers match, the page asked for, and the money's currency."""

    page: Page[SegmentRow]
    currency: str


@dataclass(frozen=True)
class _Calendar:
    team_id: str
    now: datetime
    today: date
    timezone: str

    def days_ago(self, days: int) -> datetime:
        """The instant local day today - `days` starts."""
        return day_bounds(self.today - timedelta(days=days), self.timezone)[0]

    def days_ahead(self, days: int) -> date:
        return self.today + timedelta(days=days)


def _visit_counts(calendar: _Calendar, since: datetime) -> Select[Any]:
    """(customer_id) grouped, of the workspace's customers with a visit since `since`."""
    rows = customer_facts.visits_between(calendar.team_id, since, calendar.now).subquery()
    return select(rows.c.customer_id).group_by(rows.c.customer_id)


def _conditions(filters: SegmentFilters, calendar: _Calendar) -> list[ColumnElement[bool]]:
    team = calendar.team_id
    conditions: list[ColumnElement[bool]] = [
        Customer.team_id == team,
        Customer.anonymised_at.is_(None),
        Customer.merged_into_id.is_(None),
    ]
    if filters.status is not StatusFilter.ANY:
        conditions.append(Customer.status == CustomerStatus(filters.status.value))
    if filters.lapsed_days is not None:
        conditions.append(CustomerFacts.last_visit_at < calendar.days_ago(filters.lapsed_days))
    if filters.seen_days is not None:
        conditions.append(CustomerFacts.last_visit_at >= calendar.days_ago(filters.seen_days))
    spend = func.coalesce(CustomerFacts.spend_minor, 0)
    if filters.spend_at_least is not None:
        conditions.append(spend >= filters.spend_at_least)
    if filters.spend_below is not None:
        conditions.append(spend < filters.spend_below)
    if filters.visits_days is not None:
        conditions.append(_visits_condition(filters, calendar))
    if filters.pass_ending_days is not None:
        ending = select(Pass.customer_id).where(
            Pass.team_id == team,
            Pass.valid_to >= calendar.today,
            Pass.valid_to <= calendar.days_ahead(filters.pass_ending_days),
            Pass.valid_from <= calendar.today,
            Pass.credits_remaining > 0,
            Pass.state.in_((PassState.COMPLETED, PassState.MANUAL)),
        )
        conditions.append(Customer.id.in_(ending))
    if filters.tag is not None:
        holders = (
            select(CustomerTag.customer_id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.team_id == team, Tag.key == tag_key(filters.tag))
        )
        conditions.append(Customer.id.in_(holders))
    if filters.consent is not None:
        conditions.append(Customer.marketing_consent == ConsentState(filters.consent))
    if filters.subscription == NO_SUBSCRIPTION:
        held = select(Subscription.customer_id).where(Subscription.team_id == team)
        conditions.append(Customer.id.not_in(held))
    elif filters.subscription is not None:
        held = select(Subscription.customer_id).where(
            Subscription.team_id == team,
            Subscription.state == SubscriptionState(filters.subscription),
        )
        conditions.append(Customer.id.in_(held))
    return conditions


def _visits_condition(filters: SegmentFilters, calendar: _Calendar) -> ColumnElement[bool]:
    """At least `visits_min` and at most `visits_max` visits in the period; with no minimum,
    customers with no visits in it (or none ever) match too."""
    counts = _visit_counts(calendar, calendar.days_ago(filters.visits_days or 0))
    low, high = filters.visits_min or 0, filters.visits_max
    if low > 0:
        enough = func.count() >= low
        if high is not None:
            enough = enough & (func.count() <= high)
        matched = counts.having(enough).subquery()
        return Customer.id.in_(select(matched.c.customer_id))
    too_many = counts.having(func.count() > (high or 0)).subquery()
    return Customer.id.not_in(select(too_many.c.customer_id))


def _calendar(uow: UnitOfWork, actor: Actor) -> _Calendar:
    """The workspace's calendar now, its facts brought up to date first (writes)."""
    workspace = ensure_workspace(uow, actor.team_id)
    customer_facts.ready(uow, actor.team_id)
    now = uow.now()
    return _Calendar(actor.team_id, now, local_day(now, workspace.timezone), workspace.timezone)


def count_segment(uow: UnitOfWork, actor: Actor, filters: SegmentFilters) -> int:
    """How many customers `filters` match (writes: see `segment`)."""
    calendar = _calendar(uow, actor)
    query = (
        select(func.count())
        .select_from(Customer)
        .outerjoin(CustomerFacts, CustomerFacts.customer_id == Customer.id)
        .where(*_conditions(validated(filters), calendar))
    )
    return uow.session.scalar(query) or 0


def segment(
    uow: UnitOfWork,
    actor: Actor,
    filters: SegmentFilters,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> SegmentResult:
    """The customers `filters` match, counted, and page `page` of them by name.

    Writes: the workspace's facts are brought up to date first (see `customer_facts.ready`)."""
    calendar = _calendar(uow, actor)
    query = (
        select(
            Customer.uid,
            Customer.first_name,
            Customer.last_name,
            Customer.email,
            Customer.status,
            CustomerFacts.last_visit_at,
            func.coalesce(CustomerFacts.visits, 0),
            func.coalesce(CustomerFacts.spend_minor, 0),
        )
        .outerjoin(CustomerFacts, CustomerFacts.customer_id == Customer.id)
        .where(*_conditions(validated(filters), calendar))
        .order_by(Customer.name_key, Customer.id)
    )
    rows, total, page, page_size = fetch_page(uow, query, page=page, page_size=page_size)
    listed = [
        SegmentRow(uid, f"{first} {last}", email, status, last_visit, visits, spend)
        for uid, first, last, email, status, last_visit, visits, spend in rows
    ]
    currency = uow.session.get_one(Workspace, actor.team_id).currency
    return SegmentResult(Page(listed, total, page, page_size), currency)


def segment_customer_ids(uow: UnitOfWork, actor: Actor, filters: SegmentFilters) -> Select[Any]:
    """The ids of the customers `filters` match, as a subquery for an export to select from."""
    calendar = _calendar(uow, actor)
    return (
        select(Customer.id)
        .outerjoin(CustomerFacts, CustomerFacts.customer_id == Customer.id)
        .where(*_conditions(validated(filters), calendar))
    )
