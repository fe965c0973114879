"""Retrain the tone and client-type models on a user's own labelled file (``clientsense train --data FILE``).

The file (CSV, JSONL or Parquet) has one message per row with columns ``text``, ``tone`` and
``client_type`` (labels of the label guide), optionally ``lang`` (else detected) and ``step``. When
every row has a step, at least two steps occur and each has ``MIN_PER_CLASS`` rows, a step model is learned too
(``step.npz``; the rule table's ``defer_to_model`` rules then use it); otherwise steps come from the
rule table alone. Only that file is used — no public corpora — so training takes seconds. The output
directory holds ``tone.npz``, ``client_type.npz`` (+ ``step.npz``) — arrays, no pickles —,
``training.json`` and a SHA-256 ``MANIFEST.json``: load it with ``Analyzer(models=DIR, trusted=True)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..artifacts import models_dir, write_manifest
from ..classify import StackedClassifier, TextClassifier
from ..clean import clean_text
from ..config import CLIENT_TYPES, STEPS, TONES, UNDETERMINED
from ..config import TRAINING_META_FILE as META_FILE
from ..features import TextFeaturizer, side_columns, signal_columns, step_columns
from .train import _versions, client_type_inputs, compact, step_inputs, tone_inputs, write_models

REQUIRED = ("text", "tone", "client_type")
MIN_PER_CLASS = 2


class LabelledDataError(ValueError):
    """A user's labelled file cannot be trained on; the message says which rows and why."""


@dataclass(frozen=True)
class UserTrainConfig:
    """Knobs of a retraining run on a user's file."""

    solver: str = "sgd"
    """``"sgd"`` (seconds; default) or ``"logistic"`` (L-BFGS; slower on the wide hashed features)."""
    alpha: float = 1e-4
    """L2 penalty of the SGD solver."""
    tone_C: float = 4.0
    client_type_C: float = 8.0
    step_C: float = 4.0
    tone_stack_C: float = 0.3
    stack_C: float = 1.0
    cv: int = 5
    """Folds of the stacked models' out-of-fold scores (lowered to the rarest class' count)."""
    seed: int = 0


def _problems(df: pd.DataFrame) -> list[str]:
    """One message per bad row ("row N" counts data rows from 1, or JSONL lines)."""
    out = []
    for n, r in enumerate(df.to_dict("records"), 1):
        if isinstance(r.get("_line"), int):
            n = r["_line"]
        if r.get("_read_error"):
            out.append(f"row {n}: {r['_read_error']}")
            continue
        text = r["text"]
        if not isinstance(text, str) or not text.strip():
            out.append(f"row {n}: empty text")
        for col, allowed in (("tone", TONES), ("client_type", CLIENT_TYPES)):
            if r[col] not in allowed:
                out.append(f"row {n}: {col}={r[col]!r} is not one of {', '.join(allowed)}")
        step = r.get("step")
        if isinstance(step, str) and step and step not in STEPS:
            out.append(f"row {n}: step={step!r} is not a playbook step")
    return out


