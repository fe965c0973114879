"""The authored, labelled client-message corpus in ``data/corpus/<lang>/*.jsonl``.

Splits are fixed by a hash of each message id (70 % train, 15 % dev, 15 % test) and never
reshuffled. Near-duplicates (TF-IDF cosine > 0.9 on character n-grams) are reported; the later
member of a pair that straddles two splits is dropped so that no test text has a twin in train.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from ..config import CLIENT_TYPES, SIGNALS, STEPS, TONES
from .corpora import hash_split

FIELDS = [
    "id",
    "lang",
    "text",
    "tone",
    "client_type",
    "step",
    "alt_steps",
    "signals",
    "industry",
    "channel",
    "hard_case",
]


class CorpusError(ValueError):
    """A corpus file has a malformed or mislabelled row."""


def split_of(message_id: str) -> str:
    return hash_split(message_id, test_pct=15, dev_pct=15)


def _check(row: dict[str, object], where: str) -> None:
    missing = [f for f in FIELDS if f not in row]
    if missing:
        raise CorpusError(f"{where}: missing fields {missing}")
    text = row["text"]
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: empty text")
    for field, allowed in (("tone", TONES), ("client_type", CLIENT_TYPES), ("step", STEPS)):
        if row[field] not in allowed:
            raise CorpusError(f"{where}: {field}={row[field]!r} is not one of {allowed}")
    alt = row["alt_steps"]
    if not isinstance(alt, list) or any(s not in STEPS for s in alt):
        raise CorpusError(f"{where}: bad alt_steps {alt!r}")
    signals = row["signals"]
    if not isinstance(signals, list):
        raise CorpusError(f"{where}: signals must be a list")
    for s in signals:
        if not isinstance(s, dict) or s.get("id") not in SIGNALS or str(s.get("span", "")) not in text:
            raise CorpusError(f"{where}: bad signal {s!r}")


def read_corpus(root: Path) -> pd.DataFrame:
    """Every row of every ``*.jsonl`` below ``root``, validated, with its ``split``."""
    rows = []
    for path in sorted(root.glob("*/*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CorpusError(f"{where}: invalid JSON ({e})") from e
                _check(row, where)
                row["split"] = split_of(row["id"])
                row["file"] = path.name
                rows.append(row)
    df = pd.DataFrame(rows, columns=[*FIELDS, "split", "file"])
    dup = df["id"].duplicated()
    if dup.any():
        raise CorpusError(f"duplicate ids: {df.loc[dup, 'id'].tolist()[:5]}")
    return df


@dataclass(frozen=True)
class DuplicateReport:
    pairs: list[tuple[str, str, float]]
    dropped: list[str]


def near_duplicates(df: pd.DataFrame, threshold: float = 0.9) -> DuplicateReport:
    """Pairs of messages with char-n-gram TF-IDF cosine above ``threshold``, within each language."""
    pairs: list[tuple[str, str, float]] = []
    dropped: set[str] = set()
    for _, part in df.groupby("lang"):
        if len(part) < 2:
            continue
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True)
        m = vec.fit_transform(part["text"])
        sims = (m @ m.T).tocoo()
        ids = part["id"].tolist()
        splits = part["split"].tolist()
        for i, j, v in zip(sims.row, sims.col, sims.data, strict=True):
            if i < j and v > threshold:
                pairs.append((ids[i], ids[j], float(v)))
                if splits[i] != splits[j]:
                    dropped.add(ids[j])
    return DuplicateReport(pairs=pairs, dropped=sorted(dropped))


def load_corpus(root: Path, dedupe: bool = True) -> pd.DataFrame:
    """The corpus ready for training/evaluation (cross-split near-duplicates removed)."""
    df = read_corpus(root)
    if dedupe and len(df):
        report = near_duplicates(df)
        df = df[~df["id"].isin(report.dropped)].reset_index(drop=True)
    return df


def counts_table(df: pd.DataFrame) -> pd.DataFrame:
    """Counts per language × label, for the data card."""
    parts = [pd.crosstab(df["lang"], df[col]) for col in ("split", "tone", "client_type")]
    out = pd.concat(parts, axis=1)
    out["total"] = df.groupby("lang").size()
    out["hard_cases"] = df[df["hard_case"].notna()].groupby("lang").size()
    return out.fillna(0).astype(np.int64)
