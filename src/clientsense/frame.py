"""Scoring tables: one output row per input row, always, with an ``error`` column."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .config import CLIENT_TYPES, LANGUAGES, STEPS, TONES, UNDETERMINED
from .results import Analysis

RESULT_COLUMNS: tuple[str, ...] = (
    "language",
    "language_confidence",
    "tone",
    "p_abusive",
    "p_frustrated",
    "p_neutral",
    "client_type",
    "p_problem_client",
    "step",
    "step_reason",
    "alternatives",
    "signals",
    "evidence",
    "warnings",
    "error",
)


def coerce_text(value: Any) -> tuple[str | None, str | None]:
    """A cell as text, or ``(None, reason)`` when it cannot be analysed."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace"), None
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None, "missing text"
    return None, f"not text: {type(value).__name__}"


def analysis_row(a: Analysis, redact: bool = False) -> dict[str, Any]:
    """The flat table row of one :class:`Analysis` (``redact``: mask personal data in free text)."""
    row: dict[str, Any] = {
        "language": a.language,
        "language_confidence": a.language_confidence,
        "tone": a.tone,
        "p_abusive": a.tone_proba.get("abusive", np.nan),
        "p_frustrated": a.tone_proba.get("frustrated", np.nan),
        "p_neutral": a.tone_proba.get("neutral", np.nan),
        "client_type": a.client_type,
        "p_problem_client": a.client_type_proba.get("problem_client", np.nan),
        "step": a.step.id,
        "step_reason": a.step.reason,
        "alternatives": ",".join(a.step.alternatives),
        "signals": ",".join(sorted({s.id for s in a.signals})),
        "evidence": " | ".join(s.text for s in a.step.evidence),
        "warnings": "; ".join(a.warnings),
        "error": None,
    }
    if redact:
        from .redact import redact as _redact

        row["step_reason"] = _redact(row["step_reason"])
        row["evidence"] = _redact(row["evidence"])
    return row


def results_frame(rows: Iterable[dict[str, Any]], index: pd.Index, prefix: str = "") -> pd.DataFrame:
    """Typed result columns: categoricals for labels, floats for probabilities."""
    out = pd.DataFrame(list(rows), columns=list(RESULT_COLUMNS), index=index)
    cats = {
        "language": [*LANGUAGES, UNDETERMINED],
        "tone": list(TONES),
        "client_type": list(CLIENT_TYPES),
        "step": list(STEPS),
    }
    for col, known in cats.items():
        extra = sorted(set(out[col].dropna()) - set(known))
        out[col] = pd.Categorical(out[col], categories=[*known, *extra])
    for col in ("language_confidence", "p_abusive", "p_frustrated", "p_neutral", "p_problem_client"):
        out[col] = out[col].astype("float64")
    for col in ("step_reason", "alternatives", "signals", "evidence", "warnings", "error"):
        out[col] = out[col].astype("string")
    return out.add_prefix(prefix) if prefix else out


def score_frame(
    df: pd.DataFrame,
    text_col: str = "text",
    analyzer: Any = None,
    prefix: str = "",
    batch_size: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    redact: bool = False,
) -> pd.DataFrame:
    """Return ``df`` with the result columns added (index and row order preserved).

    Missing or non-text cells get an ``error`` and empty results; no row is ever dropped.
    ``redact=True`` masks e-mails, phones, IBAN- and card-like numbers in the text column and in
    ``evidence`` / ``step_reason`` of the output (the analysis itself sees the original text).
    """
    from . import default_analyzer

    if text_col not in df.columns:
        raise KeyError(f"no column {text_col!r}; columns are {list(df.columns)}")
    clash = [prefix + c for c in RESULT_COLUMNS if prefix + c in df.columns]
    if clash:
        raise ValueError(f"columns {clash} already exist; pass prefix='cs_' (or another) to score_frame")
    analyzer = analyzer or default_analyzer()
    cells = [coerce_text(v) for v in df[text_col].tolist()]
    valid = [t for t, err in cells if err is None]
    results = analyzer.analyze_many(valid, batch_size=batch_size, n_jobs=n_jobs)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(valid), unit="msg", desc="clientsense")
    rows: list[dict[str, Any]] = []
    for _text, err in cells:
        if err is None:
            rows.append(analysis_row(next(results), redact))
        else:
            rows.append({c: None for c in RESULT_COLUMNS} | {"error": err})
    if redact:
        from .redact import redact as _redact

        df = df.copy()
        df[text_col] = [_redact(t) if t is not None else v for (t, _e), v in zip(cells, df[text_col], strict=True)]
    return pd.concat([df, results_frame(rows, df.index, prefix)], axis=1)