def prepare_labelled(df: pd.DataFrame, where: str = "labelled data") -> pd.DataFrame:
    """Validate labelled rows; return ``text`` (cleaned as at analysis time), ``lang``, ``tone``, ``client_type``
    (+ ``step``). Raises :class:`LabelledDataError` naming the bad rows (never drops a row silently)."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise LabelledDataError(f"{where}: missing columns {missing}; labelled data needs {list(REQUIRED)}")
    df = df.copy()
    for col in ("tone", "client_type", "step", "lang"):
        if col in df.columns:
            df[col] = df[col].map(lambda v: v.strip().lower() if isinstance(v, str) else v)
    problems = _problems(df)
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise LabelledDataError(f"{where}: {len(problems)} bad row(s): " + "; ".join(problems[:10]) + more)
    texts = [clean_text(t).text for t in df["text"]]
    langs = _languages(texts, df["lang"].tolist() if "lang" in df.columns else [None] * len(df))
    out = pd.DataFrame(
        {"text": texts, "lang": langs, "tone": df["tone"].to_list(), "client_type": df["client_type"].to_list()}
    )
    if "step" in df.columns:
        out["step"] = df["step"].to_list()
    return out


def read_labelled(path: str | Path) -> pd.DataFrame:
    """Read a labelled CSV/JSONL/Parquet file and validate it with :func:`prepare_labelled`."""
    from ..readers import read_messages

    return prepare_labelled(read_messages(path), str(path))


def _languages(texts: list[str], given: list[Any]) -> list[str]:
    """The given language where there is one, else the detected one (as at analysis time)."""
    from ..language import LanguageDetector

    todo = [i for i, g in enumerate(given) if not (isinstance(g, str) and g)]
    detected = LanguageDetector().detect_many([texts[i] for i in todo]) if todo else []
    langs = [str(g) if isinstance(g, str) and g else UNDETERMINED for g in given]
    for i, result in zip(todo, detected, strict=True):
        langs[i] = result.lang
    return langs


def _check_counts(df: pd.DataFrame) -> int:
    """The smallest class count over both labels; every class needs ``MIN_PER_CLASS`` examples."""
    short = []
    smallest = len(df)
    for col, allowed in (("tone", TONES), ("client_type", CLIENT_TYPES)):
        counts = df[col].value_counts()
        for label in allowed:
            n = int(counts.get(label, 0))
            smallest = min(smallest, n)
            if n < MIN_PER_CLASS:
                short.append(f"{col}={label} has {n}")
    if short:
        raise LabelledDataError(
            f"every label needs at least {MIN_PER_CLASS} examples (the models predict all of them): " + ", ".join(short)
        )
    return smallest


def _stacked(
    cfg: UserTrainConfig, text_C: float, columns: tuple[str, ...], stack_C: float, folds: int
) -> StackedClassifier:
    """An unfitted stacked model: a text classifier with ``cfg``'s solver, plus ``columns``."""
    text = TextClassifier(
        featurizer=TextFeaturizer(), solver=cfg.solver, C=text_C, alpha=cfg.alpha, random_state=cfg.seed
    )
    return StackedClassifier(text, columns, C=stack_C, cv=folds, random_state=cfg.seed)


def _fit_step(
    df: pd.DataFrame, tone: StackedClassifier, client_type: StackedClassifier, cfg: UserTrainConfig
) -> StackedClassifier | None:
    """A step model when every row has a step, ≥ 2 steps occur and each has ``MIN_PER_CLASS`` rows; else ``None``."""
    if "step" not in df.columns or not df["step"].map(lambda v: isinstance(v, str) and v in STEPS).all():
        return None
    counts = df["step"].value_counts()
    if (counts >= MIN_PER_CLASS).sum() < 2 or counts.min() < MIN_PER_CLASS:
        return None
    model = _stacked(cfg, cfg.step_C, step_columns(), cfg.stack_C, min(cfg.cv, int(counts.min())))
    return compact(model.fit(step_inputs(df, tone, client_type), df["step"]))


def train_on_labelled(
    data: str | Path | pd.DataFrame, out_dir: str | Path, cfg: UserTrainConfig | None = None
) -> dict[str, Any]:
    """Train tone and client-type models on ``data`` only and write a loadable model directory; return the metadata."""
    cfg = cfg or UserTrainConfig()
    out = Path(out_dir)
    if out.exists() and out.resolve() == models_dir().resolve():
        raise LabelledDataError(f"{out} is the shipped model directory: write your model elsewhere")
    if isinstance(data, pd.DataFrame):
        source, digest = "DataFrame", hashlib.sha256(data.to_csv(index=False).encode()).hexdigest()
        df = prepare_labelled(data)
    else:
        source, digest = Path(data).name, hashlib.sha256(Path(data).read_bytes()).hexdigest()
        df = read_labelled(data)
    folds = min(cfg.cv, _check_counts(df))
    tone = _stacked(cfg, cfg.tone_C, signal_columns(), cfg.tone_stack_C, folds).fit(tone_inputs(df), df["tone"])
    client_type = _stacked(cfg, cfg.client_type_C, side_columns(), cfg.stack_C, folds).fit(
        client_type_inputs(df, tone), df["client_type"]
    )
    step = _fit_step(df, tone, client_type, cfg)
    write_models(out, tone, client_type, step, None)  # (a stale step model of an earlier run is removed)
    meta: dict[str, Any] = {
        "version": f"user+{digest[:8]}",
        "kind": "user-labelled",
        "source": source,
        "source_sha256": digest,
        "rows": len(df),
        "folds": folds,
        "config": asdict(cfg),
        "label_counts": {c: df[c].value_counts().sort_index().to_dict() for c in ("tone", "client_type")},
        "languages": df["lang"].value_counts().sort_index().to_dict(),
        "calibration": "none (per-language temperatures need a held-out split)",
        "library_versions": _versions(),
    }
    if "step" in df.columns:
        meta["step_counts"] = df["step"].dropna().value_counts().sort_index().to_dict()
    meta["step_model"] = step is not None
    (out / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_manifest(out, {"version": meta["version"]})
    return meta
