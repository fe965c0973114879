"""Typed, immutable result objects returned by clientsense."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LanguageResult:
    """The detected language of a text.

    ``lang`` is an ISO 639-1 code, or ``"und"`` when the text has no linguistic content.
    ``candidates`` lists ``(lang, probability)`` pairs, best first.
    """

    lang: str
    confidence: float
    candidates: tuple[tuple[str, float], ...] = ()
    secondary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "confidence": self.confidence,
            "candidates": [list(c) for c in self.candidates],
            "secondary": self.secondary,
        }


@dataclass(frozen=True, slots=True)
class Span:
    """A character span of the analysed (cleaned) text."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Signal:
    """One signal of the label guide (section 5) with the text that shows it."""

    id: str
    span: Span
    source: str = "rule"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "span": self.span.to_dict(), "source": self.source}


@dataclass(frozen=True, slots=True)
class Step:
    """A recommended playbook step, localised, with the reason it was chosen."""

    id: str
    title: str
    advice: str
    reason: str
    lang: str
    alternatives: tuple[str, ...] = ()
    evidence: tuple[Span, ...] = ()
    example: str = ""
    aftercare: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "advice": self.advice,
            "reason": self.reason,
            "lang": self.lang,
            "alternatives": list(self.alternatives),
            "evidence": [s.to_dict() for s in self.evidence],
            "example": self.example,
            "aftercare": self.aftercare,
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything clientsense says about one message."""

    text: str
    language: str
    language_confidence: float
    client_type: str
    client_type_proba: dict[str, float]
    tone: str
    tone_proba: dict[str, float]
    step: Step
    signals: tuple[Signal, ...] = ()
    language_result: LanguageResult | None = None
    truncated: bool = False
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self, redact: bool = False) -> dict[str, Any]:
        """A plain JSON-able dict. ``redact=True`` masks e-mails, phones, IBAN- and card-like numbers
        in the text, the span texts and the reason; span offsets still refer to :attr:`text`."""
        if redact:
            return _redacted(self.to_dict())
        return {
            "text": self.text,
            "language": self.language,
            "language_confidence": self.language_confidence,
            "client_type": self.client_type,
            "client_type_proba": dict(self.client_type_proba),
            "tone": self.tone,
            "tone_proba": dict(self.tone_proba),
            "step": self.step.to_dict(),
            "signals": [s.to_dict() for s in self.signals],
            "truncated": self.truncated,
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        from .display import analysis_text

        return analysis_text(self)

    def _repr_html_(self) -> str:
        from .display import analysis_html

        return analysis_html(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text("Analysis(...)" if cycle else str(self))


def _redacted(d: dict[str, Any]) -> dict[str, Any]:
    from .redact import redact

    def spans(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**sp, "text": redact(sp["text"])} for sp in items]

    step = d["step"]
    return {
        **d,
        "text": redact(d["text"]),
        "step": {**step, "reason": redact(step["reason"]), "evidence": spans(step["evidence"])},
        "signals": [{**sig, "span": spans([sig["span"]])[0]} for sig in d["signals"]],
        "redacted": True,
    }
