"""Training of the learned signal detector (:class:`clientsense.signal_model.SignalModel`).

Clauses of the authored train split are labelled from the gold spans: a clause is positive for a
signal when it overlaps one of that signal's spans, negative when its message does not have the
signal at all (the other clauses of a message with the signal are left out: annotators mark one
span, not every clause that shows it). One class-balanced L2 logistic regression per signal is
fitted on hashed n-grams; weights below ``prune`` are dropped to keep the artifact small.

Thresholds are chosen per signal on the dev split only, for the message-level F1 of the union
*patterns ∪ detector*; a signal whose union never beats the patterns alone on dev gets no
threshold (the detector stays silent for it). The patterns were written while reading train and
dev, so they find more on dev than on unseen text and this choice errs towards high thresholds:
``threshold_scale`` then lowers every chosen threshold by one factor. Its default, 0.8, was picked
with writers the patterns had never read: leaving one writer generation out (the seventh, the
eighth) and scoring the ninth batch with the shipped model, message-level signal F1 rose by
0.011–0.019 on each of the three (0.7 was as good on average, with lower precision).

``veto`` (stored in the model, applied by :meth:`SignalModel.refine`) drops a pattern hit whose
clauses the detector scores below it. It cannot be chosen on dev either (the patterns fit dev:
there 0.05 cost 0.006 of F1 with a train-only detector); it was chosen on the fourteenth writers'
train and dev rows, which neither the patterns nor the detector had seen: signal F1 0.765 → 0.784
at 0.05 (0.771 at 0.01, 0.777 at 0.03, 0.783 at 0.08 and 0.1), every language up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from ..clean import clean_text
from ..config import SIGNALS
from ..signal_model import UNFITTED_INTERCEPT, SignalModel, clauses
from ..signals import extract_signals

__all__ = ["choose_thresholds", "fit_signal_model", "message_scores"]

MIN_POSITIVES = 5
GRID = tuple(round(0.05 + 0.025 * i, 3) for i in range(37))  # 0.05 … 0.95

Gold = dict[str, list[tuple[int, int]]]


def gold_ranges(text: str, signals: Sequence[dict[str, Any]]) -> Gold:
    """Gold signal ids of a row with the character ranges of their spans in ``text``."""
    out: Gold = {}
    for item in signals:
        span = str(item.get("span") or "")
        ranges = out.setdefault(str(item.get("id")), [])
        pos = text.find(span) if span else -1
        if pos >= 0:
            ranges.append((pos, pos + len(span)))
    return out


def cleaned_rows(df: pd.DataFrame) -> list[tuple[str, str, Gold]]:
    """``(cleaned text, lang, gold ranges)`` of each corpus row (spans are found in the cleaned text)."""
    out = []
    for text, lang, signals in zip(df["text"], df["lang"], df["signals"], strict=True):
        cleaned = clean_text(text).text
        out.append((cleaned, lang, gold_ranges(cleaned, signals)))
    return out


def clause_matrix(
    model: SignalModel, rows: Sequence[tuple[str, str, Gold]]
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Features of every clause, its 0/1 label per signal (overlap with a gold span) and whether
    its message has that signal at all."""
    pieces, langs, labels, in_message = [], [], [], []
    for text, lang, gold in rows:
        for a, b in clauses(text):
            pieces.append(text[a:b])
            langs.append(lang)
            labels.append([any(a < d and c < b for c, d in gold.get(s, [])) for s in model.signals])
            in_message.append([s in gold for s in model.signals])
    k = len(model.signals)
    Y = np.asarray(labels, dtype=bool).reshape(len(pieces), k)
    M = np.asarray(in_message, dtype=bool).reshape(len(pieces), k)
    return model.features(pieces, langs).tocsr(), Y, M


def fit_signal_model(
    train: pd.DataFrame,
    dev: pd.DataFrame,
    *,
    C: float = 16.0,
    n_features: int = 1 << 18,
    prune: float = 0.05,
    seed: int = 0,
    threshold_scale: float = 0.8,
    veto: float = 0.0,
) -> SignalModel:
    """Fit the clause scorers on ``train`` and choose their thresholds on ``dev`` (each times
    ``threshold_scale``); ``veto`` is stored for :meth:`SignalModel.refine`."""
    if not 0.0 < threshold_scale <= 1.0:
        raise ValueError(f"threshold_scale must be in (0, 1], got {threshold_scale}")
    if not 0.0 <= veto < 1.0:
        raise ValueError(f"veto must be in [0, 1), got {veto}")
    model = SignalModel(n_features=n_features, signals=SIGNALS, veto=veto)
    X, Y, M = clause_matrix(model, cleaned_rows(train))
    coef = np.zeros((n_features, len(SIGNALS)), dtype=np.float32)
    intercept = np.full(len(SIGNALS), UNFITTED_INTERCEPT, dtype=np.float32)  # never fitted: silent
    for j in range(len(SIGNALS)):
        keep = Y[:, j] | ~M[:, j]
        y = Y[keep, j]
        if y.sum() < MIN_POSITIVES:
            continue
        clf = LogisticRegression(C=C, solver="liblinear", class_weight="balanced", random_state=seed, max_iter=1000)
        clf.fit(X[keep], y)
        w = clf.coef_.ravel().astype(np.float32)
        w[np.abs(w) < prune] = 0.0
        coef[:, j] = w
        intercept[j] = np.float32(clf.intercept_[0])
    model.coef = sp.csr_matrix(coef)
    model.intercept = intercept
    chosen = choose_thresholds(model, dev) if len(dev) else {}
    model.thresholds = {sig: round(t * threshold_scale, 6) for sig, t in chosen.items()}
    return model


def message_scores(model: SignalModel, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detector scores, pattern hits and gold, each (rows × signals), of the corpus rows ``df``."""
    rows = cleaned_rows(df)
    best = model.best_clauses([(t, lg) for t, lg, _ in rows])
    k = len(model.signals)
    S = np.vstack([b[0] for b in best]) if best else np.zeros((0, k), dtype=np.float32)
    found = [{s.id for s in extract_signals(t, lg)} for t, lg, _ in rows]
    P = np.asarray([[s in f for s in model.signals] for f in found], dtype=bool).reshape(len(rows), k)
    G = np.asarray([[s in gold for s in model.signals] for _, _, gold in rows], dtype=bool).reshape(len(rows), k)
    return S, P, G


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = int((pred & gold).sum())
    return 2 * tp / (int(pred.sum()) + int(gold.sum())) if tp else 0.0


def choose_thresholds(model: SignalModel, dev: pd.DataFrame) -> dict[str, float]:
    """Per signal, the lowest threshold with the best dev F1 of patterns ∪ detector, if that beats the patterns."""
    S, P, G = message_scores(model, dev)
    out: dict[str, float] = {}
    for j, sig in enumerate(model.signals):
        best_f, best_t = _f1(P[:, j], G[:, j]), None
        for t in GRID:
            f = _f1(P[:, j] | (S[:, j] >= t), G[:, j])
            if f > best_f + 1e-9:  # ascending grid: the lowest of equally good thresholds
                best_f, best_t = f, t
        if best_t is not None:
            out[sig] = float(best_t)
    return out
