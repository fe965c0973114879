"""The featurizer and classifiers against scikit-learn's estimator contract.

They take texts (or ``(text, lang)`` rows, or a frame with ``text``/``lang`` and side columns),
not numeric matrices, and say so in their tags (``input_tags.string``, ``two_d_array=False``),
so ``check_estimator`` skips them. We therefore run:

* scikit-learn's own checks that need no numeric training data, unchanged
  (``SKLEARN_CHECKS`` below: cloning, repr, tags, params in ``__init__``, ``get_params``/``set_params``,
  default construction, unfitted errors, mixin order);
* text-data versions of the data-driven API checks (fit returns self, fit leaves params alone and adds
  only trailing-underscore attributes, idempotent fit, pickle round trip, predict leaves ``__dict__``
  unchanged, sample-order and subset invariance, string class labels, clone of a fitted estimator).

Not applicable: ``n_features_in_``/feature-name checks (no fixed numeric width), numeric dtype, NaN/inf,
sparse input, 1-feature and 1-sample numeric data.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks as ec
from sklearn.utils.validation import check_is_fitted

from clientsense.classify import StackedClassifier, TextClassifier
from clientsense.features import TextFeaturizer

SKLEARN_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
]

ROWS = [
    ("you are useless idiots, I hate you", "en"),
    ("thanks, the parcel arrived and all is fine", "en"),
    ("third time I write, still broken, fix it!!!", "en"),
    ("vous êtes des incapables et des idiots", "fr"),
    ("merci, tout fonctionne maintenant", "fr"),
    ("encore en panne, c'est la troisième fois !", "fr"),
] * 5
TONE = ["abusive", "neutral", "frustrated"] * 10


def _featurizer() -> TextFeaturizer:
    return TextFeaturizer(n_char_features=2**11, n_word_features=2**9)


def _text_clf() -> TextClassifier:
    return TextClassifier(featurizer=_featurizer())


def _stacked() -> StackedClassifier:
    return StackedClassifier(_text_clf(), side_columns=("flag",), cv=3)


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=["text", "lang"])
    return df.assign(flag=[1.0 if t == "abusive" else 0.0 for t in TONE])


ESTIMATORS = {
    "TextFeaturizer": (_featurizer, lambda: ROWS),
    "TextClassifier": (_text_clf, lambda: ROWS),
    "StackedClassifier": (_stacked, _frame),
}


def _fit(make, data):  # type: ignore[no-untyped-def]
    est = make()
    return est, est.fit(data(), TONE)


def _outputs(est, X) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    out = {}
    for method in ("predict", "predict_proba", "transform"):
        if hasattr(est, method):
            res = getattr(est, method)(X)
            out[method] = res.toarray() if hasattr(res, "toarray") else np.asarray(res)
    return out


@pytest.mark.parametrize("check", SKLEARN_CHECKS)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_sklearn_api_checks(name: str, check: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(ec, check)(name, ESTIMATORS[name][0]())


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_tags_declare_text_input(name: str) -> None:
    from sklearn.utils import get_tags

    tags = get_tags(ESTIMATORS[name][0]())
    assert tags.input_tags.string and not tags.input_tags.two_d_array


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fit_returns_self_keeps_params_adds_only_fitted_attrs(name: str) -> None:
    make, data = ESTIMATORS[name]
    est = make()
    before = {k: pickle.dumps(v) for k, v in est.get_params(deep=False).items()}
    public_before = {k for k in vars(est) if not k.startswith("_")}
    assert est.fit(data(), TONE) is est
    assert {k: pickle.dumps(v) for k, v in est.get_params(deep=False).items()} == before
    added = {k for k in vars(est) if not k.startswith("_")} - public_before
    assert added and all(k.endswith("_") for k in added)
    check_is_fitted(est)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_fit_idempotent_pickle_clone_and_no_state_change(name: str) -> None:
    make, data = ESTIMATORS[name]
    est = make().fit(data(), TONE)
    first = _outputs(est, data())
    est.fit(data(), TONE)
    again = _outputs(est, data())
    for k in first:
        np.testing.assert_array_equal(first[k], again[k])
    state = pickle.dumps(vars(est))
    _outputs(est, data())
    assert pickle.dumps(vars(est)) == state, "predict/transform changed the estimator"
    loaded = pickle.loads(pickle.dumps(est))
    for k, v in _outputs(loaded, data()).items():
        np.testing.assert_array_equal(v, first[k])
    fresh = clone(est)
    assert fresh.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    assert not any(k.endswith("_") for k in vars(fresh) if not k.startswith("_"))


@pytest.mark.parametrize("name", ["TextClassifier", "StackedClassifier"])
def test_sample_order_and_subset_invariance(name: str) -> None:
    make, data = ESTIMATORS[name]
    est = make().fit(data(), TONE)
    X = data()
    full = est.predict_proba(X)
    order = np.random.default_rng(0).permutation(len(TONE))
    Xp = X.iloc[order] if hasattr(X, "iloc") else [X[i] for i in order]
    np.testing.assert_allclose(est.predict_proba(Xp), full[order], atol=1e-12)
    half = X.iloc[:7] if hasattr(X, "iloc") else X[:7]
    np.testing.assert_allclose(est.predict_proba(half), full[:7], atol=1e-12)
    assert est.classes_.tolist() == ["abusive", "frustrated", "neutral"]
    assert set(est.predict(X)) <= set(est.classes_)


def test_text_estimators_refuse_numeric_matrices() -> None:
    with pytest.raises(ValueError, match="2 columns"):
        _text_clf().fit(np.zeros((30, 3)), TONE)


def test_stacked_without_side_columns_takes_plain_texts() -> None:
    m = StackedClassifier(_text_clf(), cv=3).fit([t for t, _ in ROWS], TONE)
    assert m.predict(["you are useless idiots"]).tolist() == ["abusive"]


def test_in_sklearn_tooling() -> None:
    from sklearn.model_selection import GridSearchCV, cross_val_score

    scores = cross_val_score(_text_clf(), ROWS, TONE, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.5
    grid = GridSearchCV(_text_clf(), {"C": [0.5, 4.0]}, cv=3).fit(ROWS, TONE)
    assert grid.best_params_["C"] in (0.5, 4.0)
