"""Run the evaluation of a model directory and write ``metrics.json`` and ``MODEL_CARD.md``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import CLIENT_TYPES, METRICS_FILE, MODEL_CARD_FILE, TONES, TRAINING_META_FILE
from .corpus import load_corpus
from .evaluate import abusive_false_alarm_rate, baseline_predictions, by_language, classification_report

PUBLIC_TEST_CAP = 1500


def _predict(analyzer: Any, df: pd.DataFrame) -> pd.DataFrame:
    results = list(analyzer.analyze_many(df["text"].tolist()))
    out = df.copy()
    out["lang_pred"] = [r.language for r in results]
    out["tone_pred"] = [r.tone for r in results]
    out["client_type_pred"] = [r.client_type for r in results]
    out["step_pred"] = [r.step.id for r in results]
    policy = analyzer.policy  # the same messages through the hand rules alone (no step model)
    out["step_rules_pred"] = [
        policy.recommend(r.tone, r.client_type, {**r.tone_proba, **r.client_type_proba}, r.signals, r.language).id
        for r in results
    ]
    out["signals_pred"] = [sorted({s.id for s in r.signals}) for r in results]
    out["signals_rules_pred"] = [sorted({s.id for s in r.signals if s.source == "rule"}) for r in results]
    for c in TONES:
        out[f"p_{c}"] = [r.tone_proba[c] for r in results]
    for c in CLIENT_TYPES:
        out[f"p_{c}"] = [r.client_type_proba[c] for r in results]
    return out


def signal_scores(df: pd.DataFrame, pred: str = "signals_pred") -> dict[str, dict[str, float]]:
    """Message-level signal precision / recall / micro-F1, overall and per language.

    A predicted signal id is a true positive when the same id is in the row's gold ``signals``.
    """
    counts: dict[str, list[int]] = {}
    for lang, gold_items, predicted in zip(df["lang"], df["signals"], df[pred], strict=True):
        gold = {str(s["id"]) for s in gold_items}
        got = set(predicted)
        for key in ("all", str(lang)):
            c = counts.setdefault(key, [0, 0, 0])
            c[0] += len(got & gold)
            c[1] += len(got - gold)
            c[2] += len(gold - got)
    out = {}
    for key in ["all", *sorted(k for k in counts if k != "all")]:
        tp, fp, fn = counts[key]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[key] = {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    return out


def step_accuracy(df: pd.DataFrame, pred: str = "step_pred") -> dict[str, dict[str, float]]:
    """Primary-step accuracy and primary-or-acceptable accuracy, overall and per language."""
    ok_primary = df[pred] == df["step"]
    ok_any = ok_primary | np.asarray([p in alts for p, alts in zip(df[pred], df["alt_steps"], strict=True)])
    out = {"all": {"primary": float(ok_primary.mean()), "primary_or_acceptable": float(ok_any.mean()), "n": len(df)}}
    for lang, idx in df.groupby("lang").groups.items():
        out[str(lang)] = {
            "primary": float(ok_primary[idx].mean()),
            "primary_or_acceptable": float(ok_any[idx].mean()),
            "n": len(idx),
        }
    return out


def _errors(df: pd.DataFrame, n: int = 3) -> list[dict[str, str]]:
    wrong = df[(df["tone_pred"] != df["tone"]) | (df["client_type_pred"] != df["client_type"])]
    rows = []
    for _, part in wrong.groupby("lang"):
        for _, r in part.head(n).iterrows():
            rows.append({
                "id": r["id"], "text": r["text"][:160],
                "tone": f"{r['tone']} → {r['tone_pred']}",
                "client_type": f"{r['client_type']} → {r['client_type_pred']}",
            })  # fmt: skip
    return rows


def evaluate_corpus(
    analyzer: Any, corpus: pd.DataFrame, split: str = "test", baseline_corpus: pd.DataFrame | None = None
) -> dict[str, Any]:
    """In-domain evaluation of the full pipeline on one split of the authored corpus.

    The TF-IDF baseline is fitted on the ``train`` rows of ``baseline_corpus`` (default: ``corpus``)
    minus every evaluated row (same id or same text), so it never scores a message it was fitted
    on; with no such rows (``split="all"`` on one folder) the report has no baseline.
    """
    test = corpus if split == "all" else corpus[corpus["split"] == split]
    source = corpus if baseline_corpus is None else baseline_corpus
    train = baseline_rows(source, test)
    pred = _predict(analyzer, test)
    tone_cols = [f"p_{c}" for c in analyzer.tone_model.classes_]
    type_cols = [f"p_{c}" for c in analyzer.client_type_model.classes_]
    metrics: dict[str, Any] = {
        "split": split,
        "n": len(test),
        "tone": by_language(pred, "tone", "tone_pred", TONES, tone_cols),
        "client_type": by_language(pred, "client_type", "client_type_pred", CLIENT_TYPES, type_cols),
        "step": step_accuracy(pred),
        "step_rules_only": step_accuracy(pred, "step_rules_pred"),
        "signals": signal_scores(pred),
        "signals_rules_only": signal_scores(pred, "signals_rules_pred"),
        "language_accuracy": {
            str(k): float((g["lang_pred"] == g["lang"]).mean()) for k, g in [("all", pred), *pred.groupby("lang")]
        },
        "civil_flagged_abusive": {
            str(k): abusive_false_alarm_rate(g) for k, g in [("all", pred), *pred.groupby("lang")]
        },
        "errors": _errors(pred),
    }
    if len(train) and len(test):
        base = test.copy()
        base["tone_pred"] = baseline_predictions(train, test, "tone")
        base["client_type_pred"] = baseline_predictions(train, test, "client_type")
        base["step_pred"] = baseline_predictions(train, test, "step")
        metrics["baseline"] = {
            "description": f"TF-IDF word 1-2 grams + logistic regression, trained on {len(train)} rows of the "
            "authored train split, none of them evaluated",
            "n_train": len(train),
            "tone": by_language(base, "tone", "tone_pred", TONES),
            "client_type": by_language(base, "client_type", "client_type_pred", CLIENT_TYPES),
            "step": step_accuracy(base),
        }
    return metrics


def baseline_rows(source: pd.DataFrame, evaluated: pd.DataFrame) -> pd.DataFrame:
    """The ``train`` rows of ``source`` that are not among the ``evaluated`` rows (by id or text)."""
    train = source[source["split"] == "train"]
    seen = train["id"].isin(set(evaluated["id"])) | train["text"].isin(set(evaluated["text"]))
    return train[~seen]


def evaluate_public(tone_model: Any, public: pd.DataFrame) -> dict[str, Any]:
    """Tone on each public corpus' test split (capped at ``PUBLIC_TEST_CAP`` rows per corpus)."""
    test = public[public["split"] == "test"]
    test = pd.concat(
        [g.sample(n=min(len(g), PUBLIC_TEST_CAP), random_state=0) for _, g in test.groupby("source", sort=True)],
        ignore_index=True,
    )
    from .train import tone_inputs

    test["tone_pred"] = tone_model.predict(tone_inputs(test))
    out: dict[str, Any] = {}
    for source, g in test.groupby("source", sort=True):
        labels = [t for t in TONES if t in set(g["tone"])]
        rep = classification_report(g["tone"], g["tone_pred"], labels)
        out[str(source)] = {"lang": g["lang"].iloc[0], "labels": labels, **rep}
    return out


