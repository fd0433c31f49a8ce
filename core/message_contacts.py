"""A customer's contact details found in a chat message: an email, a phone number, maybe a name.

What is found only pre-fills Create Customer, where staff check it and the form validates it as
always. A name is given only when the message says it (`Name: …`, or a name written right before
the email) or the email's local part is plainly a first and last name; otherwise it stays empty,
since a wrong name is worse than none."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.text import digits, squeeze
from core.validation import EMAIL_MAX, NAME_MAX

# Slack's markup for links, mailto and tel links, mentions and channels: <target|label> or <target>.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_EMAIL = re.compile(r"[^\s<>()\[\]{},;:\"'`*]+@[^\s<>()\[\]{},;:\"'`*]+")
# "Name: Zoë Adams", "full name = Zoë Adams" anywhere; "Client: Zoë Adams" at a line's start.
_LABELLED = re.compile(
    r"\b(?:full\s+|customer(?:'s)?\s+|client(?:'s)?\s+)?name[*_]*\s*[:=]\s*([^\n]+)"
    r"|^[\s*_]*(?:client|customer)[*_]*\s*[:\-–—]\s*([^\n]+)",
    re.IGNORECASE | re.MULTILINE,
)
# A word of a name: a capital letter, then letters, with inner apostrophes or hyphens.
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*")
# Capitalised words that start sentences or label things rather than name someone.
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "and",
        "at",
        "by",
        "call",
        "client",
        "contact",
        "customer",
        "dear",
        "email",
        "for",
        "from",
        "hello",
        "hey",
        "hi",
        "lead",
        "mail",
        "mobile",
        "name",
        "new",
        "number",
        "phone",
        "please",
        "re",
        "reach",
        "sent",
        "sign",
        "signed",
        "student",
        "text",
        "thanks",
        "the",
        "their",
        "to",
        "via",
        "wants",
        "would",
        "you",
        "your",
    ]
)
_LOCAL_PART = re.compile(r"([a-z]{2,})[._-]([a-z]{2,})(?:\d{0,4})")
# Fewer digits than this are a date, a time or an amount more often than a phone number.
MIN_PHONE_DIGITS = 7
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
NameSource = Literal["", "message", "email"]


@dataclass(frozen=True)
class FoundContact:
    """What a message says about a person; empty strings where it says nothing usable."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    mobile: str = ""
    # Where the name came from: written in the message, or read from the email address.
    name_from: NameSource = ""

    @property
    def found(self) -> list[str]:
        """What was found, in the words the form uses."""
        parts = [("name", self.first_name), ("email", self.email), ("mobile", self.mobile)]
        return [label for label, value in parts if value]


def plain_message(text: str) -> str:
    """Slack's message markup as a person reads it: link labels, @mentions, no escapes."""

    def readable(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#", "!")):
            mark = "#" if target.startswith("#") else "@"
            return mark + (label or target[1:]).split("^")[0]
        if label:
            return label
        return target.removeprefix("mailto:").removeprefix("tel:")

    return html.unescape(_MARKUP.sub(readable, text))


def _first_email(text: str) -> tuple[str, int]:
    """The first valid address (lower-cased) and where it starts; ('', -1) without one."""
    for match in _EMAIL.finditer(text):
        candidate = match.group(0).strip(".!?-_")
        if len(candidate) > EMAIL_MAX:
            continue
        try:
            checked = validate_email(candidate, check_deliverability=False)
        except EmailNotValidError:
            continue
        return checked.normalized.lower(), match.start()
    return "", -1


def _first_phone(text: str, region: str) -> str:
    """The first possible phone number of seven digits or more, in international format; ''
    without one. (Possible, not valid: studios use numbers, such as UK drama numbers, that
    phonenumbers' tables don't list; the form checks the number as it always does.)"""
    matches = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matches:
        if len(digits(match.raw_string)) >= MIN_PHONE_DIGITS and not _DATE.fullmatch(
            match.raw_string
        ):
            return phonenumbers.format_number(
                match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
    return ""


def _name_words(words: list[str]) -> tuple[str, str] | None:
    """First and last name from two to four capitalised words; None unless they look like one."""
    if not 2 <= len(words) <= 4:
        return None
    if any(not w[:1].isupper() or w.casefold() in _NOT_NAMES for w in words):
        return None
    first, last = words[0], " ".join(words[1:])
    if len(first) > NAME_MAX or len(last) > NAME_MAX:
        return None
    return first, last


def _labelled_name(text: str) -> tuple[str, str] | None:
    for match in _LABELLED.finditer(text):
        value = re.split(r"[,;|(<\n]| - | – ", match.group(1) or match.group(2), maxsplit=1)[0]
        value = value.strip(" *_.")
        words = value.split()
        if words and all(_NAME_WORD.fullmatch(w) for w in words):
            return _name_words(words)
    return None


def _name_before(text: str, at: int) -> tuple[str, str] | None:
    """The capitalised words written right before the email ("Zoë Adams <zoe@…>")."""
    before = text[:at].rstrip(" \t<([:-–—,")
    words: list[str] = []
    for word in reversed(before.split(" ")[-4:]):
        if not _NAME_WORD.fullmatch(word) or not word[:1].isupper():
            break
        if word.casefold() in _NOT_NAMES:
            break
        words.insert(0, word)
    return _name_words(words) if len(words) >= 2 else None


def _name_from_email(email: str) -> tuple[str, str] | None:
    match = _LOCAL_PART.fullmatch(email.split("@", 1)[0])
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if first in _NOT_NAMES or last in _NOT_NAMES or {first, last} & {"info", "admin", "office"}:
        return None
    return first.capitalize(), last.capitalize()


def find_contact(text: str, region: str, *, not_named: str = "") -> FoundContact:
    """The contact details in a message; `not_named` is someone the message is not about (its
    author), whose name is never offered as the customer's."""
    plain = plain_message(text)
    email, at = _first_email(plain)
    without_email = plain.replace(email, " ") if email else plain
    mobile = _first_phone(without_email, region)
    name_from: NameSource = "message"
    name = _labelled_name(plain)
    if name is None and at >= 0:
        name = _name_before(plain, at)
    if name is None and email:
        name, name_from = _name_from_email(email), "email"
    if name is not None and squeeze(" ".join(name)).casefold() == squeeze(not_named).casefold():
        name = None
    if name is None:
        return FoundContact(email=email, mobile=mobile)
    return FoundContact(name[0], name[1], email, mobile, name_from)
