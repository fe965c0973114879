"""The French tokenizer built from its spec file splits exactly as ``spacy.blank("fr")``."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH, NORM, ORTH

from clientsense import tokenizers
from clientsense.textfeatures import tokenize
from clientsense.tokenizers import SPEC_DIR, AlternativesMatch, TokenizerSpec, clear_tokenizers, tokenizer_for

ATTRS = [IDX, IS_PUNCT, IS_SPACE, LENGTH, ORTH, NORM]
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
TRICKY = [
    "L'entreprise a livré un rez-de-chaussée, c'est-à-dire un black-out aujourd'hui !",
    "BLACK-OUT total, ÉTATS-UNIS, arc-en-ciel, pomme-de-terre, saut-de-l’eau, entr'abat",
    "grand'mère, r'garde, mi-temps, anti‑virus, ex–client, Aujourd’hui, prud'homme, prud’hommes",
    "Jean-Pierre\u3000Marie-Claire tête-à-tête week-end e-mail peut-être",
    "",
    "   ",
    "sur-le-champ--x -de- l' d’ -- ''",
]


@pytest.fixture(scope="module")
def reference() -> object:
    return spacy.blank("fr").tokenizer


@pytest.fixture(scope="module")
def fast() -> object:
    clear_tokenizers()
    return tokenizer_for("fr")


def _split(tokenizer: object, text: str) -> list[list[int]]:
    return tokenizer(text).to_array(ATTRS).tolist()  # type: ignore[operator]


def test_french_uses_the_spec_and_not_the_language_module(fast: object) -> None:
    assert isinstance(fast.token_match, AlternativesMatch)  # type: ignore[attr-defined]


def test_same_split_as_spacy_on_the_corpus_and_tricky_text(fast: object, reference: object) -> None:
    texts = [
        json.loads(line)["text"]
        for path in sorted(CORPUS.glob("*/*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]
    assert len(texts) > 3000
    bad = [t for t in texts + TRICKY if _split(fast, t) != _split(reference, t)]
    assert bad == []


_PIECES = [*"abcdeéèëçœ-–‐'’`ABÉÇ0_\u3000\u0301", "de", "la", "en", "entr", "black", "out", "l'", "sous", "États"]
_WORDS = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_WORDS)
def test_token_match_agrees_with_the_compiled_pattern(fast: object, reference: object, word: str) -> None:
    assert fast.token_match(word) == (reference.token_match(word) is not None)  # type: ignore[attr-defined]


def test_alternatives_match_is_the_alternation() -> None:
    m = AlternativesMatch(
        "(?i)", ["^a[\x00L\x00]+$", "^b-[-\x00L\x00]?[\x00L\x00]$"], {"\x00L\x00": "xy"}, {"\x00L\x00": r"\S"}
    )
    full = re.compile(m.pattern).match
    assert m.pattern == "(?i)(?:^a[xy]+$)|(?:^b-[-xy]?[xy]$)"
    for s in ["axy", "AX", "az", "b-xyx", "b-xx", "b--x", "b-x", "b-yx", "b-xz", "", "a", "b-", "b-zx"]:
        assert m(s) == (full(s) is not None), s
    with pytest.raises(ValueError, match="inside a negated class"):
        AlternativesMatch("", ["^a[^\x00L\x00]$"], {"\x00L\x00": "xy"}, {"\x00L\x00": r"\S"})
    with pytest.raises(ValueError, match="outside a character class"):
        AlternativesMatch("", ["^a\x00L\x00$"], {"\x00L\x00": "xy"}, {"\x00L\x00": r"\S"})


def test_a_spec_for_another_spacy_or_a_changed_pattern_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: object
) -> None:
    spec = TokenizerSpec.from_bytes((SPEC_DIR / "fr.msgpack").read_bytes())
    old = dataclasses.replace(spec, spacy_version="0.0.1")
    with pytest.raises(ValueError, match=r"spaCy 0\.0\.1"):
        old.build()
    changed = dataclasses.replace(spec, token_match_alternatives=spec.token_match_alternatives[1:])
    with pytest.raises(ValueError, match="hash"):
        changed.build()
    # tokenizer_for then falls back to spacy.blank
    (tmp_path / "fr.msgpack").write_bytes(old.to_bytes())
    monkeypatch.setattr(tokenizers, "SPEC_DIR", tmp_path)
    clear_tokenizers()
    try:
        tok = tokenizer_for("fr")
        assert not isinstance(tok.token_match, AlternativesMatch)
        assert _split(tok, TRICKY[0]) == _split(reference, TRICKY[0])
        assert tokenize(TRICKY[1], "fr")
    finally:
        clear_tokenizers()


def test_the_shipped_spec_is_what_the_installed_spacy_gives() -> None:
    shipped = TokenizerSpec.from_bytes((SPEC_DIR / "fr.msgpack").read_bytes())
    if shipped.spacy_version != spacy.about.__version__:
        pytest.skip(f"spec written for spaCy {shipped.spacy_version}; rebuild with `make tokenizers`")
    assert TokenizerSpec.from_spacy("fr") == shipped


def test_other_languages_and_unknown_codes_still_come_from_spacy() -> None:
    assert tokenizer_for("en").token_match is None or not isinstance(tokenizer_for("en").token_match, AlternativesMatch)
    assert [t.text for t in tokenizer_for("zz-unknown")("a b")] == ["a", "b"]


def test_a_tokenizer_whose_vocabulary_outgrows_the_cap_is_rebuilt_with_the_same_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokenizers, "TOKENIZER_MAX_LEXEMES", 1000)
    clear_tokenizers()
    try:
        first = tokenizer_for("en")
        before = tokenize("Order #A1 from 3 March: still not here!", "en")
        rebuilds = 0
        for i in range(600):  # novel tokens: order numbers, as real mail has
            tokenize(f"order {i * 7919} and ref X{i}Y{i * 13} arrived broken", "en")
            tok = tokenizer_for("en")
            rebuilds += tok is not first
            first = tok
            assert len(tok.vocab) <= 1000 + 50
        assert rebuilds >= 1
        assert tokenize("Order #A1 from 3 March: still not here!", "en") == before
    finally:
        clear_tokenizers()
