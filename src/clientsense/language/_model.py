"""The vectorised n-gram + word scorer behind ``LanguageDetector``.

Per word and language the score is ``log(lam * P_word + (1 - lam) * P_char)``: ``P_word`` from a
word-frequency table, ``P_char`` a character n-gram model (orders 1-5, conditional
probabilities with stupid back-off). A text's score is the sum over its words.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from clientsense.language import _text as tx

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

DEFAULT_SCORING: dict[str, float] = {
    "log_beta": -1.0,  # penalty per back-off step
    "floor": -12.0,  # log-prob of a character a language never uses
    "lam": 0.5,  # weight of the word table in the per-word mixture
    "profile_order": 3,  # back-off reference order of the languages with order-3 models
    "word_cap": 1e9,  # a word costs a language at most this much below the word's best
    "prior_power": 0.0,  # default prior = web share ** prior_power (0: uniform)
    "t0": 1.0,  # calibration: logits = score / (t0 * n_letters ** t1)
    "t1": 0.5,
    "mix_switch": 8.0,  # second language: cost of a language switch between words
    "mix_gain": 15.0,  # ... minimum log-score gain of the mixed reading
    "mix_share": 0.2,  # ... minimum share of the letters in each language
    "mix_letters": 8,  # ... minimum letters in the second language
}


DIR_BITS = 18
SMALL_BATCH_WORDS = 48  # below this many words, skip scipy.sparse (call overhead)
DENSE_MIN_LANGS = 8  # n-gram rows shared by this many languages are kept as a dense matrix


def _trim_heap() -> None:
    """Give the load-time temporaries back to the OS (glibc keeps freed heap otherwise)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class _Table:
    """Hash-keyed sparse table: row r = key ``keys[r]``, entries = (language, value).

    Rows are grouped (n-gram order, or 0 for words) and sorted by key inside a group. Values
    stay uint8-quantised in memory (``lo + q * scale``).
    """

    keys: npt.NDArray[np.uint32]
    group_ptr: I64
    indptr: npt.NDArray[np.int32]
    langs: npt.NDArray[np.uint8]
    q: npt.NDArray[np.uint8]
    lo: float
    scale: float
    directory: npt.NDArray[np.int32] = field(init=False)

    def __post_init__(self) -> None:
        # bucket directory over the top DIR_BITS bits of the key, one per group
        nb = 1 << DIR_BITS
        dirs = []
        for g in range(self.group_ptr.size - 1):
            lo, hi = int(self.group_ptr[g]), int(self.group_ptr[g + 1])
            b = (self.keys[lo:hi] >> np.uint32(32 - DIR_BITS)).astype(np.int64)
            dirs.append(lo + np.searchsorted(b, np.arange(nb + 1)))
        self.directory = np.stack(dirs).astype(np.int32) if dirs else np.zeros((1, nb + 1), np.int32)

    @classmethod
    def load(cls, path: Path, lo: float, hi: float) -> _Table:
        with np.load(path, allow_pickle=False) as z:
            keys = z["keys"]
            counts = z["counts"]
            langs = z["langs"].astype(np.uint8)
            q = z["vals"].astype(np.uint8)
            group_ptr = z["group_ptr"].astype(np.int64)
        indptr = np.zeros(keys.size + 1, dtype=np.int32)
        np.cumsum(counts, out=indptr[1:])
        return cls(keys, group_ptr, indptr, langs, q, lo, (hi - lo) / 255.0)

    @property
    def n_rows(self) -> int:
        return int(self.keys.size)

    def values(self, idx: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> F32:
        """Dequantised values of the entries ``idx``."""
        return self.q[idx].astype(np.float32) * np.float32(self.scale) + np.float32(self.lo)

    def expand(self, rows: I64) -> tuple[I64, I64, I64]:
        """For rows: (position in ``rows``, language, entry index) of each of their entries."""
        starts = self.indptr[rows].astype(np.int64)
        lens = self.indptr[rows + 1] - starts
        rep = np.repeat(np.arange(rows.size), lens)
        flat = starts[rep] + np.arange(rep.size) - np.repeat(np.cumsum(lens) - lens, lens)
        return rep, self.langs[flat].astype(np.int64), flat

    def split(
        self, n_cols: int, shifts: dict[int, float], dense_rows: npt.NDArray[np.bool_]
    ) -> tuple[F32, sp.csr_matrix]:
        """Float tables with ``shifts[g]`` added to group g: dense rows as an array, the others
        as a CSR matrix (both indexed by the row's rank among its kind)."""
        add = np.zeros(self.n_rows, dtype=np.float32)
        for g, s in shifts.items():
            add[self.group_ptr[g] : self.group_ptr[g + 1]] = s
        counts = np.diff(self.indptr)
        entry_row = np.repeat(np.arange(self.n_rows, dtype=np.int32), counts)
        local = np.where(dense_rows, np.cumsum(dense_rows) - 1, np.cumsum(~dense_rows) - 1)
        sel = dense_rows[entry_row]
        dense = np.zeros((int(dense_rows.sum()), n_cols), dtype=np.float32)
        er = entry_row[sel]
        dense[local[er], self.langs[sel]] = self.values(sel) + add[er]
        sel = ~sel
        er = entry_row[sel]
        data = self.values(sel) + add[er]
        indptr = np.zeros(int((~dense_rows).sum()) + 1, dtype=np.int32)
        np.cumsum(counts[~dense_rows], out=indptr[1:])
        sparse = sp.csr_matrix((data, self.langs[sel].astype(np.int32), indptr), shape=(indptr.size - 1, n_cols))
        return dense, sparse

    def rows(self, q: npt.NDArray[np.uint32], groups: I64 | int) -> tuple[I64, I64]:
        """(indices into q that were found, their row numbers); ``groups`` per query or one."""
        e = np.zeros(0, dtype=np.int64)
        if q.size == 0:
            return e, e
        nb1 = (1 << DIR_BITS) + 1
        g = np.minimum(np.asarray(groups, dtype=np.int64), self.directory.shape[0] - 1)
        b = (q >> np.uint32(32 - DIR_BITS)).astype(np.int64) + g * nb1
        d = self.directory.reshape(-1)
        cand, end = d[b], d[b + 1]
        found = np.full(q.size, -1, dtype=np.int64)
        active = np.flatnonzero(cand < end)
        keys = self.keys
        while active.size:
            c = cand[active]
            kc = keys[c]
            qa = q[active]
            m = kc == qa
            found[active[m]] = c[m]
            # keys are sorted inside a bucket: stop once they pass the query
            go = (~m) & (kc < qa)
            active = active[go]
            cand[active] += 1
            active = active[cand[active] < end[active]]
        hit = np.flatnonzero(found >= 0)
        return hit, found[hit]


@dataclass
class Model:
    """Loaded artifacts: languages, n-gram table, word table and scoring parameters."""

    languages: tuple[str, ...]
    ngrams: _Table
    words: _Table
    max_order: I64
    has_words: npt.NDArray[np.bool_]
    scoring: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SCORING))
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, config: Path, ngrams: Path, words: Path) -> Model:
        cfg = json.loads(config.read_text(encoding="utf-8"))
        langs = tuple(cfg["languages"])
        scoring = dict(DEFAULT_SCORING)
        scoring.update(cfg.get("scoring", {}))
        return cls(
            languages=langs,
            ngrams=_Table.load(ngrams, float(cfg["ngram_range"][0]), float(cfg["ngram_range"][1])),
            words=_Table.load(words, float(cfg["word_range"][0]), float(cfg["word_range"][1])),
            max_order=np.array(cfg["max_order"], dtype=np.int64),
            has_words=np.array([lg in set(cfg["has_words"]) for lg in langs]),
            scoring=scoring,
            extra={k: v for k, v in cfg.items() if k not in {"scoring"}},
        )

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute derived matrices after ``scoring`` changed."""
        floor, log_beta = float(self.scoring["floor"]), float(self.scoring["log_beta"])
        shifts = {n: (-floor if n == 1 else -log_beta) for n in range(1, tx.MAX_ORDER + 1)}
        po = int(self.scoring["profile_order"])
        self._eff_order = np.where(self.max_order < tx.MAX_ORDER, po, self.max_order)
        t = self.ngrams
        dense = np.diff(t.indptr) >= DENSE_MIN_LANGS
        self._row_dense = dense
        self._row_local = np.where(dense, np.cumsum(dense) - 1, np.cumsum(~dense) - 1).astype(np.int32)
        self._dense_matrix, self._sparse_matrix = t.split(self.n_langs, shifts, dense)
        self._n_dense = int(self._dense_matrix.shape[0])
        _trim_heap()

    @property
    def n_langs(self) -> int:
        return len(self.languages)

    def _char_scores(self, seg: tx.Segments) -> F32:
        """Char-model log-score of every word (n_words x n_langs).

        With hierarchical tables the back-off score of a position telescopes into
        ``floor + (ideal_order - 1) * log_beta`` plus one stored increment per n-gram found.
        """
        n_words = seg.word_start.size
        n_l = self.n_langs
        if n_words == 0:
            return np.zeros((0, n_l), dtype=np.float32)
        sc = self.scoring
        log_beta, floor = float(sc["log_beta"]), float(sc["floor"])
        # positions of a word of length l whose longest possible order is >= k (k=1..5):
        # l+1, l+1, l, l-1, l-2 (the padded word " w " predicts its letters and the end)
        ln = seg.word_len.astype(np.float32)[:, None]
        ge = np.maximum(ln + np.array([1, 1, 0, -1, -2], dtype=np.float32), 0)
        cum = np.cumsum(ge, axis=1)  # sum_p min(K, avail_p) for K = 1..5
        base = np.float32(floor - log_beta) * ge[:, :1] + np.float32(log_beta) * cum[:, self._eff_order - 1]
        out: F32 = np.ascontiguousarray(base, dtype=np.float32)
        q, order, word = tx.ngram_queries(seg)  # sorted by word (then order, position)
        hit, rows = self.ngrams.rows(q, order)
        self._accumulate(out, word[hit], rows)
        return out

    def _accumulate(self, out: npt.NDArray[np.float32], w: I64, rows: I64) -> None:
        """out[w] += table row, for every (word, n-gram row) pair found (``w`` sorted).

        Each word's dense rows and its sparse entries are summed separately, in float32 and
        in query order, then added to ``out``: the same arithmetic for any batch size, so a
        text scores identically alone and in a batch.
        """
        n_words, n_l = out.shape
        dn = self._row_dense[rows]
        loc = self._row_local[rows]
        if w.size == 0:
            return
        # dense rows: occurrence matrix (words x dense rows) @ dense table
        wd, ld = w[dn], loc[dn]
        if wd.size:
            if n_words <= SMALL_BATCH_WORDS:  # plain numpy: less overhead for a few words
                starts = np.flatnonzero(np.r_[True, wd[1:] != wd[:-1]])
                out[wd[starts]] += np.add.reduceat(self._dense_matrix[ld], starts, axis=0)
            else:
                indptr = np.zeros(n_words + 1, dtype=np.int64)
                np.cumsum(np.bincount(wd, minlength=n_words), out=indptr[1:])
                occ = sp.csr_matrix((np.ones(wd.size, dtype=np.float32), ld, indptr), shape=(n_words, self._n_dense))
                out += occ @ self._dense_matrix
        # sparse rows: scatter their few entries
        sm = self._sparse_matrix
        ls = loc[~dn]
        if ls.size:
            starts = sm.indptr[ls]
            lens = sm.indptr[ls + 1] - starts
            ends = np.cumsum(lens)
            flat = np.repeat(starts - (ends - lens), lens)
            flat += np.arange(int(ends[-1]), dtype=flat.dtype)
            target = np.repeat(w[~dn] * n_l, lens)
            target += sm.indices[flat]
            acc = np.zeros(n_words * n_l, dtype=np.float32)
            np.add.at(acc, target, sm.data[flat])
            out += acc.reshape(n_words, n_l)

    def word_scores(self, seg: tx.Segments) -> F32:
        """Per-word score ``log(lam * P_word + (1 - lam) * P_char)`` (n_words x n_langs).

        A word's score does not depend on its context, so repeated words of a batch are
        scored once.
        """
        h, ok, h64 = tx.word_hashes(seg)
        n_words = h.size
        if n_words >= 2:
            key = np.where(ok, h64, np.arange(n_words, dtype=np.uint64))  # long words: unique
            uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
            if uniq.size < 0.8 * n_words:
                return self._word_scores(tx.subset(seg, first), h[first], ok[first])[inv]
        return self._word_scores(seg, h, ok)

    def _word_scores(self, seg: tx.Segments, h: npt.NDArray[np.uint32], ok: npt.NDArray[np.bool_]) -> F32:
        c = self._char_scores(seg)
        lam = float(self.scoring["lam"])
        lam_v = np.where(self.has_words, lam, 0.0)
        with np.errstate(divide="ignore"):
            log_lam = np.log(lam_v).astype(np.float32)
        c += np.log1p(-lam_v).astype(np.float32)
        idx = np.flatnonzero(ok)
        hit, rows = self.words.rows(h[idx], 0)
        if rows.size:
            rep, col, flat = self.words.expand(rows)
            r = idx[hit][rep]
            c[r, col] = np.logaddexp(log_lam[col] + self.words.values(flat), c[r, col])
        cap = np.float32(self.scoring["word_cap"])
        if c.size and cap < 1e8:
            np.maximum(c, c.max(axis=1, keepdims=True) - cap, out=c)
        return c
