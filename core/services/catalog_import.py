"""The catalog YAML file: validation with line numbers, exact prices, then `sync_catalog`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel.numbers import get_currency_precision, is_currency
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from core.db import UnitOfWork
from core.errors import DomainError
from core.formatting import counted
from core.services.catalog import (
    CatalogSpec,
    EventSpec,
    FacilitatorSpec,
    LocalTimeError,
    OccurrenceSpec,
    PassTypeSpec,
    PlanSpec,
    QuestionnaireSpec,
    ServiceSpec,
    VideoSpec,
    WeeklySlot,
    local_to_utc,
    sync_catalog,
)
from core.services.questions import (
    QUESTIONS_MAX,
    Question,
    QuestionKind,
    kind_of,
    question_problem,
)
from core.services.workspaces import ensure_workspace

# Shipped inside the package so `demo-data` finds it in an installed copy too.
EXAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "catalog.example.yaml"
MAX_FILE_BYTES = 2_000_000
# Money columns are 32-bit integers of minor units.
MAX_MINOR = 2**31 - 1
MAX_RULE_SPAN = timedelta(days=3 * 366)
# Alias-heavy YAML can name the same node along exponentially many paths.
_MAX_PATHS = 200_000

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class CatalogProblem:
    """One thing wrong in the file: where (line, path such as `events[2].capacity`) and what."""

    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class CatalogError(DomainError):
    """The catalog file is invalid; `problems` lists every problem found, in file order."""

    def __init__(self, source: str, problems: list[CatalogProblem]) -> None:
        ordered = sorted(problems, key=lambda p: (p.line or 0, p.path))
        count = counted(len(ordered), "problem", "problems")
        lines = "\n".join(f"  {problem}" for problem in ordered)
        super().__init__(f"{source} has {count}; nothing was imported:\n{lines}")
        self.source = source
        self.problems = ordered


@dataclass(frozen=True)
class ImportSummary:
    """How many rows of each kind the file holds, and what happened to event sessions."""

    team_id: str
    events: int
    services: int
    facilitators: int
    pass_types: int
    videos: int
    plans: int
    questionnaires: int
    occurrences_added: int
    occurrences_updated: int


# -- YAML: only null, true/false and whole numbers are implicit; "12.50" and "19:30" stay text --


class _Loader(yaml.SafeLoader):
    """YAML 1.1 would read 19:30 as the number 1170 and 12.10 as a float; this loader does not."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _decimal_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    # Base 10 always: "010" is ten, not YAML 1.1's octal eight.
    return int(str(loader.construct_scalar(node)), 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _decimal_int)


@dataclass
class _Lines:
    """Where each YAML path starts, to put line numbers on validation errors."""

    lines: dict[Loc, int]
    mappings: set[Loc]
    duplicates: list[tuple[Loc, int]]

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest part of `loc` present in the file."""
        found: Loc = ()
        for part in loc:
            if (*found, part) in self.lines:
                found = (*found, part)
            elif not (isinstance(part, int) and found in self.mappings):
                # A single mapping written where a list is allowed: its index is not in the file.
                break
        return self.lines.get(found)


def _map_lines(root: yaml.Node) -> _Lines:
    found = _Lines({(): root.start_mark.line + 1}, set(), [])
    stack: list[tuple[Loc, yaml.Node]] = [((), root)]
    while stack and len(found.lines) < _MAX_PATHS:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            found.mappings.add(path)
            seen: set[str] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    continue
                key = str(key_node.value)
                child = (*path, key)
                if key in seen:
                    found.duplicates.append((child, key_node.start_mark.line + 1))
                seen.add(key)
                found.lines[child] = key_node.start_mark.line + 1
                stack.append((child, value_node))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                found.lines[(*path, index)] = item.start_mark.line + 1
                stack.append(((*path, index), item))
    return found


def _path_text(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# -- the file's shape -------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PRICE = re.compile(r"\d+(?:\.\d+)?")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_LOCAL_START = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?")


def _key(value: Any) -> Any:
    if isinstance(value, str) and not _KEY.fullmatch(value):
        raise ValueError(
            "a key is 1–64 lower-case letters, digits, '-' or '_', starting with a letter or "
            f"digit (got {value!r})"
        )
    return value


def _price(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError('write a price as text such as "12.50", without a currency sign')
    text = str(value).strip()
    if text.startswith("-"):
        raise ValueError("a price cannot be negative")
    if not _PRICE.fullmatch(text):
        raise ValueError(f'write a price such as "12.50", without a currency sign (got {text!r})')
    return Decimal(text)


def _in_currency(price: Decimal, info: ValidationInfo) -> Decimal:
    """`price`, if it is exact in whole minor units of the file's currency and fits the column."""
    currency = (info.context or {}).get("currency")
    if not currency:
        return price
    exponent = get_currency_precision(currency)
    scaled = price.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        places = counted(exponent, "decimal place", "decimal places")
        raise ValueError(f"{price} has more decimals than {currency} allows ({places})")
    if scaled > MAX_MINOR:
        raise ValueError(f"{price} is too large")
    return price


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as Europe/London"
        ) from None
    return value


