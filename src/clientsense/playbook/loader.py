"""Load and validate the playbook texts (``playbook.toml``) and the rule table (``rules.toml``)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..config import CLIENT_TYPES, SIGNALS, STEPS, TONES

PLAYBOOK_FILE = "playbook.toml"
RULES_FILE = "rules.toml"
_RULE_HEADER = r"^\[\[rule\]\]"
_RULE_KEYS = {"id", "step", "reason", "alternatives", "evidence", "tone", "client_type",
              "signals_any", "signals_all", "signals_none", "min_proba", "defer_to_model", "rule_wins_over"}  # fmt: skip


class PlaybookError(ValueError):
    """A playbook or rule file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Rule:
    """One row of the rule table. Conditions left empty always hold."""

    id: str
    step: str
    reason: str
    alternatives: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    tone: frozenset[str] = frozenset()
    client_type: frozenset[str] = frozenset()
    signals_any: frozenset[str] = frozenset()
    signals_all: frozenset[str] = frozenset()
    signals_none: frozenset[str] = frozenset()
    min_proba: tuple[tuple[str, float], ...] = ()
    defer_to_model: bool = False
    """When a step model is loaded it picks the step; ``step`` is then the fallback without one."""
    rule_wins_over: tuple[str, ...] = ()
    """Steps the step model may not pick for this rule: when its first choice is one of them,
    ``step`` stands and the model's choice becomes the first alternative."""

    def matches(self, tone: str, client_type: str, signals: set[str], proba: dict[str, float]) -> bool:
        return (
            (not self.tone or tone in self.tone)
            and (not self.client_type or client_type in self.client_type)
            and (not self.signals_any or bool(self.signals_any & signals))
            and self.signals_all <= signals
            and not (self.signals_none & signals)
            and all(proba.get(label, 0.0) >= p for label, p in self.min_proba)
        )

    def cited(self) -> frozenset[str]:
        """The signals whose spans this rule cites as evidence."""
        return frozenset(self.evidence) or (self.signals_any | self.signals_all)


@dataclass(frozen=True)
class Playbook:
    """Step texts per language: ``steps[step_id][lang] = {title, when, advice, examples}``."""

    steps: dict[str, dict[str, dict[str, Any]]]
    aftercare: dict[str, dict[str, str]]
    labels: dict[str, dict[str, str]]
    signal_names: dict[str, dict[str, str]]
    languages: tuple[str, ...]
    source: str

    def text(self, step: str, lang: str, fallback: str = "en") -> tuple[str, dict[str, Any]]:
        """The language actually used and the step's texts in it."""
        entry = self.steps[step]
        use = lang if lang in entry and lang in self.languages else fallback
        return use, entry[use]


def _read_toml(path: Path | None, default: str) -> tuple[dict[str, Any], str, str]:
    if path is None:
        res = resources.files("clientsense.playbook") / default
        raw, where = res.read_text(encoding="utf-8"), f"<packaged {default}>"
    else:
        path = Path(path)
        if not path.is_file():
            raise PlaybookError(f"{path}: no such file")
        raw, where = path.read_text(encoding="utf-8"), str(path)
    try:
        return tomllib.loads(raw), raw, where
    except tomllib.TOMLDecodeError as e:
        raise PlaybookError(f"{where}: invalid TOML: {e}") from e


def _line_of(raw: str, pattern: str, nth: int = 0) -> int:
    hits = [m.start() for m in re.finditer(pattern, raw, flags=re.MULTILINE)]
    return raw.count("\n", 0, hits[nth]) + 1 if len(hits) > nth else 0


