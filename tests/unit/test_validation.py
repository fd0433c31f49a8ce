"""Field rules for names, email, mobile and password, example by example and as properties."""

from __future__ import annotations

import re
import string

import phonenumbers
import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from hypothesis import assume, example, given
from hypothesis import strategies as st

from core import security
from core.security import generate_password, hash_password, verify_password
from core.text import squeeze
from core.validation import (
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    clean_email,
    clean_mobile,
    clean_name,
    password_problems,
)

# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Zoë",
        "O'Brien",
        "Jean-Luc",
        "Nguyễn Thị Minh Khai",
        "王秀英",
        "Μαρία",
        "Александра",
        "محمد",
        "שרה",
        "प्रिया",
        "สมชาย",
        "김민준",
        "علی\u200cرضا",  # Persian writes compound names with a zero-width non-joiner
        "X",
    ],
)
def test_names_in_any_script_are_accepted(name: str) -> None:
    assert clean_name(name, "first name") == (name, None)


def test_name_is_trimmed_and_inner_whitespace_squeezed() -> None:
    # Tabs and line breaks come from pasting out of a spreadsheet or an email signature.
    assert clean_name("  Mary \t  Ann\n ", "first name") == ("Mary Ann", None)


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_blank_name_is_refused_naming_the_field(raw: str) -> None:
    _, problem = clean_name(raw, "last name")
    assert problem == "Enter the customer's last name."


def test_name_length_limit_counts_characters_after_trimming() -> None:
    longest = "é" * NAME_MAX
    assert clean_name(f"  {longest}  ", "first name") == (longest, None)
    _, problem = clean_name(longest + "é", "first name")
    assert problem == f"First name can be at most {NAME_MAX} characters (this has {NAME_MAX + 1})."


@pytest.mark.parametrize(
    "raw",
    [
        "Zo\x00e",
        "Zoe\x07",
        "\x1b[31mZoe",
        "Zo\u200be",  # zero-width space
        "Zoe\u202eevil",  # right-to-left override, used to disguise text
        "\ufeffZoe",  # byte-order mark pasted from a file
        "Zoe\ue000",  # private use
    ],
)
def test_invisible_control_characters_in_a_name_are_refused(raw: str) -> None:
    _, problem = clean_name(raw, "first name")
    assert problem == "First name contains invisible control characters; retype it."


@given(st.text(max_size=NAME_MAX + 20))
def test_any_accepted_name_is_trimmed_squeezed_and_short_enough(raw: str) -> None:
    value, problem = clean_name(raw, "first name")
    if problem is None:
        assert value == squeeze(raw)
        assert 1 <= len(value) <= NAME_MAX
        assert clean_name(value, "first name") == (value, None)
    else:
        assert problem.strip()


@given(st.text(st.characters(categories=["L", "M", "N", "P", "Zs"]), min_size=1, max_size=NAME_MAX))
def test_every_visible_name_up_to_the_limit_is_accepted(raw: str) -> None:
    assume(squeeze(raw))
    assert clean_name(raw, "first name") == (squeeze(raw), None)


# --- email -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("zoe@example.com", "zoe@example.com"),
        ("  Zoe.Smith@Example.COM ", "zoe.smith@example.com"),
        ("ZOË@EXAMPLE.COM", "zoë@example.com"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        # Syntax only: a domain that does not exist is fine (no DNS look-up).
        (
            "zoe@no-such-domain-for-customer-records.com",
            "zoe@no-such-domain-for-customer-records.com",
        ),
    ],
)
def test_valid_email_is_trimmed_and_lower_cased(raw: str, stored: str) -> None:
    assert clean_email(raw) == (stored, None)


@pytest.mark.parametrize(
    "raw",
    [
        "zoe",
        "zoe@",
        "@example.com",
        "zoe@example",
        "zoe smith@example.com",
        "zoe@@example.com",
        "zoe@example..com",
        "zoe@localhost",
    ],
)
def test_malformed_email_is_refused_with_an_example(raw: str) -> None:
    value, problem = clean_email(raw)
    assert value == raw.strip()
    assert problem is not None
    assert problem.startswith("Enter a valid email address like name@example.com")


def test_blank_email_is_refused_explaining_it_is_the_login() -> None:
    assert clean_email("  ") == ("", "Enter the customer's email address; it is their login.")


