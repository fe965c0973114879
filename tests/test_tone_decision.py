"""The tone label's decision rule: abusive from a probability bar (Config.abusive_min_proba)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clientsense import Analyzer
from clientsense.analyzer import decide_tone
from clientsense.config import DEFAULT_CONFIG, Config


def test_abusive_wins_once_its_probability_reaches_the_bar() -> None:
    p = {"abusive": 0.31, "frustrated": 0.6, "neutral": 0.09}
    assert decide_tone(p, 0.3) == "abusive"
    assert decide_tone(p, 0.35) == "frustrated"
    assert decide_tone(p, None) == "frustrated"


def test_below_the_bar_the_likeliest_tone_stands() -> None:
    assert decide_tone({"abusive": 0.1, "frustrated": 0.2, "neutral": 0.7}, 0.3) == "neutral"
    # an argmax abusive stays abusive whatever the bar
    assert decide_tone({"abusive": 0.5, "frustrated": 0.3, "neutral": 0.2}, 0.9) == "abusive"


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_bar_outside_the_unit_interval_is_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="abusive_min_proba"):
        Config(abusive_min_proba=bad)


def test_the_analyzer_applies_the_configured_bar(analyzer: Analyzer) -> None:
    text = "Third time I write: the parcel never came and nobody answers. Refund me."
    assert analyzer.config.abusive_min_proba is None  # the shared, default analyzer: the most probable tone
    plain = analyzer.analyze(text)
    assert plain.tone == max(plain.tone_proba, key=plain.tone_proba.__getitem__)
    eager = Analyzer(config=replace(DEFAULT_CONFIG, abusive_min_proba=max(plain.tone_proba["abusive"], 1e-6))).analyze(
        text
    )
    assert eager.tone == "abusive"
    assert eager.tone_proba == plain.tone_proba  # the bar moves the label, never the probabilities
    assert eager.step.id == "pause_conversation"  # the playbook follows the label
