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
SPARSE_WIDTH = DENSE_MIN_LANGS - 1  # entries of a sparse row, at most
MULTI_BASE = 1 << 30
"""Row codes: ``0 <= c < MULTI_BASE`` a dense row, ``c >= MULTI_BASE`` a sparse row of 2+
entries (``c - MULTI_BASE``), ``c < 0`` a row of one entry, packed as ``-1 - (v << 8 | lang)``
with ``v`` its value's index in ``_Layout.single_values``."""


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

    def layout(self, n_cols: int, shifts: dict[int, float], dense_rows: npt.NDArray[np.bool_]) -> _Layout:
        """Float tables with ``shifts[g]`` added to group g: ``dense_rows`` as a dense matrix,
        rows of one entry packed into their row code, other rows padded to SPARSE_WIDTH."""
        add = np.zeros(self.n_rows, dtype=np.float32)
        for g, sh in shifts.items():
            add[self.group_ptr[g] : self.group_ptr[g + 1]] = sh
        counts = np.diff(self.indptr)
        group_of_row = np.repeat(np.arange(self.group_ptr.size - 1), np.diff(self.group_ptr))
        entry_row = np.repeat(np.arange(self.n_rows, dtype=np.int32), counts)
        single_rows = (counts == 1) & ~dense_rows
        multi_rows = ~dense_rows & ~single_rows
        code = np.zeros(self.n_rows, dtype=np.int32)
        code[dense_rows] = np.arange(int(dense_rows.sum()), dtype=np.int32)
        code[multi_rows] = MULTI_BASE + np.arange(int(multi_rows.sum()), dtype=np.int32)
        # dense matrix
        sel = dense_rows[entry_row]
        dense = np.zeros((int(dense_rows.sum()), n_cols), dtype=np.float32)
        er = entry_row[sel]
        dense[code[er], self.langs[sel]] = self.values(sel) + add[er]
        # one-entry rows: the value depends only on (group, quantised value)
        n_groups = self.group_ptr.size - 1
        single_values = np.zeros(n_groups * 256, dtype=np.float32)
        for g in range(n_groups):
            level = np.arange(256, dtype=np.uint8).astype(np.float32) * np.float32(self.scale) + np.float32(self.lo)
            single_values[g * 256 : (g + 1) * 256] = level + np.float32(shifts.get(g, 0.0))
        first = self.indptr[:-1][single_rows]
        packed = ((group_of_row[single_rows] * 256 + self.q[first].astype(np.int64)) << 8) | self.langs[first]
        code[single_rows] = (-1 - packed).astype(np.int32)
        # rows of 2+ entries (fewer than DENSE_MIN_LANGS)
        sel = multi_rows[entry_row]
        er = entry_row[sel]
        # padded to SPARSE_WIDTH entries; padding points at an extra column n_cols, value 0
        n_multi = int(multi_rows.sum())
        slot = np.flatnonzero(sel) - self.indptr[er].astype(np.int64)  # rank inside the row
        mrow = code[er] - MULTI_BASE
        multi_langs = np.full((n_multi, SPARSE_WIDTH), n_cols, dtype=np.uint8)
        multi_values = np.zeros((n_multi, SPARSE_WIDTH), dtype=np.float32)
        multi_langs[mrow, slot] = self.langs[sel]
        multi_values[mrow, slot] = self.values(sel) + add[er]
        return _Layout(dense, code, single_values, multi_langs, multi_values)

def _directory(keys: npt.NDArray[np.uint32], group_ptr: I64) -> npt.NDArray[np.int32]:
    """Per group, the first row of every bucket (top DIR_BITS bits of the key) and the end."""
    nb = 1 << DIR_BITS
    dirs = []
    for g in range(group_ptr.size - 1):
        lo, hi = int(group_ptr[g]), int(group_ptr[g + 1])
        b = (keys[lo:hi] >> np.uint32(32 - DIR_BITS)).astype(np.int64)
        dirs.append(lo + np.searchsorted(b, np.arange(nb + 1)))
    return np.stack(dirs).astype(np.int32) if dirs else np.zeros((1, nb + 1), np.int32)


