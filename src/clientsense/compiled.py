"""Stage 5 at inference — the fitted classifiers as plain arrays (no pickle, no scikit-learn).

Training fits scikit-learn estimators (:mod:`clientsense.classify`). :func:`compile_stacked`
reads off what inference needs — the featurizer's layout and IDF weights, the text model's and
the stacker's coefficients, the per-language temperatures — into a :class:`CompiledClassifier`,
which gives the estimator's probabilities with numpy alone. :func:`save_arrays` writes such a
model as one ``.npz`` file (arrays plus a JSON header) that :func:`load_arrays` reads with
``allow_pickle=False``: loading a model can never run code.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .textfeatures import FeatureSpec, Rows, as_rows, featurize, row_products

FORMAT = "clientsense.arrays/1"


class CompileError(ValueError):
    """An estimator holds something the array form cannot reproduce exactly."""


def _softmax(scores: np.ndarray) -> np.ndarray:
    """``sklearn.utils.extmath.softmax``, in place."""
    scores -= np.max(scores, axis=1).reshape((-1, 1))
    np.exp(scores, out=scores)
    scores /= np.sum(scores, axis=1).reshape((-1, 1))
    return scores


def _expit(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-x)))


@dataclass(frozen=True, eq=False)
class LinearModel:
    """``X @ coef.T + intercept`` with a logistic (one-vs-rest) or softmax link, as scikit-learn's
    ``LogisticRegression`` / ``SGDClassifier(loss="log_loss")`` compute ``predict_proba``.

    ``coef`` keeps its stored dtype (float16/32/64); products are taken in float64.
    """

    coef: np.ndarray  # (n_classes or 1, n_features); column-major in compiled models
    intercept: np.ndarray  # (n_classes or 1,)
    multinomial: bool

    @classmethod
    def from_sklearn(cls, model: Any) -> LinearModel:
        from sklearn.linear_model import LogisticRegression, SGDClassifier

        kind = type(model)
        if kind is LogisticRegression:
            ovr = getattr(model, "multi_class", "auto") == "ovr" or model.solver == "liblinear"
            multinomial = len(model.classes_) > 2 and not ovr
        elif kind is SGDClassifier and model.loss == "log_loss":
            multinomial = False
        else:
            raise CompileError(f"cannot compile a {kind.__name__} (only LogisticRegression and log-loss SGDClassifier)")
        coef, intercept = getattr(model, "coef_", None), getattr(model, "intercept_", None)
        if not isinstance(coef, np.ndarray) or coef.ndim != 2 or not isinstance(intercept, np.ndarray):
            raise CompileError("the linear model has no dense coef_/intercept_")
        return cls(coef, np.asarray(intercept, dtype=np.float64), multinomial)  # the estimator's own array

    def column_major(self) -> LinearModel:
        """The same model with ``coef`` column-major (a feature's weights side by side: what the
        row products gather, and what compresses best on disk)."""
        return LinearModel(np.asfortranarray(self.coef), self.intercept, self.multinomial)

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def proba(self, X: Any) -> np.ndarray:
        """Class probabilities of float64 :class:`~clientsense.textfeatures.Rows`, a CSR matrix or a dense 2-D array."""
        coef = self.coef
        if isinstance(X, Rows):
            if X.shape[1] != coef.shape[1]:
                raise ValueError(f"X has {X.shape[1]} features, the model expects {coef.shape[1]}")
            # each entry times its feature's weights (column-major coef: one contiguous run per
            # feature), summed per row in stored order: a CSR product's arithmetic, exactly
            scores = row_products(X, coef.T, np.float64) + self.intercept
        elif sp.issparse(X):
            X = sp.csr_matrix(X, dtype=np.float64)
            if X.shape[1] != coef.shape[1]:
                raise ValueError(f"X has {X.shape[1]} features, the model expects {coef.shape[1]}")
            # only the columns the batch uses, cast to float64 (never the whole weight matrix)
            if X.nnz * 64 < X.shape[1]:  # a few rows: sort the used columns
                cols, position = np.unique(X.indices, return_inverse=True)
                new_indices = position.reshape(-1)
            else:  # a batch: mark the used columns (no sort)
                used = np.zeros(X.shape[1], dtype=bool)
                used[X.indices] = True
                cols = np.flatnonzero(used)
                new_indices = (np.cumsum(used, dtype=np.int64) - 1)[X.indices]
            compact = sp.csr_matrix(
                (X.data, new_indices.astype(X.indices.dtype), X.indptr), shape=(X.shape[0], len(cols))
            )
            scores = np.asarray(compact @ coef[:, cols].T.astype(np.float64)) + self.intercept
        else:
            X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2 or X.shape[1] != coef.shape[1]:
                raise ValueError(f"X must be 2-D with {coef.shape[1]} columns, got shape {X.shape}")
            scores = X @ coef.T.astype(np.float64) + self.intercept
        if scores.shape[1] == 1:
            scores = scores.reshape(-1)
        if self.multinomial:
            return _softmax(scores)
        prob = _expit(scores)  # LinearClassifierMixin._predict_proba_lr
        if prob.ndim == 1:
            return np.stack([1 - prob, prob], axis=1)
        prob_sum = prob.sum(axis=1)
        all_zero = prob_sum == 0
        if np.any(all_zero):
            prob[all_zero, :] = 1
            prob_sum[all_zero] = prob.shape[1]
        prob /= np.reshape(prob_sum, (prob.shape[0], -1))
        return prob


def apply_temperature(proba: np.ndarray, t: float) -> np.ndarray:
    """``softmax(log p / t)``: the per-language calibration of :class:`~clientsense.classify.TemperatureScaler`."""
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / t
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def temper_by_language(
    proba: np.ndarray, rows: Sequence[tuple[str, str]], temperatures: Mapping[str, float]
) -> np.ndarray:
    """Apply each language's temperature to its rows of ``proba`` (in place; returned)."""
    if temperatures:
        langs = np.asarray([lang for _, lang in rows])
        for lang, t in temperatures.items():
            mask = langs == lang
            if mask.any():
                proba[mask] = apply_temperature(proba[mask], t)
    return proba