def evaluate_models(
    models: Path | None,
    corpus_root: Path,
    split: str = "test",
    trusted: bool = False,
    baseline_root: Path | None = None,
) -> dict[str, Any]:
    """``clientsense evaluate``: the in-domain metrics of a model directory (the baseline is
    fitted on ``baseline_root``'s train split when given, else on ``corpus_root``'s)."""
    from ..analyzer import Analyzer

    analyzer = Analyzer(models, trusted=trusted)
    baseline = load_corpus(baseline_root) if baseline_root is not None else None
    return evaluate_corpus(analyzer, load_corpus(corpus_root), split, baseline)


def write_evaluation(
    out_dir: Path, corpus: pd.DataFrame, public: pd.DataFrame, dev_metrics: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Evaluate the freshly trained models in ``out_dir``; write metrics.json and the model card.

    ``dev_metrics``: the dev split measured on other models (those fitted before a refit that
    added dev to the training data); by default dev is measured on the models in ``out_dir``.
    """
    from ..analyzer import Analyzer

    analyzer = Analyzer(out_dir, trusted=True)
    metrics = {
        "in_domain_test": evaluate_corpus(analyzer, corpus, "test"),
        "in_domain_dev": dev_metrics if dev_metrics is not None else evaluate_corpus(analyzer, corpus, "dev"),
        "public_test": evaluate_public(analyzer.tone_model, public),
    }
    (out_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    meta = json.loads((out_dir / TRAINING_META_FILE).read_text(encoding="utf-8"))
    from .model_card import render_model_card

    (out_dir / MODEL_CARD_FILE).write_text(render_model_card(meta, metrics), encoding="utf-8")
    return metrics


def _f(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.2f}"


def metrics_markdown(m: dict[str, Any]) -> str:
    """Per-language tables of one ``evaluate_corpus`` result."""
    langs = [k for k in m["tone"] if k != "all"] + ["all"]
    lines = [
        f"In-domain evaluation on the authored corpus, split `{m['split']}` ({m['n']} messages)",
        "",
        "| lang | n | tone macro-F1 | abusive P | abusive R | civil→abusive | client-type macro-F1 | problem-client F1 "
        "| tone ECE | step primary | step primary-or-acceptable | signal micro-F1 | language acc. |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lg in langs:
        t, c, s = m["tone"][lg], m["client_type"][lg], m["step"].get(lg, {})
        sg = m.get("signals", {}).get(lg, {})
        ab = t["per_class"]["abusive"]
        lines.append(
            f"| {lg} | {t['n']} | {_f(t['macro_f1'])} | {_f(ab['precision'])} | {_f(ab['recall'])} "
            f"| {_f(m['civil_flagged_abusive'][lg])} | {_f(c['macro_f1'])} | {_f(c['per_class']['problem_client']['f1'])} "
            f"| {_f(t.get('ece', float('nan')))} | {_f(s.get('primary', float('nan')))} "
            f"| {_f(s.get('primary_or_acceptable', float('nan')))} | {_f(sg.get('f1', float('nan')))} "
            f"| {_f(m['language_accuracy'][lg])} |"
        )
    if "baseline" in m:
        b = m["baseline"]
        lines += [
            "",
            f"Baseline ({b['description']}):",
            "",
            "| lang | tone macro-F1 | client-type macro-F1 |",
            "|---|---|---|",
        ]
        for lg in langs:
            lines.append(f"| {lg} | {_f(b['tone'][lg]['macro_f1'])} | {_f(b['client_type'][lg]['macro_f1'])} |")
    else:
        lines += [
            "",
            "No baseline: every train row is among the evaluated rows (`--baseline-data` names another corpus).",
        ]
    if "step_rules_only" in m:
        nan = {"primary": float("nan"), "primary_or_acceptable": float("nan")}
        lines += [
            "",
            "Playbook step, primary / primary-or-acceptable: shipped policy (safety rules + step model), "
            "the hand rules alone, and the TF-IDF baseline trained on the step labels:",
            "",
            "| lang | shipped | hand rules only | baseline |",
            "|---|---|---|---|",
        ]
        for lg in langs:
            cells = [
                m["step"].get(lg, nan),
                m["step_rules_only"].get(lg, nan),
                m.get("baseline", {}).get("step", {}).get(lg, nan),
            ]
            lines.append(
                f"| {lg} | "
                + " | ".join(f"{_f(c['primary'])} / {_f(c['primary_or_acceptable'])}" for c in cells)
                + " |"
            )
    if "signals" in m:
        nan3 = {"precision": float("nan"), "recall": float("nan"), "f1": float("nan")}
        lines += [
            "",
            "Signals, message-level precision / recall / micro-F1: shipped (patterns + learned detector) "
            "and the patterns alone:",
            "",
            "| lang | shipped P / R / F1 | patterns only P / R / F1 |",
            "|---|---|---|",
        ]
        for lg in langs:
            cells = [m["signals"].get(lg, nan3), m.get("signals_rules_only", {}).get(lg, nan3)]
            lines.append(
                f"| {lg} | "
                + " | ".join(f"{_f(c['precision'])} / {_f(c['recall'])} / {_f(c['f1'])}" for c in cells)
                + " |"
            )
    return "\n".join(lines)


def public_markdown(p: dict[str, Any]) -> str:
    lines = ["| corpus | lang | labels | n | macro-F1 | accuracy |", "|---|---|---|---|---|---|"]
    for source, r in p.items():
        lines.append(
            f"| {source} | {r['lang']} | {'/'.join(r['labels'])} | {r['n']} | {_f(r['macro_f1'])} | {_f(r['accuracy'])} |"
        )
    return "\n".join(lines)


__all__ = [
    "baseline_rows",
    "evaluate_corpus",
    "evaluate_models",
    "evaluate_public",
    "load_corpus",
    "metrics_markdown",
    "signal_scores",
    "write_evaluation",
]