def test_overlong_email_is_refused() -> None:
    _, problem = clean_email("a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com")
    assert problem == "An email address can be at most 254 characters."


# --- mobile ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "stored"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 7700 900123", "US", "+447700900123"),
        ("+44 (0)7700 900-123", "GB", "+447700900123"),
        ("00 33 6 12 34 56 78", "GB", "+33612345678"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201 555 0123", "GB", "+12015550123"),
        ("0612345678", "NL", "+31612345678"),
        ("  +49 1512 3456789 ", "GB", "+4915123456789"),
    ],
)
def test_mobile_is_stored_in_e164_using_the_default_region(
    raw: str, region: str, stored: str
) -> None:
    assert clean_mobile(raw, region) == (stored, None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("12", "it is too short"),
        ("+44 7700 900123 456 789", "it is too long"),
        ("+44 770", "it is too short"),
        # Zeros the country would read as a trunk prefix leave no callable number.
        ("+27 0000 0000", "it has the wrong number of digits"),
    ],
)
def test_impossible_mobile_is_refused_saying_why(raw: str, reason: str) -> None:
    _, problem = clean_mobile(raw, "GB")
    assert problem == (
        f"Check the mobile number: {reason}. Include the country code, like +44 7700 900123."
    )


@pytest.mark.parametrize("raw", ["call me", "+", "+999 7700 900123"])
def test_text_that_is_no_phone_number_is_refused(raw: str) -> None:
    _, problem = clean_mobile(raw, "GB")
    assert problem == "That doesn't look like a phone number; enter it like +44 7700 900123."


def test_number_without_area_code_is_refused_asking_for_it() -> None:
    # Seven digits are dialable inside a US area code but not from anywhere else.
    _, problem = clean_mobile("555-0123", "US")
    assert problem == "Include the area or mobile prefix and country code, like +44 7700 900123."


@pytest.mark.parametrize("raw", ["", "   ", "+44 7700\x00900123", "1" * 41])
def test_blank_or_garbled_mobile_is_refused(raw: str) -> None:
    value, problem = clean_mobile(raw, "GB")
    assert problem is not None
    assert "like +44 7700 900123" in problem
    assert value == raw.strip()


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
FORMATS = [
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
]


def _example_mobile(region: str) -> phonenumbers.PhoneNumber | None:
    return phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)


MOBILE_REGIONS = [region for region in REGIONS if _example_mobile(region) is not None]


@st.composite
def typed_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A region's example mobile with digits changed, written the way people write them."""
    region = draw(st.sampled_from(MOBILE_REGIONS))
    example = _example_mobile(region)
    assert example is not None
    chars = list(phonenumbers.format_number(example, draw(st.sampled_from(FORMATS))))
    # Change digits after the first three, so the country code and trunk prefix stay intact.
    changeable = [i for i, ch in enumerate(chars) if ch.isdigit()][3:]
    if changeable:
        for position in draw(st.lists(st.sampled_from(changeable), max_size=6)):
            chars[position] = draw(st.sampled_from(string.digits))
    return "".join(chars), region


def _assert_round_trips(raw: str, region: str, other_region: str) -> bool:
    """When `raw` is accepted, its stored form means the same number wherever it is read."""
    stored, problem = clean_mobile(raw, region)
    if problem is not None:
        return False
    assert stored.startswith("+")
    assert stored[1:].isdigit()
    assert len(stored) <= 20  # the width of the mobile column
    reparsed = phonenumbers.parse(stored, None)
    assert phonenumbers.format_number(reparsed, phonenumbers.PhoneNumberFormat.E164) == stored
    # Stored numbers carry their country, so any workspace reads them the same way.
    assert clean_mobile(stored, other_region) == (stored, None)
    return True


@given(typed_numbers(), st.sampled_from(REGIONS))
def test_accepted_mobile_parses_back_to_the_same_number(
    typed: tuple[str, str], other_region: str
) -> None:
    raw, region = typed
    if _assert_round_trips(raw, region, other_region):
        assert phonenumbers.parse(raw, region).national_number == (
            phonenumbers.parse(clean_mobile(raw, region)[0], None).national_number
        )


