"""The *Find customer* and *Create customer* workflow steps."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Complete, Fail
from slack_sdk import WebClient

from bot.surfaces.workflow_steps import Outputs, Step
from core.services.customers import CustomerInput, CustomerRecord, create_customer, find_by_contact

FIND = "find_customer"
CREATE = "create_customer"


def found(customer: CustomerRecord) -> Outputs:
    """What later steps get of a customer: the UID as customer_id, name, contact and status."""
    return {
        "customer_id": customer.uid,
        "name": customer.full_name,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "mobile": customer.mobile,
        "status": customer.status.value,
    }


def on_find_customer(
    context: BoltContext, client: WebClient, body: dict[str, Any], complete: Complete, fail: Fail
) -> None:
    """Find customer: by email, else by mobile."""
    step = Step.of(context, client, body, complete, fail)
    email, mobile = step.text("email"), step.text("mobile")
    step.run(lambda uow, actor: find_by_contact(uow, actor, email=email, mobile=mobile), found)


def on_create_customer(
    context: BoltContext, client: WebClient, body: dict[str, Any], complete: Complete, fail: Fail
) -> None:
    """Create customer: checked as the form checks it; the welcome mail goes as from the form."""
    step = Step.of(context, client, body, complete, fail)
    data = CustomerInput(
        first_name=step.text("first_name"),
        last_name=step.text("last_name"),
        email=step.text("email"),
        mobile=step.text("mobile"),
    )
    step.run(lambda uow, actor: create_customer(uow, actor, data), found)


def register(app: App) -> None:
    """Wire Find customer and Create customer."""
    app.function(FIND)(on_find_customer)
    app.function(CREATE)(on_create_customer)
