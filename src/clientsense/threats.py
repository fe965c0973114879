"""Stage 5 (classify), a rule beside the tone model: threats of physical harm.

The label guide counts threats of harm as abuse, but they rarely use insult or swear words
("I know where you live", "пусть ходит и оглядывается"), so the tone model, which learned abuse
mostly from such words, reads many of them as frustrated. A short, precise pattern list per
language (``harm_threats.toml``) finds them; a message with a hit gets the tone probabilities
:func:`apply_threats` gives it before the client-type and step models read them, and the
threatening words become evidence of the recommendation.

Patterns are matched on the same folded view as the signal patterns
(:func:`clientsense.signals.text_view`) and checked for unbounded repeats when loaded.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .config import HARM_THREAT_ABUSIVE_P, MAX_RAW_CHARS
from .results import Span
from .signals import _check_bounded, text_view

__all__ = ["HarmThreats", "apply_threats", "find_harm_threats"]

THREATS_FILE = Path(__file__).with_name("harm_threats.toml")
MAX_THREAT_SPANS = 3
"""At most this many threatening spans are reported per message (the earliest)."""


class HarmThreats:
    """Find threats of physical harm in a text of a given language.

    ``patterns`` maps a language code to regular expressions (default: the shipped
    ``harm_threats.toml``). A language without patterns never has a hit.
    """

    def __init__(self, patterns: Mapping[str, Sequence[str]] | None = None, path: Path | None = None) -> None:
        if patterns is None:
            source = Path(path) if path is not None else THREATS_FILE
            data = tomllib.loads(source.read_text(encoding="utf-8"))
            patterns = {lang: list(v) for lang, v in data.items()}
        self._compiled: dict[str, re.Pattern[str]] = {}
        for lang, items in patterns.items():
            if not isinstance(items, list | tuple) or not all(isinstance(p, str) for p in items):
                raise ValueError(f"harm threat patterns for {lang!r} must be a list of strings")
            for p in items:
                try:
                    _check_bounded(p)
                except (ValueError, re.error) as exc:
                    raise ValueError(f"harm threat pattern for {lang!r} rejected: {exc}: {p!r}") from exc
            if items:
                self._compiled[lang] = re.compile("|".join(f"(?:{p})" for p in items))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._compiled))

    def find(self, text: str, lang: str, view: str | None = None) -> tuple[Span, ...]:
        """The threatening spans of ``text`` (original characters), earliest first. ``view``, if
        given, must be :func:`clientsense.signals.text_view` of ``text`` (the signal stage's)."""
        rx = self._compiled.get(lang)
        if rx is None or not text:
            return ()
        text = text[:MAX_RAW_CHARS]
        if view is None:
            view = text_view(text)
        spans = []
        for m in rx.finditer(view):
            if m.end() > m.start() and not _quoted(view, m.start(), m.end()):
                spans.append(Span(m.start(), m.end(), text[m.start() : m.end()]))
                if len(spans) == MAX_THREAT_SPANS:
                    break
        return tuple(spans)


_PAIRED_QUOTES = (("«", "»"), ("“", "”"), ("„", "”"))


def _quoted(view: str, start: int, end: int) -> bool:
    """Whether ``view[start:end]`` sits inside quotation marks on its line (a client reporting what
    someone else said: "your courier told me 'I know where you live'" is not the client's threat)."""
    line_start = view.rfind("\n", 0, start) + 1
    line_end = view.find("\n", end)
    before, after = view[line_start:start], view[end : line_end if line_end >= 0 else len(view)]
    if before.count('"') % 2 == 1 and '"' in after:
        return True
    return any(
        before.rfind(opening) > before.rfind(closing) and closing in after for opening, closing in _PAIRED_QUOTES
    )


@functools.cache
def _shipped() -> HarmThreats:
    return HarmThreats()


def find_harm_threats(text: str, lang: str) -> tuple[Span, ...]:
    """:meth:`HarmThreats.find` with the shipped patterns (loaded on first use)."""
    return _shipped().find(text, lang)


def apply_threats(proba: np.ndarray, classes: Sequence[str], threatened: Sequence[bool]) -> np.ndarray:
    """Tone probabilities with the rows of threatening messages set to the rule's posterior.

    On those rows ``abusive`` becomes ``HARM_THREAT_ABUSIVE_P`` (unless the model already gave
    more) and the other tones share the rest in the model's proportions. Other rows are unchanged.
    Returns a new array when a row changes, else ``proba`` itself.
    """
    rows = np.flatnonzero(np.asarray(threatened, dtype=bool))
    if not len(rows) or "abusive" not in classes:
        return proba
    out = np.array(proba, dtype=np.float64, copy=True)
    a = list(classes).index("abusive")
    for i in rows:
        if out[i, a] >= HARM_THREAT_ABUSIVE_P:
            continue
        rest = 1.0 - out[i, a]
        scale = (1.0 - HARM_THREAT_ABUSIVE_P) / rest if rest > 0 else 0.0
        out[i] *= scale
        out[i, a] = HARM_THREAT_ABUSIVE_P
    return out.astype(proba.dtype, copy=False)
