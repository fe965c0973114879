"""Retraining on a user's own labelled file: ``clientsense train --data FILE --out DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clientsense.analyzer import Analyzer
from clientsense.artifacts import verify_file
from clientsense.cli import main
from clientsense.training.corpus import read_corpus
from clientsense.training.user import LabelledDataError, read_labelled, train_on_labelled

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return read_corpus(ROOT / "data/corpus")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    """150 rows of the authored train split (50 per tone), written as a user's CSV and trained through the CLI."""
    d = tmp_path_factory.mktemp("user")
    rows = corpus[corpus["split"] == "train"].groupby("tone").sample(n=50, random_state=0)
    rows[["text", "tone", "client_type", "lang", "step"]].to_csv(d / "my_labels.csv", index=False)
    assert main(["train", "--data", str(d / "my_labels.csv"), "--out", str(d / "model")]) == 0
    return d / "model", (d / "my_labels.csv").read_text(encoding="utf-8")


def test_model_dir_is_verified_and_loadable(trained, corpus) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    for name in ("tone.npz", "client_type.npz", "step.npz", "training.json"):
        verify_file(model, name)
    meta = json.loads((model / "training.json").read_text())
    assert meta["rows"] == 150 and meta["label_counts"]["tone"] == {"abusive": 50, "frustrated": 50, "neutral": 50}
    assert meta["version"].startswith("user+") and meta["step_counts"] and meta["step_model"]
    a = Analyzer(model, trusted=True)
    assert a.step_model is not None and set(a.step_model.classes_) == set(meta["step_counts"])
    assert a.info()["model_version"] == meta["version"]
    test = corpus[corpus["split"] == "test"].sample(n=120, random_state=1)
    res = list(a.analyze_many(test["text"].tolist()))
    tone_acc = np.mean([r.tone == t for r, t in zip(res, test["tone"], strict=True)])
    type_acc = np.mean([r.client_type == t for r, t in zip(res, test["client_type"], strict=True)])
    # majority class is ≈ 39 % (tone) and ≈ 56 % (client type): the retrained models learned something
    assert tone_acc > 0.6 and type_acc > 0.7, (tone_acc, type_acc)
    step_acc = np.mean([r.step.id == s for r, s in zip(res, test["step"], strict=True)])
    assert step_acc > 0.35, step_acc  # 11 steps, the commonest ≈ 20 % of messages


def test_scoring_cli_uses_the_retrained_model(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, _ = trained
    out = tmp_path / "scored.csv"
    assert (
        main(
            [
                "score",
                str(ROOT / "data/samples/messages.csv"),
                "--models",
                str(model),
                "--trusted",
                "-o",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out)) == 25


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 6 rows: SGD stops at max_iter
def test_jsonl_without_lang_is_detected(tmp_path: Path) -> None:
    rows = [
        {"text": "You idiots, answer me!", "tone": "abusive", "client_type": "problem_client"},
        {"text": "Bande d'idiots, répondez !", "tone": "Abusive", "client_type": "problem_client"},
        {"text": "Still no parcel, third email.", "tone": "frustrated", "client_type": "client_with_problem"},
        {"text": "Toujours pas de colis, c'est pénible.", "tone": "frustrated", "client_type": "client_with_problem"},
        {"text": "Thanks, all good.", "tone": "neutral", "client_type": "client_with_problem"},
        {"text": "Merci, tout va bien.", "tone": "neutral", "client_type": "problem_client"},
    ]
    src = tmp_path / "labels.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    df = read_labelled(src)
    assert df["lang"].tolist() == ["en", "fr", "en", "fr", "en", "fr"] and df["tone"].iloc[1] == "abusive"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "step.npz").write_bytes(b"stale step model of an earlier run")
    (tmp_path / "m" / "step.joblib").write_bytes(b"stale pickled step model of an older version")
    meta = train_on_labelled(src, tmp_path / "m")
    assert meta["folds"] == 2 and meta["languages"] == {"en": 3, "fr": 3}
    assert not meta["step_model"]  # no steps: rule table only
    assert not (tmp_path / "m" / "step.npz").exists() and not (tmp_path / "m" / "step.joblib").exists()
    assert Analyzer(tmp_path / "m", trusted=True).analyze("Merci beaucoup !").tone in {
        "abusive",
        "frustrated",
        "neutral",
    }


def test_bad_files_give_clear_errors(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,tone\nhello,neutral\n", encoding="utf-8")
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "missing columns ['client_type']" in capsys.readouterr().err
    bad.write_text(
        "text,tone,client_type\nhello,angry,client_with_problem\n,neutral,problem_client\nok,neutral,client_with_problem\n",
        encoding="utf-8",
    )
    with pytest.raises(LabelledDataError, match=r"row 1: tone='angry'.*row 2: empty text"):
        read_labelled(bad)
    few = pd.DataFrame({"text": ["a b", "c d", "e f"], "tone": ["neutral"] * 3, "client_type": ["problem_client"] * 3})
    with pytest.raises(LabelledDataError, match="tone=abusive has 0"):
        train_on_labelled(few, tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_refuses_to_overwrite_shipped_models(tmp_path: Path) -> None:
    from clientsense.artifacts import models_dir

    df = pd.DataFrame({"text": ["x"], "tone": ["neutral"], "client_type": ["problem_client"]})
    with pytest.raises(LabelledDataError, match="shipped model"):
        train_on_labelled(df, models_dir())
