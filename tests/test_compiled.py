"""Models as arrays: the compiled classifiers give the scikit-learn estimators' probabilities,
load without unpickling, refuse malformed files, and the shipped model runs without scikit-learn."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

from clientsense.analyzer import Analyzer
from clientsense.artifacts import ArtifactError, models_dir, write_manifest
from clientsense.classify import StackedClassifier, TextClassifier
from clientsense.compiled import (
    CompiledClassifier,
    CompileError,
    LinearModel,
    compile_stacked,
    load_arrays,
    load_classifier,
    save_arrays,
    save_classifier,
)
from clientsense.features import TextFeaturizer, side_columns, side_frame, signal_columns
from clientsense.textfeatures import (
    Rows,
    add_rows,
    char_wb_ngrams,
    hashed_char_counts,
    hashed_word_counts,
    l2_normalize_rows,
    row_sums,
    tfidf,
)

TEXTS = [
    ("morons, all of you", "en"),
    ("many thanks, it works again", "en"),
    ("fourth email and the box is still missing!!", "en"),
    ("тупые бездельники", "ru"),
    ("благодарю, всё пришло", "ru"),
    ("снова сломалось, сколько ждать!!", "ru"),
    ("merci, tout est réglé", "fr"),
    ("bande d'incapables", "fr"),
    ("toujours rien reçu, c'est la troisième fois", "fr"),
] * 5
TONES = ["abusive", "neutral", "frustrated"] * 15
TYPES = ["problem_client", "client_with_problem", "client_with_problem"] * 15
FLAGS = [{"insult"}, {"gratitude"}, {"repeat_contact"}] * 15


def _text_model(solver: str = "logistic") -> TextClassifier:
    return TextClassifier(featurizer=TextFeaturizer(n_char_features=2**12, n_word_features=2**10), solver=solver)


@pytest.fixture(scope="module")
def models() -> tuple[StackedClassifier, StackedClassifier]:
    frame = side_frame(TEXTS, FLAGS)
    tone = StackedClassifier(_text_model("sgd"), signal_columns(), cv=3).fit(frame, TONES)
    tone.calibrate_per_language(frame, TONES, min_rows=10)
    typed = side_frame(TEXTS, FLAGS, tone.predict_proba(frame), list(tone.classes_))
    client_type = StackedClassifier(_text_model(), side_columns(), cv=3).fit(typed, TYPES)
    client_type.text_model_.model_.coef_ = client_type.text_model_.model_.coef_.astype(np.float16)
    return tone, client_type


UNSEEN = [
    ("where is my refund, third time asking!!", "en"),
    ("Вы мошенники", "ru"),
    ("Bonjour, merci pour votre aide", "fr"),
    ("", "xx"),
    ("ÇA SUFFIT 😡", "fr"),
]


def _frame(
    model: StackedClassifier, rows: list[tuple[str, str]], tone: StackedClassifier | None = None
) -> pd.DataFrame:
    flags = [{"insult"}, set(), {"gratitude"}, set(), {"repeat_contact"}][: len(rows)]
    if tone is None:
        return side_frame(rows, flags)
    return side_frame(rows, flags, tone.predict_proba(side_frame(rows, flags)), list(tone.classes_))


def test_compiled_probabilities_equal_the_estimators(models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tone, client_type = models
    for model, frame in ((tone, _frame(tone, UNSEEN)), (client_type, _frame(client_type, UNSEEN, tone))):
        compiled = compile_stacked(model)
        ref = model.predict_proba(frame)
        np.testing.assert_allclose(compiled.predict_proba(frame), ref, rtol=0, atol=1e-12)
        assert list(compiled.predict(frame)) == list(model.predict(frame))
        assert compiled.temperatures == {k: v.temperature_ for k, v in model.lang_calibrators_.items()}
        loaded = load_classifier(save_classifier(model, tmp_path / "m.npz"))
        np.testing.assert_array_equal(loaded.predict_proba(frame), compiled.predict_proba(frame))
        assert loaded.text.coef.dtype == model.text_model_.model_.coef_.dtype  # stored precision kept
        again = save_classifier(loaded, tmp_path / "again.npz")
        assert again.read_bytes() == (tmp_path / "m.npz").read_bytes()  # same model, same bytes
    assert compile_stacked(tone).temperatures, "the tone model was calibrated per language"


def test_array_files_never_unpickle(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, __header__=np.frombuffer(b'{"format": "clientsense.arrays/1"}', dtype=np.uint8), x=np.array([{}]))
    with pytest.raises(CompileError, match="not a readable"):  # an object array needs pickle: refused
        load_arrays(path)
    np.savez(path, x=np.zeros(2))
    with pytest.raises(CompileError, match=r"not a clientsense\.arrays/1 file"):
        load_arrays(path)
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CompileError):
        load_arrays(path)


def test_mismatched_arrays_are_refused(models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    arrays, header = compile_stacked(models[0]).to_arrays()
    arrays["word_idf"] = arrays["word_idf"][:-1]
    with pytest.raises(CompileError, match="shapes"):
        CompiledClassifier.from_arrays(arrays, header)
    with pytest.raises(CompileError, match="kind"):
        CompiledClassifier.from_arrays(arrays, {**header, "kind": "signals"})


def test_only_linear_models_compile() -> None:
    from sklearn.naive_bayes import MultinomialNB

    with pytest.raises(CompileError, match="MultinomialNB"):
        LinearModel.from_sklearn(MultinomialNB().fit(np.eye(3), [0, 1, 1]))


def _write_dir(d: Path, tone: object, client_type: object, suffix: str) -> Path:
    d.mkdir()
    for name, model in (("tone", tone), ("client_type", client_type)):
        if suffix == ".npz":
            save_classifier(model, d / f"tone{suffix}" if name == "tone" else d / f"client_type{suffix}")
        else:
            joblib.dump(model, d / f"{name}{suffix}")
    shutil.copytree(models_dir() / "langid", d / "langid")
    write_manifest(d, {"version": "test"})
    return d


def test_a_pickled_model_directory_loads_as_the_same_arrays(models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tone, client_type = models
    legacy = _write_dir(tmp_path / "legacy", tone, client_type, ".joblib")
    arrays = _write_dir(tmp_path / "arrays", tone, client_type, ".npz")
    texts = ["Third time asking: where is my refund?!", "Вы идиоты", "Merci beaucoup", ""]
    a, b = Analyzer(legacy, trusted=True), Analyzer(arrays, trusted=True)
    assert [r.to_dict() for r in a.analyze_many(texts)] == [r.to_dict() for r in b.analyze_many(texts)]
    with pytest.raises(ArtifactError, match="trusted=True"):
        Analyzer(arrays)
    joblib.dump({"not": "a model"}, legacy / "tone.joblib")
    write_manifest(legacy)
    with pytest.raises(ArtifactError, match="StackedClassifier"):
        Analyzer(legacy, trusted=True)


def test_a_corrupt_array_model_is_a_clear_error(models, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = _write_dir(tmp_path / "m", *models, ".npz")
    save_arrays(d / "tone.npz", {"x": np.zeros(1)}, {"kind": "stacked"})
    write_manifest(d)
    with pytest.raises(ArtifactError, match="does not hold a clientsense classifier"):
        Analyzer(d, trusted=True)


def test_the_shipped_model_runs_without_scikit_learn_pandas_or_pickles() -> None:
    code = (
        "import sys, clientsense\n"
        "r = clientsense.Analyzer().analyze('Third time asking: where is my refund?!')\n"
        "print(r.tone, r.client_type, r.step.id)\n"
        "print(sorted(m for m in ('sklearn', 'pandas', 'joblib', 'pickle') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[1] in ("[]", "['pickle']"), out  # pickle may come with the standard library, never used
    assert "sklearn" not in out[1] and "joblib" not in out[1] and "pandas" not in out[1]


# --- the featurization arithmetic equals scikit-learn's ---------------------------------------------

WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(docs=st.lists(st.lists(WORDS, max_size=6), min_size=1, max_size=5), lo=st.integers(1, 3), span=st.integers(0, 3))
def test_hashing_equals_scikit_learns_vectorizers(docs: list[list[str]], lo: int, span: int) -> None:
    hi, n = lo + span, 2**10
    char = HashingVectorizer(
        analyzer="char_wb", ngram_range=(lo, hi), n_features=n, lowercase=False, alternate_sign=False, norm=None
    )
    ours = hashed_char_counts(docs, (lo, hi), n).tocsr()
    ref = char.transform([" ".join(d) for d in docs])
    assert (ours != ref).nnz == 0 and ours.has_canonical_format
    word = HashingVectorizer(analyzer=lambda d: d, n_features=n, alternate_sign=False, norm=None)
    words = hashed_word_counts(docs, n).tocsr()
    assert (words != word.transform(docs)).nnz == 0 and words.has_canonical_format
    for w in (d[0] for d in docs if d):
        assert char_wb_ngrams(w, (lo, hi)) == char.build_analyzer()(w)


def test_full_hashing_tables_keep_their_entries_and_results_stay_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the table bound nothing is cleared or added; new units are hashed on each use."""
    import clientsense.textfeatures as tf

    docs = [[f"w{i}", f"x{i % 3}", "shared"] for i in range(40)]
    n = 2**12
    want_char, want_word = hashed_char_counts(docs, (2, 4), n).tocsr(), hashed_word_counts(docs, n).tocsr()
    monkeypatch.setattr(tf, "_UNIT_TABLE_MAX", 5)
    monkeypatch.setattr(tf, "_unit_tables", {})
    monkeypatch.setattr(tf, "_gram_tables", {})
    for _ in range(2):
        assert (hashed_char_counts(docs, (2, 4), n).tocsr() != want_char).nnz == 0
        assert (hashed_word_counts(docs, n).tocsr() != want_word).nnz == 0
    (chars,) = tf._unit_tables.values()
    (grams,) = tf._gram_tables.values()
    assert list(chars) == ["w0", "x0", "shared", "w1", "x1"]  # the first units met, kept
    assert len(grams) == 5 and "shared" in grams


