"""The policy: apply the ordered rule table to one message's predictions and signals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..config import STEP_EVIDENCE, STEP_MODEL_ALTERNATIVE_MIN_P
from ..results import Signal, Span, Step
from .loader import Playbook, Rule

TENSE_TONES = frozenset({"abusive"})
THREAT_OF_HARM = "threat of harm"
"""How a threatening span (not one of the label guide's signals) is named in a reason."""
PAUSE = "pause_conversation"


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
        step_proba: dict[str, float] | None = None,
        threats: Sequence[Span] = (),
    ) -> Step:
        """The localised :class:`Step` for one message.

        ``step_proba`` is the step model's distribution; a rule with ``defer_to_model`` lets it
        pick the step (and its runner-ups the alternatives). Without it the rule's own step stands.
        ``threats`` are spans threatening physical harm (:mod:`clientsense.threats`): on an abusive
        message they are cited first in the reason and the evidence.
        """
        present = {s.id for s in signals}
        rule = self.choose(tone, client_type, present, proba)
        model_first = ""  # the step model's first choice, when the rule defers to it
        if rule.defer_to_model and step_proba:
            # end_relationship is a judgement on a history (analyze_thread), never on one message.
            ranked = sorted(((k, v) for k, v in step_proba.items() if k != "end_relationship"), key=lambda kv: -kv[1])
            # pause_conversation answers abusive language (the label guide's map): the step model may
            # list it as an alternative, but not make it the step of a message whose tone is not abusive.
            if tone != "abusive" and ranked[0][0] == PAUSE and len(ranked) > 1:
                ranked = [ranked[1], ranked[0], *ranked[2:]]
            model_note = "; ".join(f"{s} {p:.0%}" for i, (s, p) in enumerate(ranked[:3]) if i == 0 or p >= 0.05)
            model_first = ranked[0][0]
            if model_first in rule.rule_wins_over:
                # the model's first choice is a step this rule is more specific than (e.g. the
                # default listen_and_restate while the business is at fault): the rule's step
                # stands, the model's choice is the first alternative
                step_id, cited = rule.step, rule.cited()
                alternatives = (model_first, *rule.alternatives)
            else:
                step_id = model_first
                cited = frozenset(STEP_EVIDENCE.get(step_id, ()))
                alternatives = tuple(s for s, p in ranked[1:3] if p >= STEP_MODEL_ALTERNATIVE_MIN_P)
        else:
            step_id, cited, alternatives, model_note = rule.step, rule.cited(), rule.alternatives, ""
        evidence = [s for s in signals if s.id in cited]
        if tone == "abusive" and threats:
            evidence = [Signal(THREAT_OF_HARM, span, source="rule") for span in threats] + evidence
        reason = self._reason(rule, step_id, tone, client_type, proba, evidence, model_note, model_first)
        used, texts = self.playbook.text(step_id, advice_language or lang, self.fallback_language)
        examples = texts.get("examples") or [""]
        aftercare = None
        if tone in TENSE_TONES or (client_type == "problem_client" and tone == "frustrated"):
            care = self.playbook.aftercare.get(used) or self.playbook.aftercare.get(self.fallback_language)
            aftercare = care.get("advice") if care else None
        return Step(
            id=step_id,
            title=texts["title"],
            advice=texts["advice"],
            reason=reason,
            lang=used,
            alternatives=tuple(dict.fromkeys(a for a in alternatives if a != step_id)),
            evidence=tuple(_dedupe(s.span for s in evidence)),
            example=examples[0],
            aftercare=aftercare,
        )

    @staticmethod
    def _reason(
        rule: Rule,
        step_id: str,
        tone: str,
        client_type: str,
        proba: dict[str, float],
        evidence: Sequence[Signal],
        model_note: str = "",
        model_first: str = "",
    ) -> str:
        facts = f"tone {tone} ({proba.get(tone, 0.0):.0%}), {client_type.replace('_', ' ')} ({proba.get(client_type, 0.0):.0%})"
        source = f"rule '{rule.id}'" + (f"; step model: {model_note}" if model_note else "")
        cites = ", ".join(f"{s.id} '{s.span.text}'" for s in evidence[:4])
        head = rule.reason
        if step_id != rule.step:  # a deferring rule whose step the step model overruled
            head += f" (the rule's step is {rule.step}; the step model prefers {step_id})"
        elif model_first and model_first != step_id:  # the rule overruled the model (rule_wins_over)
            head += f" (the step model's first choice, {model_first}, is less specific)"
        if cites:
            head += f": {cites}"
        return f"{head} → {step_id} [{facts}; {source}]"


def _dedupe(spans: Iterable[Span]) -> list[Span]:
    seen: set[tuple[int, int]] = set()
    out = []
    for s in spans:
        if (s.start, s.end) not in seen:
            seen.add((s.start, s.end))
            out.append(s)
    return out