def _listed(value: Any) -> Any:
    # A single item may be written without the list around it.
    return [value] if isinstance(value, str | dict) else value


def _weekday(value: Any) -> int:
    name = str(value).strip().lower()
    for number, day in enumerate(_WEEKDAYS):
        if name in (day, day[:3]):
            return number
    raise ValueError(f"unknown weekday {value!r}; use monday … sunday")


def _clock_time(value: Any) -> time:
    match = _CLOCK.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f'write a time of day as "HH:MM" in 24-hour form, such as "07:00" (got {value!r})'
        )
    return time(int(match.group(1)), int(match.group(2)))


def _local_start(value: Any) -> datetime:
    text = value.strip() if isinstance(value, str) else ""
    if not _LOCAL_START.fullmatch(text):
        raise ValueError(
            f'write a start as local date and time, such as "2026-04-18 10:00" (got {value!r}); '
            "the event's time zone applies"
        )
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date and time") from None


def _choice_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"write each choice as text (got {value!r})")
    return str(value).strip()


def _typed_question(value: dict[Any, Any]) -> Question:
    unknown = sorted(str(name) for name in value if name not in ("text", "type", "choices"))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; a question has text, type and choices")
    text, written, choices = value.get("text"), value.get("type", "text"), value.get("choices")
    if not isinstance(text, str):
        raise ValueError("a question needs its text")
    kind = kind_of(written) if isinstance(written, str) else None
    if kind is None:
        names = ", ".join(k.value for k in QuestionKind)
        raise ValueError(f"unknown type {written!r}; use one of {names}")
    if kind is not QuestionKind.CHOICE:
        if choices is not None:
            raise ValueError("only a question of type choice has choices")
        return Question(text.strip(), kind)
    if not isinstance(choices, list):
        raise ValueError("a question of type choice lists its choices")
    return Question(text.strip(), kind, tuple(_choice_text(c) for c in choices))


def _question(value: Any) -> Question:
    """A question as the file writes it: its text, or a mapping of text, type and choices."""
    if isinstance(value, str):
        question = Question(value.strip())
    elif isinstance(value, dict):
        question = _typed_question(value)
    else:
        raise ValueError("write a question as text, or as a mapping of text, type and choices")
    problem = question_problem(question)
    if problem is not None:
        raise ValueError(problem)
    return question


