"""End-to-end tests of the public API with the shipped model."""

from __future__ import annotations

import json

import pytest

import clientsense
from clientsense import Analysis

EXAMPLES = [
    # text, language, tone, client type
    ("Третий раз пишу, заказ так и не пришёл. Верните деньги.", "ru", "frustrated", "client_with_problem"),
    ("Вы идиоты и бездари, пошли вы к чёрту со своим сервисом.", "ru", "abusive", "problem_client"),
    ("Bonjour, pourriez-vous m'envoyer la facture de mars ? Merci beaucoup.", "fr", "neutral", "client_with_problem"),
    ("Bande d'incapables, vous êtes des guignols, je vous méprise.", "fr", "abusive", "problem_client"),
    ("Thank you so much, the replacement arrived and works perfectly.", "en", "neutral", "client_with_problem"),
    ("You useless idiots, answer me right now.", "en", "abusive", "problem_client"),
    (
        "Bună ziua, comanda mea nu a ajuns nici azi, deși trebuia livrată luni. Când o primesc?",
        "ro",
        None,
        "client_with_problem",
    ),
    ("Sunteți niște idioți incompetenți, bătaie de joc!", "ro", "abusive", "problem_client"),
    ("Dzień dobry, kiedy mogę spodziewać się faktury za wrzesień?", "pl", "neutral", "client_with_problem"),
    ("Debile, nie umiecie nic zrobić porządnie, banda nieudaczników.", "pl", "abusive", "problem_client"),
]


@pytest.mark.parametrize(("text", "lang", "tone", "ctype"), EXAMPLES)
def test_examples_in_five_languages(analyzer, text: str, lang: str, tone: str | None, ctype: str) -> None:  # type: ignore[no-untyped-def]
    r = analyzer.analyze(text)
    assert r.language == lang
    if tone:
        assert r.tone == tone
    assert r.client_type == ctype
    assert r.step.lang == lang


def test_issue_example(analyzer) -> None:  # type: ignore[no-untyped-def]
    r = clientsense.analyze("Третий раз пишу, заказ так и не пришёл. Верните деньги.")
    assert isinstance(r, Analysis)
    assert 0.0 < r.language_confidence <= 1.0
    assert set(r.client_type_proba) == {"client_with_problem", "problem_client"}
    assert set(r.tone_proba) == {"abusive", "frustrated", "neutral"}
    assert abs(sum(r.tone_proba.values()) - 1) < 1e-4 and abs(sum(r.client_type_proba.values()) - 1) < 1e-4
    assert r.step.id in {"offer_simple_solution", "apologize_and_fix", "listen_and_restate"}
    assert r.step.title and r.step.advice and r.step.reason
    d = r.to_dict()
    assert json.loads(json.dumps(d, ensure_ascii=False))["step"]["id"] == r.step.id
    with pytest.raises(AttributeError):
        r.tone = "neutral"  # type: ignore[misc]


def test_abusive_gives_pause_with_evidence(analyzer) -> None:  # type: ignore[no-untyped-def]
    r = analyzer.analyze("You useless idiots, answer me right now.")
    assert r.step.id == "pause_conversation"
    assert r.step.aftercare
    for span in r.step.evidence:
        assert r.text[span.start : span.end] == span.text


@pytest.mark.parametrize("text", ["", "   \n\t ", "https://example.com/x", "👍👍🔥", "12345 !!!", "\x00\x01\x02"])
def test_no_linguistic_content_is_defined(analyzer, text: str) -> None:  # type: ignore[no-untyped-def]
    r = analyzer.analyze(text)
    assert r.language == "und"
    assert "no linguistic content" in r.warnings
    assert r.step.id and r.step.lang == "en"
    # Nothing for the step model to read: the rule table alone decides (its default step).
    assert r.step.id == "listen_and_restate" and "step model" not in r.step.reason
    # nor for the classifiers: every message without letters gets the judgement of an empty text
    empty = analyzer.analyze("")
    assert (r.tone_proba, r.client_type_proba) == (empty.tone_proba, empty.client_type_proba)
    assert (r.tone, r.client_type) == ("neutral", "client_with_problem")


