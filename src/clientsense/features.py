"""Stage 4 — featurisation shared by all classifiers.

Input rows are ``(text, lang)`` pairs (or plain strings, language unknown). Features:
hashed character n-grams of the folded text (robust to inflection, typos and missing diacritics),
hashed word uni/bigrams from spaCy's tokenizer for the row's language, a few style features
(capitals, "!!!", length, emoji) and the language itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from .clean import _CharTable, fold
from .config import LANGUAGES

_EMOJI_RE = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_WORD_RE = re.compile(r"\w+")
STYLE_FEATURES: tuple[str, ...] = (
    "log_length",
    "caps_ratio",
    "caps_words",
    "exclamations",
    "questions",
    "repeated_punct",
    "emoji",
    "digits_ratio",
)


@lru_cache(maxsize=128)  # > the detector's 55 languages: a tokenizer can take seconds to build
def tokenizer_for(lang: str) -> Any:
    """A cached ``spacy.blank(lang).tokenizer``; ``xx`` (multi-language) when ``lang`` is unknown."""
    import spacy

    try:
        return spacy.blank(lang).tokenizer
    except Exception:  # spaCy has no such language (or it needs an extra package)
        return spacy.blank("xx").tokenizer


@lru_cache(maxsize=1)
def _token_attrs() -> list[int]:
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, LENGTH

    return [IS_PUNCT, IS_SPACE, IDX, LENGTH]


def tokenize(text: str, lang: str) -> list[str]:
    """Folded word tokens of ``text`` (punctuation and spaces dropped)."""
    # Token i is text[idx:idx + length] (spaCy's tokenizer never alters the text); reading the
    # attributes as one array avoids building a Python Token object per token.
    attrs = tokenizer_for(lang)(text).to_array(_token_attrs()).tolist()
    tokens = [text[i : i + n] for punct, space, i, n in attrs if not (punct or space)]
    return fold("\x00".join(tokens)).split("\x00") if tokens else []


def _char_class(ch: str) -> str:
    """``U``/``l``: an upper-case / other letter; ``d``: a digit (both may apply)."""
    return ("U" if ch.isupper() else "l") * ch.isalpha() + "d" * ch.isdigit()


_CHAR_CLASSES = _CharTable(_char_class)


def style_vector(text: str) -> list[float]:
    """Dense style features in roughly unit scale, in the order of ``STYLE_FEATURES``."""
    n = max(len(text), 1)
    classes = text.translate(_CHAR_CLASSES)  # character counts in C, not per-character Python
    upper = classes.count("U")
    n_letters = upper + classes.count("l")
    words = _WORD_RE.findall(text)
    caps_words = sum(1 for w in words if len(w) > 2 and w.isupper())
    return [
        math.log1p(len(text)) / 8.0,
        upper / max(n_letters, 1),
        min(caps_words / max(len(words), 1) * 2.0, 1.0),
        min(text.count("!") / 3.0, 1.0),
        min(text.count("?") / 3.0, 1.0),
        1.0 if ("!!" in text or "??" in text or "?!" in text) else 0.0,
        min(len(_EMOJI_RE.findall(text)) / 2.0, 1.0),
        classes.count("d") / n,
    ]


def as_rows(X: Any) -> list[tuple[str, str]]:
    """Normalise input to ``(text, lang)`` pairs.

    Accepts a sequence of strings, a sequence of pairs, a 2-column array, or a DataFrame with
    ``text`` and (optionally) ``lang`` columns.
    """
    if hasattr(X, "columns"):
        texts = X["text"].tolist()
        langs = X["lang"].tolist() if "lang" in X.columns else ["xx"] * len(texts)
        return [(str(t), str(lg)) for t, lg in zip(texts, langs, strict=True)]
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] != 2:
            raise ValueError(f"a 2-D array input must have 2 columns (text, lang), got {X.shape[1]}")
        return [(str(r[0]), str(r[1])) for r in X]
    rows: list[tuple[str, str]] = []
    for item in X:
        if isinstance(item, str):
            rows.append((item, "xx"))
        elif isinstance(item, Sequence) and len(item) == 2:
            rows.append((str(item[0]), str(item[1])))
        else:
            raise TypeError(f"expected a text or a (text, lang) pair, got {type(item).__name__}")
    return rows


def text_input_tags(tags: Any) -> Any:
    """scikit-learn (≥ 1.6) tags of an estimator over texts: strings or ``(text, lang)`` rows, not numbers."""
    tags.input_tags.one_d_array = True
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    return tags


_UNIT_TABLE_MAX = 1 << 16
"""Distinct words (character block) or word n-grams (word block) remembered per hashing setup."""
_unit_tables: dict[tuple[Any, ...], dict[str, bytes]] = {}


def _hashed_counts(vec: HashingVectorizer, key: tuple[Any, ...], docs: list[list[str]], unit_doc: Any) -> Any:
    """``vec.transform`` of documents given as lists of units, hashing each distinct unit once.

    A document's hashed counts are the sum of its units' counts: the character n-grams of
    ``char_wb`` never cross a whitespace, so they are the n-grams of each word; a word n-gram is
    its own feature. Each unit's hashed indices come from ``vec.transform([unit_doc(unit)])``
    (repeated by count, kept as int32 bytes in a bounded table shared by threads) and the
    document matrix is rebuilt with ``sum_duplicates``, exactly as scikit-learn builds it: the
    same canonical CSR matrix, counts summed exactly.
    """
    table = _unit_tables.setdefault(key, {})
    found: dict[str, bytes] = {}
    missing: list[str] = []
    for units in docs:
        for u in units:
            if u not in found:
                hit = table.get(u)
                if hit is None:
                    missing.append(u)
                    found[u] = b""
                else:
                    found[u] = hit
    if missing:
        counts = vec.transform([unit_doc(u) for u in missing])
        if len(table) + len(missing) > _UNIT_TABLE_MAX:
            table.clear()
        indptr, indices, data = counts.indptr, counts.indices.astype(np.int32), counts.data.astype(np.int64)
        for i, u in enumerate(missing):
            lo, hi = indptr[i], indptr[i + 1]
            row = np.repeat(indices[lo:hi], data[lo:hi]).tobytes()
            found[u] = row
            if len(table) < _UNIT_TABLE_MAX:
                table[u] = row
    parts: list[bytes] = []
    sizes = np.zeros(len(docs) + 1, dtype=np.int64)
    for d, units in enumerate(docs):
        rows = [found[u] for u in units]
        parts.extend(rows)
        sizes[d + 1] = sum(map(len, rows))
    indices = np.frombuffer(bytearray().join(parts), dtype=np.int32)  # writable: sorted in place
    indptr = np.cumsum(sizes) // 4
    out = _sparse_type()((np.ones(len(indices)), indices, indptr), shape=(len(docs), vec.n_features))
    out.sum_duplicates()  # sorts the indices and adds up repeated ones, as FeatureHasher does
    return out


def _sparse_type() -> Any:
    """The sparse class scikit-learn's transformers return under the current configuration."""
    from sklearn import get_config

    return sp.csr_array if get_config().get("sparse_interface") == "sparray" else sp.csr_matrix


