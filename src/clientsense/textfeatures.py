"""Stage 4 — the featurisation arithmetic, free of scikit-learn (training and inference share it).

A row is a ``(text, lang)`` pair. Its features are hashed character n-grams of the folded words
(scikit-learn's ``char_wb`` analyzer), hashed word n-grams of spaCy's tokens, a few style numbers
and the language, weighted by TF-IDF. Every function here computes what the scikit-learn
transformers of :mod:`clientsense.features` compute (the tests hold them to it), with numpy,
``scipy.sparse`` and ``mmh3`` only: loading and running a shipped model never imports scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mmh3
import numpy as np
import scipy.sparse as sp

from .clean import _CharTable, fold
from .config import LANGUAGES
from .tokenizers import tokenizer_for

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
_LOWEST_HASH = -(2**31)


class Rows:
    """A compressed-sparse-row matrix as three numpy arrays (``data``, ``indices``, ``indptr``).

    Inference builds and reads these directly: a scipy matrix costs tens of microseconds to
    construct and validate, which dominated a one-message call (about 30 constructions per
    message). :meth:`tocsr` gives the scipy matrix (scikit-learn's transformers return that).
    """

    format = "csr"
    __slots__ = ("data", "indices", "indptr", "shape")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> None:
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    @classmethod
    def of(cls, X: Any) -> Rows:
        """The rows of a scipy CSR matrix (arrays shared, not copied)."""
        if isinstance(X, Rows):
            return X
        X = sp.csr_matrix(X)
        return cls(X.data, X.indices, X.indptr, (int(X.shape[0]), int(X.shape[1])))

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    def copy(self) -> Rows:
        return Rows(self.data.copy(), self.indices.copy(), self.indptr.copy(), self.shape)

    def row_ids(self) -> np.ndarray:
        """The row of each stored entry."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def tocsr(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def canonical_counts(indices: np.ndarray, indptr: np.ndarray, n_cols: int) -> Rows:
    """Rows of counts from unsorted column ids with repeats (as scipy's ``sum_duplicates`` leaves
    them: each row's distinct columns in increasing order, each with its number of occurrences)."""
    n_rows = len(indptr) - 1
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr))
    keys, counts = np.unique(rows * n_cols + indices, return_counts=True)
    new_indptr = np.searchsorted(keys // n_cols, np.arange(n_rows + 1, dtype=np.int64)).astype(np.int64)
    return Rows(counts.astype(np.float64), (keys % n_cols).astype(np.int32), new_indptr, (n_rows, n_cols))


def add_rows(a: Rows, b: Rows) -> Rows:
    """``a + b`` of two matrices of the same shape, canonical (as scipy adds CSR matrices)."""
    n_cols = a.shape[1]
    rows = np.concatenate([a.row_ids(), b.row_ids()]).astype(np.int64)
    keys, inverse = np.unique(rows * n_cols + np.concatenate([a.indices, b.indices]), return_inverse=True)
    data = np.bincount(inverse.reshape(-1), weights=np.concatenate([a.data, b.data]), minlength=len(keys))
    indptr = np.searchsorted(keys // n_cols, np.arange(a.shape[0] + 1, dtype=np.int64)).astype(np.int64)
    return Rows(data, (keys % n_cols).astype(np.int32), indptr, a.shape)


_PRODUCT_CHUNK = 1 << 16
"""Stored entries per block of :func:`row_products` (bounds its temporary arrays to a few MB)."""


def row_products(X: Rows, weights: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """``X @ weights`` (``weights``: features × k, any float dtype) in ``dtype``: each entry times
    its feature's weights, summed per row in stored order (a CSR product's arithmetic), over
    blocks of whole rows so that the temporary (entries × k) array stays small."""
    n = X.shape[0]
    out = np.zeros((n, weights.shape[1]), dtype=dtype)
    start = 0
    while start < n:
        end = int(np.searchsorted(X.indptr, X.indptr[start] + _PRODUCT_CHUNK, side="right")) - 1
        end = min(max(end, start + 1), n)
        lo, hi = int(X.indptr[start]), int(X.indptr[end])
        if hi > lo:
            block = weights[X.indices[lo:hi]].astype(dtype, copy=False)
            block = block * X.data[lo:hi, None].astype(dtype, copy=False)
            out[start:end] = row_sums(block, X.indptr[start : end + 1] - lo)
        start = end
    return out


def row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """For a (entries × k) array ordered by row, each row's entries added one after the other
    (the order of a CSR matrix-vector product); 0 for a row without entries."""
    lengths = np.diff(indptr)
    filled = lengths > 0
    out = np.zeros((len(lengths), values.shape[1]), dtype=values.dtype)
    if filled.any():
        out[filled] = np.add.reduceat(values, indptr[:-1][filled], axis=0)
    return out


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


# --- hashing (scikit-learn's FeatureHasher arithmetic) -------------------------------------------


def feature_index(feature: str, n_features: int) -> int:
    """The column ``FeatureHasher`` gives ``feature``: signed MurmurHash3 (seed 0) of its UTF-8
    bytes, ``abs(h) % n_features`` (and scikit-learn's value for ``h == -2**31``)."""
    # bytes, not str: mmh3 5.3 crashes the interpreter on a str holding a lone surrogate
    h = mmh3.hash(feature.encode("utf-8", "surrogatepass"), 0)
    if h == _LOWEST_HASH:
        return (2**31 - 1 - (n_features - 1)) % n_features
    return abs(h) % n_features


def char_wb_ngrams(word: str, ngram_range: tuple[int, int]) -> list[str]:
    """The character n-grams scikit-learn's ``analyzer="char_wb"`` takes from one word: n-grams of
    ``" " + word + " "``; a padded word shorter than ``n`` counts once, as itself."""
    w = f" {word} "
    size = len(w)
    out: list[str] = []
    lo, hi = ngram_range
    for n in range(lo, hi + 1):
        out.extend(w[i : i + n] for i in range(max(size - n + 1, 1)))
        if size <= n:
            break
    return out


_UNIT_TABLE_MAX = 1 << 16
"""Distinct words (character block) or word n-grams (word block) remembered per hashing setup.
A full table keeps what it holds (the units met first, which in a stream of messages are mostly
the frequent ones) and hashes anything new on each use: clearing it instead made a stream with
more distinct units than this rehash nearly everything."""
_unit_tables: dict[tuple[Any, ...], dict[str, bytes]] = {}
_gram_tables: dict[int, dict[str, int]] = {}


def hashed_char_counts(docs: list[list[str]], ngram_range: tuple[int, int], n_features: int) -> Rows:
    """``HashingVectorizer(analyzer="char_wb", ngram_range, n_features, lowercase=False,
    alternate_sign=False, norm=None).transform`` of documents given as their words.

    A document's counts are the sum of its words' counts (``char_wb`` n-grams never cross a
    space), so each distinct word is hashed once (kept as int32 bytes in a bounded table) and the
    counts are summed per row: scikit-learn's canonical CSR matrix, counts exact.
    """
    return _hashed_units(
        docs,
        ("char_wb", ngram_range, n_features),
        lambda word: [feature_index(g, n_features) for g in char_wb_ngrams(word, ngram_range)],
        n_features,
    )


def _hashed_units(
    docs: list[list[str]], key: tuple[Any, ...], unit_indices: Callable[[str], list[int]], n_features: int
) -> Rows:
    table = _unit_tables.setdefault(key, {})
    found: dict[str, bytes] = {}
    for units in docs:
        for u in units:
            if u not in found:
                hit = table.get(u)
                if hit is None:
                    hit = np.asarray(unit_indices(u), dtype=np.int32).tobytes()
                    if len(table) < _UNIT_TABLE_MAX:
                        table[u] = hit
                found[u] = hit
    parts: list[bytes] = []
    sizes = np.zeros(len(docs) + 1, dtype=np.int64)
    for d, units in enumerate(docs):
        rows = [found[u] for u in units]
        parts.extend(rows)
        sizes[d + 1] = sum(map(len, rows))
    indices = np.frombuffer(b"".join(parts), dtype=np.int32)
    return canonical_counts(indices, np.cumsum(sizes) // 4, n_features)


def hashed_word_counts(docs: Iterable[Sequence[str]], n_features: int) -> Rows:
    """``HashingVectorizer(analyzer=<identity>, n_features, alternate_sign=False, norm=None)
    .transform(docs)``: each given n-gram is one feature."""
    table = _gram_tables.setdefault(n_features, {})  # each distinct n-gram hashed once
    indices: list[int] = []
    indptr = [0]
    for grams in docs:
        for g in grams:
            i = table.get(g)
            if i is None:
                i = feature_index(g, n_features)
                if len(table) < _UNIT_TABLE_MAX:
                    table[g] = i
            indices.append(i)
        indptr.append(len(indices))
    return canonical_counts(np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64), n_features)


def l2_normalize_rows(X: Any) -> Any:
    """Divide each row of a CSR matrix (scipy or :class:`Rows`) by its Euclidean norm, in place (all-zero rows unchanged),
    as ``sklearn.utils.sparsefuncs_fast.inplace_csr_row_normalize_l2`` does."""
    lengths = np.diff(X.indptr)
    filled = lengths > 0
    if filled.any():
        norms = np.sqrt(np.add.reduceat(X.data * X.data, X.indptr[:-1][filled]))
        norms[norms == 0] = 1.0
        X.data /= np.repeat(norms, lengths[filled]).astype(X.data.dtype, copy=False)
    return X


def tfidf(counts: Any, idf: np.ndarray | None, sublinear: bool = True, l2: bool = True) -> Any:
    """``TfidfTransformer.transform`` of float64 counts: ``1 + log(tf)`` (sublinear), times the IDF
    weights, rows scaled to unit length; on a copy."""
    X = counts.copy()
    if sublinear:
        np.log(X.data, X.data)
        X.data += 1.0
    if idf is not None:
        X.data *= idf[X.indices]
    return l2_normalize_rows(X) if l2 else X


def hstack_csr(blocks: list[Any]) -> Any:
    """``scipy.sparse.hstack(blocks, format="csr")`` of float64 CSR blocks (scipy or :class:`Rows`)
    with equal row counts: each row holds block 0's entries, then block 1's (columns shifted by
    block 0's width), …, in their stored order. :class:`Rows` blocks give :class:`Rows`; scipy
    blocks a scipy matrix built in one construction; any other input goes to ``sp.hstack``."""
    if not blocks or any(
        not (isinstance(b, Rows) or (sp.issparse(b) and b.format == "csr"))
        or b.dtype != np.float64
        or b.shape[0] != blocks[0].shape[0]
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
    if all(isinstance(b, Rows) for b in blocks):
        return Rows(data, indices, indptr, (n, offset))
    return sp.csr_matrix((data, indices, indptr), shape=(n, offset))


# --- the text featurizer's arithmetic ------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSpec:
    """The settings of a :class:`~clientsense.features.TextFeaturizer` (its hashing layout)."""

    char_ngram_range: tuple[int, int] = (2, 5)
    word_ngram_range: tuple[int, int] = (1, 2)
    n_char_features: int = 2**18
    n_word_features: int = 2**17
    style: bool = True
    lang_feature: bool = True

    @property
    def n_dense(self) -> int:
        return (len(STYLE_FEATURES) if self.style else 0) + (len(LANGUAGES) + 1 if self.lang_feature else 0)

    @property
    def n_features(self) -> int:
        return self.n_char_features + self.n_word_features + self.n_dense


Blocks = tuple[Rows, Rows, list[list[float]]]
_last_blocks: tuple[tuple[Any, ...], Blocks] | None = None
"""The last (key, blocks) computed; replaced in one assignment so threads never mix batches."""


def word_grams(text: str, lang: str, ngram_range: tuple[int, int]) -> list[str]:
    """The word n-grams (space-joined folded tokens) of one row."""
    toks = tokenize(text, lang)
    lo, hi = ngram_range
    return [" ".join(toks[i : i + n]) for n in range(lo, hi + 1) for i in range(len(toks) - n + 1)]


def count_blocks(spec: FeatureSpec, rows: list[tuple[str, str]]) -> Blocks:
    """Hashed character and word counts and style vectors of ``rows``. Pure in (layout, rows):
    the last result is reused, so models sharing a layout featurize a batch once."""
    global _last_blocks
    key = (spec.char_ngram_range, spec.word_ngram_range, spec.n_char_features, spec.n_word_features, tuple(rows))
    last = _last_blocks
    if last is not None and last[0] == key:
        return last[1]
    blocks = (
        hashed_char_counts([fold(t).split() for t, _ in rows], spec.char_ngram_range, spec.n_char_features),
        hashed_word_counts([word_grams(t, lg, spec.word_ngram_range) for t, lg in rows], spec.n_word_features),
        [style_vector(t) for t, _ in rows],
    )
    _last_blocks = (key, blocks)
    return blocks


def dense_block(spec: FeatureSpec, rows: Sequence[tuple[str, str]], styles: Sequence[list[float]]) -> Rows:
    """Style features and the one-hot language (the last column: any other language); zeros not stored."""
    dense = []
    for (_, lang), style in zip(rows, styles, strict=True):
        vec = list(style) if spec.style else []
        if spec.lang_feature:
            onehot = [0.0] * (len(LANGUAGES) + 1)
            onehot[LANGUAGES.index(lang) if lang in LANGUAGES else len(LANGUAGES)] = 1.0
            vec += onehot
        dense.append(vec)
    matrix = np.asarray(dense, dtype=np.float64).reshape(len(rows), -1)
    nonzero = matrix != 0
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(nonzero.sum(axis=1), out=indptr[1:])
    return Rows(matrix[nonzero], np.nonzero(nonzero)[1].astype(np.int32), indptr, matrix.shape)


def featurize(
    spec: FeatureSpec, rows: list[tuple[str, str]], char_idf: np.ndarray, word_idf: np.ndarray
) -> sp.csr_matrix:
    """The feature matrix of a fitted featurizer (sublinear TF-IDF, l2 per block): the character
    block, then the word block, then the dense columns."""
    chars, words, styles = count_blocks(spec, rows)
    blocks = [tfidf(chars, char_idf), tfidf(words, word_idf)]
    if spec.n_dense:
        blocks.append(dense_block(spec, rows, styles))
    return hstack_csr(blocks)


# --- side features of the stacked models ---------------------------------------------------------


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