Key = Annotated[str, BeforeValidator(_key)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Price = Annotated[Decimal, BeforeValidator(_price), AfterValidator(_in_currency)]
Positive = Annotated[int, Field(ge=1)]
Minutes = Annotated[int, Field(ge=1, le=24 * 60)]
Zone = Annotated[str | None, AfterValidator(_zone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Weekly(_Strict):
    weekday: Annotated[list[Annotated[int, BeforeValidator(_weekday)]], Field(min_length=1)]
    time: Annotated[time, BeforeValidator(_clock_time)]
    from_: date | None = Field(None, alias="from")
    until: date | None = None

    @field_validator("weekday", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _listed(value)


class _Occurrence(_Strict):
    start: Annotated[datetime, BeforeValidator(_local_start)]
    capacity: Positive | None = None
    price: Price | None = None
    duration_minutes: Minutes | None = None
    location: Annotated[str, StringConstraints(max_length=200)] | None = None
    archived: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_start(cls, value: Any) -> Any:
        return {"start": value} if isinstance(value, str) else value


class _Event(_Strict):
    """An event without its sessions, which are validated one by one."""

    key: Key
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    timezone: Zone = None
    duration_minutes: Minutes
    capacity: Positive
    price: Price
    credit_price: Positive = 1


class _Service(_Strict):
    key: Key
    name: Name
    duration_minutes: Minutes
    price: Price
    credit_price: Positive = 1
    archived: bool | None = None


class _Facilitator(_Strict):
    key: Key
    name: Name
    services: list[Key] = []
    slack_user_id: Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,31}$")] | None = None
    archived: bool | None = None


class _PassType(_Strict):
    key: Key
    name: Name
    credits: Positive
    validity_days: Annotated[int, Field(ge=1, le=3660)]
    price: Price
    archived: bool | None = None


class _Video(_Strict):
    key: Key
    title: Name
    price: Price
    credit_price: Positive | None = None
    access_days: Positive | None = None
    archived: bool | None = None


class _Plan(_Strict):
    key: Key
    name: Name
    price: Price
    interval: Literal["week", "month", "year"]
    stripe_price_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    archived: bool | None = None


class _Questionnaire(_Strict):
    key: Key
    name: Name
    questions: Annotated[
        list[Annotated[Question, PlainValidator(_question)]],
        Field(min_length=1, max_length=QUESTIONS_MAX),
    ]
    archived: bool | None = None


class _Root(_Strict):
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    timezone: Zone = None
    # Items are validated one by one, so one bad item does not hide the others' problems.
    events: list[Any] = []
    appointment_services: list[Any] = []
    facilitators: list[Any] = []
    pass_types: list[Any] = []
    videos: list[Any] = []
    subscription_plans: list[Any] = []
    questionnaires: list[Any] = []


def _message(error: ErrorDetails) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return "unknown field; check its spelling against catalog.example.yaml"
    if kind == "model_type":
        return "expected a mapping of fields (key: value lines)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    return str(error["msg"])


Model = TypeVar("Model", bound=BaseModel)


class _Converter:
    """Validates each item and builds the CatalogSpec, collecting every problem with its place."""

    def __init__(self, root: _Root, currency: str | None, timezone: str) -> None:
        self.root = root
        # None when the file's currency is itself wrong (reported apart): prices are then
        # checked only as numbers.
        self.context = {"currency": currency}
        self.exponent = get_currency_precision(currency) if currency else 0
        self.timezone = root.timezone or timezone
        self.problems: list[tuple[Loc, str]] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    def validate(self, model: type[Model], raw: Any, loc: Loc) -> Model | None:
        """`raw` as a `model`, or None with a problem for each invalid field."""
        try:
            return model.model_validate(raw, context=self.context)
        except ValidationError as exc:
            for error in exc.errors():
                self.problem((*loc, *error["loc"]), _message(error))
            return None

    def each(self, model: type[Model], raw: Any, loc: Loc) -> list[tuple[int, Model]]:
        """The valid items of list `raw` (a lone mapping counts as a list of one)."""
        if not isinstance(raw, list | dict):
            self.problem(loc, "expected a list")
            return []
        found = (self.validate(model, item, (*loc, i)) for i, item in enumerate(_listed(raw)))
        return [(i, item) for i, item in enumerate(found) if item is not None]

    def items(
        self, section: str, model: type[Model], *, apart: tuple[str, ...] = ()
    ) -> list[tuple[int, Model]]:
        """The valid items of `section` with their index; a problem for each key used twice.

        Fields named in `apart` are left out, for the caller to check on their own."""
        raws = [
            {k: v for k, v in raw.items() if k not in apart} if isinstance(raw, dict) else raw
            for raw in getattr(self.root, section)
        ]
        keys: dict[str, int] = {}
        for index, raw in enumerate(raws):
            key = raw.get("key") if isinstance(raw, dict) else None
            if isinstance(key, str):
                if key in keys:
                    self.problem(
                        (section, index, "key"),
                        f"key {key!r} is already used by {section}[{keys[key]}]",
                    )
                keys.setdefault(key, index)
        return self.each(model, raws, (section,))

    def minor(self, price: Decimal, loc: Loc) -> int:
        """`price` in whole minor units of the currency (validation checked it is exact)."""
        return int(price.scaleb(self.exponent))

    def spec(self) -> CatalogSpec:
        services = self.items("appointment_services", _Service)
        # Every key written counts, even on an item with other problems: one mistake, one error.
        service_keys = {
            raw["key"]
            for raw in self.root.appointment_services
            if isinstance(raw, dict) and isinstance(raw.get("key"), str)
        }
        facilitators = self.items("facilitators", _Facilitator)
        for i, raw in enumerate(self.root.facilitators):
            given = raw.get("services") if isinstance(raw, dict) else None
            for j, service in enumerate(given if isinstance(given, list) else []):
                if isinstance(service, str) and service not in service_keys:
                    known = ", ".join(sorted(service_keys)) or "none in this file"
                    self.problem(
                        ("facilitators", i, "services", j),
                        f"unknown appointment service {service!r} (appointment_services: {known})",
                    )
        return CatalogSpec(
            events=self.events(),
            services=tuple(
                ServiceSpec(
                    s.key,
                    s.name,
                    s.duration_minutes,
                    self.minor(s.price, ("appointment_services", i, "price")),
                    s.credit_price,
                    s.archived,
                )
                for i, s in services
            ),
            facilitators=tuple(
                FacilitatorSpec(
                    f.key, f.name, tuple(dict.fromkeys(f.services)), f.slack_user_id, f.archived
                )
                for _, f in facilitators
            ),
            pass_types=tuple(
                PassTypeSpec(
                    p.key,
                    p.name,
                    p.credits,
                    p.validity_days,
                    self.minor(p.price, ("pass_types", i, "price")),
                    p.archived,
                )
                for i, p in self.items("pass_types", _PassType)
            ),
            videos=tuple(
                VideoSpec(
                    v.key,
                    v.title,
                    self.minor(v.price, ("videos", i, "price")),
                    v.credit_price,
                    v.access_days,
                    v.archived,
                )
                for i, v in self.items("videos", _Video)
            ),
            plans=tuple(
                PlanSpec(
                    p.key,
                    p.name,
                    self.minor(p.price, ("subscription_plans", i, "price")),
                    p.interval,
                    p.stripe_price_id,
                    p.archived,
                )
                for i, p in self.items("subscription_plans", _Plan)
            ),
            questionnaires=tuple(
                QuestionnaireSpec(q.key, q.name, tuple(q.questions), q.archived)
                for _, q in self.items("questionnaires", _Questionnaire)
            ),
        )

    def events(self) -> tuple[EventSpec, ...]:
        heads = dict(self.items("events", _Event, apart=("weekly", "occurrences")))
        specs: list[EventSpec] = []
        for index, raw in enumerate(self.root.events):
            if not isinstance(raw, dict):
                continue
            loc: Loc = ("events", index)
            slots = self.weekly(raw.get("weekly", []), (*loc, "weekly"))
            # Sessions are still checked when another field of the event is wrong.
            sessions = self.sessions(
                raw.get("occurrences", []), (*loc, "occurrences"), self.zone_of(raw)
            )
            head = heads.get(index)
            if head is not None:
                specs.append(
                    EventSpec(
                        key=head.key,
                        name=head.name,
                        timezone=head.timezone or self.timezone,
                        price_minor=self.minor(head.price, (*loc, "price")),
                        capacity=head.capacity,
                        duration_minutes=head.duration_minutes,
                        weekly=slots,
                        credit_price=head.credit_price,
                        description=head.description,
                        occurrences=sessions,
                    )
                )
        return tuple(specs)

    def weekly(self, raw: Any, loc: Loc) -> tuple[WeeklySlot, ...]:
        slots: list[WeeklySlot] = []
        for r, rule in self.each(_Weekly, raw, loc):
            if rule.from_ and rule.until:
                if rule.until < rule.from_:
                    self.problem((*loc, r, "until"), "is before `from`")
                elif rule.until - rule.from_ > MAX_RULE_SPAN:
                    self.problem(
                        (*loc, r, "until"),
                        "a weekly rule may span at most three years; import again later for more",
                    )
            slots.extend(
                WeeklySlot(day, rule.time, rule.from_, rule.until)
                for day in dict.fromkeys(rule.weekday)
            )
        return tuple(slots)

    def zone_of(self, event: dict[str, Any]) -> str | None:
        """The event's time zone, or None if it is not a valid one (reported on the event)."""
        zone = event.get("timezone") or self.timezone
        try:
            return _zone(zone) if isinstance(zone, str) else None
        except ValueError:
            return None

    def sessions(self, raw: Any, loc: Loc, zone: str | None) -> tuple[OccurrenceSpec, ...]:
        found: list[OccurrenceSpec] = []
        seen: dict[datetime, int] = {}
        for o, one in self.each(_Occurrence, raw, loc):
            price = None if one.price is None else self.minor(one.price, (*loc, o, "price"))
            found.append(
                OccurrenceSpec(
                    one.start,
                    one.capacity,
                    price,
                    one.duration_minutes,
                    one.location,
                    one.archived,
                )
            )
            if zone is None:
                continue
            try:
                starts_at = local_to_utc(one.start, zone)
            except LocalTimeError as exc:
                self.problem((*loc, o, "start"), str(exc))
                continue
            if starts_at in seen:
                self.problem((*loc, o, "start"), f"same start as occurrences[{seen[starts_at]}]")
            seen.setdefault(starts_at, o)
        return tuple(found)


def _currency_problem(root: _Root, currency: str | None) -> tuple[Loc, str] | None:
    if root.currency is None:
        return None if currency is not None else (("currency",), "say which currency prices are in")
    if not is_currency(root.currency):
        return ("currency",), f"{root.currency} is not an ISO 4217 currency"
    if currency is not None and root.currency != currency:
        return (
            "currency",
        ), f"the prices are in {root.currency} but this workspace uses {currency}"
    return None


def parse_catalog(
    text: str, *, currency: str | None, timezone: str, source: str = "catalog"
) -> CatalogSpec:
    """The catalog `text` describes; CatalogError lists every problem with line and path.

    `currency` is the workspace's (None: the file's own `currency`); `timezone` is the default
    for events that name none."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines = _map_lines(node) if node is not None else _Lines({}, set(), [])
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise CatalogError(
            source, [CatalogProblem(line, "", f"not valid YAML: {exc.problem}")]
        ) from None
    finally:
        loader.dispose()
    problems = [
        CatalogProblem(line, _path_text(path), "appears twice in the same mapping")
        for path, line in lines.duplicates
    ]
    if not isinstance(data, dict):
        problems.append(CatalogProblem(1, "", "expected a mapping with events, pass_types, …"))
        raise CatalogError(source, problems)
    root = _root(data, problems, lines)
    found = _currency_problem(root, currency)
    if found is not None:
        problems.append(CatalogProblem(lines.line_of(found[0]), "currency", found[1]))
    # Prices are still checked against a currency that is known, so every problem shows at once.
    known = currency or (root.currency if root.currency and is_currency(root.currency) else None)
    converter = _Converter(root, known, timezone)
    spec = converter.spec()
    problems.extend(
        CatalogProblem(lines.line_of(loc), _path_text(loc), message)
        for loc, message in converter.problems
    )
    if problems:
        raise CatalogError(source, problems)
    return spec


def _root(data: dict[str, Any], problems: list[CatalogProblem], lines: _Lines) -> _Root:
    """The file's top level; a field that is unknown or wrong is reported and left out, so the
    sections around it are still checked."""
    try:
        return _Root.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
    problems.extend(
        CatalogProblem(lines.line_of(error["loc"]), _path_text(error["loc"]), _message(error))
        for error in errors
    )
    wrong = {error["loc"][0] for error in errors if error["loc"]}
    return _Root.model_validate({k: v for k, v in data.items() if k not in wrong})


def read_catalog_text(path: Path) -> str:
    """The text of catalog file `path`; DomainError in plain words if it cannot be read."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DomainError(f"{path} is larger than {MAX_FILE_BYTES // 1_000_000} MB.")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DomainError(f"There is no file {path}.") from None
    except IsADirectoryError:
        raise DomainError(f"{path} is a directory; give the catalog file itself.") from None
    except UnicodeDecodeError:
        raise DomainError(f"{path} is not UTF-8 text.") from None
    except OSError as exc:
        raise DomainError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def import_catalog(uow: UnitOfWork, team_id: str, text: str, *, source: str) -> ImportSummary:
    """Validate catalog `text` and bring workspace `team_id`'s catalog in line with it by key.

    Re-importing the same file changes nothing; all or nothing on any problem."""
    workspace = ensure_workspace(uow, team_id)
    spec = parse_catalog(
        text, currency=workspace.currency, timezone=workspace.timezone, source=source
    )
    ids = sync_catalog(uow, team_id, spec)
    return ImportSummary(
        team_id=team_id,
        events=len(spec.events),
        services=len(spec.services),
        facilitators=len(spec.facilitators),
        pass_types=len(spec.pass_types),
        videos=len(spec.videos),
        plans=len(spec.plans),
        questionnaires=len(spec.questionnaires),
        occurrences_added=ids.occurrences_added,
        occurrences_updated=ids.occurrences_updated,
    )