def test_binary_junk_and_megabyte_body(analyzer) -> None:  # type: ignore[no-untyped-def]
    junk = bytes(range(256)).decode("latin-1") * 100
    r = analyzer.analyze(junk)
    assert r.step.id
    big = analyzer.analyze("The parcel is late again. " * 60_000)
    assert big.truncated and any("cut" in w for w in big.warnings)
    assert big.language == "en"


def test_mojibake_does_not_crash(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "Здравствуйте, заказ не пришёл".encode().decode("latin-1")
    assert analyzer.analyze(text).step.id


def test_non_str_is_clear_error(analyzer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="expects str"):
        analyzer.analyze(None)
    with pytest.raises(TypeError, match="expects str"):
        list(analyzer.analyze_many(["ok", 3]))


def test_analyze_many_streams_in_order(analyzer) -> None:  # type: ignore[no-untyped-def]
    texts = [t for t, *_ in EXAMPLES] * 3
    it = analyzer.analyze_many(iter(texts), batch_size=4)
    assert iter(it) is it
    out = list(it)
    assert [a.text for a in out] == [analyzer.analyze(t).text for t in texts]
    single = [analyzer.analyze(t).tone_proba for t in texts[:5]]
    assert [a.tone_proba for a in out[:5]] == single


def test_analyze_many_parallel_matches_serial(analyzer) -> None:  # type: ignore[no-untyped-def]
    texts = [t for t, *_ in EXAMPLES] * 2
    serial = [a.to_dict() for a in analyzer.analyze_many(texts, batch_size=3)]
    parallel = [a.to_dict() for a in analyzer.analyze_many(texts, batch_size=3, n_jobs=2)]
    assert serial == parallel


def test_chunking_of_a_batch_changes_nothing(analyzer) -> None:  # type: ignore[no-untyped-def]
    """The numeric stages take Config.chunk_size messages at a time: any chunking, same results."""
    from dataclasses import replace

    texts = [t for t, *_ in EXAMPLES] * 2 + ["", "😀", "x" * 7000]
    whole = [a.to_dict() for a in analyzer.analyze_many(texts, batch_size=len(texts))]
    small = clientsense.Analyzer(config=replace(analyzer.config, chunk_size=3))
    assert [a.to_dict() for a in small.analyze_many(texts, batch_size=len(texts))] == whole
    assert [a.to_dict() for a in small.analyze_many(texts, batch_size=2)] == whole


def test_batch_size_validation(analyzer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        list(analyzer.analyze_many(["a"], batch_size=0))


def test_allowed_languages_and_advice_language() -> None:
    a = clientsense.Analyzer(languages=["en", "ro"], advice_language="fr")
    r = a.analyze("Nu merge deloc aplicatia, va rog ajutati-ma")
    assert r.language == "ro"
    assert r.step.lang == "fr"


def test_info(analyzer) -> None:  # type: ignore[no-untyped-def]
    info = analyzer.info()
    assert info["model_version"] and set(info["advice_languages"]) >= {"en", "ru", "fr", "ro", "pl"}


def test_detect_language_api() -> None:
    assert clientsense.detect_language("Nadal nie działa, proszę o pomoc").lang == "pl"
    assert clientsense.detect_language("").lang == "und"


def test_thread_and_rollup_public_api() -> None:
    abusive = "You useless idiots, answer me right now."
    thread = clientsense.analyze_thread(
        ["Where is my order 5512?", abusive, "Still nothing, you incompetent clowns, morons!"]
    )
    assert thread.step.id == "end_relationship" and thread.pattern
    assert clientsense.analyze_thread([abusive]).step.id == "pause_conversation"
    assert clientsense.HistoryConfig().min_messages >= 2
    a = clientsense.analyze("Thanks, all good now")
    table = clientsense.rollup([("x@example.com", a), ("y@example.com", a)])
    assert sorted(table["sender"]) == ["x@example.com", "y@example.com"]