def load_playbook(path: Path | None = None) -> Playbook:
    """Load the packaged playbook, or a business's own file at ``path``."""
    doc, raw, where = _read_toml(path, PLAYBOOK_FILE)
    langs = tuple(doc.get("meta", {}).get("languages", ()))
    if not langs:
        raise PlaybookError(f"{where}: [meta] languages is missing")
    steps = doc.get("steps", {})
    missing = [s for s in STEPS if s not in steps]
    if missing:
        raise PlaybookError(f"{where}: steps missing: {', '.join(missing)}")
    for step_id, entry in steps.items():
        line = _line_of(raw, rf"^\[steps\.{re.escape(step_id)}\]")
        if step_id not in STEPS:
            raise PlaybookError(f"{where}:{line}: unknown step id {step_id!r} (known: {', '.join(STEPS)})")
        for lang in langs:
            texts = entry.get(lang)
            if not isinstance(texts, dict):
                raise PlaybookError(f"{where}:{line}: step {step_id!r} has no [{lang}] texts")
            for key in ("title", "advice"):
                if not isinstance(texts.get(key), str) or not texts[key].strip():
                    raise PlaybookError(f"{where}:{line}: step {step_id!r} [{lang}] needs a non-empty {key!r}")
    return Playbook(
        steps=steps,
        aftercare=doc.get("aftercare", {}),
        labels=doc.get("labels", {}),
        signal_names=doc.get("signals", {}),
        languages=langs,
        source=where,
    )


def _names(value: Any, allowed: tuple[str, ...], what: str, where: str) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise PlaybookError(f"{where}: {what} must be a list drawn from {', '.join(allowed)}; got {value!r}")
    return frozenset(value)


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    """Load the packaged rule table, or a business's own file at ``path``; validate every rule."""
    doc, raw, where = _read_toml(path, RULES_FILE)
    rules = doc.get("rule")
    if not isinstance(rules, list) or not rules:
        raise PlaybookError(f"{where}: no [[rule]] tables")
    out = []
    for i, r in enumerate(rules):
        at = f"{where}:{_line_of(raw, _RULE_HEADER, i)}"
        unknown = set(r) - _RULE_KEYS
        if unknown:
            raise PlaybookError(f"{at}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}")
        for key in ("id", "step", "reason"):
            if not isinstance(r.get(key), str) or not r[key]:
                raise PlaybookError(f"{at}: rule needs a {key!r} string")
        if r["step"] not in STEPS:
            raise PlaybookError(f"{at}: unknown step {r['step']!r} (known: {', '.join(STEPS)})")
        proba = r.get("min_proba", {})
        if not isinstance(proba, dict) or any(
            k not in TONES + CLIENT_TYPES or not isinstance(v, int | float) or not 0 <= v <= 1 for k, v in proba.items()
        ):
            raise PlaybookError(f"{at}: min_proba must map tone/client-type labels to numbers in [0, 1]")
        if not isinstance(r.get("defer_to_model", False), bool):
            raise PlaybookError(f"{at}: defer_to_model must be true or false")
        wins_over = _names(r.get("rule_wins_over", []), STEPS, "rule_wins_over", at)
        if wins_over and not r.get("defer_to_model", False):
            raise PlaybookError(f"{at}: rule_wins_over needs defer_to_model = true")
        if r["step"] in wins_over:
            raise PlaybookError(f"{at}: rule_wins_over cannot name the rule's own step {r['step']!r}")
        out.append(
            Rule(
                id=r["id"],
                step=r["step"],
                reason=r["reason"],
                alternatives=tuple(
                    sorted(_names(r.get("alternatives", []), STEPS, "alternatives", at), key=STEPS.index)
                ),
                evidence=tuple(sorted(_names(r.get("evidence", []), SIGNALS, "evidence", at))),
                tone=_names(r.get("tone", []), TONES, "tone", at),
                client_type=_names(r.get("client_type", []), CLIENT_TYPES, "client_type", at),
                signals_any=_names(r.get("signals_any", []), SIGNALS, "signals_any", at),
                signals_all=_names(r.get("signals_all", []), SIGNALS, "signals_all", at),
                signals_none=_names(r.get("signals_none", []), SIGNALS, "signals_none", at),
                min_proba=tuple(sorted((k, float(v)) for k, v in proba.items())),
                defer_to_model=r.get("defer_to_model", False),
                rule_wins_over=tuple(sorted(wins_over, key=STEPS.index)),
            )
        )
    if any(
        r.tone or r.client_type or r.signals_any or r.signals_all or r.signals_none or r.min_proba for r in out[-1:]
    ):
        raise PlaybookError(f"{where}: the last rule must have no conditions (the default step)")
    return tuple(out)