def _as_text(unit: str) -> str:
    return unit


_gram_tables: dict[int, dict[str, int]] = {}


def _hashed_words(docs: list[list[str]], n_features: int) -> Any:
    """``HashingVectorizer(analyzer=<identity>, n_features, alternate_sign=False, norm=None)
    .transform(docs)``: each word n-gram is one feature, hashed as ``FeatureHasher`` hashes it
    (signed MurmurHash3 of its UTF-8 bytes, seed 0, ``abs(h) % n_features``)."""
    from sklearn.utils import murmurhash3_32

    lowest = -(2**31)
    wrapped = (2**31 - 1 - (n_features - 1)) % n_features  # FeatureHasher's index for h == -2**31
    table = _gram_tables.setdefault(n_features, {})  # each distinct n-gram hashed once
    if len(table) > _UNIT_TABLE_MAX:
        table.clear()
    indices: list[int] = []
    indptr = [0]
    for grams in docs:
        for g in grams:
            i = table.get(g)
            if i is None:
                h = murmurhash3_32(g, 0)
                i = table[g] = wrapped if h == lowest else abs(h) % n_features
            indices.append(i)
        indptr.append(len(indices))
    out = _sparse_type()(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
        shape=(len(docs), n_features),
    )
    out.sum_duplicates()
    return out


