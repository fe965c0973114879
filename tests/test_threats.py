"""Threats of physical harm: the patterns, the tone probabilities they set and the evidence."""

from __future__ import annotations

import numpy as np
import pytest

from clientsense.config import HARM_THREAT_ABUSIVE_P
from clientsense.threats import HarmThreats, apply_threats, find_harm_threats

THREATS = [
    ("en", "Fix it by Friday. I know where you live.", "I know where you live"),
    ("en", "Keep ignoring me, mate, and you'd better watch your back.", "watch your back"),
    ("en", "Do that again and I'll break your bloody legs.", "break your bloody legs"),
    ("fr", "Je sais où vous habitez, monsieur le plombier.", "Je sais où vous habitez"),
    ("fr", "Continuez comme ça et regardez bien derrière vous en sortant.", "regardez bien derrière vous"),
    ("pl", "Wiem, gdzie pan mieszka, więc proszę uważać.", "Wiem, gdzie pan mieszka"),
    ("pl", "Niech ten wasz kurier ogląda się za siebie.", "Niech ten wasz kurier ogląda się za siebie"),
    ("ro", "Știu unde locuiești, nu te mai ascunde.", "Știu unde locuiești"),
    ("ro", "Mai faci asta o data si iti rup picioarele.", "iti rup picioarele"),
    ("ru", "Я знаю, где ваш мастер живёт.", "знаю, где ваш мастер живёт"),
    ("ru", "Ещё раз так сделаешь — ноги переломаю.", "ноги переломаю"),
    ("ru", "Пусть твой менеджер теперь оглядывается.", "Пусть твой менеджер теперь оглядывается"),
]

NOT_THREATS = [
    ("en", "I know your address is wrong on the invoice, please update it."),
    ("en", "Mind your back when you lift the boxes, the stairs are steep."),
    ("en", "We'll come back with my friends next week, the food was lovely."),
    ("en", "He was willing to break his own neck to help us, thank you."),
    ("fr", "Je connais votre maison depuis dix ans et je suis déçue."),
    ("pl", "Uważaj na siebie i dziękuję za pomoc."),
    ("ro", "Nu stim unde va duce situatia asta cu livrarile."),
    ("ru", "Не знаю, где вы живёте, но у нас доставка работает."),
    ("ru", "Уйди и никогда не оглядывайся назад."),
    ("ru", "Я найду ваш заказ сама, спасибо."),
    ("de", "Ich weiß, wo du wohnst."),  # no patterns for this language
]


@pytest.mark.parametrize(("lang", "text", "span"), THREATS)
def test_threats_are_found_with_their_original_text(lang: str, text: str, span: str) -> None:
    spans = find_harm_threats(text, lang)
    assert spans, text
    assert spans[0].text == span
    assert text[spans[0].start : spans[0].end] == span


@pytest.mark.parametrize(("lang", "text"), NOT_THREATS)
def test_near_misses_are_not_threats(lang: str, text: str) -> None:
    assert find_harm_threats(text, lang) == ()


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", 'Your courier told my mother "I know where you live". I want an explanation.'),
        ("en", "He wrote “I know where you live” in the chat, is that normal?"),
        ("fr", "Le livreur lui a dit « je sais où vous habitez », c'est inadmissible."),
        ("pl", "Kurier powiedział: „wiem, gdzie pani mieszka”."),
        ("ru", "Ваш мастер сказал мне «я знаю, где ты живёшь», разберитесь."),
    ],
)
def test_quoted_threats_are_someone_elses_words(lang: str, text: str) -> None:
    assert find_harm_threats(text, lang) == ()


def test_a_threat_after_a_closed_quote_or_on_a_new_line_is_found() -> None:
    assert find_harm_threats('You said "tomorrow". I know where you live.', "en")
    assert find_harm_threats('He said "ok\nI know where you live', "en")  # the quote is on another line


def test_empty_and_huge_texts() -> None:
    assert find_harm_threats("", "en") == ()
    long = "I know where you live. " * 20_000
    assert len(find_harm_threats(long, "en")) == 3  # capped


def test_unbounded_or_invalid_patterns_are_rejected() -> None:
    with pytest.raises(ValueError, match="unbounded"):
        HarmThreats({"en": [r"\bi know .* you\b"]})
    with pytest.raises(ValueError, match="list of strings"):
        HarmThreats({"en": "just one string"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="rejected"):
        HarmThreats({"en": [r"(unclosed"]})


def test_apply_threats_sets_the_rule_posterior_only_where_a_threat_was_found() -> None:
    classes = ["abusive", "frustrated", "neutral"]
    proba = np.array([[0.1, 0.6, 0.3], [0.1, 0.6, 0.3], [0.97, 0.02, 0.01]])
    out = apply_threats(proba, classes, [False, True, True])
    assert np.array_equal(out[0], proba[0])
    assert out[1, 0] == pytest.approx(HARM_THREAT_ABUSIVE_P)
    assert out[1].sum() == pytest.approx(1.0)
    assert out[1, 1] / out[1, 2] == pytest.approx(2.0)  # the other tones keep their proportions
    assert np.array_equal(out[2], proba[2])  # the model was already surer
    assert apply_threats(proba, classes, [False] * 3) is proba
    assert np.array_equal(proba[1], [0.1, 0.6, 0.3])  # the input is not modified


def test_analyzer_calls_a_threat_abusive_and_cites_it(analyzer) -> None:  # type: ignore[no-untyped-def]
    text = "You still have not fixed my boiler. I know where you live, so think about it."
    r = analyzer.analyze(text)
    assert r.tone == "abusive"
    assert r.tone_proba["abusive"] >= HARM_THREAT_ABUSIVE_P - 1e-9
    assert r.step.id == "pause_conversation"
    assert "threat of harm 'I know where you live'" in r.step.reason
    assert any(s.text == "I know where you live" for s in r.step.evidence)
    assert all(s.id != "threat of harm" for s in r.signals)  # not one of the label guide's signals


def test_a_message_without_threat_is_unchanged_by_the_rule(analyzer) -> None:  # type: ignore[no-untyped-def]
    r = analyzer.analyze("My parcel is a week late, where is it?")
    assert r.tone != "abusive"
    assert "threat of harm" not in r.step.reason


def test_a_precomputed_view_gives_the_same_spans_as_the_signal_stage_reads() -> None:
    from clientsense.signals import SignalExtractor, extract_signals, text_view

    text = "Ещё раз так сделаешь — ноги переломаю. Третий раз пишу, верните деньги! " * 400  # over MAX_RAW_CHARS
    view = text_view(text)
    assert HarmThreats().find(text, "ru", view) == find_harm_threats(text, "ru") != ()
    assert SignalExtractor().extract(text, "ru", view) == extract_signals(text, "ru") != ()
