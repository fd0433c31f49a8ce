"""What each kind of catalog item holds and how an admin's typing becomes it: services,
facilitators, pass types, videos, subscription plans and questionnaires, checked field by field."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from core.errors import ValidationFailed
from core.formatting import format_money, plain_amount
from core.models import (
    AppointmentService,
    Facilitator,
    PassType,
    QuestionnaireTemplate,
    SubscriptionPlan,
    Video,
)
from core.services.catalog_fields import CREDITS_MAX, money_amount, whole_number
from core.services.questions import (
    QuestionKind,
    parse_questions,
    question_of,
    questions_text,
    stored,
)
from core.text import squeeze

NAME_MAX = 200
DURATION_MAX = 24 * 60
VALIDITY_MAX = 3660
INTERVALS = ("week", "month", "year")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,31}")
_STRIPE_PRICE = re.compile(r"price_[A-Za-z0-9]{1,58}")
R = TypeVar("R")


class ItemKind(StrEnum):
    """The kinds of catalog item edited one modal each (events have their own)."""

    SERVICE = "service"
    FACILITATOR = "facilitator"
    PASS_TYPE = "pass_type"  # noqa: S105 - a kind, not a secret
    VIDEO = "video"
    PLAN = "plan"
    QUESTIONNAIRE = "questionnaire"


@dataclass(frozen=True)
class ItemDraft:
    """What an admin typed for an item, by field name, and the items of the kind it links to."""

    fields: Mapping[str, str] = field(default_factory=dict)
    links: tuple[int, ...] = ()

    def text(self, name: str) -> str:
        """What was typed in field `name` ('' when nothing)."""
        return self.fields.get(name, "")


class Checks:
    """Reads a draft field by field, gathering one message per field that is wrong."""

    def __init__(self, draft: ItemDraft, currency: str) -> None:
        self.draft, self.currency = draft, currency
        self.errors: dict[str, str] = {}

    def name(self, noun: str) -> str:
        """The item's name, squeezed; required and at most NAME_MAX characters."""
        name = squeeze(self.draft.text("name"))
        if not name:
            self.errors["name"] = f"Enter the {noun}'s name."
        elif len(name) > NAME_MAX:
            self.errors["name"] = f"The name can be at most {NAME_MAX} characters ({len(name)})."
        return name

    def whole(self, name: str, label: str, high: int, *, blank: int | None = 0) -> int | None:
        """A whole number from 1 to `high`; a blank field gives `blank` (0: it is required)."""
        text = self.draft.text(name)
        if not text.strip() and blank != 0:
            return blank
        value, problem = whole_number(text, label, 1, high)
        if problem:
            self.errors[name] = problem
        return value

    def price(self) -> int:
        """The price typed, in minor units of the studio's currency."""
        value, problem = money_amount(self.draft.text("price"), self.currency)
        if problem:
            self.errors["price"] = problem
        return value

    def matching(self, name: str, pattern: re.Pattern[str], problem: str) -> str | None:
        """An optional code that must match `pattern` when given."""
        text = self.draft.text(name).strip()
        if text and not pattern.fullmatch(text):
            self.errors[name] = problem
        return text or None

    def done(self, columns: dict[str, Any]) -> dict[str, Any]:
        """`columns` when every field was right; otherwise ValidationFailed naming each wrong one."""
        if self.errors:
            raise ValidationFailed(self.errors)
        return columns


@dataclass(frozen=True)
class KindRules(Generic[R]):
    """One kind of item: its table, its words, and how a draft becomes its columns and back."""

    model: type[R]
    noun: str
    plural: str
    clean: Callable[[ItemDraft, str], dict[str, Any]]
    draft: Callable[[R, str], dict[str, str]]
    summary: Callable[[R, str], str]
    title_column: str = "name"
    # The kind whose items this one is linked to (services ↔ facilitators).
    link: ItemKind | None = None


def _price_or_credits(price_minor: int, credits: int | None, currency: str) -> str:
    money = format_money(price_minor, currency)
    return f"{money} or {credits} CR" if credits else money


def _service(draft: ItemDraft, currency: str) -> dict[str, Any]:
    checks = Checks(draft, currency)
    return checks.done(
        {
            "name": checks.name("service"),
            "duration_minutes": checks.whole("duration", "the length in minutes", DURATION_MAX),
            "price_minor": checks.price(),
            "credit_price": checks.whole("credits", "the credits", CREDITS_MAX, blank=1),
        }
    )


def _service_draft(row: AppointmentService, currency: str) -> dict[str, str]:
    return {
        "name": row.name,
        "duration": str(row.duration_minutes),
        "price": plain_amount(row.price_minor, currency),
        "credits": str(row.credit_price),
    }


def _service_summary(row: AppointmentService, currency: str) -> str:
    return f"{row.duration_minutes} min · {_price_or_credits(row.price_minor, row.credit_price, currency)}"


def _facilitator(draft: ItemDraft, currency: str) -> dict[str, Any]:
    checks = Checks(draft, currency)
    user = checks.matching("slack_user", _SLACK_USER, "Choose a person in this workspace.")
    return checks.done({"name": checks.name("facilitator"), "slack_user_id": user})


def _facilitator_draft(row: Facilitator, currency: str) -> dict[str, str]:
    return {"name": row.name, "slack_user": row.slack_user_id or ""}


