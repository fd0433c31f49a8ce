"""Questionnaires on a customer's details end to end: assign, view, record answers for the customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.local import SlackDriver
from core.actor import Actor
from core.models import QuestionnaireResponse, QuestionnaireTemplate, Role
from core.services.questionnaires import assign_questionnaire, record_answers
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, TEAM, World
from tests.slack.details_helpers import (
    History,
    details_after,
    go_to_tab,
    open_details,
    row_texts,
    seed_history,
)
from tests.slack.helpers import (
    DETAILS,
    acked,
    after,
    interaction,
    is_view,
    post_signed,
    seed,
    text_of,
)

ASSIGN = "questionnaire_assign.submit"
SHOW = "questionnaire.details"
ANSWERS = "questionnaire_answers.submit"


def _tab(world: World, *, templates: bool = True) -> tuple[str, History, SlackDriver]:
    (zoe,) = seed(world.db, [("Zoe", "Adams")])
    seeded = seed_history(world.db, zoe.uid, bookings=0) if templates else History()
    driver = world.staff
    open_details(driver, "Zoe Adams")
    go_to_tab(driver, "Questionnaires", "No questionnaires yet")
    return zoe.uid, seeded, driver


def _assigned(world: World, uid: str, template_id: int) -> int:
    with world.db.unit_of_work() as uow:
        return assign_questionnaire(uow, Actor(TEAM, ADMIN, Role.ADMIN), uid, template_id).id


def test_assign_then_record_answers_on_the_customers_behalf(world: World) -> None:
    _, _, driver = _tab(world)
    after(driver, driver.click("Assign Questionnaire"), "views.push")
    driver.wait_for_view(is_view(ASSIGN, "Assign Questionnaire"))
    assert driver.choose("Health check (2 questions)", menu="questionnaire_assign.template") is None
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Assigned Health check"))
    (card,) = row_texts(view, "questionnaire_")
    assert "Health check" in card and "Pending · 0 of 2 answered" in card
    assert "Created 14 Mar 2026" in card
    assert len(world.api.stack(driver.user_id)) == 2

    after(driver, driver.click("View Details"), "views.push")
    shown = driver.wait_for_view(is_view(SHOW, "Any injuries?", "Are you pregnant?"))
    assert text_of(shown).count("Not answered yet") == 2
    assert len(world.api.stack(driver.user_id)) == 3
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    form = driver.wait_for_view(is_view(ANSWERS))
    assert len(world.api.stack(driver.user_id)) == 3
    assert [b["block_id"] for b in form["blocks"] if b["type"] == "input"] == [
        "answer_0",
        "answer_1",
    ]
    driver.type("A sprained ankle in 2024", into="1. Any injuries?")
    driver.type("No", into="2. Are you pregnant?")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "Recorded answers to Health check: 2 of 2"))
    assert len(world.api.stack(driver.user_id)) == 2
    (card,) = row_texts(view, "questionnaire_")
    assert "Completed · 2 of 2 answered" in card

    after(driver, driver.click("View Details"), "views.push")
    shown = driver.wait_for_view(is_view(SHOW, "A sprained ankle in 2024"))
    assert "Not answered yet" not in text_of(shown)


def test_answers_are_prefilled_and_blank_means_unanswered(world: World) -> None:
    uid, seeded, driver = _tab(world)
    _assigned(world, uid, seeded.templates["Health check"])
    details_after(driver, driver.click("Questionnaires", in_block="details_tabs"), "0 of 2")
    after(driver, driver.click("View Details"), "views.push")
    driver.wait_for_view(is_view(SHOW))
    acked(driver.submit())
    driver.wait_for_view(is_view(ANSWERS))
    driver.type("Knee", into="1. Any injuries?")
    acked(driver.submit())
    view = driver.wait_for_view(is_view(DETAILS, "1 of 2 answered"))
    assert "Pending · 1 of 2 answered" in row_texts(view, "questionnaire_")[0]
    after(driver, driver.click("View Details"), "views.push")
    driver.wait_for_view(is_view(SHOW, "Knee"))
    acked(driver.submit())
    form = driver.wait_for_view(is_view(ANSWERS))
    assert form["blocks"][1]["element"]["initial_value"] == "Knee"
    assert "initial_value" not in form["blocks"][2]["element"]


def test_answers_recorded_meanwhile_are_not_silently_overwritten(
    world: World, clock: MutableClock
) -> None:
    uid, seeded, driver = _tab(world)
    response_id = _assigned(world, uid, seeded.templates["Health check"])
    details_after(driver, driver.click("Questionnaires", in_block="details_tabs"), "0 of 2")
    after(driver, driver.click("View Details"), "views.push")
    driver.wait_for_view(is_view(SHOW))
    acked(driver.submit())
    driver.wait_for_view(is_view(ANSWERS))
    clock.advance(minutes=5)
    with world.db.unit_of_work() as uow:
        record_answers(uow, Actor(TEAM, ADMIN, Role.ADMIN), response_id, ["From portal", ""])
    driver.type("From Slack", into="1. Any injuries?")
    response = acked(driver.submit())
    assert response.data["response_action"] == "update"
    form = driver.wait_for_view(is_view(ANSWERS, "updated meanwhile"))
    assert form["state"]["values"]["answer_0"]["questionnaire_answers.answer"]["value"] == (
        "From Slack"
    )
    acked(driver.submit())
    driver.wait_for_view(is_view(DETAILS, "Recorded answers to Health check: 1 of 2"))


def test_an_answer_over_the_limit_is_refused_under_its_box(world: World) -> None:
    uid, seeded, driver = _tab(world)
    _assigned(world, uid, seeded.templates["Health check"])
    details_after(driver, driver.click("Questionnaires", in_block="details_tabs"), "0 of 2")
    after(driver, driver.click("View Details"), "views.push")
    driver.wait_for_view(is_view(SHOW))
    acked(driver.submit())
    driver.wait_for_view(is_view(ANSWERS))
    driver.type("y" * 3001, into="2. Are you pregnant?")
    acked(driver.submit(client_checks=False))
    assert list(driver.errors()) == ["answer_1"]
    assert "at most 3,000 characters" in driver.errors()["answer_1"]


def test_a_template_without_questions_is_refused_under_the_select(world: World) -> None:
    _, _, driver = _tab(world)
    after(driver, driver.click("Assign Questionnaire"), "views.push")
    driver.wait_for_view(is_view(ASSIGN))
    driver.choose("Blank form (0 questions)", menu="questionnaire_assign.template")
    acked(driver.submit())
    assert driver.errors() == {"template": "Blank form has no questions yet; add some to it first."}


def test_assign_without_any_templates_says_how_to_add_them(world: World) -> None:
    _, _, driver = _tab(world, templates=False)
    after(driver, driver.click("Assign Questionnaire"), "views.push")
    view = driver.wait_for_view(is_view(ASSIGN, "no questionnaires to assign yet"))
    assert "submit" not in view


def test_search_questionnaires(world: World) -> None:
    uid, seeded, driver = _tab(world)
    for _ in range(6):
        _assigned(world, uid, seeded.templates["Health check"])
    view = details_after(
        driver, driver.click("Questionnaires", in_block="details_tabs"), "1–5 of 6"
    )
    assert len(row_texts(view, "questionnaire_")) == 5
    details_after(driver, driver.click("Next ▶"), "6–6 of 6")
    view = details_after(driver, driver.type("waiver", into="customer_details.search"), "No ")
    assert "No questionnaires match 'waiver' — clear the search" in text_of(view)


def test_a_forged_questionnaire_of_another_customer_is_not_found(world: World) -> None:
    uid, seeded, driver = _tab(world)
    (adam,) = seed(world.db, [("Adam", "Smith")], mobile_start=300)
    theirs = _assigned(world, adam.uid, seeded.templates["Health check"])
    _assigned(world, uid, seeded.templates["Health check"])
    view = details_after(driver, driver.click("Questionnaires", in_block="details_tabs"), "0 of 2")
    payload = interaction(driver, "block_actions", view)
    payload["actions"] = [
        {"type": "button", "action_id": "questionnaire.view", "block_id": "x", "value": str(theirs)}
    ]
    response = acked(post_signed(driver, payload))
    call = world.api.wait_for("views.update", since=response.mark)
    assert f"Questionnaire #{theirs} no longer exists here." in text_of(call.params["view"])
    assert not world.api.calls("views.push", since=response.mark)


INTAKE: list[Any] = [
    "Any injuries?",
    {"text": "Do you agree to the waiver?", "type": "yes/no"},
    {"text": "How did you hear of us?", "type": "choice", "choices": ["Friend", "Walk-in"]},
    {"text": "Date of birth", "type": "date"},
    {"text": "Years of practice", "type": "number"},
]


def _template(world: World, name: str, questions: list[Any], *, archived: bool = False) -> int:
    with world.db.unit_of_work() as uow:
        row = QuestionnaireTemplate(
            team_id=TEAM, key=name.lower(), name=name, questions=questions, archived=archived
        )
        uow.session.add(row)
        uow.session.flush()
        return row.id


def _answers_form(driver: SlackDriver) -> dict[str, Any]:
    after(driver, driver.click("View Details"), "views.push")
    driver.wait_for_view(is_view(SHOW))
    acked(driver.submit())
    return driver.wait_for_view(is_view(ANSWERS))


def _stored_answers(world: World, response_id: int) -> list[str | None]:
    with world.db.unit_of_work(readonly=True) as uow:
        response = uow.session.get(QuestionnaireResponse, response_id)
        assert response is not None
        return list(response.answers)


def test_typed_questions_are_answered_with_buttons_a_select_and_a_date_picker(
    world: World,
) -> None:
    uid, _, driver = _tab(world, templates=False)
    response_id = _assigned(world, uid, _template(world, "Intake", INTAKE))
    details_after(driver, driver.click("Questionnaires", in_block="details_tabs"), "0 of 5")
    form = _answers_form(driver)
    inputs = [b for b in form["blocks"] if b["type"] == "input"]
    assert [b["element"]["type"] for b in inputs] == [
        "plain_text_input",
        "radio_buttons",
        "static_select",
        "datepicker",
        "plain_text_input",
    ]
    assert all(b["optional"] for b in inputs)
    driver.type("Knee", into="1. Any injuries?")
    driver.choose("Yes", menu="2. Do you agree to the waiver?")
    driver.choose("Walk-in", menu="3. How did you hear of us?")
    driver.pick("1990-05-17", into="4. Date of birth")
    driver.type("twelve", into="5. Years of practice")
    response = acked(driver.submit())
    assert response.data["response_action"] == "errors"
    assert driver.errors() == {
        "answer_4": "Write a number in digits, such as 12 or -3.5, without units or commas."
    }
    assert _stored_answers(world, response_id) == [None] * 5

    driver.type("12.5", into="5. Years of practice")
    acked(driver.submit())
    driver.wait_for_view(is_view(DETAILS, "Recorded answers to Intake: 5 of 5 answered"))
    assert _stored_answers(world, response_id) == ["Knee", "Yes", "Walk-in", "1990-05-17", "12.5"]

    elements = [b["element"] for b in _answers_form(driver)["blocks"] if b["type"] == "input"]
    assert elements[1]["initial_option"]["value"] == "Yes"
    assert elements[2]["initial_option"]["value"] == "Walk-in"
    assert elements[3]["initial_date"] == "1990-05-17"
    assert elements[4]["initial_value"] == "12.5"


def test_a_forged_answer_outside_the_choices_is_refused_under_its_question(world: World) -> None:
    uid, _, driver = _tab(world, templates=False)
    response_id = _assigned(world, uid, _template(world, "Intake", INTAKE))
    details_after(driver, driver.click("Questionnaires", in_block="details_tabs"), "0 of 5")
    form = _answers_form(driver)
    payload = interaction(driver, "view_submission", form)
    action = "questionnaire_answers.answer"
    payload["view"]["state"] = {
        "values": {
            "answer_1": {action: {"type": "radio_buttons", "selected_option": {"value": "Maybe"}}},
            "answer_2": {action: {"type": "static_select", "selected_option": {"value": "Ads"}}},
            "answer_3": {action: {"type": "datepicker", "selected_date": "1990-02-30"}},
        }
    }
    response = acked(post_signed(driver, payload))
    assert response.data == {
        "response_action": "errors",
        "errors": {
            "answer_1": "Answer Yes or No.",
            "answer_2": "Choose one of: Friend, Walk-in.",
            "answer_3": "1990-02-30 is not a real date.",
        },
    }
    assert _stored_answers(world, response_id) == [None] * 5


def test_archived_questionnaires_are_not_offered_and_one_archived_meanwhile_is_refused(
    world: World,
) -> None:
    _, _, driver = _tab(world, templates=False)
    _template(world, "Old waiver", ["Do you agree?"], archived=True)
    intake = _template(world, "Intake", INTAKE)
    after(driver, driver.click("Assign Questionnaire"), "views.push")
    picker = driver.wait_for_view(is_view(ASSIGN))
    assert "Old waiver" not in text_of(picker)
    driver.choose("Intake (5 questions)", menu="questionnaire_assign.template")
    with world.db.unit_of_work() as uow:
        row = uow.session.get(QuestionnaireTemplate, intake)
        assert row is not None
        row.archived = True
    acked(driver.submit())
    assert driver.errors() == {"template": "Intake is archived; pick another questionnaire."}
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0
