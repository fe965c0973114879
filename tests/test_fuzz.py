"""Property-based fuzzing of every entry point: no exception escapes, outputs are well formed,
every call takes bounded time.

Examples per entry point: ``CLIENTSENSE_FUZZ_EXAMPLES`` (default 200, derandomized so that
``make test`` is reproducible). ``make fuzz`` runs 100,000 per entry point with random seeds.
Inputs longer than hypothesis generates (10 MB bodies, base64 blobs, nested MIME) are in
``test_limits.py``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clientsense import language
from clientsense.clean import clean_text, fold
from clientsense.config import CLIENT_TYPES, DEFAULT_CONFIG, SIGNALS, STEPS, TONES
from clientsense.frame import RESULT_COLUMNS, score_frame
from clientsense.readers import read_messages
from clientsense.readers.tables import ReaderError
from clientsense.redact import redact
from clientsense.signals import MAX_SPANS_PER_SIGNAL, SignalExtractor

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("CLIENTSENSE_FUZZ_EXAMPLES", "200"))
CALL_SECONDS = float(os.environ.get("CLIENTSENSE_FUZZ_CALL_SECONDS", "3.0"))
"""Bound on one call (after one-time lazy loading, e.g. a spaCy tokenizer for a new language)."""

settings.register_profile(
    "clientsense-fuzz",
    max_examples=EXAMPLES,
    deadline=None,  # timing is asserted by ``timed`` (which tolerates one-time loading)
    derandomize=EXAMPLES <= 1000,
    database=None,
    # shrinking a slow entry point can take many minutes: only the long runs (make fuzz) shrink
    phases=list(Phase) if EXAMPLES > 1000 else [Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile("clientsense-fuzz")
LANGS = (*language.SUPPORTED_LANGUAGES, "und")

T = TypeVar("T")


def timed(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``; a slow first call is repeated, and the repeat must be within ``CALL_SECONDS``."""
    t = time.perf_counter()
    out = fn(*args)
    if time.perf_counter() - t > CALL_SECONDS:
        t = time.perf_counter()
        out = fn(*args)
        took = time.perf_counter() - t
        assert took <= CALL_SECONDS, f"{getattr(fn, '__name__', fn)} took {took:.2f} s"
    return out


def _samples() -> list[str]:
    texts = pd.read_csv(ROOT / "data/samples/messages.csv", dtype=str)["text"].dropna().tolist()
    return [t for t in texts if t]


SPECIAL = [
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\r",
    "\t",
    "\x0b\x0c",
    "\u0085",
    "\u2028",
    "\ufeff",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u00ad",
    "\ufffd",
    "\ud800",
    "\udfff",
    "e\u0301",
    "\u0958",
    "İ",
    "ß",
    "ǅ",
    "ﬁ",
    "Ⅻ",
    "𝐀𝐁",
    "٣٤",
    "👩\u200d💻",
    "🇷🇴",
    "http://example.com/a?b=c",
    "www.",
    "a@b.cc",
    "x@" * 40,
    "<email>",
    "<url>",
    "\n\n\n\n",
    "+40 722 123 456",
    "RO49 AAAA 1B31 0075 9384 0000",
    "=?utf-8?b?0J/RgNC40LLQtdGC?=",
    "Content-Type: multipart/mixed; boundary=x\n--x\n",
    "QUJDREVGR0g=" * 20,
]
ANY_CHAR = st.characters(exclude_categories=())  # every code point, surrogates and controls included
PIECE = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=80),
    st.sampled_from(_samples()),
    st.sampled_from(SPECIAL),
    st.builds(lambda c, n: c * n, ANY_CHAR, st.integers(1, 400)),
)
TEXT = st.lists(PIECE, max_size=10).map("".join)


# --- clean ---------------------------------------------------------------------------------
@FUZZ
@given(TEXT)
def test_clean_text(text: str) -> None:
    c = timed(clean_text, text)
    assert c.original_length == len(text)
    assert len(c.text) <= DEFAULT_CONFIG.max_chars
    assert not any(ch != "\n" and ch.isspace() and ch != " " for ch in c.text)
    assert all(not ("\ud800" <= ch <= "\udfff") for ch in c.text)
    assert c.text == c.text.strip()
    assert clean_text(c.text).text == c.text  # idempotent
    assert len(fold(c.text)) == len(c.text)
    c.text.encode("utf-8")  # always encodable


