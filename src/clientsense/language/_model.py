"""The vectorised n-gram + word scorer behind ``LanguageDetector``.

Per word and language the score is ``log(lam * P_word + (1 - lam) * P_char)``: ``P_word`` from a
word-frequency table, ``P_char`` a character n-gram model (orders 1-5, conditional
probabilities with stupid back-off). A text's score is the sum over its words.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import sys
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
_LO, _HI = (0, 1) if sys.byteorder == "little" else (1, 0)  # uint32 halves of a uint64
DENSE_MIN_LANGS = 8  # n-gram rows shared by this many languages are kept as a dense matrix
SPARSE_WIDTH = DENSE_MIN_LANGS - 1  # entries of a sparse row, at most


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

    @classmethod
    def load(cls, path: Path, lo: float, hi: float) -> _Table:
        with np.load(path, allow_pickle=False) as z:
            keys = z["keys"]
            counts = z["counts"]
            langs = z["langs"].astype(np.uint8, copy=False)
            q = z["vals"].astype(np.uint8, copy=False)
            group_ptr = z["group_ptr"].astype(np.int64)
        indptr = np.zeros(keys.size + 1, dtype=np.int32)
        np.cumsum(counts, out=indptr[1:])
        return cls(keys, group_ptr, indptr, langs, q, lo, (hi - lo) / 255.0)

    @property
    def n_rows(self) -> int:
        return int(self.indptr.size - 1)

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

    def codes(self, dense_rows: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int32], int, int, I64]:
        """Row codes, which do not depend on the scoring parameters: ``dense_rows`` are rows
        ``0..n_dense-1`` of a dense matrix; the others are rows ``code - n_dense`` of a sparse
        table padded to SPARSE_WIDTH entries: first the rows of 2+ entries, then one row per
        distinct (group, quantised value, language) of the rows of one entry (there are far
        fewer of those than such rows). Returns (code, n_dense, n_multi, those triples).
        """
        counts = np.diff(self.indptr)
        single_rows = (counts == 1) & ~dense_rows
        multi_rows = ~dense_rows & ~single_rows
        n_dense, n_multi = int(dense_rows.sum()), int(multi_rows.sum())
        code = np.zeros(self.n_rows, dtype=np.int32)
        code[dense_rows] = np.arange(n_dense, dtype=np.int32)
        code[multi_rows] = n_dense + np.arange(n_multi, dtype=np.int32)
        rows = np.flatnonzero(single_rows)
        first = self.indptr[rows]
        combo = np.searchsorted(self.group_ptr, rows, side="right") - 1
        combo <<= 16
        combo |= self.q[first].astype(np.int64) << 8
        combo |= self.langs[first]
        present = np.zeros(max(self.group_ptr.size - 1, 1) << 16, dtype=np.bool_)
        present[combo] = True
        uniq = np.flatnonzero(present)
        rank = np.cumsum(present, dtype=np.int32)
        code[rows] = n_dense + n_multi - 1 + rank[combo]
        return code, n_dense, n_multi, uniq

    def layout(self, n_cols: int, shifts: dict[int, float], dense_rows: npt.NDArray[np.bool_]) -> _Layout:
        """Float tables with ``shifts[g]`` added to group g, for the codes of ``codes``."""
        code, n_dense, n_multi, combos = self.codes(dense_rows)
        level = np.arange(256, dtype=np.uint8).astype(np.float32) * np.float32(self.scale) + np.float32(self.lo)
        counts = np.diff(self.indptr)
        # dense matrix
        dense = np.zeros((n_dense, n_cols), dtype=np.float32)
        sparse_langs = np.full((n_multi + combos.size, SPARSE_WIDTH), n_cols, dtype=np.uint8)
        sparse_values = np.zeros((n_multi + combos.size, SPARSE_WIDTH), dtype=np.float32)
        shift = np.array([shifts.get(g, 0.0) for g in range(max(self.group_ptr.size - 1, 1))], dtype=np.float32)
        step = 1 << 16  # rows at a time: small temporaries
        for g in range(self.group_ptr.size - 1):
            for r0 in range(int(self.group_ptr[g]), int(self.group_ptr[g + 1]), step):
                r1 = min(r0 + step, int(self.group_ptr[g + 1]))
                e0, e1 = int(self.indptr[r0]), int(self.indptr[r1])
                er = np.repeat(np.arange(r0, r1, dtype=np.int32), counts[r0:r1])  # row of each entry
                value = level[self.q[e0:e1]] + shift[g]
                langs = self.langs[e0:e1]
                c = code[er]
                sel = np.flatnonzero(c < n_dense)
                dense[c[sel], langs[sel]] = value[sel]
                sel = np.flatnonzero((c >= n_dense) & (c < n_dense + n_multi))
                rank = sel + e0 - self.indptr[er[sel]]
                sparse_langs[c[sel] - n_dense, rank] = langs[sel]
                sparse_values[c[sel] - n_dense, rank] = value[sel]
        sparse_langs[n_multi:, 0] = combos & 255
        sparse_values[n_multi:, 0] = level[(combos >> 8) & 255] + shift[combos >> 16]
        return _Layout(dense, code, sparse_langs, sparse_values)


def _directory(keys: npt.NDArray[np.uint32], group_ptr: I64) -> npt.NDArray[np.int32]:
    """Per group, the first row of every bucket (top DIR_BITS bits of the key) and the end."""
    nb = 1 << DIR_BITS
    n_groups = max(group_ptr.size - 1, 1)
    out = np.zeros((n_groups, nb + 1), dtype=np.int32)
    for g in range(group_ptr.size - 1):
        lo, hi = int(group_ptr[g]), int(group_ptr[g + 1])
        out[g] = lo + np.searchsorted(keys[lo:hi] >> np.uint32(32 - DIR_BITS), np.arange(nb + 1, dtype=np.uint32))
    return out


class _Probe:
    """Lookup of a ``_Table``'s keys, giving an int32 value per row (its code or number).

    One uint64 per row (key in the low half, value in the high half: one memory access gives
    both), each group followed by an empty slot (largest key, value ``EMPTY``) so that a probe
    never runs into the next group, and a bucket directory over the top DIR_BITS bits of the
    key pointing into these slots. Keys are sorted inside a group, so a probe walks forward
    from the first slot of its bucket while the keys are smaller than the query.
    """

    EMPTY = np.int32(-(2**31))

    def __init__(self, keys: npt.NDArray[np.uint32], group_ptr: I64, values: npt.NDArray[np.int32]) -> None:
        n_groups = group_ptr.size - 1
        empty = (np.uint64(0x80000000) << np.uint64(32)) | np.uint64(0xFFFFFFFF)
        slots = np.full(keys.size + n_groups, empty, dtype=np.uint64)
        for g in range(n_groups):  # group g's rows move g slots on (one empty slot per group)
            lo, hi = int(group_ptr[g]), int(group_ptr[g + 1])
            part = slots[lo + g : hi + g]
            part[:] = values[lo:hi].view(np.uint32)
            part <<= np.uint64(32)
            part |= keys[lo:hi]
        self.slots = slots
        directory = _directory(keys, group_ptr)
        directory += np.arange(directory.shape[0], dtype=np.int32)[:, None]
        self.directory = directory.reshape(-1)

    def find(self, q: npt.NDArray[np.uint32], groups: I64 | int) -> tuple[I64, npt.NDArray[np.int32]]:
        """(indices into q that were found, their values); ``groups`` per query or one."""
        if q.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        b = (q >> np.uint32(32 - DIR_BITS)).astype(np.int64)
        b += groups * ((1 << DIR_BITS) + 1)
        pos = self.directory.take(b)
        e = self.slots.take(pos)
        key = e.view(np.uint32)[_LO::2]  # the key and value halves, as views: no copies
        code = e.view(np.int32)[_HI::2]
        np.putmask(code, key != q, self.EMPTY)
        act = np.flatnonzero(key < q)  # keys are sorted in a bucket: the query may be further on
        pos, qa = pos.take(act) + 1, q.take(act)
        while act.size:
            e = self.slots.take(pos)
            key = e.view(np.uint32)[_LO::2]
            m = np.flatnonzero(key == qa)
            if m.size:
                code[act.take(m)] = e.view(np.int32)[_HI::2].take(m)
            go = np.flatnonzero(key < qa)
            act, pos, qa = act.take(go), pos.take(go) + 1, qa.take(go)
        hit = np.flatnonzero(code != self.EMPTY)
        return hit, code.take(hit)


@dataclass
class _Layout:
    """The n-gram table as scored: see ``_Table.layout``."""

    dense: F32
    code: npt.NDArray[np.int32]
    sparse_langs: npt.NDArray[np.uint8]
    sparse_values: F32


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
        w, t = self.words, self.ngrams
        self._word_probe = _Probe(w.keys, w.group_ptr, np.arange(w.n_rows, dtype=np.int32))
        code = t.codes(self._dense_rows())[0]  # codes do not depend on the scoring
        self._probe = _Probe(t.keys, t.group_ptr, code)
        del code
        w.keys = t.keys = np.zeros(0, dtype=np.uint32)  # now held by the probes
        self.refresh()

    def _dense_rows(self) -> npt.NDArray[np.bool_]:
        return np.asarray(np.diff(self.ngrams.indptr) >= DENSE_MIN_LANGS)

    def refresh(self) -> None:
        """Recompute derived matrices after ``scoring`` changed."""
        floor, log_beta = float(self.scoring["floor"]), float(self.scoring["log_beta"])
        shifts = {n: (-floor if n == 1 else -log_beta) for n in range(1, tx.MAX_ORDER + 1)}
        po = int(self.scoring["profile_order"])
        self._eff_order = np.where(self.max_order < tx.MAX_ORDER, po, self.max_order)
        t = self.ngrams
        self._layout = t.layout(self.n_langs, shifts, self._dense_rows())
        self._layout.code = np.zeros(0, dtype=np.int32)  # the probe has them
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
        hit, code = self._probe.find(q, order)
        self._accumulate(out, word.take(hit), code)
        return out

    def _accumulate(self, out: npt.NDArray[np.float32], w: I64, code: npt.NDArray[np.int32]) -> None:
        """out[w] += table row, for every (word, n-gram row code) pair found (``w`` sorted).

        Each word's dense rows and its sparse entries are summed separately, in float32 and
        in query order, then added to ``out``: the same arithmetic for any batch size, so a
        text scores identically alone and in a batch.
        """
        if w.size == 0:
            return
        lay = self._layout
        n_words, n_l = out.shape
        n_dense = lay.dense.shape[0]
        dense = code < n_dense
        di = np.flatnonzero(dense)
        if di.size:
            wd, ld = w.take(di), code.take(di)
            # occurrence matrix (words x dense rows) @ dense table: each word's rows are summed
            # one after the other from zero (np.add.reduceat would not sum in that order)
            indptr = np.searchsorted(wd, np.arange(n_words + 1)).astype(np.int32)
            occ = sp.csr_matrix((np.ones(wd.size, dtype=np.float32), ld, indptr), shape=(n_words, n_dense))
            out += occ @ lay.dense
        # sparse rows: scatter their (padded) entries, in query order
        si = np.flatnonzero(~dense)
        if si.size == 0:
            return
        rows = code.take(si) - n_dense
        n_c = n_l + 1  # plus the column that takes the padding
        target = (w.take(si) * n_c)[:, None] + lay.sparse_langs.take(rows, axis=0)
        acc = np.zeros(n_words * n_c, dtype=np.float32)
        np.add.at(acc, target.reshape(-1), lay.sparse_values.take(rows, axis=0).reshape(-1))
        out += acc.reshape(n_words, n_c)[:, :n_l]

    def word_scores(self, seg: tx.Segments) -> F32:
        """Per-word score ``log(lam * P_word + (1 - lam) * P_char)`` (n_words x n_langs)."""
        scores, inv = self.unique_word_scores(seg)
        return scores if inv is None else scores[inv]

    def unique_word_scores(self, seg: tx.Segments) -> tuple[F32, I64 | None]:
        """(scores, inv): word i of ``seg`` scores ``scores[inv[i]]`` (``scores[i]`` if inv is None).

        A word's score does not depend on its context, so repeated words of a batch are
        scored once.
        """
        h, ok, h64 = tx.word_hashes(seg)
        n_words = h.size
        if n_words >= 2:
            key = np.where(ok, h64, np.arange(n_words, dtype=np.uint64))  # long words: unique
            uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
            if uniq.size < 0.8 * n_words:
                return self._word_scores(tx.subset(seg, first), h[first], ok[first]), inv.astype(np.int64)
        return self._word_scores(seg, h, ok), None

    def _word_scores(self, seg: tx.Segments, h: npt.NDArray[np.uint32], ok: npt.NDArray[np.bool_]) -> F32:
        c = self._char_scores(seg)
        lam = float(self.scoring["lam"])
        lam_v = np.where(self.has_words, lam, 0.0)
        with np.errstate(divide="ignore"):
            log_lam = np.log(lam_v).astype(np.float32)
        c += np.log1p(-lam_v).astype(np.float32)
        idx = np.flatnonzero(ok)
        hit, found = self._word_probe.find(h[idx], 0)
        rows = found.astype(np.int64)
        if rows.size:
            rep, col, flat = self.words.expand(rows)
            r = idx[hit][rep]
            c[r, col] = np.logaddexp(log_lam[col] + self.words.values(flat), c[r, col])
        cap = np.float32(self.scoring["word_cap"])
        if c.size and cap < 1e8:
            np.maximum(c, c.max(axis=1, keepdims=True) - cap, out=c)
        return c
