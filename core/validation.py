"""Field rules for customer contact details, each failure worded for a receptionist."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, ValidationResult

from core.text import squeeze

NAME_MAX = 100
PASSWORD_MIN = 8
PASSWORD_MAX = 128
EMAIL_MAX = 254


# Zero-width (non-)joiners are format characters, but Persian and Indic names need them.
_JOINERS = frozenset("\u200c\u200d")


def _has_control(text: str) -> bool:
    return any(
        unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} and ch not in _JOINERS for ch in text
    )


def clean_name(raw: str, label: str) -> tuple[str, str | None]:
    """The trimmed name, or an error message."""
    value = squeeze(raw)
    if not value:
        return value, f"Enter the customer's {label}."
    if len(value) > NAME_MAX:
        return (
            value,
            f"{label.capitalize()} can be at most {NAME_MAX} characters (this has {len(value)}).",
        )
    if _has_control(value):
        return value, f"{label.capitalize()} contains invisible control characters; retype it."
    return value, None


def clean_email(raw: str) -> tuple[str, str | None]:
    """The lower-cased address, or an error message."""
    value = raw.strip()
    if not value:
        return value, "Enter the customer's email address; it is their login."
    if len(value) > EMAIL_MAX:
        return value, f"An email address can be at most {EMAIL_MAX} characters."
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        # email-validator's reasons are sentences of their own, with their own full stops.
        reason = " ".join(str(exc).split()).rstrip(".")
        return value, f"Enter a valid email address like name@example.com ({reason})."
    return checked.normalized.lower(), None


_POSSIBILITY_MESSAGES = {
    ValidationResult.INVALID_COUNTRY_CODE: "the country code is not recognised",
    ValidationResult.TOO_SHORT: "it is too short",
    ValidationResult.TOO_LONG: "it is too long",
    ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
}


def clean_mobile(raw: str, default_region: str) -> tuple[str, str | None]:
    """The number in E.164 form, or an error message."""
    value = raw.strip()
    example = "+44 7700 900123"
    if not value:
        return value, f"Enter the customer's mobile number with country code, like {example}."
    if len(value) > 40 or _has_control(value):
        return value, f"Enter a mobile number with country code, like {example}."
    try:
        number = phonenumbers.parse(value, default_region)
    except NumberParseException:
        return value, f"That doesn't look like a phone number; enter it like {example}."
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        why = _POSSIBILITY_MESSAGES.get(reason, "it is not a possible number")
        return value, f"Check the mobile number: {why}. Include the country code, like {example}."
    if reason is ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return value, f"Include the area or mobile prefix and country code, like {example}."
    e164 = _e164(number)
    if not _reads_back(e164):
        why = _POSSIBILITY_MESSAGES[ValidationResult.INVALID_LENGTH]
        return value, f"Check the mobile number: {why}. Include the country code, like {example}."
    return e164, None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _reads_back(e164: str) -> bool:
    """Whether the stored form means the same number when read again.

    Some countries treat a zero typed after the country code as a trunk prefix, which
    re-reading would drop: such input is not a number anyone can be called on.
    """
    try:
        return _e164(phonenumbers.parse(e164, None)) == e164
    except NumberParseException:
        return False


def password_problems(password: str) -> str | None:
    """What the password still needs, or None when it meets every rule."""
    if len(password) > PASSWORD_MAX:
        return f"Password can be at most {PASSWORD_MAX} characters."
    if _has_control(password):
        return "Password contains invisible control characters; retype it."
    needs = []
    if len(password) < PASSWORD_MIN:
        needs.append(f"at least {PASSWORD_MIN} characters")
    if not any(ch.isupper() for ch in password):
        needs.append("an uppercase letter")
    if not any(ch.islower() for ch in password):
        needs.append("a lowercase letter")
    if not any(ch.isdigit() for ch in password):
        needs.append("a number")
    if all(ch.isalnum() for ch in password):
        needs.append("a special character such as ! or #")
    if not needs:
        return None
    listed = needs[0] if len(needs) == 1 else ", ".join(needs[:-1]) + " and " + needs[-1]
    return f"Password needs {listed}."
