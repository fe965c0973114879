"""Stage 5 — the tone and client-type classifiers (scikit-learn estimator contract).

``TextClassifier`` = :class:`~clientsense.features.TextFeaturizer` + a linear model.
``StackedClassifier`` combines a text classifier's out-of-fold log-odds with dense side
features (the tone model's probabilities and the signal indicators) in a small logistic
regression. Both can be calibrated per language with one softmax temperature each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.utils.validation import check_is_fitted

from .compiled import CompileError, LinearModel, apply_temperature, log_odds, side_matrix, temper_by_language
from .features import TextFeaturizer, as_rows, text_input_tags


class _LanguageCalibrated(ClassifierMixin, BaseEstimator):
    """Shared ``predict``/``predict_proba`` with optional per-language temperatures."""

    classes_: np.ndarray
    lang_calibrators_: dict[str, TemperatureScaler]

    def _raw_proba(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        return text_input_tags(super().__sklearn_tags__())

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"X_types": ["string"]}

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "classes_")
        rows = as_rows(X)
        if not rows:
            return np.zeros((0, len(self.classes_)))
        return self._calibrated(rows, self._raw_proba(X))

    def _calibrated(self, rows: Sequence[tuple[str, str]], proba: np.ndarray) -> np.ndarray:
        temperatures = {lang: cal.temperature_ for lang, cal in self.lang_calibrators_.items()}
        return temper_by_language(proba, rows, temperatures)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def calibrate_per_language(self, X: Any, y: Any, min_rows: int = 40) -> Any:
        """Fit one temperature per language on held-out rows (languages with ≥ ``min_rows``)."""
        check_is_fitted(self, "classes_")
        langs = np.asarray([lang for _, lang in as_rows(X)])
        y = np.asarray(y)
        proba = self._raw_proba(X)
        self.lang_calibrators_ = {}
        for lang in sorted(set(langs.tolist())):
            mask = langs == lang
            if mask.sum() >= min_rows:
                self.lang_calibrators_[lang] = TemperatureScaler().fit(proba[mask], y[mask], self.classes_)
        return self


class TextClassifier(_LanguageCalibrated):
    """A linear text classifier over ``(text, lang)`` rows.

    Parameters
    ----------
    featurizer: the feature extractor (cloned at fit); default ``TextFeaturizer()``.
    solver: ``"logistic"`` (L-BFGS logistic regression, for small data) or ``"sgd"`` (stochastic
        gradient descent on the log loss, for large data).
    C: inverse regularisation strength of the logistic regression.
    alpha: L2 penalty of the SGD solver.
    class_weight: ``"balanced"`` by default.
    calibration: ``"sigmoid"``/``"isotonic"`` (cross-validated) or ``None`` (the model's own probabilities).
    cv: folds used to fit that calibrator.
    n_seeds: the SGD solver is fitted this many times with different shuffling seeds and keeps the
        mean of their weights (one convex loss, so the mean's loss is no higher than theirs on
        average; it varies less from run to run); the logistic solver ignores it.
    """

    def __init__(
        self,
        featurizer: TextFeaturizer | None = None,
        solver: str = "logistic",
        C: float = 4.0,
        alpha: float = 1e-5,
        class_weight: str | dict[str, float] | None = "balanced",
        calibration: str | None = None,
        cv: int = 3,
        max_iter: int = 3000,
        random_state: int = 0,
        n_seeds: int = 1,
    ) -> None:
        self.featurizer = featurizer
        self.solver = solver
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_seeds = n_seeds

    def _base_estimator(self) -> Any:
        if self.solver == "logistic":
            return LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
            )
        if self.solver == "sgd":
            return SGDClassifier(
                loss="log_loss",
                alpha=self.alpha,
                class_weight=self.class_weight,
                max_iter=50,
                tol=1e-4,
                random_state=self.random_state,
            )
        raise ValueError(f"solver must be 'logistic' or 'sgd', got {self.solver!r}")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TextClassifier:
        rows = as_rows(X)
        y = np.asarray(y)
        if len(rows) != len(y):
            raise ValueError(f"X has {len(rows)} rows but y has {len(y)}")
        self.featurizer_ = clone(self.featurizer) if self.featurizer is not None else TextFeaturizer()
        Z = self.featurizer_.fit_transform(rows)
        model = self._base_estimator()
        if self.calibration:
            from sklearn.calibration import CalibratedClassifierCV  # training only: a slow import

            model = CalibratedClassifierCV(model, method=self.calibration, cv=self.cv, ensemble=False)
        model.fit(Z, y, sample_weight=sample_weight)
        if self.solver == "sgd" and self.n_seeds > 1 and not self.calibration:
            fits = [model]
            for k in range(1, self.n_seeds):
                other = self._base_estimator().set_params(random_state=self.random_state + 1000 * k)
                fits.append(other.fit(Z, y, sample_weight=sample_weight))
            model.coef_ = np.mean([f.coef_ for f in fits], axis=0)
            model.intercept_ = np.mean([f.intercept_ for f in fits], axis=0)
        self.model_ = model
        self.classes_ = np.asarray(model.classes_)
        self.lang_calibrators_ = {}
        return self

    def _raw_proba(self, X: Any) -> np.ndarray:
        return linear_proba(self.model_, self.featurizer_.transform(as_rows(X)))


class StackedClassifier(_LanguageCalibrated):
    """Text log-odds (out-of-fold at fit time) + side features → logistic regression.

    ``X`` is a DataFrame with ``text``, ``lang`` and every column named in ``side_columns``.
    With ``meta_column``, only rows where that column is true (e.g. in-domain rows) are folded and
    train the meta model; the other rows (e.g. public corpora) always stay in the text model's
    training data. With ``oof_repeats`` > 1 the out-of-fold scores are the mean over that many
    different fold splits (the meta model then depends less on one split). ``class_weight`` is
    the meta model's (``"balanced"`` or ``None``).
    """

    def __init__(
        self,
        text_model: TextClassifier | None = None,
        side_columns: Sequence[str] = (),
        C: float = 1.0,
        cv: int = 5,
        meta_column: str | None = None,
        random_state: int = 0,
        oof_repeats: int = 1,
        class_weight: str | None = "balanced",
    ) -> None:
        self.text_model = text_model
        self.side_columns = side_columns
        self.C = C
        self.cv = cv
        self.meta_column = meta_column
        self.random_state = random_state
        self.oof_repeats = oof_repeats
        self.class_weight = class_weight

    def _side(self, X: Any, n_rows: int) -> np.ndarray:
        return self._side_matrix(X, getattr(X, "columns", ()), n_rows, "a DataFrame with columns")

    def _side_matrix(self, columns: Any, names: Any, n_rows: int, what: str) -> np.ndarray:
        """The side columns of ``columns`` (a DataFrame or a mapping of arrays) as a float matrix."""
        return side_matrix(columns, names, self.side_columns, n_rows, f"StackedClassifier needs {what}")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> StackedClassifier:
        y = np.asarray(y)
        rows = as_rows(X)
        side = self._side(X, len(rows))
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        meta = np.asarray(X[self.meta_column], dtype=bool) if self.meta_column else np.ones(len(y), dtype=bool)
        template = self.text_model if self.text_model is not None else TextClassifier()
        self.text_model_ = clone(template).fit(rows, y, sample_weight=weight)
        folded = np.flatnonzero(meta)
        oof = np.zeros((len(folded), len(self.text_model_.classes_)))
        from sklearn.model_selection import StratifiedKFold  # training only

        for rep in range(self.oof_repeats):
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state + rep)
            for _, te in folds.split(folded, y[folded]):
                keep = np.ones(len(y), dtype=bool)
                keep[folded[te]] = False
                part = clone(template).fit(
                    [r for r, k in zip(rows, keep, strict=True) if k], y[keep], sample_weight=weight[keep]
                )
                oof[te] += part.predict_proba([rows[i] for i in folded[te]]) / self.oof_repeats
        self.meta_ = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        self.meta_.fit(np.column_stack([log_odds(oof), side[folded]]), y[folded])
        self.classes_ = np.asarray(self.meta_.classes_)
        self.lang_calibrators_ = {}
        return self

    def _raw_proba(self, X: Any) -> np.ndarray:
        rows = as_rows(X)
        return self._stacked_proba(rows, self._side(X, len(rows)))

    def _stacked_proba(self, rows: list[tuple[str, str]], side: np.ndarray) -> np.ndarray:
        text = self.text_model_.predict_proba(rows)
        return linear_proba(self.meta_, np.column_stack([log_odds(text), side]))

    def predict_proba_columns(self, rows: Sequence[tuple[str, str]], columns: Mapping[str, Any]) -> np.ndarray:
        """``predict_proba`` without a DataFrame: ``(text, lang)`` rows plus one array per side column.

        Gives the same probabilities as ``predict_proba`` on a frame holding the same columns
        (the analyzer's hot path; building a pandas frame per batch costs more than the model).
        """
        check_is_fitted(self, "classes_")
        rows = as_rows(rows)
        if not rows:
            return np.zeros((0, len(self.classes_)))
        side = self._side_matrix(columns, columns, len(rows), "side columns")
        return self._calibrated(rows, self._stacked_proba(rows, side))


def linear_proba(model: Any, X: Any) -> np.ndarray:
    """``model.predict_proba(X)`` for the fitted linear models clientsense trains, computed directly.

    Same arithmetic as scikit-learn (``X @ coef_.T + intercept_``, then the logistic or softmax
    link) by :class:`~clientsense.compiled.LinearModel`, without scikit-learn's per-call
    validation and, on a sparse ``X``, only over the columns the batch uses. Any other model, or
    input scikit-learn would reject (non-finite values, wrong width, other dtypes), goes through
    ``model.predict_proba``.
    """
    try:
        linear = LinearModel.from_sklearn(model)
    except CompileError:
        return np.asarray(model.predict_proba(X))
    if sp.issparse(X) and X.format == "csr" and X.dtype == np.float64 and X.shape[1] == linear.n_features:
        finite = np.isfinite(X.data).all()
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype == np.float64 and X.shape[1] == linear.n_features:
        finite = np.isfinite(X).all()
    else:
        finite = False
    return linear.proba(X) if finite else np.asarray(model.predict_proba(X))


class TemperatureScaler:
    """Rescale probabilities as ``softmax(log p / T)`` with ``T`` chosen by log-loss."""

    def __init__(self) -> None:
        self.temperature_ = 1.0

    def fit(self, proba: np.ndarray, y: np.ndarray, classes: np.ndarray) -> TemperatureScaler:
        index = {c: i for i, c in enumerate(classes.tolist())}
        target = np.asarray([index[v] for v in y.tolist()])
        grid = np.exp(np.linspace(np.log(0.25), np.log(4.0), 61))
        losses = [_nll(self._apply(proba, t), target) for t in grid]
        self.temperature_ = float(grid[int(np.argmin(losses))])
        return self

    @staticmethod
    def _apply(proba: np.ndarray, t: float) -> np.ndarray:
        return apply_temperature(proba, t)

    def transform(self, proba: np.ndarray) -> np.ndarray:
        return self._apply(proba, self.temperature_)


def _nll(proba: np.ndarray, target: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(target)), target], 1e-12, 1.0))))