_Blocks = tuple[sp.csr_matrix, sp.csr_matrix, list[list[float]]]
_last_blocks: tuple[tuple[Any, ...], _Blocks] | None = None
"""The last (key, blocks) computed; replaced in one assignment so threads never mix batches."""


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

    def _char_vec(self) -> HashingVectorizer:
        return HashingVectorizer(
            analyzer="char_wb",
            ngram_range=self.char_ngram_range,
            n_features=self.n_char_features,
            lowercase=False,
            alternate_sign=False,
            norm=None,
        )

    def _word_tokens(self, rows: Iterable[tuple[str, str]]) -> list[list[str]]:
        lo, hi = self.word_ngram_range
        docs = []
        for text, lang in rows:
            toks = tokenize(text, lang)
            grams = [" ".join(toks[i : i + n]) for n in range(lo, hi + 1) for i in range(len(toks) - n + 1)]
            docs.append(grams)
        return docs

    def _word_vec(self) -> HashingVectorizer:
        return HashingVectorizer(
            analyzer=lambda doc: doc,
            n_features=self.n_word_features,
            alternate_sign=False,
            norm=None,
        )

    def _blocks(self, X: Any) -> tuple[_Blocks, list[tuple[str, str]]]:
        """Hashed character and word counts and style vectors. Pure in (params, rows): the last
        result is reused, so classifiers sharing these settings featurize a batch once."""
        global _last_blocks
        rows = as_rows(X)
        key = (self.char_ngram_range, self.word_ngram_range, self.n_char_features, self.n_word_features, tuple(rows))
        last = _last_blocks
        if last is not None and last[0] == key:
            return last[1], rows
        if not rows:  # scikit-learn's error for an empty batch
            self._char_vec().transform([])
        char_key = ("char_wb", self.char_ngram_range, self.n_char_features)
        blocks = (
            _hashed_counts(self._char_vec(), char_key, [fold(t).split() for t, _ in rows], _as_text),
            _hashed_words(self._word_tokens(rows), self.n_word_features),
            [style_vector(t) for t, _ in rows],
        )
        _last_blocks = (key, blocks)
        return blocks, rows

    def fit(self, X: Any, y: Any = None) -> TextFeaturizer:
        (chars, words, _), _ = self._blocks(X)
        self.char_idf_ = TfidfTransformer(sublinear_tf=True).fit(chars)
        self.word_idf_ = TfidfTransformer(sublinear_tf=True).fit(words)
        self.n_features_out_ = self.n_char_features + self.n_word_features + self._n_dense()
        return self

    def _n_dense(self) -> int:
        return (len(STYLE_FEATURES) if self.style else 0) + (len(LANGUAGES) + 1 if self.lang_feature else 0)

    def transform(self, X: Any) -> sp.csr_matrix:
        check_is_fitted(self, "char_idf_")
        (chars, words, styles), rows = self._blocks(X)
        blocks = [_tfidf(self.char_idf_, chars), _tfidf(self.word_idf_, words)]
        if self._n_dense():
            dense = []
            for (_, lang), style in zip(rows, styles, strict=True):
                vec = list(style) if self.style else []
                if self.lang_feature:
                    onehot = [0.0] * (len(LANGUAGES) + 1)
                    onehot[LANGUAGES.index(lang) if lang in LANGUAGES else len(LANGUAGES)] = 1.0
                    vec += onehot
                dense.append(vec)
            blocks.append(sp.csr_matrix(np.asarray(dense, dtype=np.float64).reshape(len(rows), -1)))
        return _hstack_csr(blocks)


