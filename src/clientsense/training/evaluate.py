"""Evaluation: per language × class metrics, confusion matrices, calibration (ECE), baselines."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support
from sklearn.pipeline import make_pipeline


def expected_calibration_error(
    proba: np.ndarray, y_true: Sequence[str], classes: Sequence[str], bins: int = 10
) -> float:
    """ECE of the top-class confidence over ``bins`` equal-width bins."""
    if len(y_true) == 0:
        return float("nan")
    conf = proba.max(axis=1)
    pred = np.asarray(classes)[proba.argmax(axis=1)]
    correct = pred == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (conf > lo) & (conf <= hi)
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def classification_report(
    y_true: Iterable[str], y_pred: Iterable[str], labels: Sequence[str], proba: np.ndarray | None = None
) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class P/R/F1/support, confusion matrix and ECE."""
    y_true = list(y_true)
    y_pred = list(y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    out: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if y_true else float("nan"),
        "macro_f1": float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0)),
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": {"labels": list(labels), "matrix": confusion_matrix(y_true, y_pred, labels=list(labels)).tolist()},
    }
    if proba is not None:
        out["ece"] = expected_calibration_error(proba, y_true, labels)
    return out


def by_language(
    df: pd.DataFrame, truth: str, pred: str, labels: Sequence[str], proba_cols: Sequence[str] | None = None
) -> dict[str, Any]:
    """``classification_report`` overall and for each language of ``df``."""
    out = {}
    for lang, part in [("all", df), *sorted(df.groupby("lang"))]:
        proba = part[list(proba_cols)].to_numpy() if proba_cols else None
        out[str(lang)] = classification_report(part[truth], part[pred], labels, proba)
    return out


def baseline_predictions(train: pd.DataFrame, test: pd.DataFrame, label: str) -> np.ndarray:
    """A plain TF-IDF (word 1-2 grams) + logistic regression baseline on the same data."""
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=4.0),
    )
    model.fit(train["text"], train[label])
    return np.asarray(model.predict(test["text"]))


def abusive_false_alarm_rate(df: pd.DataFrame, truth: str = "tone", pred: str = "tone_pred") -> float:
    """Share of civil complaints (gold ``frustrated``) predicted ``abusive``."""
    civil = df[df[truth] == "frustrated"]
    return float((civil[pred] == "abusive").mean()) if len(civil) else float("nan")