class _Probe:
    """Lookup of a ``_Table``'s keys, giving an int32 value per row (its code or number).

    One uint64 per row (key in the low half, value in the high half: one memory access gives
    both), each group followed by an empty slot (largest key, value ``EMPTY``) so that a probe
    never runs into the next group, and a bucket directory over the top DIR_BITS bits of the
    key pointing into these slots. Keys are sorted inside a group, so a probe walks forward
    from the first slot of its bucket while the keys are smaller than the query.
    """

    EMPTY = np.int32(-(2**31))

    def __init__(self, table: _Table, values: npt.NDArray[np.int32]) -> None:
        n_groups = table.group_ptr.size - 1
        shift = np.repeat(np.arange(n_groups, dtype=np.int64), np.diff(table.group_ptr))
        empty = (np.uint64(0x80000000) << np.uint64(32)) | np.uint64(0xFFFFFFFF)
        slots = np.full(table.n_rows + n_groups, empty, dtype=np.uint64)
        packed = (values.astype(np.int32).view(np.uint32).astype(np.uint64) << np.uint64(32)) | table.keys.astype(
            np.uint64
        )
        slots[np.arange(table.n_rows) + shift] = packed
        self.slots = slots
        directory = _directory(table.keys, table.group_ptr)
        directory += np.arange(directory.shape[0], dtype=np.int32)[:, None]
        self.directory = directory.reshape(-1)
        self.n_groups = max(n_groups, 1)

    def find(self, q: npt.NDArray[np.uint32], groups: I64 | int) -> tuple[I64, npt.NDArray[np.int32]]:
        """(indices into q that were found, their values); ``groups`` per query or one."""
        if q.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
        b = (q >> np.uint32(32 - DIR_BITS)).astype(np.int64)
        b += groups * ((1 << DIR_BITS) + 1)
        pos = self.directory.take(b)
        q64 = q.astype(np.uint64)
        e = self.slots.take(pos)
        key = e & np.uint64(0xFFFFFFFF)
        code = (e >> np.uint64(32)).astype(np.uint32).view(np.int32)
        miss = key != q64
        np.putmask(code, miss, self.EMPTY)
        act = np.flatnonzero(key < q64)  # keys are sorted in a bucket: the query may be further on
        pos, q64 = pos.take(act) + 1, q64.take(act)
        while act.size:
            e = self.slots.take(pos)
            key = e & np.uint64(0xFFFFFFFF)
            m = np.flatnonzero(key == q64)
            if m.size:
                code[act.take(m)] = (e.take(m) >> np.uint64(32)).astype(np.uint32).view(np.int32)
            go = np.flatnonzero(key < q64)
            act, pos, q64 = act.take(go), pos.take(go) + 1, q64.take(go)
        hit = np.flatnonzero(code != self.EMPTY)
        return hit, code.take(hit)


@dataclass
class _Layout:
    """The n-gram table as scored: see ``MULTI_BASE`` for the row codes."""

    dense: F32
    code: npt.NDArray[np.int32]
    single_values: F32
    multi_langs: npt.NDArray[np.uint8]  # (rows, SPARSE_WIDTH), padding = n_langs
    multi_values: F32


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
        self._word_probe = _Probe(self.words, np.arange(self.words.n_rows, dtype=np.int32))
        self.refresh()

    def refresh(self) -> None:
        """Recompute derived matrices after ``scoring`` changed."""
        floor, log_beta = float(self.scoring["floor"]), float(self.scoring["log_beta"])
        shifts = {n: (-floor if n == 1 else -log_beta) for n in range(1, tx.MAX_ORDER + 1)}
        po = int(self.scoring["profile_order"])
        self._eff_order = np.where(self.max_order < tx.MAX_ORDER, po, self.max_order)
        t = self.ngrams
        self._layout = t.layout(self.n_langs, shifts, np.diff(t.indptr) >= DENSE_MIN_LANGS)
        self._probe = _Probe(t, self._layout.code)
        self._layout.code = np.zeros(0, dtype=np.int32)  # now held by the probe
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
        # dense rows (0 <= code < MULTI_BASE; negative codes are large as uint32)
        dense = code.view(np.uint32) < np.uint32(MULTI_BASE)
        di = np.flatnonzero(dense)
        if di.size:
            wd, ld = w.take(di), code.take(di)
            if n_words <= SMALL_BATCH_WORDS:  # plain numpy: less overhead for a few words
                starts = np.flatnonzero(np.r_[True, wd[1:] != wd[:-1]])
                out[wd[starts]] += np.add.reduceat(lay.dense.take(ld, axis=0), starts, axis=0)
            else:  # occurrence matrix (words x dense rows) @ dense table
                indptr = np.searchsorted(wd, np.arange(n_words + 1)).astype(np.int32)
                occ = sp.csr_matrix((np.ones(wd.size, dtype=np.float32), ld, indptr), shape=(n_words, lay.dense.shape[0]))
                out += occ @ lay.dense
        # sparse rows: scatter their entries, in query order
        si = np.flatnonzero(~dense)
        if si.size == 0:
            return
        cs, wsp = code.take(si), w.take(si)
        n_c = n_l + 1  # plus a column that takes the padding
        ones = np.flatnonzero(cs < 0)
        packed = -1 - cs.take(ones)
        if ones.size == cs.size:  # one entry each
            target = wsp * n_c + (packed & 255)
            val = lay.single_values.take(packed >> 8)
        else:  # SPARSE_WIDTH padded entries per row, in query order
            lang = np.empty((cs.size, SPARSE_WIDTH), dtype=np.uint8)
            vals = np.empty((cs.size, SPARSE_WIDTH), dtype=np.float32)
            multi = np.flatnonzero(cs >= 0)
            mrow = cs.take(multi) - MULTI_BASE
            lang[multi] = lay.multi_langs.take(mrow, axis=0)
            vals[multi] = lay.multi_values.take(mrow, axis=0)
            if ones.size:
                lang[ones] = n_l
                vals[ones] = 0.0
                lang[ones, 0] = packed & 255
                vals[ones, 0] = lay.single_values.take(packed >> 8)
            target = (wsp * n_c)[:, None] + lang
            target = target.reshape(-1)
            val = vals.reshape(-1)
        acc = np.zeros(n_words * n_c, dtype=np.float32)
        np.add.at(acc, target, val)
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