@FUZZ
@given(TEXT)
def test_fold_keeps_length(text: str) -> None:
    assert len(timed(fold, text)) == len(text)


@FUZZ
@given(TEXT)
def test_redact(text: str) -> None:
    out = timed(redact, text)
    assert isinstance(out, str) and redact(out) == out


# --- language ------------------------------------------------------------------------------
def _check_language(r: Any) -> None:
    assert r.lang in LANGS
    assert 0.0 <= r.confidence <= 1.0 and not math.isnan(r.confidence)
    probs = [p for _, p in r.candidates]
    assert sum(probs) <= 1.0 + 1e-3 and all(0.0 <= p <= 1.0 for p in probs)
    assert probs == sorted(probs, reverse=True)
    if r.lang != "und":
        assert r.candidates[0] == (r.lang, r.confidence)
    assert r.secondary is None or (r.secondary in LANGS and r.secondary != r.lang)


def _same_language(a: Any, b: Any) -> None:
    """Equal up to float32 summation order (scores are summed per batch: the 4th decimal may differ)."""
    pa, pb = [p for _, p in a.candidates], [p for _, p in b.candidates]  # near-ties may swap names
    assert len(pa) == len(pb) and all(abs(x - y) <= 2e-3 for x, y in zip(pa, pb, strict=True))
    assert abs(a.confidence - b.confidence) <= 2e-3
    if len(a.candidates) < 2 or a.candidates[0][1] - a.candidates[1][1] > 4e-3:
        assert a.lang == b.lang


@FUZZ
@given(st.lists(TEXT, max_size=8), st.sampled_from([None, ["en", "ru"], ["ro"], ["pl", "fr", "en"]]))
def test_detect_language(texts: list[str], restrict: list[str] | None) -> None:
    batch = timed(language.detect_languages, texts, restrict)
    assert len(batch) == len(texts)
    for text, r in zip(texts, batch, strict=True):
        _check_language(r)
        _same_language(r, language.detect_language(text, restrict))  # a batch gives what single calls give
        if restrict is not None and r.lang != "und":
            assert r.lang in restrict


# --- signals -------------------------------------------------------------------------------
_EXTRACTOR = SignalExtractor()


@FUZZ
@given(TEXT, st.one_of(st.sampled_from(LANGS), st.text(max_size=6)))
def test_signals(text: str, lang: str) -> None:
    found = timed(_EXTRACTOR.extract, text, lang)
    per_id: dict[str, int] = {}
    for s in found:
        assert s.id in SIGNALS
        assert 0 <= s.span.start < s.span.end <= len(text)
        assert text[s.span.start : s.span.end] == s.span.text
        per_id[s.id] = per_id.get(s.id, 0) + 1
    assert all(n <= MAX_SPANS_PER_SIGNAL for n in per_id.values())
    assert [(s.span.start, s.span.end) for s in found] == sorted((s.span.start, s.span.end) for s in found)


# --- analyze -------------------------------------------------------------------------------
def _check_analysis(a: Any) -> None:
    assert a.language in LANGS and 0.0 <= a.language_confidence <= 1.0
    assert set(a.tone_proba) == set(TONES) and set(a.client_type_proba) == set(CLIENT_TYPES)
    for proba, label in ((a.tone_proba, a.tone), (a.client_type_proba, a.client_type)):
        assert abs(sum(proba.values()) - 1.0) < 1e-4
        assert all(0.0 <= p <= 1.0 for p in proba.values())
        assert proba[label] == max(proba.values())
    assert a.step.id in STEPS and set(a.step.alternatives) <= set(STEPS) and a.step.advice
    assert len(a.text) <= DEFAULT_CONFIG.max_chars
    for span in [s.span for s in a.signals] + list(a.step.evidence):
        assert 0 <= span.start < span.end <= len(a.text) and a.text[span.start : span.end] == span.text
    assert a.truncated == any("cut to" in w for w in a.warnings)
    json.dumps(a.to_dict())
    json.dumps(a.to_dict(redact=True))


def _same(a: Any, b: Any) -> bool:
    da, db = a.to_dict(), b.to_dict()
    if abs(da.pop("language_confidence") - db.pop("language_confidence")) > 2e-3:  # see _same_language
        return False
    for key in ("tone_proba", "client_type_proba"):
        pa, pb = da.pop(key), db.pop(key)
        if any(abs(pa[k] - pb[k]) > 1e-5 for k in pa):
            return False
    return bool(da == db)


