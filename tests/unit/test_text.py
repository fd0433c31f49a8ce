"""Folding and the small text helpers search is built on."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.text import digits, fold, like_pattern, squeeze

# Letters of the scripts customers' names are most often written in, upper and lower case.
NAME_LETTERS = st.characters(
    categories=["Lu", "Ll"],
    codec="utf-8",
    max_codepoint=0x04FF,  # Latin, Latin-1, Latin Extended, IPA, Greek, Cyrillic
)
# Combining diacritics; U+0345 is left out because it is the Greek iota subscript, a letter.
ACCENTS = st.characters(min_codepoint=0x0300, max_codepoint=0x034E, exclude_characters="\u0345")


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Zoë", "zoe"),
        ("ZOE", "zoe"),
        ("Ørsted", "orsted"),
        ("Łukasz", "lukasz"),
        ("Ångström", "angstrom"),
        ("Šťastný", "stastny"),
        ("Đorđe", "dorde"),
        ("Þórunn", "thorunn"),
        ("Æsa Cœur", "aesa coeur"),
        ("Straße", "strasse"),
        ("İlkay", "ilkay"),
        ("Iıl", "iil"),
        ("Ｚｏｅ", "zoe"),  # full-width letters typed with an East Asian keyboard
        ("ℌans", "hans"),  # compatibility letters fold to lower case too
        ("  Zoë \t\n Smith  ", "zoe smith"),
        ("Zoe\u00a0Smith", "zoe smith"),
        ("Björk Guðmundsdóttir", "bjork gudmundsdottir"),
        ("Μαρία", "μαρια"),
        ("Ёлкин", "елкин"),
        ("王秀英", "王秀英"),
        ("", ""),
    ],
)
def test_fold_ignores_case_accents_and_spacing(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@given(st.text())
@example("ℌ")
@example("𝐀𝐝𝐚")
@example("㎒")
@example("ǅ")
@example("a \u0301b")
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text(NAME_LETTERS))
def test_fold_ignores_case(name: str) -> None:
    assert fold(name.upper()) == fold(name.lower()) == fold(name)


@given(st.lists(st.tuples(st.sampled_from(string.ascii_letters), st.lists(ACCENTS, max_size=2))))
def test_fold_ignores_accents(letters: list[tuple[str, list[str]]]) -> None:
    plain = "".join(letter for letter, _ in letters)
    # NFC composes what it can ("e" + diaeresis → "ë"), as a keyboard would produce it.
    accented = unicodedata.normalize("NFC", "".join(a + "".join(m) for a, m in letters))
    assert fold(accented) == plain.lower()


@given(st.text())
def test_fold_output_has_no_outer_or_doubled_spaces(text: str) -> None:
    folded = fold(text)
    assert folded == folded.strip()
    assert "  " not in folded
    assert not any(ch.isspace() and ch != " " for ch in folded)


def test_squeeze_trims_and_collapses_whitespace_but_keeps_case() -> None:
    assert squeeze("  Zoë \t\n  Smith ") == "Zoë Smith"
    assert squeeze(" \t ") == ""


def test_digits_keeps_only_ascii_digits() -> None:
    assert digits("+44 (0)7700-900 123") == "4407700900123"
    assert digits("٣٤٥ abc") == ""


@pytest.mark.parametrize(
    ("fragment", "pattern"),
    [
        ("zoe", "%zoe%"),
        ("50%", "%50\\%%"),
        ("a_b", "%a\\_b%"),
        ("back\\slash", "%back\\\\slash%"),
    ],
)
def test_like_pattern_escapes_wildcards(fragment: str, pattern: str) -> None:
    assert like_pattern(fragment) == pattern
