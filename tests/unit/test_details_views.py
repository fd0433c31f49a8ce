"""The customer details view, its eight tabs and its modals render valid Block Kit for any data."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.views.blocks import Block
from bot.views.customer_details import SalesActivity, account_tab, customer_details
from bot.views.history import history_entry
from bot.views.hub import HubState
from bot.views.merge import MergeMeta, candidate_options, merge_form, moved_text, submitted_target
from bot.views.notes import NoteFormMeta, escaped_chunks, note_form, note_view, notes_tab
from bot.views.notice import Notice
from bot.views.origin import DetailsState, Origin, Tab
from bot.views.questionnaires import (
    MAX_QUESTIONS,
    AssignMeta,
    QuestionnaireMeta,
    answers_form,
    assign_form,
    questionnaire_details,
    questionnaires_tab,
    submitted_answers,
    submitted_template,
)
from bot.views.sales_text import text_chart
from bot.views.tabs import (
    PAGE_SIZES,
    DetailsMeta,
    appointments_tab,
    bookings_tab,
    passes_tab,
    subscriptions_tab,
    videos_tab,
)
from core.models import (
    AppointmentState,
    BookingState,
    CustomerStatus,
    PassState,
    PaymentMethod,
    QuestionnaireStatus,
    RefundState,
    SubscriptionState,
    VideoState,
)
from core.services.account import HistoryRow, MergePreview
from core.services.appointments import AppointmentRow
from core.services.bookings import BookingRow
from core.services.customers import CustomerRecord
from core.services.notes import NoteRow
from core.services.paging import Page
from core.services.passes import PassRow
from core.services.questionnaires import QuestionnaireDetail, QuestionnaireRow, TemplateRow
from core.services.questions import CHOICE_MAX, CHOICES_MAX, Question, QuestionKind
from core.services.sales import SalesSeries
from core.services.subscriptions import SubscriptionRow
from core.services.videos import VideoRow
from tests.views_check import assert_valid_view

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
TZ = "Europe/London"
LONG = "W" * 100
NAMES = [LONG, "Yin Yoga für Anfänger", "田中の瞑想クラス", "<script>&amp; *bold*", "مريم 🙂"]
UID = "ABCDEFGH2345"


def valid(view: dict[str, Any]) -> None:
    """Slack's checks, plus one Slack applies to modals: input blocks need a submit button."""
    assert_valid_view(view)
    if any(block["type"] == "input" for block in view["blocks"]):
        assert "submit" in view, "a modal with input blocks needs a submit button"


def customer(
    *, first: str = "Zoë", last: str = "Ørsted", archived: bool = False, merged: str | None = None
) -> CustomerRecord:
    return CustomerRecord(
        uid=UID,
        first_name=first,
        last_name=last,
        email="zoe@example.com",
        mobile="+447700900123",
        status=CustomerStatus.ARCHIVED if archived or merged else CustomerStatus.ACTIVE,
        version=3,
        created_at=NOW,
        updated_at=NOW,
        updated_by="U123",
        merged_into_uid=merged,
        has_password=True,
    )


