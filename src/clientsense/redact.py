"""Masking of personal data in outputs: e-mail addresses, phone numbers, IBAN- and card-like numbers.

``redact(text)`` replaces each finding with a fixed token (``[email]``, ``[phone]``, ``[iban]``,
``[card]``). It is applied to *outputs* only (``--redact`` on the command line, ``redact=True``
on :func:`clientsense.score_frame` and :meth:`clientsense.Analysis.to_dict`): analysis always
runs on the original text, and every span offset keeps referring to the analysed text, not to
the redacted string. Detection is by shape, not by validation (except the Luhn check on card
numbers): a long order number written like a phone number is masked too; over-masking is the
safe failure. Every pattern uses bounded repeats only (linear time on adversarial input).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["REDACTION_TOKENS", "redact"]

EMAIL_TOKEN = "[email]"
PHONE_TOKEN = "[phone]"
IBAN_TOKEN = "[iban]"
CARD_TOKEN = "[card]"
REDACTION_TOKENS: tuple[str, ...] = (EMAIL_TOKEN, IBAN_TOKEN, CARD_TOKEN, PHONE_TOKEN)

_EMAIL_RE = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}(?![\w-])")
# Two letters (country), two check digits, then 11–30 letters/digits, optionally in groups of 4.
_IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?(?![\w])")
_IBAN_COMPACT_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![\w])")
# 13–19 digits, optionally grouped by spaces or hyphens (Luhn-checked below).
_CARD_RE = re.compile(r"(?<![\w+])\d(?:[ -]?\d){12,18}(?![\w])")
# Optional +country code (or a trunk digit before a bracketed code), optional (area) code, then digit groups separated by space . - or /.
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?|00\d{1,3}[ .-]?|\d{1,2}[ .-]?(?=\())?(?:\(\d{1,5}\)[ .-]?)?"
    r"\d{1,5}(?:[ .\-/]?\d{1,5}){1,7}(?![\w])"
)
_DATE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")
_MIN_PHONE_DIGITS_INTL = 8
_MIN_PHONE_DIGITS_LOCAL = 9
_MAX_PHONE_DIGITS = 15
_MAX_PASSES = 8


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _luhn_ok(number: str) -> bool:
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban(m: re.Match[str]) -> str:
    return IBAN_TOKEN if _digits(m.group()) >= 8 else m.group()


def _card(m: re.Match[str]) -> str:
    return CARD_TOKEN if _luhn_ok(m.group()) else m.group()


def _phone(m: re.Match[str]) -> str:
    s = m.group()
    n = _digits(s)
    international = s.startswith(("+", "00"))
    low = _MIN_PHONE_DIGITS_INTL if international else _MIN_PHONE_DIGITS_LOCAL
    if not low <= n <= _MAX_PHONE_DIGITS or (not international and _DATE_RE.match(s)):
        return s
    return PHONE_TOKEN


_STEPS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str] | str], ...] = (
    (_EMAIL_RE, EMAIL_TOKEN),
    (_IBAN_RE, _iban),
    (_IBAN_COMPACT_RE, _iban),
    (_CARD_RE, _card),
    (_PHONE_RE, _phone),
)


def redact(text: str) -> str:
    """``text`` with e-mail addresses, IBAN-like numbers, card-like numbers and phone numbers masked.

    Linear in ``len(text)``; the text is never cut. Non-``str`` input is a ``TypeError``.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact expects str, got {type(text).__name__}")
    out = text
    for _ in range(_MAX_PASSES):  # a token can free a neighbour (``0000 0000+0000 0000``): repeat to a fixed point
        before = out
        for rx, repl in _STEPS:
            out = rx.sub(repl, out)
        if out == before:
            break
    return out
