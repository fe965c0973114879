"""The final refit of ``clientsense train``: dev chooses temperatures and thresholds, then the
models are fitted again on train + dev with them (clientsense.training.train)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clientsense.training.train as train_module
from clientsense.features import TextFeaturizer
from clientsense.training.corpus import read_corpus
from clientsense.training.train import TrainConfig, _fit_models, _refit, tone_inputs

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame, TrainConfig]:
    corpus = read_corpus(CORPUS)
    corpus = corpus[corpus["file"].isin(["b01.jsonl", "b02.jsonl"])].reset_index(drop=True)
    rng = np.random.default_rng(0)
    public = corpus[corpus["split"] == "train"].sample(60, random_state=0)[["text", "lang", "tone"]]
    public = public.assign(source="public", split=rng.choice(["train", "test"], len(public), p=[0.8, 0.2]))
    cfg = TrainConfig(signal_features=1 << 12, evaluate=False)
    return public.reset_index(drop=True), corpus, cfg


def _small_featurizer() -> TextFeaturizer:
    return TextFeaturizer(n_char_features=1 << 12, n_word_features=1 << 11)


def test_refit_keeps_the_dev_choices_and_learns_from_dev(
    data: tuple[pd.DataFrame, pd.DataFrame, TrainConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    public, corpus, cfg = data
    monkeypatch.setattr(train_module, "TextFeaturizer", _small_featurizer)  # seconds, not minutes
    dev = corpus[corpus["split"] == "dev"]
    tuned = _fit_models(public, corpus, cfg, ("train",), dev)
    # this small dev split has < 40 rows per language: calibrate on fewer so there is something to keep
    tuned.tone.calibrate_per_language(tone_inputs(dev), dev["tone"], min_rows=10)
    assert tuned.tone.lang_calibrators_
    final = _refit(public, corpus, cfg, tuned)
    for new, old in ((final.tone, tuned.tone), (final.client_type, tuned.client_type), (final.step, tuned.step)):
        assert new.lang_calibrators_.keys() == old.lang_calibrators_.keys()
        for lang, cal in old.lang_calibrators_.items():
            assert new.lang_calibrators_[lang].temperature_ == cal.temperature_
        assert new.text_model_.model_.coef_.shape == old.text_model_.model_.coef_.shape
        assert not np.array_equal(new.text_model_.model_.coef_, old.text_model_.model_.coef_)
    assert final.signals.thresholds == tuned.signals.thresholds
    n_train, n_dev = (corpus["split"] == "train").sum(), len(dev)
    authored = final.tone_frame["source"] == "authored"
    assert authored.sum() == n_train + n_dev
    assert (tuned.tone_frame["source"] == "authored").sum() == n_train
    assert not corpus[corpus["split"] == "test"]["text"].isin(final.tone_frame["text"]).any()


def test_model_version_follows_corpus_patterns_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "en").mkdir(parents=True)
    (corpus / "en" / "b01.jsonl").write_text('{"id": "en-1"}\n', encoding="utf-8")
    cfg = TrainConfig(corpus_root=corpus)
    v = train_module._model_version(cfg)
    assert v.startswith("0.1.0+") and v == train_module._model_version(cfg)
    assert train_module._model_version(TrainConfig(corpus_root=corpus, out_dir=tmp_path / "elsewhere")) == v
    assert train_module._model_version(TrainConfig(corpus_root=corpus, signal_threshold_scale=0.7)) != v
    monkeypatch.setattr(train_module, "_pattern_hashes", lambda: {"en.toml": "0" * 64})
    assert train_module._model_version(cfg) != v
    monkeypatch.undo()
    (corpus / "en" / "b01.jsonl").write_text('{"id": "en-2"}\n', encoding="utf-8")
    assert train_module._model_version(cfg) != v


def test_tone_frame_weights_public_abusive_rows_and_authored_rows(
    data: tuple[pd.DataFrame, pd.DataFrame, TrainConfig],
) -> None:
    from dataclasses import replace

    from clientsense.training.train import tone_training_frame

    public, corpus, cfg = data
    frame = tone_training_frame(public, corpus, replace(cfg, public_abusive_weight=0.4, authored_weight=7.0))
    pub = frame[frame["source"] != "authored"]
    assert set(pub.loc[pub["tone"] == "abusive", "weight"]) == {0.4}
    assert set(pub.loc[pub["tone"] != "abusive", "weight"]) == {1.0}
    assert set(frame.loc[frame["source"] == "authored", "weight"]) == {7.0}
    assert (pub["tone"] == "abusive").any() and len(pub) == (public["split"] == "train").sum()
    default = tone_training_frame(public, corpus, cfg)
    assert set(default.loc[default["source"] != "authored", "weight"]) == {1.0}
