"""The evaluation harness: metric functions on hand-computed cases, and ``clientsense evaluate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clientsense.cli import main
from clientsense.training.corpus import load_corpus
from clientsense.training.evaluate import (
    abusive_false_alarm_rate,
    by_language,
    classification_report,
    expected_calibration_error,
)
from clientsense.training.report import baseline_rows, evaluate_corpus, metrics_markdown, signal_scores, step_accuracy

ROOT = Path(__file__).resolve().parents[1]


def test_ece_by_hand() -> None:
    proba = np.array([[0.9, 0.1], [0.6, 0.4]])
    # 0.9 is right (bin 0.8–0.9: |1 − 0.9| × ½), 0.6 is wrong (bin 0.5–0.6: |0 − 0.6| × ½)
    assert expected_calibration_error(proba, ["a", "b"], ["a", "b"]) == pytest.approx(0.35)
    assert np.isnan(expected_calibration_error(np.zeros((0, 2)), [], ["a", "b"]))


def test_classification_report_and_by_language() -> None:
    df = pd.DataFrame({
        "lang": ["en", "en", "fr", "fr"],
        "tone": ["abusive", "neutral", "neutral", "frustrated"],
        "pred": ["abusive", "frustrated", "neutral", "frustrated"],
    })  # fmt: skip
    rep = classification_report(df["tone"], df["pred"], ["abusive", "frustrated", "neutral"])
    assert rep["n"] == 4 and rep["accuracy"] == 0.75
    assert rep["per_class"]["frustrated"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert rep["confusion"]["matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    per_lang = by_language(df, "tone", "pred", ["abusive", "frustrated", "neutral"])
    assert set(per_lang) == {"all", "en", "fr"}
    assert per_lang["fr"]["accuracy"] == 1.0 and per_lang["en"]["accuracy"] == 0.5


def test_civil_flagged_abusive() -> None:
    df = pd.DataFrame(
        {"tone": ["frustrated"] * 4 + ["neutral"], "tone_pred": ["abusive", *["frustrated"] * 3, "abusive"]}
    )
    assert abusive_false_alarm_rate(df) == 0.25  # the neutral row is not a civil complaint
    assert np.isnan(abusive_false_alarm_rate(df[df["tone"] == "neutral"]))


def test_step_accuracy_primary_and_acceptable() -> None:
    df = pd.DataFrame({
        "lang": ["en", "en", "ro"],
        "step": ["apologize_and_fix", "set_expectations", "follow_up"],
        "alt_steps": [[], ["listen_and_restate"], []],
        "step_pred": ["apologize_and_fix", "listen_and_restate", "set_expectations"],
    })  # fmt: skip
    acc = step_accuracy(df)
    assert acc["all"] == {"primary": pytest.approx(1 / 3), "primary_or_acceptable": pytest.approx(2 / 3), "n": 3}
    assert acc["en"]["primary"] == 0.5 and acc["en"]["primary_or_acceptable"] == 1.0
    assert acc["ro"]["primary_or_acceptable"] == 0.0


def test_signal_scores_are_message_level_micro() -> None:
    df = pd.DataFrame({
        "lang": ["en", "pl"],
        "signals": [[{"id": "urgency", "span": "asap"}, {"id": "urgency", "span": "now"}], [{"id": "insult", "span": "x"}]],
        "signals_pred": [["urgency", "gratitude"], []],
    })  # fmt: skip
    s = signal_scores(df)
    assert (s["en"]["tp"], s["en"]["fp"], s["en"]["fn"]) == (1, 1, 0)  # two gold spans of one id count once
    assert (s["all"]["tp"], s["all"]["fp"], s["all"]["fn"]) == (1, 1, 1)
    assert s["all"]["f1"] == pytest.approx(0.5) and s["pl"]["f1"] == 0.0


def test_baseline_never_trains_on_evaluated_rows() -> None:
    source = pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "text": ["one", "two", "three", "four"],
        "split": ["train", "train", "train", "test"],
    })  # fmt: skip
    evaluated = pd.DataFrame({"id": ["a", "z"], "text": ["zzz", "three"]})
    assert baseline_rows(source, evaluated)["id"].tolist() == ["b"]  # a: same id, c: same text, d: not train


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six test-split messages per language, copied from the authored corpus."""
    root = tmp_path_factory.mktemp("corpus")
    corpus = load_corpus(ROOT / "data" / "corpus")
    for lang, part in corpus[corpus["split"] == "test"].groupby("lang"):
        (root / str(lang)).mkdir()
        rows = part.head(6).drop(columns=["split", "file"]).to_dict("records")
        (root / str(lang) / "b01.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    return root


def test_evaluate_corpus_reports_every_language(analyzer, small_corpus: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = load_corpus(small_corpus)
    m = evaluate_corpus(analyzer, corpus, "all")
    assert m["n"] == 30
    assert set(m["tone"]) == {"all", "en", "fr", "pl", "ro", "ru"}
    assert all(m["tone"][lg]["n"] == 6 for lg in ("en", "fr", "pl", "ro", "ru"))
    assert 0.0 <= m["tone"]["all"]["ece"] <= 1.0
    assert m["step"]["all"]["n"] == 30 and m["step"]["all"]["primary"] <= m["step"]["all"]["primary_or_acceptable"]
    assert "baseline" not in m  # every train row of this folder is being evaluated
    assert "No baseline" in metrics_markdown(m)


def test_cli_evaluate_with_a_separate_baseline_corpus(small_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--data", str(small_corpus), "--split", "all", "--json",
                 "--baseline-data", str(ROOT / "data" / "corpus")]) == 0  # fmt: skip
    m = json.loads(capsys.readouterr().out)
    full = load_corpus(ROOT / "data" / "corpus")
    assert m["baseline"]["n_train"] == int((full["split"] == "train").sum())  # the evaluated rows are test rows
    assert set(m["baseline"]["tone"]) == {"all", "en", "fr", "pl", "ro", "ru"}
    assert main(["evaluate", "--data", str(small_corpus), "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert "split `test` (30 messages)" in out and "| ru | 6 |" in out
