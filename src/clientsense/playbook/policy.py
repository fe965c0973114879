"""The policy: apply the ordered rule table to one message's predictions and signals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..results import Signal, Span, Step
from .loader import Playbook, Rule

TENSE_TONES = frozenset({"abusive"})


class Policy:
    """Pick the primary step, acceptable alternatives, the reason in words and the evidence."""

    def __init__(self, playbook: Playbook, rules: Sequence[Rule], fallback_language: str = "en") -> None:
        self.playbook = playbook
        self.rules = tuple(rules)
        self.fallback_language = fallback_language

    def choose(self, tone: str, client_type: str, signals: set[str], proba: dict[str, float]) -> Rule:
        for rule in self.rules:
            if rule.matches(tone, client_type, signals, proba):
                return rule
        return self.rules[-1]

    def recommend(
        self,
        tone: str,
        client_type: str,
        proba: dict[str, float],
        signals: Sequence[Signal],
        lang: str,
        advice_language: str | None = None,
    ) -> Step:
        """The localised :class:`Step` for one message."""
        present = {s.id for s in signals}
        rule = self.choose(tone, client_type, present, proba)
        cited = rule.cited()
        evidence = [s for s in signals if s.id in cited]
        reason = self._reason(rule, tone, client_type, proba, evidence)
        used, texts = self.playbook.text(rule.step, advice_language or lang, self.fallback_language)
        examples = texts.get("examples") or [""]
        aftercare = None
        if tone in TENSE_TONES or (client_type == "problem_client" and tone == "frustrated"):
            care = self.playbook.aftercare.get(used) or self.playbook.aftercare.get(self.fallback_language)
            aftercare = care.get("advice") if care else None
        return Step(
            id=rule.step,
            title=texts["title"],
            advice=texts["advice"],
            reason=reason,
            lang=used,
            alternatives=tuple(a for a in rule.alternatives if a != rule.step),
            evidence=tuple(_dedupe(s.span for s in evidence)),
            example=examples[0],
            aftercare=aftercare,
        )

    @staticmethod
    def _reason(rule: Rule, tone: str, client_type: str, proba: dict[str, float], evidence: Sequence[Signal]) -> str:
        facts = f"tone {tone} ({proba.get(tone, 0.0):.0%}), {client_type.replace('_', ' ')} ({proba.get(client_type, 0.0):.0%})"
        cites = ", ".join(f"{s.id} '{s.span.text}'" for s in evidence[:4])
        return (
            f"{rule.reason}: {cites} → {rule.step} [{facts}; rule '{rule.id}']"
            if cites
            else (f"{rule.reason} → {rule.step} [{facts}; rule '{rule.id}']")
        )


def _dedupe(spans: Iterable[Span]) -> list[Span]:
    seen: set[tuple[int, int]] = set()
    out = []
    for s in spans:
        if (s.start, s.end) not in seen:
            seen.add((s.start, s.end))
            out.append(s)
    return out
