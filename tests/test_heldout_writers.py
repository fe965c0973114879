"""The leave-one-writer-generation-out script (benchmarks/heldout_writers.py): its inputs."""

import importlib.util
from pathlib import Path

import pytest

from clientsense.training.corpus import read_corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("heldout_writers", ROOT / "benchmarks" / "heldout_writers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generations_name_existing_batches_in_every_language(script) -> None:  # type: ignore[no-untyped-def]
    corpus = read_corpus(ROOT / "data" / "corpus")
    batch = script.batch_of(corpus)
    for generation, files in script.GENERATIONS.items():
        part = corpus[batch.isin(files)]
        assert sorted(part["lang"].unique()) == ["en", "fr", "pl", "ro", "ru"], generation
        per_writer = part.groupby(batch[part.index]).size()  # one file per writer, 70 messages each
        assert per_writer.between(69, 70).all(), generation  # less the odd near-duplicate removed
        assert set(part["split"]) == {"train", "dev", "test"}  # the script scores only train + dev
    seen = [f for files in script.GENERATIONS.values() for f in files]
    assert len(seen) == len(set(seen))


def test_overrides_are_checked_against_train_config(script) -> None:  # type: ignore[no-untyped-def]
    assert script.overrides(["step_C=1.0", "refit_on_dev=false", "seed=3"]) == {
        "step_C": 1.0,
        "refit_on_dev": False,
        "seed": 3,
    }
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        script.overrides(["colour=red"])
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        script.overrides(["step_C"])


def test_heldout_tone_scores(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The tone-only script's scoring: macro-F1, abusive P / R and civil → abusive of a model's argmax."""
    import numpy as np
    import pandas as pd

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("heldout_tone", ROOT / "benchmarks" / "heldout_tone.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Fixed:  # predicts abusive, frustrated, frustrated, neutral
        classes_ = np.array(["abusive", "frustrated", "neutral"])

        def predict_proba(self, X):  # type: ignore[no-untyped-def]
            return np.eye(3)[[0, 1, 1, 2]]

    df = pd.DataFrame(
        {
            "text": ["you idiots", "late again", "late again!", "thanks"],
            "lang": ["en", "en", "fr", "fr"],
            "tone": ["abusive", "frustrated", "neutral", "neutral"],
        }
    )
    s = module.tone_scores(Fixed(), df)
    assert s["n"] == 4 and s["abusive_precision"] == 1.0 and s["abusive_recall"] == 1.0
    assert s["civil_flagged_abusive"] == 0.0
    assert s["tone_macro_f1"] == round((1.0 + 2 / 3 + 2 / 3) / 3, 4)
    assert set(s["per_language"]) == {"en", "fr"}