def side_matrix(columns: Any, available: Any, wanted: Sequence[str], n_rows: int, needs: str) -> np.ndarray:
    """The ``wanted`` columns of ``columns`` (a DataFrame or a mapping of arrays) as a float matrix;
    a ``ValueError`` starting with ``needs`` names those missing from ``available``."""
    if not wanted:
        return np.zeros((n_rows, 0))
    missing = [c for c in wanted if c not in available]
    if missing:
        raise ValueError(f"{needs} {missing}")
    return np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in wanted])


def log_odds(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p) - np.log(1 - p))


@dataclass(frozen=True, eq=False)
class CompiledClassifier:
    """A fitted :class:`~clientsense.classify.StackedClassifier` as arrays: featurizer layout and
    IDF weights, text model, stacker over the text log-odds and the side columns, temperatures."""

    spec: FeatureSpec
    char_idf: np.ndarray
    word_idf: np.ndarray
    text: LinearModel
    text_classes: np.ndarray
    meta: LinearModel
    classes_: np.ndarray
    side_columns: tuple[str, ...]
    temperatures: dict[str, float] = field(default_factory=dict)

    def text_proba(self, rows: list[tuple[str, str]]) -> np.ndarray:
        return self.text.proba(featurize(self.spec, rows, self.char_idf, self.word_idf))

    def predict_proba_columns(self, rows: Sequence[tuple[str, str]], columns: Mapping[str, Any]) -> np.ndarray:
        """Probabilities of ``(text, lang)`` rows with one array per side column (ordered as ``classes_``)."""
        rows = as_rows(rows)
        if not rows:
            return np.zeros((0, len(self.classes_)))
        side = side_matrix(columns, columns, self.side_columns, len(rows), "the model needs side columns")
        proba = self.meta.proba(np.column_stack([log_odds(self.text_proba(rows)), side]))
        return temper_by_language(proba, rows, self.temperatures)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of a DataFrame (or mapping) with ``text``, ``lang`` and the side columns."""
        return self.predict_proba_columns(as_rows(X), X)

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)])

    # --- the array form ------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {
            "char_idf": self.char_idf,
            "word_idf": self.word_idf,
            "text_coef": self.text.coef,
            "text_intercept": self.text.intercept,
            "meta_coef": self.meta.coef,
            "meta_intercept": self.meta.intercept,
        }
        header = {
            "kind": "stacked",
            "spec": {
                "char_ngram_range": list(self.spec.char_ngram_range),
                "word_ngram_range": list(self.spec.word_ngram_range),
                "n_char_features": self.spec.n_char_features,
                "n_word_features": self.spec.n_word_features,
                "style": self.spec.style,
                "lang_feature": self.spec.lang_feature,
            },
            "text_multinomial": self.text.multinomial,
            "text_classes": [str(c) for c in self.text_classes],
            "meta_multinomial": self.meta.multinomial,
            "classes": [str(c) for c in self.classes_],
            "side_columns": list(self.side_columns),
            "temperatures": dict(self.temperatures),
        }
        return arrays, header

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> CompiledClassifier:
        if header.get("kind") != "stacked":
            raise CompileError(f"not a stacked classifier: kind={header.get('kind')!r}")
        s = header["spec"]
        spec = FeatureSpec(
            (int(s["char_ngram_range"][0]), int(s["char_ngram_range"][1])),
            (int(s["word_ngram_range"][0]), int(s["word_ngram_range"][1])),
            int(s["n_char_features"]),
            int(s["n_word_features"]),
            bool(s["style"]),
            bool(s["lang_feature"]),
        )
        model = cls(
            spec=spec,
            char_idf=arrays["char_idf"],
            word_idf=arrays["word_idf"],
            text=LinearModel(
                arrays["text_coef"], arrays["text_intercept"], bool(header["text_multinomial"])
            ).column_major(),
            text_classes=np.asarray(header["text_classes"], dtype=object),
            meta=LinearModel(arrays["meta_coef"], arrays["meta_intercept"], bool(header["meta_multinomial"])),
            classes_=np.asarray(header["classes"], dtype=object),
            side_columns=tuple(header["side_columns"]),
            temperatures={str(k): float(v) for k, v in header["temperatures"].items()},
        )
        model.check()
        return model

    def check(self) -> None:
        """Shapes agree with each other (a corrupt or mismatched file fails here, not mid-batch)."""
        spec, text, meta = self.spec, self.text, self.meta
        ok = (
            self.char_idf.shape == (spec.n_char_features,)
            and self.word_idf.shape == (spec.n_word_features,)
            and text.n_features == spec.n_features
            and text.coef.shape[0] in (1, len(self.text_classes))
            and meta.n_features == len(self.text_classes) + len(self.side_columns)
            and meta.coef.shape[0] in (1, len(self.classes_))
        )
        if not ok:
            raise CompileError("the arrays' shapes do not fit together")


def compile_stacked(model: Any) -> CompiledClassifier:
    """The array form of a fitted :class:`~clientsense.classify.StackedClassifier`."""
    from .features import plain_idf

    text_model = model.text_model_
    featurizer = text_model.featurizer_
    char_idf, word_idf = plain_idf(featurizer.char_idf_), plain_idf(featurizer.word_idf_)
    if char_idf is None or word_idf is None:
        raise CompileError("the featurizer's TF-IDF is not the sublinear, l2-normalised kind")
    temperatures = {lang: float(cal.temperature_) for lang, cal in getattr(model, "lang_calibrators_", {}).items()}
    compiled = CompiledClassifier(
        spec=featurizer.spec(),
        char_idf=char_idf,
        word_idf=word_idf,
        text=LinearModel.from_sklearn(text_model.model_).column_major(),
        text_classes=np.asarray(text_model.classes_),
        meta=LinearModel.from_sklearn(model.meta_).column_major(),
        classes_=np.asarray(model.classes_),
        side_columns=tuple(model.side_columns),
        temperatures=temperatures,
    )
    compiled.check()
    return compiled


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> Path:
    """Write arrays and a JSON header as one compressed ``.npz`` file, byte for byte the same for
    the same content (members in name order, fixed timestamps)."""
    doc = json.dumps({"format": FORMAT, **header}, sort_keys=True).encode("utf-8")
    members: dict[str, np.ndarray] = {"__header__": np.frombuffer(doc, dtype=np.uint8), **arrays}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(members[name]), allow_pickle=False)
            zf.writestr(info, buf.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def load_arrays(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_arrays` (never unpickles: object arrays are refused)."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a bare .npy array
            raise ValueError("not an .npz archive")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CompileError(f"{path} is not a readable clientsense array file: {exc}") from exc
    raw = arrays.pop("__header__", None)
    try:
        header = json.loads(bytes(raw).decode("utf-8")) if raw is not None else None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CompileError(f"{path} has an unreadable header: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CompileError(f"{path} is not a {FORMAT} file")
    return arrays, header


def save_classifier(model: Any, path: Path) -> Path:
    """Write a fitted :class:`~clientsense.classify.StackedClassifier` (or its compiled form) as arrays."""
    compiled = model if isinstance(model, CompiledClassifier) else compile_stacked(model)
    return save_arrays(path, *compiled.to_arrays())


def load_classifier(path: Path) -> CompiledClassifier:
    """Read a classifier written by :func:`save_classifier` (no unpickling)."""
    return CompiledClassifier.from_arrays(*load_arrays(path))