@FUZZ
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_analyze_and_analyze_many(analyzer, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    single = [timed(analyzer.analyze, t) for t in texts]
    for a in single:
        _check_analysis(a)
    many = timed(lambda: list(analyzer.analyze_many(texts, batch_size=4)))
    assert len(many) == len(texts)
    assert all(_same(x, y) for x, y in zip(single, many, strict=True))


# --- score_frame ---------------------------------------------------------------------------
CELL = st.one_of(
    TEXT,
    st.none(),
    st.just(float("nan")),
    st.just(pd.NA),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=120),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)


@FUZZ
@given(st.lists(CELL, max_size=12), st.sampled_from(["range", "strings", "shuffled"]))
def test_score_frame(analyzer, cells: list[Any], index_kind: str) -> None:  # type: ignore[no-untyped-def]
    n = len(cells)
    index: list[Any] = {
        "range": list(range(n)),
        "strings": [f"r{i}" for i in range(n)],
        "shuffled": list(np.random.default_rng(n).permutation(n) * 7),
    }[index_kind]
    df = pd.DataFrame({"text": pd.Series(cells, dtype=object, index=index), "k": range(n)}, index=index)
    out = timed(score_frame, df, "text", analyzer)
    assert len(out) == n and out.index.tolist() == index and out["k"].tolist() == list(range(n))
    assert set(RESULT_COLUMNS) <= set(out.columns)
    for cell, (_, row) in zip(cells, out.iterrows(), strict=True):
        is_text = isinstance(cell, str | bytes)
        assert pd.isna(row["error"]) == is_text
        assert pd.isna(row["tone"]) != is_text


# --- readers -------------------------------------------------------------------------------
def _read_bytes(data: bytes, name: str) -> pd.DataFrame | None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        try:
            return timed(read_messages, p)
        except ReaderError:
            return None


RAW = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from([b"text", b",", b";", b"\t", b'"', b"\n", b"\r\n", b"{", b"}", b"\x00", b"\xff"]))
    .map(b"".join)
    .map(lambda b: b"text\n" + b),
    st.lists(st.text(ANY_CHAR, max_size=30), max_size=8).map(
        lambda xs: ("text,id\n" + "\n".join(xs)).encode("utf-8", errors="surrogatepass")
    ),
)


@FUZZ
@given(RAW, st.sampled_from(["a.csv", "a.tsv", "a.jsonl", "a.ndjson", "export", "a.parquet"]))
def test_read_messages_random_bytes(data: bytes, name: str) -> None:
    df = _read_bytes(data, name)
    if df is not None:
        assert "text" in df.columns and "_read_error" in df.columns


FIELD = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60)


@FUZZ
@given(st.lists(st.tuples(FIELD, FIELD), min_size=1, max_size=10), st.sampled_from([",", ";", "\t"]))
def test_csv_round_trip(rows: list[tuple[str, str]], sep: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, quoting=csv.QUOTE_ALL)
    w.writerow(["id", "text"])
    w.writerows(rows)
    df = _read_bytes(buf.getvalue().encode("utf-8"), "a.tsv" if sep == "\t" else "a.csv")
    assert df is not None
    expected = [(a or None, b or None) for a, b in rows]
    assert list(zip(df["id"], df["text"], strict=True)) == expected
    assert df["_read_error"].isna().all()


@FUZZ
@given(st.lists(st.one_of(FIELD, st.none(), st.integers()), min_size=1, max_size=10))
def test_jsonl_round_trip(texts: list[Any]) -> None:
    body = "\n".join(json.dumps({"text": t, "n": i}, ensure_ascii=bool(i % 2)) for i, t in enumerate(texts))
    df = _read_bytes(body.encode("utf-8"), "a.jsonl")
    assert df is not None
    assert df["n"].tolist() == list(range(len(texts)))
    got = [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in df["text"]]
    assert got == texts


@pytest.mark.parametrize("bad", [None, 1, b"x", ["a"]])
def test_non_str_is_a_type_error(analyzer, bad: Any) -> None:  # type: ignore[no-untyped-def]
    for fn in (clean_text, language.detect_language, analyzer.analyze, redact):
        with pytest.raises(TypeError):
            fn(bad)
