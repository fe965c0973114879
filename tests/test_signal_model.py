"""The learned signal detector: spans, thresholds, artifact loading, fallback, determinism."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clientsense.artifacts import ArtifactError, models_dir, write_manifest
from clientsense.config import SIGNALS
from clientsense.results import Signal, Span
from clientsense.signal_model import SIGNAL_MODEL_FILE, UNFITTED_INTERCEPT, SignalModel, clauses, combine
from clientsense.signals import SignalExtractor


def _toy_corpus() -> pd.DataFrame:
    rows = []
    for i in range(12):
        text = f"Order {i} came today. Please frobnicate the zorble thing."
        rows.append(
            {"text": text, "lang": "en", "signals": [{"id": "refund_request", "span": "frobnicate the zorble"}]}
        )
        rows.append(
            {"text": f"Order {i} came today. The colour is lovely, nothing else to add.", "lang": "en", "signals": []}
        )
    return pd.DataFrame(rows)


def _toy_model() -> SignalModel:
    from clientsense.training.signal_train import fit_signal_model

    df = _toy_corpus()
    return fit_signal_model(df, df, n_features=1 << 12, prune=0.0)


def test_clauses_are_trimmed_ranges_of_the_text() -> None:
    text = "Hello!  Where is my parcel?\nI paid on Monday, and nothing, not a word; please call me back today."
    for a, b in clauses(text):
        piece = text[a:b]
        assert piece == piece.strip(" .,;:!?\n") and piece
    assert "Where is my parcel" in [text[a:b] for a, b in clauses(text)]
    assert clauses("") == [] and clauses("...!!!") == []


def test_toy_detector_finds_unseen_wording_with_a_valid_span() -> None:
    model = _toy_model()
    assert model.thresholds.get("refund_request") is not None  # patterns miss "frobnicate": the model helps
    text = "Hi there. Kindly frobnicate the zorble, the lamp broke."
    (hits,) = model.detect([(text, "en")])
    refund = [s for s in hits if s.id == "refund_request"]
    assert refund and refund[0].source == "model"
    span = refund[0].span
    assert text[span.start : span.end] == span.text and "frobnicate" in span.text
    j = SIGNALS.index("refund_request")
    (pos, _, _), (neg, _, _) = model.best_clauses([(text, "en"), ("The colour is lovely.", "en")])
    assert pos[j] > 0.5 > neg[j]


def test_thresholds_are_chosen_from_the_grid_and_gate_the_output() -> None:
    model = _toy_model()
    assert set(model.thresholds) <= set(SIGNALS)
    assert all(0.0 < t < 1.0 for t in model.thresholds.values())
    text = "Kindly frobnicate the zorble."
    model.thresholds = {}
    assert model.detect([(text, "en")]) == [()]  # no threshold: the detector stays silent
    model.thresholds = {"refund_request": 0.999999}
    score = model.best_clauses([(text, "en")])[0][0][SIGNALS.index("refund_request")]
    assert (model.detect([(text, "en")]) != [()]) == (score >= 0.999999)


def test_threshold_scale_lowers_every_dev_threshold() -> None:
    from clientsense.training.signal_train import choose_thresholds, fit_signal_model

    df = _toy_corpus()
    model = fit_signal_model(df, df, n_features=1 << 12, prune=0.0, threshold_scale=0.5)
    chosen = choose_thresholds(model, df)  # what dev alone picks for these weights
    assert chosen and model.thresholds == {sig: pytest.approx(t * 0.5) for sig, t in chosen.items()}
    full = fit_signal_model(df, df, n_features=1 << 12, prune=0.0, threshold_scale=1.0)
    assert full.thresholds == chosen
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="threshold_scale"):
            fit_signal_model(df, df, n_features=1 << 10, threshold_scale=bad)


def test_training_without_positives_gives_a_silent_detector() -> None:
    from clientsense.training.signal_train import fit_signal_model

    df = pd.DataFrame({"text": ["hello there", "!!!"], "lang": ["en", "en"], "signals": [[], []]})
    model = fit_signal_model(df, df.iloc[:0], n_features=1 << 10)
    assert model.thresholds == {}
    assert model.detect([("Refund me now.", "en"), ("", "en")]) == [(), ()]
    assert model.features([], []).shape == (0, 1 << 10)


def test_training_is_deterministic() -> None:
    a, b = _toy_model(), _toy_model()
    assert a.coef is not None and b.coef is not None
    assert (a.coef != b.coef).nnz == 0
    assert np.array_equal(a.intercept, b.intercept) and a.thresholds == b.thresholds


def test_combine_keeps_pattern_spans_and_adds_only_missing_ids() -> None:
    rule = Signal("refund_request", Span(0, 6, "refund"))
    learned = (Signal("refund_request", Span(10, 20, "x" * 10), "model"), Signal("urgency", Span(2, 5, "abc"), "model"))
    out = combine((rule,), learned)
    assert [(s.id, s.source) for s in out] == [("refund_request", "rule"), ("urgency", "model")]
    assert combine((rule,), ()) == (rule,)


def test_shipped_analyzer_adds_learned_signals_with_valid_spans(analyzer) -> None:  # type: ignore[no-untyped-def]
    from clientsense.training.corpus import load_corpus

    assert analyzer.signal_model is not None, "the shipped models/ should include signals.npz"
    assert analyzer.signal_model.thresholds
    corpus = load_corpus(Path(__file__).resolve().parents[1] / "data" / "corpus")
    texts = corpus[corpus["split"] == "dev"]["text"].tolist()[:300]
    learned = 0
    for r in analyzer.analyze_many(texts):
        for s in r.signals:
            assert r.text[s.span.start : s.span.end] == s.span.text and s.span.end > s.span.start
        rule_ids = {s.id for s in r.signals if s.source == "rule"}
        model_ids = [s.id for s in r.signals if s.source == "model"]
        assert len(model_ids) == len(set(model_ids)) and not rule_ids & set(model_ids)
        learned += len(model_ids)
    assert learned > 0


def test_analyzer_wires_the_detector_into_results(analyzer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(analyzer, "signal_model", _toy_model())
    r = analyzer.analyze("Kindly frobnicate the zorble. Thanks.")
    assert any(s.id == "refund_request" and s.source == "model" for s in r.signals)


def _copy_models(tmp_path: Path) -> Path:
    dst = tmp_path / "models"
    shutil.copytree(models_dir(), dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def test_without_the_artifact_the_patterns_alone_are_used(tmp_path: Path) -> None:
    from clientsense.analyzer import Analyzer

    d = _copy_models(tmp_path)
    (d / SIGNAL_MODEL_FILE).unlink(missing_ok=True)
    (d / "MANIFEST.json").unlink()
    write_manifest(d)
    a = Analyzer(d, trusted=True)
    assert a.signal_model is None and a.info()["signal_model"] is False
    text = "Third time asking: where is my refund? Your courier is useless, I'll leave a review."
    r = a.analyze(text)
    assert r.signals == SignalExtractor().extract(r.text, r.language)
    assert all(s.source == "rule" for s in r.signals)


def test_wrong_content_in_the_signal_artifact_is_refused(tmp_path: Path) -> None:
    from clientsense.analyzer import Analyzer
    from clientsense.compiled import save_arrays

    d = _copy_models(tmp_path)
    save_arrays(d / SIGNAL_MODEL_FILE, {"x": np.zeros(3)}, {"kind": "stacked"})  # another kind of model
    write_manifest(d)
    with pytest.raises(ArtifactError, match="signal model"):
        Analyzer(d, trusted=True)
    (d / SIGNAL_MODEL_FILE).write_bytes(b"not a zip file")
    write_manifest(d)
    with pytest.raises(ArtifactError, match="signal model"):
        Analyzer(d, trusted=True)


def test_legacy_pickled_signal_model_still_loads_when_trusted(tmp_path: Path) -> None:
    import joblib

    from clientsense.analyzer import Analyzer
    from clientsense.signal_model import LEGACY_SIGNAL_MODEL_FILE

    d = _copy_models(tmp_path)
    model = SignalModel.load(d / SIGNAL_MODEL_FILE)
    (d / SIGNAL_MODEL_FILE).unlink()
    joblib.dump(model, d / LEGACY_SIGNAL_MODEL_FILE)
    (d / "MANIFEST.json").unlink()
    write_manifest(d)
    text = "Third time asking: where is my refund? Your courier is useless."
    assert Analyzer(d, trusted=True).analyze(text).signals == Analyzer().analyze(text).signals
    joblib.dump({"not": "a model"}, d / LEGACY_SIGNAL_MODEL_FILE)
    write_manifest(d)
    with pytest.raises(ArtifactError, match="SignalModel"):
        Analyzer(d, trusted=True)


def test_fast_features_equal_the_reference_hashing_vectorizers() -> None:
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    from clientsense.clean import fold
    from clientsense.signal_model import _vectorizers

    pieces = [
        "Je veux un remboursement, MAINTENANT !!",
        "  oddly\u00a0 spaced\t\twords  and  repeats repeats repeats ",
        "Zwróćcie pieniądze za zamówienie 123",
        "ß İ ǅ __en__ x",
        "ok",
    ]
    langs = ["fr", "en", "pl", "en", "en"]
    model = SignalModel(n_features=1 << 12)
    for _ in range(2):  # cold, then from the per-word hash tables
        fast = model.features(pieces, langs).tocsr()
        char, word = _vectorizers(model.n_features)
        folded = [fold(p) for p in pieces]
        ref = sp.csr_matrix(
            char.transform(folded) + word.transform([f"__{lg}__ {f}" for f, lg in zip(folded, langs, strict=True)]),
            dtype=np.float32,
        )
        ref = sp.csr_matrix(normalize(ref).astype(np.float32))
        assert fast.shape == ref.shape
        assert abs(fast - ref).max() < 1e-6
        assert (fast != 0).nnz == (ref != 0).nnz


def test_detect_scores_only_the_thresholded_signals_and_agrees_with_the_full_scores() -> None:
    model = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    rows = [
        ("You are clowns. I will not pay the second invoice; this is the third time I write.", "en"),
        ("Can you also redo the logo and the flyer while you are at it?", "en"),
        ("Вы идиоты, платить не буду.", "ru"),
        ("", "en"),
    ]
    full = model.best_clauses(rows)
    want = []
    for (text, _), (score, rs, arg) in zip(rows, full, strict=True):
        hits = []
        for j, sig in enumerate(model.signals):
            t = model.thresholds.get(sig)
            if t is not None and rs and score[j] >= t:
                a, b = rs[int(arg[j])]
                hits.append(Signal(sig, Span(a, b, text[a:b]), source="model"))
        want.append(tuple(hits))
    assert model.detect(rows) == want
    assert set(model._dense) == {
        tuple(range(len(model.signals))),
        tuple(sorted(SIGNALS.index(s) for s in model.thresholds)),
    }
    # a model without thresholds scores nothing
    silent = SignalModel(model.n_features, model.signals, model.coef, model.intercept, {})
    assert silent.detect(rows) == [(), (), (), ()] and not silent._dense


def test_saved_model_stores_signal_columns_in_a_byte_and_loads_back_exactly(tmp_path: Path) -> None:
    model = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    path = model.save(tmp_path / SIGNAL_MODEL_FILE)
    with np.load(path, allow_pickle=False) as z:
        assert z["coef_indices"].dtype == np.uint8  # 18 signals
    again = SignalModel.load(path)
    assert model.coef is not None and again.coef is not None
    assert again.coef.indices.dtype == np.int32
    assert (again.coef != model.coef).nnz == 0 and again.coef.shape == model.coef.shape
    assert again.thresholds == model.thresholds and np.array_equal(again.intercept, model.intercept)
    rows = [("Third time asking: where is my refund? Your courier is useless.", "en")]
    assert [d for d in again.detect(rows)] == [d for d in model.detect(rows)]


def test_a_model_written_with_row_pointers_still_loads(tmp_path: Path) -> None:
    from clientsense.compiled import load_arrays, save_arrays

    model = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    arrays, header = load_arrays(model.save(tmp_path / "new.npz"))
    assert model.coef is not None
    old = {k: v for k, v in arrays.items() if k != "coef_row_nnz"}
    old["coef_indptr"] = model.coef.indptr
    old["coef_indices"] = model.coef.indices.astype(np.int32)
    again = SignalModel.load(save_arrays(tmp_path / "old.npz", old, header))
    assert again.coef is not None and (again.coef != model.coef).nnz == 0


def test_densified_model_scores_to_the_bit_and_holds_no_sparse_copy(tmp_path: Path) -> None:
    from clientsense.analyzer import Analyzer

    sparse = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    dense = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    dense.densify()
    assert dense.coef is None and dense._full is not None
    rows = [
        ("You are clowns. I will not pay the second invoice; this is the third time I write.", "en"),
        ("Zwróćcie pieniądze za zamówienie 123, to już trzeci mail.", "pl"),
        ("Вы идиоты, платить не буду.", "ru"),
        ("", "en"),
    ]
    assert dense.detect(rows) == sparse.detect(rows)
    pieces, langs = [t for t, _ in rows], [lg for _, lg in rows]
    for cols in (None, (3, 1, 7), (0,)):
        assert np.array_equal(dense.clause_scores(pieces, langs, cols), sparse.clause_scores(pieces, langs, cols))
    with pytest.raises(RuntimeError, match="densified"):
        dense.save(tmp_path / "x.npz")
    model = Analyzer().signal_model
    assert model is not None and model.coef is None  # the analyzer keeps only the dense block


def test_veto_drops_pattern_hits_the_detector_scores_low_and_keeps_the_rest() -> None:
    model = _toy_model()
    text = "Kindly frobnicate the zorble. The colour is lovely."
    j = SIGNALS.index("refund_request")
    ranges = clauses(text)
    scores = model.clause_scores([text[a:b] for a, b in ranges], ["en"] * len(ranges))[:, j]
    assert scores[0] > 0.5 > scores[1]
    high = Signal("refund_request", Span(7, 17, text[7:17]))  # "frobnicate": a clause scored high
    low = Signal("refund_request", Span(34, 40, text[34:40]))  # "colour": a clause scored low
    other = Signal("insult", Span(30, 40, text[30:40]))  # never fitted (no examples): it never vetoes
    assert model.intercept[SIGNALS.index("insult")] <= UNFITTED_INTERCEPT
    model.thresholds = {}  # the detector adds nothing of its own here
    model.veto = float(scores[1]) + 1e-4
    assert model.refine([(text, "en")], [(high, low, other)]) == [(high, other)]
    assert model.refine([(text, "en")], [(low,)]) == [()]
    model.veto = 0.0  # no veto: the patterns' hits stand, as combine() gives them
    assert model.refine([(text, "en")], [(high, low, other)]) == [(high, low, other)]
    # a hit whose span touches no clause (punctuation only) is kept
    dots = "... !!!"
    stray = Signal("refund_request", Span(0, 3, "..."))
    model.veto = 0.9
    assert model.refine([(dots, "en")], [(stray,)]) == [(stray,)]


def test_refine_with_a_veto_adds_the_same_learned_hits_as_detect() -> None:
    model = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    rows = [
        ("You are clowns. I will not pay the second invoice; this is the third time I write.", "en"),
        ("Merci et à bientôt,\nThomas", "fr"),
        ("", "en"),
    ]
    nothing: list[tuple[Signal, ...]] = [(), (), ()]
    plain = model.refine(rows, nothing)
    model.veto = 0.05
    assert model.refine(rows, nothing) == plain == [combine((), hits) for hits in model.detect(rows)]


def test_all_scores_agree_densified_or_not_and_the_veto_survives_saving(tmp_path: Path) -> None:
    model = SignalModel.load(models_dir() / SIGNAL_MODEL_FILE)
    pieces, langs = ["Vous êtes des incapables", "Thanks for fixing the boiler so fast", "ok"], ["fr", "en", "en"]
    sparse = model.all_scores(pieces, langs)
    assert sparse.shape == (3, len(model.signals))
    model.veto = 0.07
    path = model.save(tmp_path / SIGNAL_MODEL_FILE)
    again = SignalModel.load(path)
    assert again.veto == pytest.approx(0.07)
    again.densify()
    assert np.allclose(again.all_scores(pieces, langs), sparse, atol=1e-6)
    assert again.all_scores([], []).shape == (0, len(model.signals))


def test_a_model_file_without_a_veto_loads_with_none_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    from clientsense.compiled import CompileError, load_arrays, save_arrays

    arrays, header = load_arrays(models_dir() / SIGNAL_MODEL_FILE)
    old = {k: v for k, v in header.items() if k != "veto"}
    save_arrays(tmp_path / "old.npz", arrays, old)
    assert SignalModel.load(tmp_path / "old.npz").veto == 0.0
    save_arrays(tmp_path / "bad.npz", arrays, {**old, "veto": 1.5})
    with pytest.raises(CompileError, match="veto"):
        SignalModel.load(tmp_path / "bad.npz")
    from clientsense.training.signal_train import fit_signal_model

    with pytest.raises(ValueError, match="veto"):
        fit_signal_model(_toy_corpus(), _toy_corpus(), n_features=1 << 10, veto=1.0)