def series(counts: tuple[int, int, int] = (3, 1, 2)) -> SalesSeries:
    months = [date(2025 + (3 + i) // 12, (3 + i) % 12 + 1, 1) for i in range(12)]
    b, p, v = counts
    return SalesSeries(
        months, [b * (i % 3) for i in range(12)], [p] * 12, [v * (i % 2) for i in range(12)], TZ
    )


def page(rows: list[Any], total: int, number: int, tab: Tab) -> Page[Any]:
    return Page(rows, total, number, PAGE_SIZES[tab])


def booking(i: int, name: str = "Vinyasa Flow", **kw: Any) -> BookingRow:
    values: dict[str, Any] = {
        "id": i,
        "booked_at": NOW - timedelta(days=i),
        "event_name": name,
        "starts_at": NOW + timedelta(days=i),
        "timezone": "America/New_York",
        "duration_minutes": 75,
        "price_minor": 1000,
        "credits": None,
        "currency": "GBP",
        "state": BookingState.MANUAL,
        "payment_method": PaymentMethod.MANUAL,
        "stripe_payment_intent_id": None,
        "refunded_minor": 0,
        "refund_state": RefundState.NONE,
    }
    values.update(kw)
    return BookingRow(**values)


def bookings_variety() -> list[BookingRow]:
    return [
        booking(1, NAMES[0]),
        booking(
            2,
            NAMES[1],
            state=BookingState.COMPLETED,
            payment_method=PaymentMethod.STRIPE,
            stripe_payment_intent_id="pi_123",
        ),
        booking(3, NAMES[2], price_minor=None, credits=1, state=BookingState.PACKAGE),
        booking(4, NAMES[3], state=BookingState.CANCELLED),
        booking(
            5,
            NAMES[4],
            state=BookingState.COMPLETED,
            payment_method=PaymentMethod.STRIPE,
            refunded_minor=1000,
            refund_state=RefundState.FULL,
        ),
    ]


def appointment(i: int, name: str, state: AppointmentState) -> AppointmentRow:
    return AppointmentRow(
        id=i,
        booked_at=NOW,
        service_name=name,
        facilitator_name=name,
        starts_at=NOW,
        duration_minutes=45,
        price_minor=4000,
        credits=None,
        currency="GBP",
        payment_method=PaymentMethod.STRIPE,
        state=state,
    )


def a_pass(i: int, name: str, state: PassState) -> PassRow:
    return PassRow(
        id=i,
        purchased_at=NOW,
        name=name,
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 2, 1) if i % 2 else date(2026, 12, 31),
        credits_total=10,
        credits_remaining=i,
        price_minor=9000,
        currency="GBP",
        payment_method=PaymentMethod.STRIPE if i % 2 else PaymentMethod.MANUAL,
        state=state,
    )


def video(i: int, name: str, state: VideoState, expires: datetime | None) -> VideoRow:
    return VideoRow(
        id=i,
        purchased_at=NOW,
        title=name,
        expires_at=expires,
        price_minor=None if i % 2 else 500,
        credits=1 if i % 2 else None,
        currency="GBP",
        payment_method=PaymentMethod.PACKAGE if i % 2 else PaymentMethod.MANUAL,
        state=state,
    )


def subscription(i: int, name: str, state: SubscriptionState) -> SubscriptionRow:
    return SubscriptionRow(
        id=i,
        created_at=NOW,
        plan_name=name,
        interval="month",
        next_payment_at=None if i % 2 else NOW,
        price_minor=6000,
        currency="GBP",
        state=state,
        stripe_subscription_id="sub_1" if i % 2 else None,
    )


def questionnaire(i: int, name: str, answered: int, total: int) -> QuestionnaireRow:
    status = QuestionnaireStatus.COMPLETED if answered == total else QuestionnaireStatus.PENDING
    return QuestionnaireRow(i, name, status, NOW, NOW, answered, total)


def note(i: int, content: str, author: str = "UADMIN", edited: bool = False) -> NoteRow:
    later = NOW + timedelta(hours=1) if edited else NOW
    return NoteRow(i, UID, author, content, NOW, later, "USTAFF" if edited else author)


def history(i: int, action: str, changes: dict[str, Any], detail: str = "") -> HistoryRow:
    return HistoryRow(i, NOW, "UADMIN" if i % 2 else "system", action, changes, detail, UID)


def meta(tab: Tab = Tab.BOOKINGS, q: str = "", number: int = 1) -> DetailsMeta:
    hub = HubState(q="z" * 100, page=999_999, channel_id="C" + "X" * 31)
    origin = Origin(surface="modal", view_id="V" * 64, hub=hub)
    return DetailsMeta(uid=UID, state=DetailsState(tab=tab, q=q, page=number), origin=origin)


def render(
    tab: Tab, body: list[Block], *, q: str = "", number: int = 1, **kw: Any
) -> dict[str, Any]:
    sales = SalesActivity(series(), kw.pop("chart_url", None))
    view = customer_details(
        meta(tab, q, number), kw.pop("record", customer()), sales, body, timezone=TZ, **kw
    )
    valid(view)
    return view


def shown(view: dict[str, Any] | list[Block]) -> str:
    return json.dumps(view["blocks"] if isinstance(view, dict) else view, ensure_ascii=False)


# ------------------------------------------------------------------ the details view


def test_account_information_sales_and_tabs() -> None:
    state = DetailsState()
    body = bookings_tab(state, page(bookings_variety(), 5, 1, Tab.BOOKINGS), timezone=TZ)
    view = render(Tab.BOOKINGS, body)
    text = shown(view)
    assert view["callback_id"] == "customer_details.view"
    assert "<mailto:zoe@example.com|zoe@example.com>" in text
    assert "<tel:+447700900123|+44 7700 900123>" in text
    assert UID in text and "14 Mar 2026, 09:30 GMT" in text
    assert "Sales activity" in text and "```" in text
    tabs = next(b for b in view["blocks"] if b.get("block_id") == "details_tabs")
    labels = [e["text"]["text"] for e in tabs["elements"]]
    assert labels == [
        "Bookings",
        "Appointments",
        "Passes",
        "Videos",
        "Subscriptions",
        "Questionnaires",
        "Notes",
        "Account",
    ]
    assert [e.get("style") for e in tabs["elements"]][:2] == ["primary", None]
    assert not any(b["type"] == "image" for b in view["blocks"])
    parsed = DetailsMeta.parse(view["private_metadata"])
    assert parsed == meta()


def test_image_only_with_a_chart_url_and_a_notice_with_undo() -> None:
    url = "https://bot.example.com/charts/c1.T1.ABC.123.sig.png"
    notice = Notice(
        "Archived " + LONG, undo_value=f"activate|{UID}", undo_action="customer_details.undo"
    )
    view = render(Tab.ACCOUNT, [], chart_url=url, notice=notice)
    image = next(b for b in view["blocks"] if b["type"] == "image")
    assert image["image_url"] == url
    notice_block = next(b for b in view["blocks"] if b.get("block_id") == "notice")
    assert notice_block["accessory"]["action_id"] == "customer_details.undo"
    assert notice_block["accessory"]["value"] == f"activate|{UID}"


@pytest.mark.parametrize("tab", list(Tab))
def test_metadata_stays_within_slack_limits(tab: Tab) -> None:
    big = meta(tab, "ü" * 100, 1_000_000)
    assert len(big.model_dump_json()) < 1500
    form = MergeMeta(view_id="V" * 64, details=big)
    assert len(form.model_dump_json()) < 3000


def test_merged_and_archived_customers_say_so() -> None:
    merged = render(Tab.BOOKINGS, [], record=customer(merged="KEPT00000001"))
    status = next(b for b in merged["blocks"] if b.get("block_id") == "details_status")
    assert "merged into UID KEPT00000001" in status["text"]["text"]
    assert status["accessory"]["value"] == "KEPT00000001"
    archived = render(Tab.BOOKINGS, [], record=customer(archived=True))
    assert "Archived" in shown(archived)


@pytest.mark.parametrize(
    ("first", "last"), [(LONG, LONG), ("田中", "太郎"), ("<b>", "&amp; *x*"), ("مريم", "🙂")]
)
def test_extreme_names_render(first: str, last: str) -> None:
    record = customer(first=first, last=last)
    view = render(Tab.BOOKINGS, [], record=record)
    mrkdwn = [node["text"] for node in _texts(view["blocks"]) if node["type"] == "mrkdwn"]
    assert not any("<b>" in text for text in mrkdwn)


def _texts(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in {"mrkdwn", "plain_text"} and isinstance(node.get("text"), str):
            found.append(node)
        for value in node.values():
            found.extend(_texts(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_texts(value))
    return found


# ------------------------------------------------------------------ text chart


def test_text_chart_has_a_line_per_month_with_counts() -> None:
    chart = text_chart(series())
    lines = chart.strip("`\n").splitlines()
    assert len(lines) == 12
    assert lines[0].startswith("Apr 25") and lines[-1].startswith("Mar 26")
    assert all(" B " in line and " P " in line and " V " in line for line in lines)
    assert "█" in chart


def test_text_chart_empty_and_huge() -> None:
    empty = text_chart(series((0, 0, 0)))
    assert "█" not in empty and len(empty.splitlines()) == 14
    huge = text_chart(series((10**6, 1, 10**5)))
    assert len(huge) < 3000
    # A single purchase beside a million still shows a bar.
    assert all("P █" in line for line in huge.strip("`\n").splitlines())


# ------------------------------------------------------------------ commerce tabs


@pytest.mark.parametrize(
    ("rows", "total", "number", "q"),
    [
        (bookings_variety(), 5, 1, ""),
        ([booking(i, NAMES[i % 5]) for i in range(4991, 5001)], 5000, 500, "x" * 100),
        ([], 0, 1, ""),
        ([], 0, 1, "<nothing>"),
    ],
)
def test_bookings_tab(rows: list[BookingRow], total: int, number: int, q: str) -> None:
    state = DetailsState(tab=Tab.BOOKINGS, q=q, page=number)
    body = bookings_tab(state, page(rows, total, number, Tab.BOOKINGS), timezone=TZ)
    view = render(Tab.BOOKINGS, body, q=q, number=number)
    text = shown(view)
    assert "Book an Event" in text
    if total == 5000:
        assert "4,991–5,000 of 5,000 bookings" in text and "Page 500 of 500" in text
        assert "Previous" in text and "Next ▶" not in text
    elif not rows and q:
        assert "No bookings match '&lt;nothing&gt;' — clear the search" in text
    elif not rows:
        assert "No bookings yet — use *Book an Event*" in text


def test_booking_rows_show_the_spec_columns() -> None:
    state = DetailsState()
    body = bookings_tab(
        state, page(bookings_variety(), 5, 1, Tab.BOOKINGS), timezone=TZ, admin=True
    )
    rows = {b["block_id"]: b for b in body if str(b.get("block_id", "")).startswith("booking_")}
    stripe = rows["booking_2"]["text"]["text"]
    assert "#2" in stripe and "£10.00" in stripe and "Completed :credit_card: Stripe" in stripe
    # Event time in the event's own zone, with the zone.
    assert "15 Mar 2026, 05:30 EDT" in rows["booking_1"]["text"]["text"]
    assert "1 h 15 min" in rows["booking_1"]["text"]["text"]
    assert "Booked on 13 Mar 2026" in rows["booking_1"]["text"]["text"]
    assert (
        "1 CR" in rows["booking_3"]["text"]["text"]
        and "Package" in rows["booking_3"]["text"]["text"]
    )
    assert "&lt;script&gt;" in rows["booking_4"]["text"]["text"]

    def verbs(block_id: str) -> list[str]:
        accessory = rows[block_id].get("accessory")
        return [o["text"]["text"] for o in accessory["options"]] if accessory else []

    assert verbs("booking_1") == ["Transfer", "Cancel"]
    assert verbs("booking_2") == ["Transfer", "Cancel", "Refund"]
    as_staff = bookings_tab(state, page(bookings_variety(), 5, 1, Tab.BOOKINGS), timezone=TZ)
    [staff_row] = [b for b in as_staff if b.get("block_id") == "booking_2"]
    assert "Refund" not in str(staff_row["accessory"]), "only admins are offered Refund"
    assert verbs("booking_4") == []
    assert verbs("booking_5") == ["Transfer", "Cancel"]
    assert "refunded £10.00 in full" in rows["booking_5"]["text"]["text"]


def test_other_commerce_tabs() -> None:
    appointments = [
        appointment(i, NAMES[i % 5], s)
        for i, s in enumerate([AppointmentState.SCHEDULED, AppointmentState.CANCELLED] * 5)
    ]
    passes = [a_pass(i, NAMES[i % 5], s) for i, s in enumerate(list(PassState) * 3)][:10]
    videos = [
        video(i, NAMES[i % 5], s, NOW if i % 2 else None)
        for i, s in enumerate(list(VideoState) * 4)
    ][:10]
    subscriptions = [
        subscription(i, NAMES[i % 5], s) for i, s in enumerate(list(SubscriptionState) * 4)
    ][:10]
    cases = [
        (Tab.APPOINTMENTS, appointments_tab, appointments, {"now": NOW}, "Book Appointment"),
        (Tab.PASSES, passes_tab, passes, {"now": NOW}, "Assign Pass"),
        (Tab.VIDEOS, videos_tab, videos, {}, "Assign Video"),
        (Tab.SUBSCRIPTIONS, subscriptions_tab, subscriptions, {}, "Subscriptions"),
    ]
    for tab, build, rows, extra, needle in cases:
        for data, total, number in [(rows, 57, 3), ([], 0, 1)]:
            state = DetailsState(tab=tab, page=number)
            body = build(state, page(data, total, number, tab), timezone=TZ, **extra)
            text = shown(render(tab, body, number=number))
            assert needle in text
            if data:
                assert f"21–{20 + len(data)} of 57" in text
            else:
                assert "yet" in text
    appointment_text = shown(
        appointments_tab(
            DetailsState(tab=Tab.APPOINTMENTS),
            page(appointments, 10, 1, Tab.APPOINTMENTS),
            timezone=TZ,
            now=NOW,
        )
    )
    assert "45 min" in appointment_text and "£40.00" in appointment_text
    assert "Scheduled :credit_card: Stripe" in appointment_text
    pass_text = shown(
        passes_tab(
            DetailsState(tab=Tab.PASSES), page(passes, 10, 1, Tab.PASSES), timezone=TZ, now=NOW
        )
    )
    assert "1 Jan 2026 – 1 Feb 2026 (expired)" in pass_text and "of 10 credits left" in pass_text
    video_text = shown(
        videos_tab(DetailsState(tab=Tab.VIDEOS), page(videos, 10, 1, Tab.VIDEOS), timezone=TZ)
    )
    assert "Expires —" in video_text and "1 CR" in video_text and "Expired" in video_text
    sub_text = shown(
        subscriptions_tab(
            DetailsState(tab=Tab.SUBSCRIPTIONS),
            page(subscriptions, 10, 1, Tab.SUBSCRIPTIONS),
            timezone=TZ,
        )
    )
    assert "£60.00 per month" in sub_text and "Paused" in sub_text and "Next payment —" in sub_text


def test_a_past_due_subscription_shows_when_stripe_retries_and_offers_only_suspend() -> None:
    retrying = replace(
        subscription(3, "Unlimited", SubscriptionState.PAST_DUE), next_payment_at=NOW
    )
    given_up = replace(retrying, id=5, next_payment_at=None)
    rows = [retrying, given_up]
    state = DetailsState(tab=Tab.SUBSCRIPTIONS)
    for admin, menu in ((True, ["Suspend"]), (False, None)):
        body = subscriptions_tab(
            state, page(rows, 2, 1, Tab.SUBSCRIPTIONS), timezone=TZ, admin=admin
        )
        valid(render(Tab.SUBSCRIPTIONS, body))
        row = next(b for b in body if b.get("block_id") == "subscription_3")
        assert "Payment failed · next retry" in row["text"]["text"]
        assert "Past due :credit_card: Stripe" in row["text"]["text"]
        options = row.get("accessory", {}).get("options")
        assert ([o["text"]["text"] for o in options] if options else None) == menu
    assert "Payment failed · no retry due" in shown(body)


def test_refunds_made_in_stripe_show_on_appointments_and_passes() -> None:
    refunded = replace(
        appointment(2, "Massage", AppointmentState.SCHEDULED),
        refunded_minor=1500,
        refund_state=RefundState.PARTIAL,
    )
    body = appointments_tab(
        DetailsState(tab=Tab.APPOINTMENTS),
        page([refunded], 1, 1, Tab.APPOINTMENTS),
        timezone=TZ,
        now=NOW,
    )
    assert "Scheduled :credit_card: Stripe · refunded £15.00 in part" in shown(body)
    held = replace(
        a_pass(4, "10-class pass", PassState.COMPLETED),
        refunded_minor=9000,
        refund_state=RefundState.FULL,
    )
    body = passes_tab(
        DetailsState(tab=Tab.PASSES), page([held], 1, 1, Tab.PASSES), timezone=TZ, now=NOW
    )
    assert "· refunded £90.00 in full" in shown(body)


# ------------------------------------------------------------------ questionnaires


def test_questionnaires_tab_cards() -> None:
    rows = [questionnaire(i, NAMES[i % 5], i % 3, 2) for i in range(1, 6)]
    state = DetailsState(tab=Tab.QUESTIONNAIRES)
    body = questionnaires_tab(state, page(rows, 12, 1, Tab.QUESTIONNAIRES), timezone=TZ)
    text = shown(render(Tab.QUESTIONNAIRES, body))
    assert "Assign Questionnaire" in text and "View Details" in text
    assert "2 of 2 answered" in text and "Completed" in text and "Pending" in text
    assert "1–5 of 12 questionnaires" in text
    empty = questionnaires_tab(state, page([], 0, 1, Tab.QUESTIONNAIRES), timezone=TZ)
    assert "No questionnaires yet — use *Assign Questionnaire*" in shown(
        render(Tab.QUESTIONNAIRES, empty)
    )


@pytest.mark.parametrize("count", [0, 2, 200])
def test_questionnaire_modals(count: int) -> None:
    questions = [Question(f"Question {i} {NAMES[i % 5]}?") for i in range(count)]
    answers: list[str | None] = [("<" * 3000 if i % 2 else None) for i in range(count)]
    detail = QuestionnaireDetail(questionnaire(7, LONG, count // 2, count), UID, questions, answers)
    form_meta = QuestionnaireMeta(view_id="V1", details=meta(), response_id=7, updated_at=NOW)
    view = questionnaire_details(detail, form_meta, timezone=TZ)
    valid(view)
    assert view["submit"]["text"] == "Record answers"
    form = answers_form(detail, form_meta, problem="Changed meanwhile")
    valid(form)
    inputs = [b for b in form["blocks"] if b["type"] == "input"]
    assert len(inputs) == min(count, MAX_QUESTIONS)
    if count:
        assert inputs[1]["element"]["initial_value"] == "<" * 3000
        assert "initial_value" not in inputs[0]["element"]
    state_values = {b["block_id"]: {b["element"]["action_id"]: {"value": "typed"}} for b in inputs}
    sent = submitted_answers(state_values, detail)
    assert len(sent) == count
    assert sent[:MAX_QUESTIONS] == ["typed"] * min(count, MAX_QUESTIONS)
    # Questions the modal could not show keep their answers.
    assert sent[MAX_QUESTIONS:] == [a or "" for a in answers[MAX_QUESTIONS:]]
    assert QuestionnaireMeta.parse(form["private_metadata"]) == form_meta


TYPED = [
    Question("Any injuries?"),
    Question("Tell us more", QuestionKind.LONG),
    Question("Do you agree to the waiver?", QuestionKind.YES_NO),
    Question(
        "How did you hear of us?",
        QuestionKind.CHOICE,
        tuple(f"{i:02d}" + "c" * (CHOICE_MAX - 2) for i in range(CHOICES_MAX)),
    ),
    Question("Date of birth", QuestionKind.DATE),
    Question("Years of practice", QuestionKind.NUMBER),
]


def typed_detail(answers: list[str | None]) -> QuestionnaireDetail:
    row = questionnaire(7, "Intake", sum(a is not None for a in answers), len(TYPED))
    return QuestionnaireDetail(row, UID, TYPED, answers)


def test_answers_form_has_an_input_for_each_kind_holding_the_answer() -> None:
    choice = TYPED[3].choices[5]
    detail = typed_detail(["Knee\nand back", "Since 2019", "Yes", choice, "1990-05-17", "12.5"])
    form_meta = QuestionnaireMeta(view_id="V1", details=meta(), response_id=7, updated_at=NOW)
    form = answers_form(detail, form_meta)
    valid(form)
    elements = [b["element"] for b in form["blocks"] if b["type"] == "input"]
    kinds = [e["type"] for e in elements]
    assert kinds == ["plain_text_input"] * 2 + ["radio_buttons", "static_select", "datepicker"] + [
        "plain_text_input"
    ]
    # A text answer written over several lines keeps its lines.
    assert [e.get("multiline", False) for e in elements] == [True, True, False, False, False, False]
    assert elements[2]["initial_option"]["value"] == "Yes"
    assert [o["value"] for o in elements[2]["options"]] == ["Yes", "No"]
    assert elements[3]["initial_option"]["value"] == choice
    assert len(elements[3]["options"]) == CHOICES_MAX
    assert elements[4]["initial_date"] == "1990-05-17"
    assert elements[5]["initial_value"] == "12.5"
    assert all(b["optional"] for b in form["blocks"] if b["type"] == "input")


def test_unanswered_typed_questions_start_empty_and_read_back_as_blank() -> None:
    detail = typed_detail([None] * len(TYPED))
    form_meta = QuestionnaireMeta(view_id="V1", details=meta(), response_id=7)
    form = answers_form(detail, form_meta)
    valid(form)
    inputs = [b for b in form["blocks"] if b["type"] == "input"]
    for element in (b["element"] for b in inputs):
        assert not {"initial_value", "initial_option", "initial_date"} & set(element)
    empty = {
        b["block_id"]: {b["element"]["action_id"]: {"type": b["element"]["type"]}} for b in inputs
    }
    empty["answer_2"]["questionnaire_answers.answer"]["selected_option"] = None
    empty["answer_4"]["questionnaire_answers.answer"]["selected_date"] = None
    assert submitted_answers(empty, detail) == [""] * len(TYPED)


def test_submitted_answers_read_each_kind_of_input() -> None:
    detail = typed_detail([None] * len(TYPED))
    action = "questionnaire_answers.answer"
    state_values = {
        "answer_0": {action: {"type": "plain_text_input", "value": "Knee"}},
        "answer_1": {action: {"type": "plain_text_input", "value": "Line one\nline two"}},
        "answer_2": {action: {"type": "radio_buttons", "selected_option": {"value": "No"}}},
        "answer_3": {action: {"type": "static_select", "selected_option": {"value": "00cc"}}},
        "answer_4": {action: {"type": "datepicker", "selected_date": "1990-05-17"}},
        "answer_5": {action: {"type": "plain_text_input", "value": "7"}},
    }
    assert submitted_answers(state_values, detail) == [
        "Knee",
        "Line one\nline two",
        "No",
        "00cc",
        "1990-05-17",
        "7",
    ]


def test_an_answer_its_kinds_input_cannot_show_stays_in_a_box() -> None:
    detail = typed_detail([None, None, "Only on weekdays", "Someone else", "last spring", None])
    form = answers_form(detail, QuestionnaireMeta(view_id="V1", details=meta(), response_id=7))
    valid(form)
    elements = [b["element"] for b in form["blocks"] if b["type"] == "input"]
    assert [e["type"] for e in elements[2:5]] == ["plain_text_input"] * 3
    assert [e["initial_value"] for e in elements[2:5]] == [
        "Only on weekdays",
        "Someone else",
        "last spring",
    ]


def test_the_details_show_typed_questions_with_their_answers() -> None:
    detail = typed_detail([None, None, "Yes", None, "1990-05-17", "3"])
    form_meta = QuestionnaireMeta(view_id="V1", details=meta(), response_id=7)
    view = questionnaire_details(detail, form_meta, timezone=TZ)
    valid(view)
    text = shown(view)
    assert "*3. Do you agree to the waiver?*\\nYes" in text
    assert "*5. Date of birth*\\n1990-05-17" in text
    assert text.count("Not answered yet") == 3


def test_assign_questionnaire_modal() -> None:
    assign_meta = AssignMeta(view_id="V1", details=meta())
    none = assign_form([], assign_meta)
    valid(none)
    assert "submit" not in none and "catalog import" in shown(none)
    many = assign_form([TemplateRow(i, NAMES[i % 5], i) for i in range(150)], assign_meta)
    valid(many)
    select = many["blocks"][1]["element"]
    assert len(select["options"]) == 100
    assert (
        submitted_template({"template": {select["action_id"]: {"selected_option": {"value": "3"}}}})
        == 3
    )
    assert submitted_template({}) is None


# ------------------------------------------------------------------ notes


def test_notes_tab_cards() -> None:
    rows = [
        note(1, "<" * 3000),
        note(2, "Prefers mornings. Allergic to lavender.", author="USTAFF", edited=True),
        note(3, "田中さんの\n多言語メモ 🙂"),
        note(4, "*not bold* & <@U999>"),
        note(5, LONG),
    ]
    state = DetailsState(tab=Tab.NOTES)
    body = notes_tab(state, page(rows, 23, 1, Tab.NOTES), timezone=TZ)
    view = render(Tab.NOTES, body)
    text = shown(view)
    assert "Add Note" in text and "1–5 of 23 notes" in text
    assert "<@UADMIN>" in text and "edited" in text and "&lt;@U999&gt;" in text
    delete = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "note.delete"
    )
    assert delete["confirm"]["style"] == "danger"
    empty = notes_tab(state, page([], 0, 1, Tab.NOTES), timezone=TZ)
    assert "No notes yet — use *Add Note*" in shown(render(Tab.NOTES, empty))


def test_note_modals() -> None:
    form_meta = NoteFormMeta(view_id="V1", details=meta(Tab.NOTES), note_id=9, updated_at=NOW)
    add = note_form(NoteFormMeta(view_id="V1", details=meta(Tab.NOTES)))
    valid(add)
    assert add["blocks"][0]["element"]["max_length"] == 3000
    assert add["blocks"][0]["element"]["multiline"] is True
    edit = note_form(form_meta, "x" * 3000, problem="Someone else changed it")
    valid(edit)
    assert NoteFormMeta.parse(edit["private_metadata"]) == form_meta
    full = note_view(note(9, "<" * 3000), timezone=TZ)
    valid(full)
    assert "".join(b["text"]["text"] for b in full["blocks"][1:]) == "&lt;" * 3000


def test_escaped_chunks_lose_nothing() -> None:
    text = "a<b&c>" * 1000
    chunks = escaped_chunks(text, 100)
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(chunks) == text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped_chunks("") == [""]


# ------------------------------------------------------------------ account and history


def test_account_tab_with_history() -> None:
    entries = [
        history(
            1,
            "edited",
            {
                "last_name": ["Adams", "Adamson"],
                "mobile": ["+447700900100", "+447700900101"],
                "password": ["password changed", "password changed"],
            },
            "password changed",
        ),
        history(2, "archived", {"status": ["active", "archived"]}),
        history(3, "merged from", {f"tab{i}": [i, i + 1] for i in range(30)}, "x" * 5000),
        history(4, "note added", {"content": [None, "<" * 500]}, "note #3"),
        HistoryRow(5, NOW, "UOTHER", "created", {}, "", "OTHERUID0001"),
    ]
    record = customer()
    state = DetailsState(tab=Tab.ACCOUNT, page=2)
    body = account_tab(record, state, page(entries, 15, 2, Tab.ACCOUNT), timezone=TZ, admin=True)
    view = render(Tab.ACCOUNT, body, number=2)
    text = shown(view)
    assert "Archive Customer" in text and "Merge Customer" in text
    as_staff = account_tab(record, state, page(entries, 15, 2, Tab.ACCOUNT), timezone=TZ)
    assert "Archive Customer" in shown(render(Tab.ACCOUNT, as_staff, number=2))
    assert "Merge Customer" not in shown(render(Tab.ACCOUNT, as_staff, number=2))
    assert "11–15 of 15 entries" in text
    assert "Last name: Adams → Adamson" in text
    assert "Mobile: +44 7700 900100 → +44 7700 900101" in text
    assert "• Password changed" in text and "password changed\\n" not in text
    assert "by <@UADMIN>" in text and "by system" in text
    assert "Came with the merge of UID OTHERUID0001" in text
    archived = account_tab(customer(archived=True), state, page([], 0, 1, Tab.ACCOUNT), timezone=TZ)
    text = shown(render(Tab.ACCOUNT, archived))
    assert "Activate Customer" in text and "no changes recorded yet" in text
    merged = account_tab(
        customer(merged="KEPT00000001"), state, page([], 0, 1, Tab.ACCOUNT), timezone=TZ, admin=True
    )
    assert "Merge Customer" not in shown(merged)


def test_history_entry_is_clipped() -> None:
    entry = history(1, "edited", {"first_name": ["W" * 3000, "V" * 3000]}, "d" * 5000)
    block = history_entry(entry, uid=UID, timezone=TZ)
    assert len(block["text"]["text"]) <= 3000


# ------------------------------------------------------------------ merge


def test_merge_modal_states() -> None:
    source, target = customer(), customer(first="Keep", last=LONG)
    form_meta = MergeMeta(view_id="V1", details=meta(Tab.ACCOUNT))
    empty = merge_form(source, form_meta)
    valid(empty)
    select_block = next(b for b in empty["blocks"] if b.get("block_id") == "target")
    assert select_block["dispatch_action"] is True
    assert select_block["element"]["type"] == "external_select"
    counts = {
        t: i * 1000
        for i, t in enumerate(
            [
                "bookings",
                "appointments",
                "passes",
                "videos",
                "subscriptions",
                "questionnaires",
                "notes",
                "history",
            ]
        )
    }
    preview = merge_form(source, form_meta, preview=MergePreview(source, target, counts))
    valid(preview)
    text = shown(preview)
    assert "This cannot be undone" in text and "7,000" in text and "Bookings" in text
    assert preview["submit"]["text"] == "Merge"
    refused = merge_form(source, form_meta, problem="Keep is archived; activate them first")
    valid(refused)
    assert "Keep is archived" in shown(refused)
    options = candidate_options([customer(first=LONG, last=LONG)] * 30)
    assert len(options) == 20 and len(options[0]["text"]["text"]) <= 75
    values = {"target": {"merge.target": {"selected_option": {"value": "KEEP"}}}}
    assert submitted_target(values) == "KEEP" and submitted_target({}) == ""


def test_history_says_states_in_peoples_words() -> None:
    entries = [
        HistoryRow(
            1, NOW, "UADMIN", "booking cancelled", {"state": ["manual", "cancelled"]}, "", "UID1"
        ),
        HistoryRow(
            2,
            NOW,
            "UADMIN",
            "booking refunded",
            {"refunded": ["£0.00", "£15.00"], "refund_state": ["none", "full"]},
            "",
            "UID1",
        ),
        HistoryRow(
            3,
            NOW,
            "UADMIN",
            "subscription suspended",
            {"state": ["active", "suspended"]},
            "",
            "UID1",
        ),
    ]
    text = "\n".join(
        history_entry(entry, uid="UID1", timezone=TZ)["text"]["text"] for entry in entries
    )
    assert "Status: paid another way (Manual) → cancelled" in text
    assert "Refunded: nothing → in full" in text
    assert "Status: active → suspended (ended for good)" in text
    assert "State:" not in text and "manual →" not in text and "Refund_state" not in text


def test_what_a_merge_moved_agrees_with_its_nouns() -> None:
    assert moved_text({"bookings": 3, "notes": 1, "passes": 0, "history": 1}) == (
        "3 bookings, 1 note, 1 history entry"
    )
    assert moved_text({"bookings": 0}) == "nothing (they had no history yet)"
