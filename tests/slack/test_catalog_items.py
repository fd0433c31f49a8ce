"""The catalog's services, facilitators, pass types, videos and plans end to end: admins add,
edit, archive and restore them from Home's lists; staff only read them; every bad field is
answered under itself, and every change is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.local import SlackDriver, SlackUser
from core.models import (
    AppointmentService,
    Facilitator,
    PassType,
    QuestionnaireTemplate,
    SubscriptionPlan,
    Video,
    WorkspaceAuditEntry,
    facilitator_services,
)
from core.services.catalog_export import export_catalog
from core.services.catalog_import import import_catalog
from tests.slack.conftest import TEAM, World
from tests.slack.helpers import (
    JSON,
    acked,
    after,
    customers_home,
    forged_choice,
    text_of,
)
from tests.views_check import assert_valid_view

LIST = "catalog_items.list"
ITEM = "catalog_item.submit"


def _list(driver: SlackDriver, button: str) -> JSON:
    customers_home(driver)
    after(driver, driver.click(button, surface="home"), "views.open")
    view = driver.wait_for_view(lambda v: v["callback_id"] == LIST)
    assert_valid_view(view)
    return view


def _add(driver: SlackDriver, button: str, noun: str) -> JSON:
    _list(driver, button)
    after(driver, driver.click(f"Add {noun}"), "views.push")
    form = driver.wait_for_view(lambda v: v["callback_id"] == ITEM)
    assert_valid_view(form)
    return form


def _fill(driver: SlackDriver, **texts: str) -> None:
    for label, value in texts.items():
        driver.type(value, into=label.replace("_", " "))


def _saved(driver: SlackDriver, notice: str) -> JSON:
    """Submit the item modal; the list under it is redrawn with `notice`."""
    after(driver, driver.submit(), "views.update")
    view = driver.wait_for_view(lambda v: v["callback_id"] == LIST and notice in text_of(v))
    assert_valid_view(view)
    return view


def _menu(driver: SlackDriver, item_id: int, verb: str) -> None:
    driver.choose(verb, menu="catalog_items.menu", in_block=f"item_{item_id}")


def _audit(world: World) -> list[tuple[str, str]]:
    with world.db.unit_of_work(readonly=True) as uow:
        query = select(WorkspaceAuditEntry.action, WorkspaceAuditEntry.detail).order_by(
            WorkspaceAuditEntry.id
        )
        return [(action, detail) for action, detail in uow.session.execute(query)]


def _rows(world: World, model: type) -> list:  # type: ignore[type-arg]
    with world.db.unit_of_work(readonly=True) as uow:
        found = list(uow.session.scalars(select(model).order_by(model.id)))
        uow.session.expunge_all()
        return found


def test_an_admin_adds_edits_archives_and_restores_a_pass_type(world: World) -> None:
    admin = world.admin
    form = _add(admin, "Pass types", "pass type")
    assert "Add pass type" in text_of(form)
    _fill(admin, Name="10-class pass", Credits="10", Valid_for="90", Price="£120")
    shown = text_of(_saved(admin, "Added 10-class pass."))
    assert "10 CR · valid 90 days · £120.00" in shown
    (kind,) = _rows(world, PassType)
    assert (kind.name, kind.credits, kind.validity_days, kind.price_minor) == (
        "10-class pass",
        10,
        90,
        12000,
    )
    assert kind.key.startswith("pass-type-") and not kind.archived

    _menu(admin, kind.id, "Edit")
    form = admin.wait_for_view(lambda v: v["callback_id"] == ITEM and "Edit" in text_of(v))
    assert form["state"]["values"]["price"]["catalog_item.price"]["value"] == "120.00"
    _fill(admin, Credits="12")
    assert "valid 90 days" in text_of(_saved(admin, "Saved 10-class pass."))
    assert _rows(world, PassType)[0].credits == 12

    _menu(admin, kind.id, "Archive")
    view = admin.wait_for_view(lambda v: "Archived 10-class pass" in text_of(v))
    assert "Kept on what already uses them" in text_of(view)
    assert f"restore|{kind.id}" in str(view) and f"edit|{kind.id}" not in str(view)
    assert _rows(world, PassType)[0].archived
    _menu(admin, kind.id, "Restore")
    admin.wait_for_view(lambda v: "Restored 10-class pass" in text_of(v))
    assert not _rows(world, PassType)[0].archived
    assert [action for action, _ in _audit(world)] == [
        "pass type added",
        "pass type changed",
        "pass type archived",
        "pass type restored",
    ]
    assert _audit(world)[1][1] == (
        f"#{kind.id}: 10-class pass (10 CR · valid 90 days · £120.00) → "
        "10-class pass (12 CR · valid 90 days · £120.00)"
    )


def test_each_bad_field_is_answered_under_it_and_what_was_typed_stays(world: World) -> None:
    admin = world.admin
    _add(admin, "Pass types", "pass type")
    _fill(admin, Name="Trial", Credits="0", Valid_for="ninety", Price="-3")
    response = acked(admin.submit())
    assert response.data["response_action"] == "errors"
    errors = admin.errors()
    assert set(errors) == {"credits", "validity", "price"}
    assert "at least 1" in errors["credits"]
    assert "whole number" in errors["validity"]
    assert "can't be negative" in errors["price"]
    form = admin.current_view("modal")
    assert form is not None and form["callback_id"] == ITEM
    assert form["state"]["values"]["validity"]["catalog_item.validity"]["value"] == "ninety"
    assert _rows(world, PassType) == [] and _audit(world) == []

    _fill(admin, Credits="1", Valid_for="7", Price="15")
    _saved(admin, "Added Trial.")
    # A second current item of the same name would be ambiguous in every picker.
    after(admin, admin.click("Add pass type"), "views.push")
    _fill(admin, Name="  trial ", Credits="1", Valid_for="7", Price="15")
    acked(admin.submit())
    assert "already a pass type called Trial" in admin.errors()["name"]


def test_a_service_is_given_by_the_facilitators_chosen_and_booking_offers_only_them(
    world: World,
) -> None:
    admin = world.admin
    _add(admin, "Facilitators", "facilitator")
    _fill(admin, Name="Jo Smith")
    admin.choose_user("USTAFF", into="Slack user")
    assert "<@USTAFF>" in str(_saved(admin, "Added Jo Smith."))
    after(admin, admin.click("Add facilitator"), "views.push")
    _fill(admin, Name="Sam Lee")
    _saved(admin, "Added Sam Lee.")
    jo, sam = _rows(world, Facilitator)
    assert (jo.slack_user_id, sam.slack_user_id) == ("USTAFF", None)

    admin.close()
    _add(admin, "Services", "service")
    _fill(admin, Name="Massage", Length_in_minutes="60", Price="45")
    admin.choose("Jo Smith", menu="Given by")
    shown = text_of(_saved(admin, "Added Massage."))
    assert "60 min · £45.00 or 1 CR · given by Jo Smith" in shown
    (massage,) = _rows(world, AppointmentService)
    with world.db.unit_of_work(readonly=True) as uow:
        links = set(uow.session.execute(select(facilitator_services)).all())
    assert links == {(jo.id, massage.id)}

    # From the facilitator's side: Sam gives it too; archiving Jo leaves only Sam offered.
    admin.close()
    _list(admin, "Facilitators")
    _menu(admin, sam.id, "Edit")
    admin.wait_for_view(lambda v: v["callback_id"] == ITEM)
    admin.choose("Massage", menu="Gives")
    _saved(admin, "Saved Sam Lee.")
    _menu(admin, jo.id, "Archive")
    admin.wait_for_view(lambda v: "Archived Jo Smith" in text_of(v))
    admin.close()
    view = _list(admin, "Services")
    assert "given by Sam Lee" in text_of(view) and "Jo Smith" not in text_of(view)


def test_a_facilitator_can_only_be_someone_of_this_workspace(world: World) -> None:
    world.api.add_user(SlackUser("UELSEWHERE", "elsewhere", team_id="T0002"))
    admin = world.admin
    _add(admin, "Facilitators", "facilitator")
    _fill(admin, Name="Jo Smith")
    admin.choose_user("UELSEWHERE", into="Slack user")
    acked(admin.submit())
    assert admin.errors() == {"slack_user": "Choose a person in this workspace."}
    assert _rows(world, Facilitator) == []


def test_a_video_and_a_plan_keep_their_optional_fields(world: World) -> None:
    admin = world.admin
    _add(admin, "Videos", "video")
    _fill(admin, Title="Yin basics", Price="9.99")
    shown = text_of(_saved(admin, "Added Yin basics."))
    assert "£9.99 · watchable for ever" in shown
    (video,) = _rows(world, Video)
    assert (video.credit_price, video.access_days) == (None, None)

    admin.close()
    _add(admin, "Subscription plans", "plan")
    _fill(admin, Name="Monthly unlimited", Price="99", Stripe_price_id="prod_123")
    assert admin.submit() is None, "Slack's client asks for the required interval first"
    acked(admin.submit(client_checks=False))
    errors = admin.errors()
    assert "how often" in errors["interval"] and "price_" in errors["stripe_price"]
    admin.choose("Month", menu="Billed every")
    _fill(admin, Stripe_price_id="price_1Abc")
    assert "£99.00 a month · Stripe price_1Abc" in text_of(_saved(admin, "Added Monthly"))
    (plan,) = _rows(world, SubscriptionPlan)
    assert (plan.interval, plan.stripe_price_id, plan.price_minor) == ("month", "price_1Abc", 9900)


def test_staff_read_the_lists_but_change_nothing(world: World) -> None:
    with world.db.unit_of_work() as uow:
        uow.session.add(
            PassType(
                team_id=TEAM, key="ten", name="Ten", credits=10, validity_days=90, price_minor=1
            )
        )
    view = _list(world.staff, "Pass types")
    shown = text_of(view)
    assert "Ten" in shown and "Read only" in shown
    assert "Add pass type" not in shown and "catalog_items.menu" not in str(view)


@pytest.mark.parametrize("verb", ["Archive", "Edit"])
def test_an_item_removed_meanwhile_is_explained(world: World, verb: str) -> None:
    admin = world.admin
    _add(admin, "Pass types", "pass type")
    _fill(admin, Name="Ten", Credits="10", Valid_for="90", Price="100")
    _saved(admin, "Added Ten.")
    (kind,) = _rows(world, PassType)
    with world.db.unit_of_work() as uow:
        uow.session.delete(uow.session.get(PassType, kind.id))
    _menu(admin, kind.id, verb)
    admin.wait_for_view(lambda v: "no longer exists" in text_of(v))


def test_what_slack_edits_survives_an_export_and_import(world: World) -> None:
    admin = world.admin
    _add(admin, "Pass types", "pass type")
    _fill(admin, Name="Ten", Credits="10", Valid_for="90", Price="100")
    _saved(admin, "Added Ten.")
    with world.db.unit_of_work() as uow:
        first = export_catalog(uow, TEAM)
    assert "Ten" in first
    with world.db.unit_of_work() as uow:
        import_catalog(uow, TEAM, first, source="export.yaml")
    with world.db.unit_of_work() as uow:
        assert export_catalog(uow, TEAM) == first
    assert len(_rows(world, PassType)) == 1


def _services(driver: SlackDriver) -> JSON:
    customers_home(driver)
    after(driver, driver.click("Services", surface="home"), "views.open")
    return driver.wait_for_view(lambda v: v["callback_id"] == LIST)


def _service_count(world: World) -> int:
    with world.db.unit_of_work(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count(AppointmentService.id))) or 0)


def test_an_admin_writes_a_questionnaire_one_question_a_line(world: World) -> None:
    admin = world.admin
    _add(admin, "Questionnaires", "questionnaire")
    lines = [
        "Any injuries we should know of? [long]",
        "Do you agree to the waiver? [yes/no]",
        "How did you hear of us? [choice: Friend, Instagram]",
        "Date of birth [datum]",
    ]
    _fill(admin, Name="Intake", Questions="\n".join(lines))
    acked(admin.submit())
    problem = admin.errors()["questions"]
    assert "Line 4" in problem and "datum" in problem
    _fill(admin, Questions="\n".join([*lines[:3], "Date of birth [date]", "Anything else?"]))
    shown = text_of(_saved(admin, "Added Intake."))
    assert "5 questions (1 choice, 1 date, 1 long, 1 yes/no)" in shown
    (template,) = _rows(world, QuestionnaireTemplate)
    assert template.questions[1] == {"text": "Do you agree to the waiver?", "type": "yes/no"}
    assert template.questions[4] == "Anything else?"


def test_questions_too_long_for_a_slack_field_are_kept_when_the_name_changes(
    world: World,
) -> None:
    many = [f"Question number {n} about something rather long and detailed?" for n in range(50)]
    with world.db.unit_of_work() as uow:
        uow.session.add(
            QuestionnaireTemplate(team_id=TEAM, key="long", name="Long form", questions=many)
        )
    admin = world.admin
    _list(admin, "Questionnaires")
    (template,) = _rows(world, QuestionnaireTemplate)
    _menu(admin, template.id, "Edit")
    form = admin.wait_for_view(lambda v: v["callback_id"] == ITEM)
    assert "more than a Slack field holds" in text_of(form)
    _fill(admin, Name="Longer form")
    _saved(admin, "Saved Longer form.")
    (template,) = _rows(world, QuestionnaireTemplate)
    assert (template.name, template.questions) == ("Longer form", many)


def test_a_menu_naming_item_zero_says_it_is_out_of_date(world: World) -> None:
    """No item has id 0, which the item form reads as a new one: Edit of item 0 had pushed an
    empty Add form."""
    admin = world.admin
    shown = _services(admin)
    response = acked(forged_choice(admin, shown, "catalog_items.menu", "item_0", "edit|0"))
    call = world.api.wait_for("views.update", since=response.mark)
    assert "That menu is out of date; choose again." in json.dumps(call.params["view"])
    assert not world.api.calls("views.push", since=response.mark)