@given(
    st.sampled_from(["", "0", "00", "+"]),
    st.text(string.digits, min_size=3, max_size=17),
    st.sampled_from(REGIONS),
    st.sampled_from(REGIONS),
)
@example("00", "247 0 0 0 0 0", "BR", "AC")
@example("", "00000000", "ZA", "GB")
def test_any_accepted_digit_string_parses_back_to_the_same_number(
    prefix: str, number: str, region: str, other_region: str
) -> None:
    _assert_round_trips(prefix + number, region, other_region)


# --- password ----------------------------------------------------------------------------

RULES = {
    "length": f"at least {PASSWORD_MIN} characters",
    "upper": "an uppercase letter",
    "lower": "a lowercase letter",
    "digit": "a number",
    "special": "a special character such as ! or #",
}
POOLS = {
    "upper": "ABCXYZÄÉ",
    "lower": "abcxyzäé",
    "digit": string.digits,
    "special": "!#-_ @.€",
}


@pytest.mark.parametrize(
    "password",
    ["Abcdef1!", "Correct horse 7", "Ünïcödé1!", "A1!" + "b" * (PASSWORD_MAX - 3)],
)
def test_password_meeting_every_rule_is_accepted(password: str) -> None:
    assert password_problems(password) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Abcde1!", "Password needs at least 8 characters."),
        ("abcdefg1!", "Password needs an uppercase letter."),
        ("ABCDEFG1!", "Password needs a lowercase letter."),
        ("Abcdefgh!", "Password needs a number."),
        ("Abcdefgh1", "Password needs a special character such as ! or #."),
        (
            "abc",
            "Password needs at least 8 characters, an uppercase letter, a number and "
            "a special character such as ! or #.",
        ),
    ],
)
def test_password_message_names_each_missing_rule(password: str, message: str) -> None:
    assert password_problems(password) == message


@given(
    st.sets(st.sampled_from(["upper", "lower", "digit", "special"])),
    st.integers(PASSWORD_MIN, 40),
    st.randoms(use_true_random=False),
)
def test_password_problems_name_exactly_the_missing_rules(
    present: set[str], length: int, rnd: object
) -> None:
    assume(present)
    pool = "".join(POOLS[kind] for kind in sorted(present))
    chars = [POOLS[kind][0] for kind in sorted(present)]
    chars += [pool[i % len(pool)] for i in range(length - len(chars))]
    problem = password_problems("".join(chars))
    missing = {"upper", "lower", "digit", "special"} - present
    if not missing:
        assert problem is None
        return
    assert problem is not None
    for kind, words in RULES.items():
        assert (words in problem) == (kind in missing), (kind, problem)


def test_password_over_the_limit_is_refused() -> None:
    assert password_problems("A1!" + "b" * (PASSWORD_MAX - 2)) == (
        f"Password can be at most {PASSWORD_MAX} characters."
    )


def test_password_with_control_characters_is_refused() -> None:
    assert password_problems("Abcdef1!\x00") == (
        "Password contains invisible control characters; retype it."
    )


@given(st.integers(PASSWORD_MIN, PASSWORD_MAX))
def test_generated_passwords_always_meet_the_rules(length: int) -> None:
    password = generate_password(length)
    assert len(password) == length
    assert password_problems(password) is None


def test_default_generated_passwords_are_strong_and_distinct() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    assert all(len(p) >= 16 and password_problems(p) is None for p in passwords)


def test_production_hashing_is_at_least_owasps_argon2id_minimum() -> None:
    # The suite hashes cheaply (tests/conftest.py); production uses the module's constants.
    hasher = PasswordHasher(
        time_cost=security.TIME_COST,
        memory_cost=security.MEMORY_COST_KIB,
        parallelism=security.PARALLELISM,
    )
    params = extract_parameters(hasher.hash("Abcdef1!"))
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism >= 1


def test_password_hash_is_salted_argon2id_and_verifies() -> None:
    first, second = hash_password("Abcdef1!"), hash_password("Abcdef1!")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "Abcdef1!" not in first
    assert verify_password(first, "Abcdef1!")
    assert not verify_password(first, "abcdef1!")
    assert not verify_password("not a hash", "Abcdef1!")


@given(st.text(max_size=40))
@example("not-an-email")
@example("zoe@@example.com")
@example("zoe@example")
def test_a_refused_email_is_told_without_doubled_punctuation(raw: str) -> None:
    _, problem = clean_email(raw)
    if problem is not None:
        assert not re.search(r"[.!?]\)?\.|\.\.", problem), problem
