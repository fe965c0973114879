"""The featurizer and classifier follow scikit-learn's estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from clientsense.classify import TemperatureScaler, TextClassifier
from clientsense.features import TextFeaturizer, as_rows, style_vector, tokenize

TEXTS = [
    ("you are useless idiots", "en"),
    ("thank you, all good now", "en"),
    ("this is the third time, still broken!!!", "en"),
    ("вы идиоты и бездари", "ru"),
    ("спасибо, всё работает", "ru"),
    ("опять не работает, сколько можно!!!", "ru"),
] * 6
LABELS = ["abusive", "neutral", "frustrated"] * 12


def small() -> TextClassifier:
    return TextClassifier(featurizer=TextFeaturizer(n_char_features=2**12, n_word_features=2**10), cv=2)


def test_params_untouched_and_clone() -> None:
    f = TextFeaturizer(n_char_features=1024)
    assert f.get_params()["n_char_features"] == 1024
    c = clone(small())
    assert c.get_params()["cv"] == 2 and not hasattr(c, "model_")


def test_unfitted_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        small().predict(["x"])


def test_fit_predict_proba_shapes_and_sum() -> None:
    m = small().fit(TEXTS, LABELS)
    assert list(m.classes_) == ["abusive", "frustrated", "neutral"]
    p = m.predict_proba(TEXTS[:6])
    assert p.shape == (6, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert list(m.predict(TEXTS[:3])) == ["abusive", "neutral", "frustrated"]
    assert m.predict_proba([]).shape == (0, 3)


def test_deterministic_fit() -> None:
    a = small().fit(TEXTS, LABELS).predict_proba(TEXTS[:6])
    b = small().fit(TEXTS, LABELS).predict_proba(TEXTS[:6])
    np.testing.assert_array_equal(a, b)


def test_inputs_accepted() -> None:
    import pandas as pd

    assert as_rows(["a", "b"]) == [("a", "xx"), ("b", "xx")]
    assert as_rows(pd.DataFrame({"text": ["a"], "lang": ["ro"]})) == [("a", "ro")]
    assert as_rows(np.array([["a", "pl"]])) == [("a", "pl")]
    with pytest.raises(TypeError):
        as_rows([3])


def test_length_mismatch() -> None:
    with pytest.raises(ValueError, match="rows"):
        small().fit(TEXTS, LABELS[:-1])


def test_per_language_temperature() -> None:
    m = small().fit(TEXTS, LABELS).calibrate_per_language(TEXTS, LABELS, min_rows=5)
    assert set(m.lang_calibrators_) == {"en", "ru"}
    p = m.predict_proba(TEXTS[:6])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


def test_temperature_scaler_sharpens_underconfident() -> None:
    proba = np.array([[0.6, 0.4]] * 50 + [[0.4, 0.6]] * 50)
    y = np.array(["a"] * 50 + ["b"] * 50)
    t = TemperatureScaler().fit(proba, y, np.array(["a", "b"]))
    assert t.temperature_ < 1.0
    assert t.transform(proba)[0, 0] > 0.6


def test_tokenize_uses_spacy_and_folds() -> None:
    assert tokenize("Nu-i așa, Ștefan?", "ro") == ["nu", "-i", "asa", "stefan"]
    assert tokenize("Don't!", "en") == ["do", "n't"]
    assert tokenize("ok", "zz-unknown") == ["ok"]


def test_style_features() -> None:
    loud = style_vector("WHY IS THIS STILL BROKEN?!!")
    calm = style_vector("why is this still broken")
    assert loud[1] > 0.9 and calm[1] == 0.0
    assert loud[5] == 1.0 and calm[5] == 0.0


def test_feature_cache_never_mixes_batches() -> None:
    f = TextFeaturizer(n_char_features=2**10, n_word_features=2**8).fit(TEXTS)
    a = [("QUIET please!!!", "en"), ("спасибо", "ru")]
    b = [("calm words here", "en"), ("ВЫ ИДИОТЫ", "ru")]
    fresh_a = f.transform(a).toarray()
    f.transform(b)
    np.testing.assert_array_equal(f.transform(a).toarray(), fresh_a)
    assert not np.array_equal(f.transform(b).toarray(), fresh_a)


def test_predict_proba_columns_equals_predict_proba_on_the_side_frame() -> None:
    from clientsense.classify import StackedClassifier
    from clientsense.features import side_frame, signal_columns, signal_flag_arrays

    flags = [{"insult"}, {"gratitude"}, {"repeat_contact"}, {"insult"}, {"gratitude"}, {"repeat_contact"}] * 6
    model = StackedClassifier(small(), signal_columns(), cv=2).fit(side_frame(TEXTS, flags), LABELS)
    assert np.array_equal(
        model.predict_proba_columns(TEXTS, signal_flag_arrays(flags)), model.predict_proba(side_frame(TEXTS, flags))
    )
    with pytest.raises(ValueError, match="side columns"):
        model.predict_proba_columns(TEXTS, {})
    with pytest.raises(ValueError, match="DataFrame with columns"):
        model.predict_proba(TEXTS)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_stored_weight_precision_keeps_the_probabilities(dtype: type) -> None:
    """Shipped text models keep their weights as float32 (tone and step as float16): the fast
    path must still give scikit-learn's probabilities for those weights, and close to float64's."""
    from clientsense.classify import linear_proba

    m = small().fit(TEXTS, LABELS)
    X = m.featurizer_.transform(as_rows(TEXTS[:6]))
    full = m.model_.predict_proba(X)
    m.model_.coef_ = m.model_.coef_.astype(dtype)
    np.testing.assert_allclose(linear_proba(m.model_, X), m.model_.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(linear_proba(m.model_, X), full, atol=2e-3)
    assert (linear_proba(m.model_, X).argmax(axis=1) == full.argmax(axis=1)).all()


@pytest.mark.parametrize("seed", range(5))
def test_hstack_equals_scipy_hstack(seed: int) -> None:
    """The featurizer's one-construction stacking gives scipy's hstack exactly (entries, order, type)."""
    import scipy.sparse as sp

    from clientsense.textfeatures import hstack_csr

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    blocks = [sp.random(n, int(w), density=0.3, format="csr", random_state=seed + i) for i, w in enumerate((50, 1, 9))]
    blocks[1] = sp.csr_matrix((n, 1))  # a block with no entries at all
    ours, ref = hstack_csr(blocks), sp.hstack(blocks, format="csr")
    assert type(ours) is type(ref) and ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_array_equal(ours.data, ref.data)
    as32 = [b.astype(np.float32) for b in blocks]  # other dtypes go to scipy
    assert (hstack_csr(as32) != sp.hstack(as32, format="csr")).nnz == 0


def test_sgd_n_seeds_keeps_the_mean_of_the_seeds_weights() -> None:
    def sgd(n_seeds: int = 1, seed: int = 0) -> TextClassifier:
        featurizer = TextFeaturizer(n_char_features=2**12, n_word_features=2**10)
        return TextClassifier(featurizer=featurizer, solver="sgd", random_state=seed, n_seeds=n_seeds)

    three = sgd(n_seeds=3).fit(TEXTS, LABELS)
    singles = [sgd(seed=s).fit(TEXTS, LABELS).model_ for s in (0, 1000, 2000)]
    np.testing.assert_allclose(three.model_.coef_, np.mean([m.coef_ for m in singles], axis=0))
    np.testing.assert_allclose(three.model_.intercept_, np.mean([m.intercept_ for m in singles], axis=0))
    assert not np.allclose(singles[0].coef_, singles[1].coef_)  # the seeds do differ
    assert clone(three).get_params()["n_seeds"] == 3
    # the logistic solver has no seed to vary: n_seeds changes nothing
    lr = small().fit(TEXTS, LABELS).model_.coef_
    np.testing.assert_array_equal(clone(small()).set_params(n_seeds=3).fit(TEXTS, LABELS).model_.coef_, lr)


def test_oof_repeats_average_several_fold_splits() -> None:
    from clientsense.classify import StackedClassifier
    from clientsense.features import side_frame, signal_columns

    flags = [{"insult"}, {"gratitude"}, {"repeat_contact"}, {"insult"}, {"gratitude"}, {"repeat_contact"}] * 6
    X = side_frame(TEXTS, flags)
    one = StackedClassifier(small(), signal_columns(), cv=2).fit(X, LABELS)
    again = StackedClassifier(small(), signal_columns(), cv=2, oof_repeats=1).fit(X, LABELS)
    three = StackedClassifier(small(), signal_columns(), cv=2, oof_repeats=3).fit(X, LABELS)
    np.testing.assert_array_equal(one.meta_.coef_, again.meta_.coef_)  # 1 repeat: the single split
    assert not np.allclose(one.meta_.coef_, three.meta_.coef_)  # other splits change the meta model
    np.testing.assert_array_equal(one.text_model_.model_.coef_, three.text_model_.model_.coef_)  # not the text model
    np.testing.assert_allclose(three.predict_proba(X).sum(axis=1), 1.0)


def test_stacked_class_weight_reaches_the_meta_model_and_survives_cloning() -> None:
    from clientsense.classify import StackedClassifier
    from clientsense.features import side_frame, signal_columns

    # a rare class: class-balanced weighting moves the meta model towards it, no weighting does not
    labels = ["frustrated" if i % 6 == 2 else "neutral" for i in range(len(TEXTS))]
    X = side_frame(TEXTS, [set() for _ in TEXTS])
    balanced = StackedClassifier(small(), signal_columns(), cv=2).fit(X, labels)
    plain = StackedClassifier(small(), signal_columns(), cv=2, class_weight=None).fit(X, labels)
    assert balanced.meta_.class_weight == "balanced" and plain.meta_.class_weight is None
    rare = list(plain.classes_).index("frustrated")
    assert balanced.predict_proba(X)[:, rare].mean() > plain.predict_proba(X)[:, rare].mean()
    assert clone(plain).get_params()["class_weight"] is None