def _hstack_csr(blocks: list[Any]) -> Any:
    """``scipy.sparse.hstack(blocks, format="csr")`` of float64 CSR blocks with equal row counts:
    each row holds block 0's entries, then block 1's (columns shifted by block 0's width), …, in
    their stored order. Built with one matrix construction instead of scipy's general stacking,
    which dominates a one-message call; any other input goes to ``sp.hstack``."""
    if not blocks or any(
        not sp.issparse(b) or b.format != "csr" or b.dtype != np.float64 or b.shape[0] != blocks[0].shape[0]
        for b in blocks
    ):
        return sp.hstack(blocks, format="csr")
    n = blocks[0].shape[0]
    counts = np.stack([np.diff(b.indptr) for b in blocks])  # entries per (block, row)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=indptr[1:])
    before = np.cumsum(counts, axis=0) - counts  # entries of the earlier blocks in each row
    data = np.empty(int(indptr[-1]), dtype=np.float64)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    offset = 0
    for j, b in enumerate(blocks):
        row = np.repeat(np.arange(n), counts[j])
        dest = indptr[row] + before[j][row] + (np.arange(b.nnz) - b.indptr[row])
        data[dest] = b.data
        indices[dest] = b.indices + offset
        offset += b.shape[1]
    return _sparse_type()((data, indices, indptr), shape=(n, offset))


def _tfidf(idf: Any, counts: Any) -> Any:
    """``idf.transform(counts)`` for a fitted ``TfidfTransformer`` (l2 or no norm) on a float64 CSR
    matrix: the same in-place steps on a copy (log + 1, times idf, row l2 norm), without the
    per-call input validation that dominates a one-message batch. Anything else goes to ``transform``."""
    if (
        type(idf) is not TfidfTransformer
        or idf.norm not in ("l2", None)
        or not sp.issparse(counts)
        or counts.format != "csr"
        or counts.dtype != np.float64
    ):
        return idf.transform(counts)
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

    X = counts.copy()
    if idf.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1.0
    if hasattr(idf, "idf_"):
        X.data *= idf.idf_[X.indices]
    if idf.norm == "l2":
        inplace_csr_row_normalize_l2(X)
    return X


def signal_columns() -> tuple[str, ...]:
    """The tone model's side features: one 0/1 flag per signal."""
    from .config import SIGNALS

    return tuple(f"sig_{s}" for s in SIGNALS)


def side_columns() -> tuple[str, ...]:
    """The client-type model's side features: tone probabilities, then signal flags."""
    from .config import TONES

    return tuple(f"p_{t}" for t in TONES) + signal_columns()


def step_columns() -> tuple[str, ...]:
    """The step model's side features: tone probabilities, signal flags, problem-client probability."""
    return (*side_columns(), "p_problem_client")


def signal_flag_arrays(signals: Sequence[set[str]]) -> dict[str, np.ndarray]:
    """The ``sig_<id>`` side features: one 0/1 float column per signal id."""
    from .config import SIGNALS

    return {f"sig_{s}": np.array([1.0 if s in found else 0.0 for found in signals]) for s in SIGNALS}


def tone_proba_arrays(tone_proba: np.ndarray, tone_classes: Sequence[str]) -> dict[str, np.ndarray]:
    """The ``p_<tone>`` side features, in ``TONES`` order, from probabilities ordered as ``tone_classes``."""
    from .config import TONES

    order = list(tone_classes)
    return {f"p_{t}": tone_proba[:, order.index(t)] if len(tone_proba) else np.zeros(0) for t in TONES}


def side_frame(
    rows: Sequence[tuple[str, str]],
    signals: Sequence[set[str]],
    tone_proba: np.ndarray | None = None,
    tone_classes: Sequence[str] = (),
) -> Any:
    """A classifier input frame: text, lang, (tone probabilities,) 0/1 signal flags."""
    import pandas as pd

    data: dict[str, Any] = {"text": [t for t, _ in rows], "lang": [lg for _, lg in rows]}
    if tone_proba is not None:
        data.update(tone_proba_arrays(tone_proba, tone_classes))
    data.update(signal_flag_arrays(signals))
    return pd.DataFrame(data)