def test_tfidf_and_row_normalisation_equal_scikit_learns() -> None:
    rng = np.random.default_rng(0)
    dense_counts = np.ceil(sp.random(20, 64, density=0.2, random_state=1).toarray() * 5)
    dense_counts[3] = 0  # an empty row
    counts = sp.csr_matrix(dense_counts)
    idf = TfidfTransformer(sublinear_tf=True).fit(counts)
    np.testing.assert_allclose(tfidf(counts, idf.idf_).toarray(), idf.transform(counts).toarray(), rtol=1e-14, atol=0)
    dense = rng.normal(size=(4, 5))
    X = sp.csr_matrix(dense)
    from sklearn.preprocessing import normalize

    np.testing.assert_allclose(l2_normalize_rows(X.copy()).toarray(), normalize(dense), rtol=1e-14)
    rows = Rows.of(counts)
    np.testing.assert_allclose(tfidf(rows, idf.idf_).tocsr().toarray(), idf.transform(counts).toarray(), rtol=1e-14)


@pytest.mark.parametrize("seed", range(4))
def test_rows_arithmetic_equals_scipys(seed: int) -> None:
    """Sums of two matrices and row-wise products, as inference computes them without scipy."""
    a = sp.random(7, 40, density=0.2, format="csr", random_state=seed)
    b = sp.random(7, 40, density=0.2, format="csr", random_state=seed + 10)
    a[2] = 0
    b[2] = 0  # an empty row in both
    a.eliminate_zeros()
    b.eliminate_zeros()
    total = add_rows(Rows.of(a), Rows.of(b)).tocsr()
    assert total.has_canonical_format and (total != (a + b)).nnz == 0
    w = np.random.default_rng(seed).normal(size=(40, 3))
    prod = row_sums(w[total.indices] * total.data[:, None], total.indptr)
    np.testing.assert_allclose(prod, (a + b) @ w, rtol=1e-13, atol=1e-15)
    linear = LinearModel(np.asfortranarray(w.T), np.zeros(3), multinomial=True)
    np.testing.assert_allclose(linear.proba(Rows.of(total)), linear.proba(total), rtol=1e-13)


def test_shipped_arrays_hold_what_the_card_says() -> None:
    meta = json.loads((models_dir() / "training.json").read_text(encoding="utf-8"))
    tone = load_classifier(models_dir() / "tone.npz")
    assert tone.temperatures == pytest.approx(meta["tone_temperatures"])
    assert list(tone.classes_) == ["abusive", "frustrated", "neutral"]
