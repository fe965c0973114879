"""Stage 1 — text cleaning: Unicode normalisation, masking, whitespace, length cap.

The cleaned text is what every later stage sees, and every span clientsense reports is an offset
into it. ``fold`` gives a same-length, lower-cased, diacritic-free view for matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .config import DEFAULT_CONFIG, Config

URL_RE = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']{1,2000}", re.IGNORECASE)
EMAIL_RE = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}\b")
_SPACES_RE = re.compile(r"[^\S\n]+")  # every whitespace character but the newline (incl. U+1680)
_NEWLINES_RE = re.compile(r"\n{3,}")
_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n"})
URL_TOKEN = "<url>"
EMAIL_TOKEN = "<email>"


@dataclass(frozen=True, slots=True)
class CleanText:
    """Result of cleaning: the text, whether it was cut, and what the input looked like."""

    text: str
    truncated: bool
    original_length: int
    has_letters: bool


_TABLE_MAX = 65_536
"""At most this many characters are remembered by each per-character translation table."""


class _CharTable(dict[int, str]):
    """A ``str.translate`` table filled on demand from a per-character function (bounded).

    ``text.translate(table)`` runs in C and calls back into Python only for a character not seen
    before; dict assignment is atomic, so threads may share the table.
    """

    def __init__(self, func: Callable[[str], str]) -> None:
        super().__init__()
        self._func = func

    def __missing__(self, code: int) -> str:
        out = self._func(chr(code))
        if len(self) < _TABLE_MAX:
            self[code] = out
        return out


def _control_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    if ch in "\n\t":
        return ch
    if cat == "Cs":  # lone surrogate: not text
        return "\ufffd"
    if cat in ("Cc", "Cf") and ch not in "\u200d":  # keep ZWJ inside emoji sequences
        return " " if cat == "Cc" else ""
    return ch


_CONTROL_TABLE = _CharTable(_control_char)


def _drop_controls(text: str) -> str:
    return text.translate(_CONTROL_TABLE)


def cap_length(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``limit`` characters, at the last whitespace in the final 10 %."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind(" ", int(limit * 0.9), limit)
    return text[: cut if cut > 0 else limit].rstrip(), True


def clean_text(text: str, config: Config = DEFAULT_CONFIG) -> CleanText:
    """Normalise one message. Never raises on a ``str``; non-``str`` input is a ``TypeError``."""
    if not isinstance(text, str):
        raise TypeError(f"clean_text expects str, got {type(text).__name__}")
    original_length = len(text)
    # Cap the raw input first so that pathological bodies cost bounded time.
    raw, cut_raw = cap_length(text, config.max_chars * 4)
    raw = raw.replace("\r\n", "\n").translate(_LINE_BREAKS)
    raw = unicodedata.normalize("NFC", _drop_controls(raw))
    if config.mask_urls:
        raw = URL_RE.sub(URL_TOKEN, raw)
    if config.mask_emails:
        raw = EMAIL_RE.sub(EMAIL_TOKEN, raw)
    lines = [_SPACES_RE.sub(" ", line).strip() for line in raw.split("\n")]
    raw = _NEWLINES_RE.sub("\n\n", "\n".join(lines)).strip()
    out, cut = cap_length(raw, config.max_chars)
    masked = out.replace(URL_TOKEN, "").replace(EMAIL_TOKEN, "")
    return CleanText(
        text=out,
        truncated=cut or cut_raw,
        original_length=original_length,
        has_letters=any(ch.isalpha() for ch in masked),
    )


_FOLD_EXTRA = {"ł": "l", "đ": "d", "ø": "o", "ı": "i", "ё": "е", "æ": "a", "œ": "o", "ß": "ß"}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    low = ch.lower()
    low = low[0] if low else ch
    if low in _FOLD_EXTRA:
        return _FOLD_EXTRA[low]
    if "a" <= low <= "z" or ord(low) < 0xC0:
        return low
    if unicodedata.category(low)[0] == "L" and not ("\u0400" <= low <= "\u04ff"):
        base = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
        return base[0] if base else low
    return low


def fold(text: str) -> str:
    """Lower-case, strip Latin diacritics (ą→a, ș→s, é→e, ł→l) and map ё→е, keeping length.

    ``len(fold(t)) == len(t)`` always, so offsets found in the folded text are offsets in ``t``.
    Cyrillic letters other than ё are kept (й stays й).
    """
    if text.isascii():  # _fold_char of an ASCII character is its lower case
        return text.lower()
    return text.translate(_FOLD_TABLE)


_FOLD_TABLE = _CharTable(_fold_char)