def _facilitator_summary(row: Facilitator, currency: str) -> str:
    return "Slack account linked" if row.slack_user_id else "No Slack account linked"


def _pass_type(draft: ItemDraft, currency: str) -> dict[str, Any]:
    checks = Checks(draft, currency)
    return checks.done(
        {
            "name": checks.name("pass type"),
            "credits": checks.whole("credits", "the credits", CREDITS_MAX),
            "validity_days": checks.whole("validity", "the days it is valid", VALIDITY_MAX),
            "price_minor": checks.price(),
        }
    )


def _pass_type_draft(row: PassType, currency: str) -> dict[str, str]:
    return {
        "name": row.name,
        "credits": str(row.credits),
        "validity": str(row.validity_days),
        "price": plain_amount(row.price_minor, currency),
    }


def _pass_type_summary(row: PassType, currency: str) -> str:
    price = format_money(row.price_minor, currency)
    return f"{row.credits} CR · valid {row.validity_days} days · {price}"


def _video(draft: ItemDraft, currency: str) -> dict[str, Any]:
    checks = Checks(draft, currency)
    return checks.done(
        {
            "title": checks.name("video"),
            "price_minor": checks.price(),
            "credit_price": checks.whole("credits", "the credits", CREDITS_MAX, blank=None),
            "access_days": checks.whole(
                "access_days", "the days of access", VALIDITY_MAX, blank=None
            ),
        }
    )


def _video_draft(row: Video, currency: str) -> dict[str, str]:
    return {
        "name": row.title,
        "price": plain_amount(row.price_minor, currency),
        "credits": "" if row.credit_price is None else str(row.credit_price),
        "access_days": "" if row.access_days is None else str(row.access_days),
    }


def _video_summary(row: Video, currency: str) -> str:
    access = f"watchable {row.access_days} days" if row.access_days else "watchable for ever"
    return f"{_price_or_credits(row.price_minor, row.credit_price, currency)} · {access}"


def _plan(draft: ItemDraft, currency: str) -> dict[str, Any]:
    checks = Checks(draft, currency)
    interval = draft.text("interval")
    if interval not in INTERVALS:
        checks.errors["interval"] = "Choose how often it is billed."
    price_id = checks.matching(
        "stripe_price", _STRIPE_PRICE, "A Stripe price id starts with price_, such as price_1Abc."
    )
    return checks.done(
        {
            "name": checks.name("plan"),
            "price_minor": checks.price(),
            "interval": interval,
            "stripe_price_id": price_id,
        }
    )


def _plan_draft(row: SubscriptionPlan, currency: str) -> dict[str, str]:
    return {
        "name": row.name,
        "price": plain_amount(row.price_minor, currency),
        "interval": row.interval,
        "stripe_price": row.stripe_price_id or "",
    }


def _plan_summary(row: SubscriptionPlan, currency: str) -> str:
    stripe = f" · Stripe {row.stripe_price_id}" if row.stripe_price_id else ""
    return f"{format_money(row.price_minor, currency)} a {row.interval}{stripe}"


def _questionnaire(draft: ItemDraft, currency: str) -> dict[str, Any]:
    checks = Checks(draft, currency)
    columns: dict[str, Any] = {"name": checks.name("questionnaire")}
    # Absent when the questions outgrow a Slack field: the stored ones are kept as they are.
    if "questions" in draft.fields:
        try:
            columns["questions"] = [stored(q) for q in parse_questions(draft.text("questions"))]
        except ValidationFailed as exc:
            checks.errors.update(exc.errors)
    return checks.done(columns)


def _questionnaire_draft(row: QuestionnaireTemplate, currency: str) -> dict[str, str]:
    return {"name": row.name, "questions": questions_text([question_of(q) for q in row.questions])}


def _questionnaire_summary(row: QuestionnaireTemplate, currency: str) -> str:
    questions = [question_of(q) for q in row.questions]
    typed = Counter(q.kind.value for q in questions if q.kind is not QuestionKind.TEXT)
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(typed.items()))
    detail = f" ({listed})" if typed else ""
    return f"{len(questions)} question{'' if len(questions) == 1 else 's'}{detail}"


RULES: dict[ItemKind, KindRules[Any]] = {
    ItemKind.SERVICE: KindRules(
        AppointmentService,
        "service",
        "Services",
        _service,
        _service_draft,
        _service_summary,
        link=ItemKind.FACILITATOR,
    ),
    ItemKind.FACILITATOR: KindRules(
        Facilitator,
        "facilitator",
        "Facilitators",
        _facilitator,
        _facilitator_draft,
        _facilitator_summary,
        link=ItemKind.SERVICE,
    ),
    ItemKind.PASS_TYPE: KindRules(
        PassType, "pass type", "Pass types", _pass_type, _pass_type_draft, _pass_type_summary
    ),
    ItemKind.VIDEO: KindRules(
        Video, "video", "Videos", _video, _video_draft, _video_summary, title_column="title"
    ),
    ItemKind.PLAN: KindRules(
        SubscriptionPlan, "plan", "Subscription plans", _plan, _plan_draft, _plan_summary
    ),
    ItemKind.QUESTIONNAIRE: KindRules(
        QuestionnaireTemplate,
        "questionnaire",
        "Questionnaires",
        _questionnaire,
        _questionnaire_draft,
        _questionnaire_summary,
    ),
}
