"""Hostile sizes and shapes: 10 MB bodies, base64 blobs, nested MIME — bounded time and memory.

The rule (README, "Limits"): only the first ``4 × Config.max_chars`` characters (20,000) of a
message are read at all; after cleaning, the first ``Config.max_chars`` (5,000) are analysed,
cut at a word boundary; ``Analysis.truncated`` is then True and a warning gives both lengths.
"""

from __future__ import annotations

import base64
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from clientsense.clean import clean_text
from clientsense.config import DEFAULT_CONFIG, MAX_RAW_CHARS
from clientsense.frame import score_frame
from clientsense.language import detect_language
from clientsense.readers import read_messages
from clientsense.redact import redact
from clientsense.signals import extract_signals

MB = 1_000_000
SECONDS = 3.0
PEAK_MB = 100.0


def _nested_mime(depth: int) -> str:
    parts = [f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(depth)]
    closing = [f"\n--b{i}--\n" for i in reversed(range(depth))]
    return "".join(parts) + "Content-Type: text/plain\n\nWhere is my refund?" + "".join(closing)


BODIES: dict[str, Callable[[], str]] = {
    "10 MB of one letter": lambda: "a" * (10 * MB),
    "10 MB of words": lambda: "refund my money now " * (MB // 2),
    "10 MB of newlines and spaces": lambda: "\n \t" * (10 * MB // 3),
    "10 MB of controls": lambda: "\x00\x1b\u200b" * (10 * MB // 3),
    "10 MB of surrogates": lambda: "\ud83d" * (10 * MB),
    "10 MB of combining marks": lambda: "e" + "\u0301" * (10 * MB),
    "base64 bomb": lambda: base64.b64encode(b"\x00" * (7 * MB)).decode(),
    "nested MIME, 20,000 levels": lambda: _nested_mime(20_000),
    "e-mail-like run": lambda: "a@" * (5 * MB),
    "url-like run": lambda: "http://" * MB,
    "digits": lambda: "4111 " * (2 * MB),
}


def _signals(text: str) -> object:
    found = extract_signals(text, "pl")
    assert found and all(s.span.end <= MAX_RAW_CHARS for s in found)
    return found


def _measure(fn: Callable[[str], object], text: str) -> tuple[object, float, float]:
    fn(text)  # warm-up: lazy loading (tokenizers) is not part of the bound
    tracemalloc.start()
    t = time.perf_counter()
    try:
        out = fn(text)
        took = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    return out, took, peak


@pytest.mark.parametrize("name", list(BODIES))
def test_huge_message_is_analysed_quickly(analyzer, name: str) -> None:  # type: ignore[no-untyped-def]
    text = BODIES[name]()
    a, took, peak = _measure(analyzer.analyze, text)
    assert took < SECONDS, f"{name}: {took:.2f} s"
    assert peak < PEAK_MB, f"{name}: peak {peak:.0f} MB"
    assert len(a.text) <= DEFAULT_CONFIG.max_chars  # type: ignore[attr-defined]
    if len(text) > 4 * DEFAULT_CONFIG.max_chars:
        assert a.truncated and any(f"of {len(text)} characters" in w for w in a.warnings)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "fn", [clean_text, detect_language, redact, _signals], ids=["clean", "language", "redact", "signals"]
)
def test_stages_on_10mb(fn: Callable[[str], object]) -> None:
    text = "Zamówienie nie dotarło, proszę o zwrot. " * (10 * MB // 40)
    _, took, _ = _measure(fn, text)
    assert took < (30.0 if fn is redact else SECONDS)  # redact masks the whole text: linear, not capped


def test_cap_rule() -> None:
    words = "word " * 10_000
    c = clean_text(words)
    assert c.truncated and len(c.text) <= DEFAULT_CONFIG.max_chars and c.text.endswith("word")
    assert len(c.text) >= 0.9 * DEFAULT_CONFIG.max_chars
    assert not clean_text("word " * 100).truncated


def test_huge_cell_in_a_file(analyzer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "big.csv"
    pd.DataFrame({"text": ["short one", "x" * (5 * MB), "Où est ma commande ?"]}).to_csv(p, index=False)
    df = read_messages(p)
    t = time.perf_counter()
    out = score_frame(df.drop(columns=["_read_error"]), analyzer=analyzer)
    assert time.perf_counter() - t < 2 * SECONDS
    assert len(out) == 3 and out["error"].isna().all()
    assert "cut to" in out["warnings"].iloc[1]
