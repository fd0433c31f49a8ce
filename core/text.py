"""Folding text for case- and accent-insensitive search and sorting."""

from __future__ import annotations

import re
import unicodedata

# Letters that carry no combining mark to strip, so NFKD alone leaves them alone.
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
)
_SPACES = re.compile(r"\s+")
# C0/C1 controls except tab and newline: invisible in Slack, and PostgreSQL rejects NUL.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def fold(text: str) -> str:
    """Lower-case, strip accents and squeeze white space: 'Zoë  Ørsted' → 'zoe orsted'."""
    # Fold case again after decomposing: compatibility letters such as "ℌ" or "𝐀" have no
    # lower case of their own but decompose to capitals that do.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.translate(_EXTRA_FOLDS)).strip()


def squeeze(text: str) -> str:
    """Trim and collapse runs of white space to one space."""
    return _SPACES.sub(" ", text).strip()


def clean_multiline(text: str) -> str:
    """Free text trimmed, with Unix line breaks and without invisible control characters."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def digits(text: str) -> str:
    """Only the ASCII digits of `text`."""
    return "".join(ch for ch in text if "0" <= ch <= "9")


def like_pattern(fragment: str) -> str:
    """A LIKE pattern matching `fragment` anywhere, with wildcards escaped (escape char '\\')."""
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
