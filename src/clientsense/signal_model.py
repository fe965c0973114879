"""A learned signal detector that adds recall to the rule patterns on unseen wording.

The cleaned text is cut into clauses (sentences, further split at ``;``/``:``/``,`` when long).
Each clause is hashed into character 2–5-grams and word 1–2-grams of its folded view (plus a
language token) and scored by one logistic regression per signal id (one-vs-rest), trained on the
authored corpus' train split: a clause is positive for a signal when it overlaps one of that
signal's gold spans. A message's score for a signal is its best clause's score; a signal is
reported when that score reaches the signal's threshold (chosen on the dev split; a signal without
a threshold is left to the patterns), with the best clause — trimmed of surrounding spaces and
punctuation — as its span and ``source="model"``.

:func:`combine` merges these hits into the pattern hits: a pattern span is kept when it exists,
a model span is added only for signal ids the patterns did not find.

The detector also checks the patterns (:meth:`SignalModel.refine`): a pattern hit whose clauses
it scores below ``veto`` for that signal is dropped. The patterns were written while reading the
corpus, so on new writers they misfire more (the fourteenth writers' batch, before it joined:
pattern precision 0.74 against 0.86 on the corpus' train and dev rows); the detector, scoring
the whole clause, tells a sign-off "Merci et à bientôt" from thanks for a repair.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .clean import fold
from .compiled import CompileError, load_arrays, save_arrays
from .config import SIGNALS
from .results import Signal, Span
from .textfeatures import (
    Rows,
    add_rows,
    hashed_char_counts,
    hashed_word_counts,
    l2_normalize_rows,
    row_products,
    row_sums,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sklearn.feature_extraction.text import HashingVectorizer

__all__ = ["SIGNAL_MODEL_FILE", "SignalModel", "clauses", "combine"]

SIGNAL_MODEL_FILE = "signals.npz"
LEGACY_SIGNAL_MODEL_FILE = "signals.joblib"
_SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*|[.!?]+")
_SUBCLAUSE_RE = re.compile(r"[^;:,]+[;:,]?")
_LONG_CLAUSE = 90
_WORD_RE = re.compile(r"(?u)\b\w+\b")  # the word vectorizer's token_pattern, also used by _word_ngrams
_TRIM = " \t\n.,;:!?-–—\"'«»()“”„"
UNFITTED_INTERCEPT = -30.0
"""The intercept of a signal too rare to fit: it scores about 0 everywhere and never vetoes."""


def clauses(text: str) -> list[tuple[int, int]]:
    """Character ranges of the clauses of ``text``: sentences, long ones split at ``;:,``."""
    out: list[tuple[int, int]] = []
    for m in _SENTENCE_RE.finditer(text):
        start, end = m.span()
        if end - start > _LONG_CLAUSE:
            parts = [(start + a, start + b) for a, b in (s.span() for s in _SUBCLAUSE_RE.finditer(m.group()))]
            merged: list[tuple[int, int]] = []
            for a, b in parts:  # glue very short pieces to the previous one ("yes, ...")
                if merged and (b - a < 15 or merged[-1][1] - merged[-1][0] < 15):
                    merged[-1] = (merged[-1][0], b)
                else:
                    merged.append((a, b))
            candidates = merged
        else:
            candidates = [(start, end)]
        for a, b in candidates:
            while a < b and text[a] in _TRIM:
                a += 1
            while b > a and text[b - 1] in _TRIM:
                b -= 1
            if b > a and any(ch.isalnum() for ch in text[a:b]):
                out.append((a, b))
    return out


def _vectorizers(n_features: int) -> tuple[HashingVectorizer, HashingVectorizer]:
    """The training featurization, as scikit-learn vectorizers (the reference of ``features``)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    char = HashingVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), n_features=n_features, alternate_sign=False, lowercase=False
    )
    word = HashingVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        n_features=n_features,
        alternate_sign=False,
        lowercase=False,
        token_pattern=_WORD_RE.pattern,
    )
    return char, word


def _word_ngrams(text: str) -> list[str]:
    """The word 1–2-grams the word vectorizer of ``_vectorizers`` extracts from ``text``."""
    tokens = _WORD_RE.findall(text)
    return tokens + [f"{a} {b}" for a, b in pairwise(tokens)]


