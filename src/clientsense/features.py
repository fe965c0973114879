"""Stage 4 — the featurizer as a scikit-learn transformer (for training and the estimator API).

Input rows are ``(text, lang)`` pairs (or plain strings, language unknown). Features:
hashed character n-grams of the folded text (robust to inflection, typos and missing diacritics),
hashed word uni/bigrams from spaCy's tokenizer for the row's language, a few style features
(capitals, "!!!", length, emoji) and the language itself. The arithmetic lives in
:mod:`clientsense.textfeatures`, which inference uses without scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from .textfeatures import (
    STYLE_FEATURES,
    FeatureSpec,
    Rows,
    as_rows,
    count_blocks,
    dense_block,
    hstack_csr,
    side_columns,
    side_frame,
    signal_columns,
    signal_flag_arrays,
    step_columns,
    style_vector,
    tfidf,
    tokenize,
    tokenizer_for,
    tone_proba_arrays,
)

__all__ = [
    "STYLE_FEATURES",
    "TextFeaturizer",
    "as_rows",
    "side_columns",
    "side_frame",
    "signal_columns",
    "signal_flag_arrays",
    "step_columns",
    "style_vector",
    "tokenize",
    "tokenizer_for",
    "tone_proba_arrays",
]


def text_input_tags(tags: Any) -> Any:
    """scikit-learn (≥ 1.6) tags of an estimator over texts: strings or ``(text, lang)`` rows, not numbers."""
    tags.input_tags.one_d_array = True
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    return tags


def _sparse_type() -> Any:
    """The sparse class scikit-learn's transformers return under the current configuration."""
    from sklearn import get_config

    return sp.csr_array if get_config().get("sparse_interface") == "sparray" else sp.csr_matrix


def plain_idf(idf: Any) -> np.ndarray | None:
    """The IDF weights of a fitted ``TfidfTransformer`` that the shared arithmetic reproduces
    (sublinear TF, l2 norm); ``None`` for any other transformer."""
    if type(idf) is not TfidfTransformer or not idf.sublinear_tf or idf.norm != "l2" or not hasattr(idf, "idf_"):
        return None
    return np.asarray(idf.idf_, dtype=np.float64)


class TextFeaturizer(TransformerMixin, BaseEstimator):
    """Turn ``(text, lang)`` rows into one sparse feature matrix (scikit-learn transformer).

    Parameters are stored untouched; ``fit`` learns the IDF weights of both hashed blocks.
    """

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (2, 5),
        word_ngram_range: tuple[int, int] = (1, 2),
        n_char_features: int = 2**18,
        n_word_features: int = 2**17,
        style: bool = True,
        lang_feature: bool = True,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.word_ngram_range = word_ngram_range
        self.n_char_features = n_char_features
        self.n_word_features = n_word_features
        self.style = style
        self.lang_feature = lang_feature

    def __sklearn_tags__(self) -> Any:
        tags = text_input_tags(super().__sklearn_tags__())
        tags.requires_fit = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"X_types": ["string"]}

    def spec(self) -> FeatureSpec:
        """The hashing layout of these parameters."""
        return FeatureSpec(
            tuple(self.char_ngram_range),  # type: ignore[arg-type]
            tuple(self.word_ngram_range),  # type: ignore[arg-type]
            int(self.n_char_features),
            int(self.n_word_features),
            bool(self.style),
            bool(self.lang_feature),
        )

    def _blocks(self, X: Any) -> tuple[Any, list[tuple[str, str]]]:
        rows = as_rows(X)
        if not rows:  # scikit-learn's error for an empty batch
            raise ValueError("Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required.")
        return count_blocks(self.spec(), rows), rows

    def fit(self, X: Any, y: Any = None) -> TextFeaturizer:
        (chars, words, _), _ = self._blocks(X)
        self.char_idf_ = TfidfTransformer(sublinear_tf=True).fit(chars.tocsr())
        self.word_idf_ = TfidfTransformer(sublinear_tf=True).fit(words.tocsr())
        self.n_features_out_ = self.spec().n_features
        return self

    def _n_dense(self) -> int:
        return self.spec().n_dense

    def transform(self, X: Any) -> Any:
        check_is_fitted(self, "char_idf_")
        spec = self.spec()
        (chars, words, styles), rows = self._blocks(X)
        blocks = [_block_tfidf(self.char_idf_, chars), _block_tfidf(self.word_idf_, words)]
        if spec.n_dense:
            blocks.append(dense_block(spec, rows, styles))
        return _sparse_type()(hstack_csr(blocks).tocsr())


def _block_tfidf(idf: Any, counts: Rows) -> Rows:
    weights = plain_idf(idf)
    return tfidf(counts, weights) if weights is not None else Rows.of(idf.transform(counts.tocsr()))
