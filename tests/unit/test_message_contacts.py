"""The contact details found in chat messages: emails, phone numbers and (honestly) names."""

from __future__ import annotations

import pytest

from core.message_contacts import FoundContact, find_contact, plain_message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "New client! Name: Zoë Adams, email <mailto:zoe.adams@example.com|zoe.adams@example.com>,"
            " mobile 07700 900123",
            FoundContact("Zoë", "Adams", "zoe.adams@example.com", "+44 7700 900123", "message"),
        ),
        (
            "Zoë Adams <zoe@example.com> called, wants a trial class. +44 7700 900 456",
            FoundContact("Zoë", "Adams", "zoe@example.com", "+44 7700 900456", "message"),
        ),
        (
            "Client: Mary-Jane O'Neil\nphone: <tel:+447700900123|+44 7700 900123>",
            FoundContact("Mary-Jane", "O'Neil", "", "+44 7700 900123", "message"),
        ),
        (
            "please add ZOE.ADAMS@Example.com to the list",
            FoundContact("Zoe", "Adams", "zoe.adams@example.com", "", "email"),
        ),
        (
            "Hi <@U0123> can you book info@example.com for the 14th of March 2026 at 10:30? "
            "Paid £1,250.00, ref 12345, see 2026-03-14",
            FoundContact(email="info@example.com"),
        ),
        ("call back on 020 7946 0958 please", FoundContact(mobile="+44 20 7946 0958")),
        ("Name: the new one from yesterday", FoundContact()),
        (
            "Customer Zoë Adams zoe@example.com",
            FoundContact("Zoë", "Adams", "zoe@example.com", "", "message"),
        ),
        ("nothing useful here, just chat", FoundContact()),
        ("not an email: zoe@ and @example.com", FoundContact()),
    ],
)
def test_what_each_message_shape_fills_in(text: str, expected: FoundContact) -> None:
    assert find_contact(text, "GB") == expected


def test_the_authors_own_name_is_never_offered_as_the_customers() -> None:
    text = "Sam Lee <sam.lee@example.com> (me) on behalf of a friend"
    assert find_contact(text, "GB", not_named="Sam Lee") == FoundContact(
        email="sam.lee@example.com"
    )
    assert find_contact(text, "GB").first_name == "Sam"


def test_a_local_number_is_read_in_the_studios_region() -> None:
    assert find_contact("mobile: (212) 555-0147", "US").mobile == "+1 212-555-0147"
    assert find_contact("mobile: (212) 555-0147", "GB").mobile == "+44 21 2555 0147"


def test_slack_markup_reads_as_a_person_sees_it() -> None:
    text = "<@U0123|zoe> in <#C0456|front-desk>: see <https://x.test/a|the page> &amp; <!here>"
    assert plain_message(text) == "@zoe in #front-desk: see the page & @here"


def test_what_was_found_is_named_in_the_forms_words() -> None:
    assert FoundContact("Zoë", "Adams", "", "+44 7700 900123").found == ["name", "mobile"]
    assert FoundContact().found == []
