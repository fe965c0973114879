"""The spaCy pipeline component ``clientsense``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from clientsense.results import Step
from clientsense.spacy_component import ClientsenseComponent, offset_map

MESSY = "  Third   email this week!\n\n\n\nYou idiots, see https://example.com/shot.png and fix it today.  "


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    nlp = spacy.blank("en")
    nlp.add_pipe("clientsense")
    return nlp


def test_doc_extensions_match_the_analyzer(nlp, analyzer) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(nlp.get_pipe("clientsense"), ClientsenseComponent)
    doc = nlp(MESSY)
    a = analyzer.analyze(MESSY)
    assert doc._.tone == a.tone == "abusive" and doc._.client_type == a.client_type
    assert doc._.tone_proba == a.tone_proba and doc._.language == "en"
    assert isinstance(doc._.step, Step) and doc._.step.id == a.step.id
    assert doc._.clientsense == a
    labels = [s.label_ for s in doc._.signals]
    assert labels == [s.id for s in a.signals] and "insult" in labels
    for span, sig in zip(doc._.signals, a.signals, strict=True):
        assert span.doc is doc
        # the spaCy span covers the same words in the raw text (whitespace may differ: the cleaner collapses it)
        assert " ".join(span.text.split()) == " ".join(sig.span.text.split())


def test_pipe_batches_and_matches_single_calls(nlp) -> None:  # type: ignore[no-untyped-def]
    texts = ["Merci beaucoup, tout marche !", "", "Вы идиоты и бездари.", MESSY, "Where is my parcel?"] * 3
    piped = list(nlp.pipe(texts, batch_size=4))
    assert [d.text for d in piped] == texts
    for d in piped[:5]:
        single = nlp(d.text)
        assert (d._.tone, d._.client_type, d._.step.id) == (single._.tone, single._.client_type, single._.step.id)
    assert piped[1]._.language == "und" and piped[1]._.signals == []
    assert piped[2]._.tone == "abusive" and piped[2]._.language == "ru"


def test_blank_doc_defaults(nlp) -> None:  # type: ignore[no-untyped-def]
    doc = spacy.blank("fr")("pas encore analysé")
    assert doc._.tone is None and doc._.signals is None


def test_offset_map() -> None:
    assert offset_map("abc", "abc") == [0, 1, 2]
    assert offset_map("abc", "  abc ") == [2, 3, 4]
    m = offset_map("a b <url> c", "a   b http://x.io c")
    assert m[0] == 0 and m[2] == 4 and m[-1] == len("a   b http://x.io c") - 1


def test_found_by_entry_point_and_saved_pipeline(tmp_path: Path) -> None:
    # a fresh interpreter that never imports clientsense itself: spaCy finds the factory by entry point
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('ro'); nlp.add_pipe('clientsense', config={'batch_size': 8})\n"
        f"nlp.to_disk({str(tmp_path / 'p')!r})\n"
        f"nlp2 = spacy.load({str(tmp_path / 'p')!r})\n"
        "doc = nlp2('Sunteti niste idioti incompetenti!')\n"
        "print(doc._.tone, doc._.language, nlp2.get_pipe('clientsense').batch_size)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["abusive", "ro", "8"]
