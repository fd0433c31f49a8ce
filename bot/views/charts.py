"""The sales chart's messages: which customer, when a name matches several."""

from __future__ import annotations

from bot.views.blocks import Block, button, context, escape, section
from core.formatting import counted, format_phone
from core.services.customers import CustomerRecord

CHOOSE_ACTION = "chart.choose"
# Customers offered when a name matches several; a message holds at most 50 blocks.
CHOICES_MAX = 10


def chart_choices(query: str, matches: list[CustomerRecord], *, more: bool) -> list[Block]:
    """A name matched several customers: each with a button posting their chart, nothing yet."""
    shown = matches[:CHOICES_MAX]
    found = counted(len(matches), "customer matches", "customers match")
    blocks = [
        section(
            f"{'More than ' if more else ''}{found} '{escape(query)}'. "
            "Whose sales chart should I post here?"
        )
    ]
    for customer in shown:
        who = f"*{escape(customer.full_name)}*\n{escape(customer.email)}"
        if customer.mobile:
            who += f"  ·  {escape(format_phone(customer.mobile))}"
        chosen = button("Post chart", CHOOSE_ACTION, value=customer.uid)
        blocks.append(section(who, accessory=chosen, block_id=f"chart_{customer.uid}"))
    if more or len(matches) > len(shown):
        blocks.append(context("Not listed? Type more of the name, or the email address."))
    return blocks