@dataclass
class SignalModel:
    """Per-signal linear clause scorers over hashed n-grams, with per-signal thresholds."""

    n_features: int = 1 << 18
    signals: tuple[str, ...] = SIGNALS
    coef: sp.csr_matrix | None = None  # (n_features, n_signals), float32
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    thresholds: dict[str, float] = field(default_factory=dict)
    veto: float = 0.0  # pattern hits scored below this for their signal are dropped (0: none)
    _dense: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # after densify(): (scored signals' block, the other signals' block, each feature's row)
    _full: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False, compare=False)
    _full_order: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_dense"] = {}  # stored sparse (small on disk), used dense (fast product)
        return state

    def _scored(self) -> list[tuple[int, str, float]]:
        """``(column, signal, threshold)`` of the signals that have a threshold, in column order."""
        return [(j, sig, t) for j, sig in enumerate(self.signals) if (t := self.thresholds.get(sig)) is not None]

    def densify(self) -> None:
        """For inference only: hold every signal's weights as one dense block and drop the sparse
        matrix, which would otherwise sit in memory beside the block (about 12 MB). The block's
        first columns are the signals with a threshold, so :meth:`detect` multiplies by a view of
        just those. Scores are the same to the bit (each column is summed on its own); :meth:`save`
        then refuses."""
        if self._full is None:
            active = [j for j, _, _ in self._scored()]
            order = tuple(active + [j for j in range(len(self.signals)) if j not in active])
            block, row_of = self._weights(order)
            # two contiguous blocks: a product then reads whole rows of just the scored signals
            k = len(active)
            self._full = (np.ascontiguousarray(block[:, :k]), np.ascontiguousarray(block[:, k:]), row_of)
            self._full_order = order
            del block
            self._dense.clear()
            self.coef = None

    def save(self, path: Path) -> Path:
        """Write the model as one array file (:func:`clientsense.compiled.save_arrays`)."""
        if self.coef is None:
            raise RuntimeError(
                "SignalModel is not fitted" if self._full is None else "a densified SignalModel cannot be saved"
            )
        coef = sp.csr_matrix(self.coef)
        arrays = {
            "coef_data": np.asarray(coef.data, dtype=np.float32),
            # column = signal: 18 of them fit in a byte (lossless; a quarter of the int32 size)
            "coef_indices": coef.indices.astype(np.min_scalar_type(max(len(self.signals) - 1, 0))),
            # entries per feature row (at most one per signal) instead of the int32 row pointers
            "coef_row_nnz": np.diff(coef.indptr).astype(np.min_scalar_type(len(self.signals))),
            "intercept": np.asarray(self.intercept, dtype=np.float32),
        }
        header = {
            "kind": "signals",
            "n_features": self.n_features,
            "signals": list(self.signals),
            "thresholds": {k: float(v) for k, v in self.thresholds.items()},
            "veto": float(self.veto),
        }
        return save_arrays(path, arrays, header)

    @classmethod
    def load(cls, path: Path) -> SignalModel:
        """Read a model written by :meth:`save` (no unpickling)."""
        arrays, header = load_arrays(path)
        if header.get("kind") != "signals":
            raise CompileError(f"{path} does not hold a signal model")
        n, signals = int(header["n_features"]), tuple(header["signals"])
        if "coef_row_nnz" in arrays:
            indptr = np.zeros(arrays["coef_row_nnz"].size + 1, dtype=np.int32)
            np.cumsum(arrays["coef_row_nnz"], out=indptr[1:])
        else:  # written before the row counts
            indptr = arrays["coef_indptr"]
        coef = sp.csr_matrix(
            (arrays["coef_data"], arrays["coef_indices"].astype(np.int32), indptr), shape=(n, len(signals))
        )
        intercept = arrays["intercept"]
        if intercept.shape != (len(signals),):
            raise CompileError(f"{path}: the intercepts do not match the {len(signals)} signals")
        thresholds = {str(k): float(v) for k, v in header["thresholds"].items()}
        veto = float(header.get("veto", 0.0))  # models written before the veto have none
        if not 0.0 <= veto < 1.0:
            raise CompileError(f"{path}: veto must be in [0, 1), got {veto}")
        return cls(n, signals, coef, intercept, thresholds, veto)

    def _weights(self, cols: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The weights of signals ``cols`` for the features with any, as a dense float32 block
        (plus one row of zeros for all the others), and each feature's row in that block: about
        half the hashed features have no weight, so this holds half the memory of the full
        dense matrix (less for a few signals)."""
        dense = self._dense.get(cols)
        if dense is None:
            if self.coef is None:
                raise RuntimeError("SignalModel is not fitted")
            coef = sp.csc_matrix(self.coef)[:, list(cols)].tocsr()
            used = np.flatnonzero(np.diff(coef.indptr) > 0)
            row_of = np.full(coef.shape[0], len(used), dtype=np.int32)
            row_of[used] = np.arange(len(used), dtype=np.int32)
            block = np.zeros((len(used) + 1, len(cols)), dtype=np.float32)
            block[:-1] = coef[used].toarray()
            dense = self._dense[cols] = (block, row_of)
        return dense

    def features(self, pieces: Sequence[str], langs: Sequence[str]) -> Rows:
        """Float32 unit-length rows of hashed clause features (``.tocsr()`` for a scipy matrix)."""
        if not pieces:
            return Rows(np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64), (0, self.n_features))
        folded = [fold(p) for p in pieces]
        # exactly ``char.transform(folded) + word.transform(tagged)`` of ``_vectorizers`` (the
        # training featurization), computed as the tone features are: each distinct word's
        # character n-grams hashed once, word n-grams hashed directly
        counts = hashed_char_counts([f.split() for f in folded], (2, 5), self.n_features)
        grams = [_word_ngrams(f"__{lg}__ {f}") for f, lg in zip(folded, langs, strict=True)]
        X = add_rows(l2_normalize_rows(counts), l2_normalize_rows(hashed_word_counts(grams, self.n_features)))
        data = X.data.astype(np.float32)
        norms = np.sqrt(row_sums((data * data)[:, None], X.indptr)[:, 0])
        norms[norms == 0] = 1.0
        data *= np.repeat(np.float32(1.0) / norms, np.diff(X.indptr))
        return Rows(data, X.indices, X.indptr, X.shape)

    def clause_scores(
        self, pieces: Sequence[str], langs: Sequence[str], cols: tuple[int, ...] | None = None
    ) -> np.ndarray:
        """Probabilities (clauses × signals), or × the signals ``cols`` (indices into ``signals``)."""
        cols = tuple(range(len(self.signals))) if cols is None else cols
        pick: list[int] | None = None
        if self._full is not None:  # every signal's weights, in the order of ``_full_order``
            scored, rest, row_of = self._full
            if cols == self._full_order[: scored.shape[1]]:
                weights = scored  # the signals with a threshold (what ``detect`` asks for)
            else:
                weights, pick = np.hstack([scored, rest]), [self._full_order.index(c) for c in cols]
        else:
            weights, row_of = self._weights(cols)
        if not pieces:
            return np.zeros((0, len(cols)), dtype=np.float32)
        X = self.features(pieces, langs)
        compact = Rows(X.data, row_of[X.indices], X.indptr, (X.shape[0], len(weights)))
        z = row_products(compact, weights, np.float32)
        if pick is not None:
            z = z[:, pick]
        z = z + self.intercept[list(cols)]
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float32)

    def all_scores(self, pieces: Sequence[str], langs: Sequence[str]) -> np.ndarray:
        """Probabilities (clauses × every signal, in ``signals`` order); on a densified model the
        two weight blocks are multiplied separately (no copy of the weights)."""
        n = len(self.signals)
        if self._full is None:
            return self.clause_scores(pieces, langs, tuple(range(n)))
        if not pieces:
            return np.zeros((0, n), dtype=np.float32)
        scored, rest, row_of = self._full
        X = self.features(pieces, langs)
        compact = Rows(X.data, row_of[X.indices], X.indptr, (X.shape[0], len(scored)))
        order = list(self._full_order)
        k = scored.shape[1]
        z = np.empty((X.shape[0], n), dtype=np.float32)
        z[:, order[:k]] = row_products(compact, scored, np.float32)
        if rest.shape[1]:
            z[:, order[k:]] = row_products(compact, rest, np.float32)
        z += self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float32)

    def refine(self, rows: Sequence[tuple[str, str]], found: Sequence[tuple[Signal, ...]]) -> list[tuple[Signal, ...]]:
        """The pattern hits ``found`` of each row that the detector does not veto (a hit is vetoed
        when every clause its span touches scores below ``veto`` for its signal), plus the
        detector's own hits for the signal ids left without one (:func:`combine`)."""
        if self.veto <= 0.0:
            return [combine(p, q) for p, q in zip(found, self.detect(rows), strict=True)]
        column = {sig: j for j, sig in enumerate(self.signals)}
        active = self._scored()
        out = []
        for (text, _), (rs, block), hits in zip(rows, self._clause_blocks(rows, self.all_scores), found, strict=True):
            kept = tuple(h for h in hits if not self._vetoed(h, rs, block, column))
            learned = _learned_hits(text, rs, block.max(axis=0), block.argmax(axis=0), active) if rs else ()
            out.append(combine(kept, learned))
        return out

    def _vetoed(self, hit: Signal, ranges: list[tuple[int, int]], block: np.ndarray, column: dict[str, int]) -> bool:
        j = column.get(hit.id)
        if j is None or self.intercept[j] <= UNFITTED_INTERCEPT:
            return False
        touched = [k for k, (a, b) in enumerate(ranges) if a < hit.span.end and hit.span.start < b]
        return bool(touched) and float(block[touched, j].max()) < self.veto

    def best_clauses(
        self, rows: Sequence[tuple[str, str]], cols: tuple[int, ...] | None = None
    ) -> list[tuple[np.ndarray, list[tuple[int, int]], np.ndarray]]:
        """For each ``(text, lang)`` row: message scores (max over clauses), clause ranges, argmax
        clause per signal (of every signal, or of the signals ``cols``)."""
        k = len(self.signals) if cols is None else len(cols)
        out = []
        for rs, block in self._clause_blocks(rows, lambda pieces, langs: self.clause_scores(pieces, langs, cols)):
            if rs:
                out.append((block.max(axis=0), rs, block.argmax(axis=0)))
            else:
                out.append((np.zeros(k, dtype=np.float32), rs, np.zeros(k, dtype=np.int64)))
        return out

    @staticmethod
    def _clause_blocks(
        rows: Sequence[tuple[str, str]], score: Callable[[list[str], list[str]], np.ndarray]
    ) -> list[tuple[list[tuple[int, int]], np.ndarray]]:
        """Each row's clause ranges and its block of ``score``'s rows (clauses × signals), all
        clauses of all rows scored in one call."""
        ranges = [clauses(text) for text, _ in rows]
        pieces = [text[a:b] for (text, _), rs in zip(rows, ranges, strict=True) for a, b in rs]
        langs = [lang for (_, lang), rs in zip(rows, ranges, strict=True) for _ in rs]
        P = score(pieces, langs)
        out = []
        i = 0
        for rs in ranges:
            out.append((rs, P[i : i + len(rs)]))
            i += len(rs)
        return out

    def detect(self, rows: Sequence[tuple[str, str]]) -> list[tuple[Signal, ...]]:
        """Signals whose best clause reaches the threshold, one per id, spanning that clause.
        Only the signals with a threshold are scored."""
        active = self._scored()
        if not active:
            return [() for _ in rows]
        best = self.best_clauses(rows, tuple(j for j, _, _ in active))
        # the scores hold only the active signals: signal c of ``active`` is column c
        columns = [(c, sig, t) for c, (_, sig, t) in enumerate(active)]
        return [
            _learned_hits(text, rs, score, arg, columns) if rs else ()
            for (text, _), (score, rs, arg) in zip(rows, best, strict=True)
        ]


def _learned_hits(
    text: str,
    ranges: list[tuple[int, int]],
    best: np.ndarray,
    arg: np.ndarray,
    picks: Sequence[tuple[int, str, float]],
) -> tuple[Signal, ...]:
    """The detector's hits in ``text``: for each ``(column, signal, threshold)`` of ``picks`` whose
    best clause score reaches the threshold, that clause as the span (``source="model"``)."""
    hits = []
    for j, sig, t in picks:
        if best[j] >= t:
            a, b = ranges[int(arg[j])]
            hits.append(Signal(sig, Span(a, b, text[a:b]), source="model"))
    return tuple(hits)


def combine(patterns: tuple[Signal, ...], learned: tuple[Signal, ...]) -> tuple[Signal, ...]:
    """Pattern hits plus the learned hits of signal ids the patterns did not find, by span start."""
    have = {s.id for s in patterns}
    extra = [s for s in learned if s.id not in have]
    if not extra:
        return patterns
    return tuple(sorted((*patterns, *extra), key=lambda s: (s.span.start, s.span.end, s.id)))
