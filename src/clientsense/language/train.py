"""Rebuild the language-identification artifacts in ``models/langid/``.

Run ``python -m clientsense.language.train``. Deterministic: no randomness is involved, the
output depends only on the sources below, then ``models/MANIFEST.json`` is rewritten.

Sources (training only, never the lingua evaluation texts):

* ``wordfreq`` (PyPI) word-frequency lists: char n-gram model (orders 1-5) and word table
  for the 41 languages it covers;
* langdetect's shipped profiles (orders 1-3) for the languages wordfreq lacks;
* Belarusian (absent from both): the Debian ``hunspell-be`` dictionary, expanded with
  ``unmunch`` (Debian ``hunspell-tools``) when available, plus the closed-class words in
  ``_sources.BE_FUNCTION_WORDS``.

The scoring parameters in ``TUNED_SCORING`` were chosen by ``benchmarks/langid/tune_langid.py``
on the dev slice of lingua's test set (first 20 % of each file); they are copied here so that
training stays reproducible without the evaluation data.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import numpy.typing as npt

from clientsense.language import _text as tx
from clientsense.language._sources import (
    alphabet_filter,
    belarusian_words,
    fold,
    profile_counts,
    wordfreq_words,
)
from clientsense.language.languages import FIRST_CLASS, LANGUAGES, WORDFREQ_CODES

U32A = npt.NDArray[np.uint32]
F64A = npt.NDArray[np.float64]

NGRAM_Q = 16.0  # stored n-gram values are quantised on [-NGRAM_Q, NGRAM_Q] into uint8
WORD_Q = 24.0  # word log-probs on [-WORD_Q, 0]
TOP_K = {1: 100_000, 2: 100_000, 3: 12_000, 4: 14_000, 5: 14_000}
TOP_K_FIRST = {1: 100_000, 2: 100_000, 3: 16_000, 4: 24_000, 5: 24_000}
WORDS_FIRST = 60_000
WORDS_OTHER = 20_000
CHAR_TRAIN_WORDS = 200_000
WEIGHT_POWER = 0.85  # token weight f**power: tempers the dominance of a few function words
FOLD_WEIGHT = {
    "pl": 0.25,
    "ro": 0.5,
    "cs": 0.15,
    "sk": 0.15,
    "fr": 0.1,
    "pt": 0.1,
    "es": 0.05,
    "ca": 0.1,
    "it": 0.05,
    "de": 0.05,
    "hu": 0.1,
    "tr": 0.1,
    "lt": 0.1,
    "lv": 0.1,
    "hr": 0.2,
    "sl": 0.2,
    "vi": 0.05,
}

TUNED_SCORING: dict[str, float] = {
    "floor": -9.0,
    "lam": 0.95,
    "log_beta": -1.0,
    "mix_gain": 15.0,
    "mix_letters": 8,
    "mix_share": 0.15,
    "mix_switch": 12.0,
    "profile_order": 5,
    "prior_power": 0.25,
    "t0": 0.6703,
    "t1": 0.65,
    "word_cap": 1e9,
}


def _aggregate(h: U32A, w: F64A) -> tuple[U32A, F64A]:
    keys, inv = np.unique(h, return_inverse=True)
    return keys, np.bincount(inv, weights=w, minlength=keys.size).astype(np.float64)


def _lookup(keys: U32A, vals: F64A, q: U32A, default: float) -> F64A:
    """vals[keys == q] for sorted keys, ``default`` where q is absent."""
    if keys.size == 0:
        return np.full(q.size, default)
    i = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    return np.where(keys[i] == q, vals[i], default)


class Stats:
    """Per order n: n-gram hashes, their counts, context (prefix) hashes and suffix hashes;
    plus context counts."""

    def __init__(self) -> None:
        self.grams: dict[int, tuple[U32A, F64A, U32A, U32A]] = {}
        self.ctx: dict[int, tuple[U32A, F64A]] = {}

    @classmethod
    def from_words(cls, items: list[tuple[str, float]], power: float) -> Stats:
        st = cls()
        words = [tx.clean(w) for w, _ in items]
        weights = np.array([f for _, f in items], dtype=np.float64) ** power
        seg = tx.segment(words)
        hashes, valid = tx.ngram_hashes(seg.seq)
        pos_w = weights[seg.word_doc[seg.pos_word]]
        cp1 = seg.seq + np.uint64(1)
        p = np.arange(1, seg.seq.size)
        for n in range(1, tx.MAX_ORDER + 1):
            ok = np.flatnonzero(valid[n - 1])
            keys, inv = np.unique(hashes[n - 1][ok], return_inverse=True)
            cnt = np.bincount(inv, weights=pos_w[ok], minlength=keys.size)
            first = np.zeros(keys.size, dtype=np.int64)
            first[inv[::-1]] = ok[::-1]
            if n > 1:
                ctx = tx.window_hash(cp1, p[ok] - n + 1, n - 1)
                st.ctx[n] = _aggregate(ctx, pos_w[ok])
                pre = tx.window_hash(cp1, p[first] - n + 1, n - 1)
                suf = hashes[n - 2][first]
            else:
                pre = suf = np.zeros(keys.size, dtype=np.uint32)
            st.grams[n] = (keys, cnt.astype(np.float64), pre, suf)
        return st

    @classmethod
    def from_profile(cls, prof: dict[str, float]) -> Stats:
        st = cls()
        by_n: dict[int, dict[str, float]] = defaultdict(dict)
        for g, c in prof.items():
            if 1 <= len(g) <= 3 and g.strip() and " " not in g[1:-1]:
                by_n[len(g)][g] = c
        word_starts = sum(c for g, c in by_n[2].items() if g.startswith(" "))
        by_n[1][" "] = sum(c for g, c in by_n[2].items() if g.endswith(" "))
        for n in (1, 2, 3):
            gs = sorted(by_n[n])
            h = tx.hash_strings(gs)
            order = np.argsort(h, kind="stable")
            keys, first = np.unique(h[order], return_index=True)
            idx = order[first]
            cnt = np.bincount(np.searchsorted(keys, h), weights=[by_n[n][g] for g in gs], minlength=keys.size)
            if n > 1:
                pre = tx.hash_strings([gs[i][:-1] for i in idx])
                suf = tx.hash_strings([gs[i][1:] for i in idx])
                # context count: the prefix's own count (profiles are pruned, so sums of
                # continuations undercount) or the sum of its continuations if larger
                cont: dict[str, float] = defaultdict(float)
                for g in gs:
                    cont[g[:-1]] += by_n[n][g]
                uniq = sorted(cont)
                vals = [max(word_starts if u == " " else by_n[n - 1].get(u, 0.0), cont[u]) for u in uniq]
                st.ctx[n] = _aggregate(tx.hash_strings(uniq), np.array(vals, dtype=np.float64))
            else:
                pre = suf = np.zeros(keys.size, dtype=np.uint32)
            st.grams[n] = (keys, cnt.astype(np.float64), pre, suf)
        return st

    def tables(self, top_k: dict[int, int]) -> list[tuple[U32A, F64A]]:
        """Per order: kept hashes and stored value (order 1: log P(c); order n>1: log
        P(c | prefix) minus the same for the suffix n-gram of order n-1).

        Pruning keeps the top-k most frequent n-grams whose suffix n-gram is kept too, so
        the n-grams found at a position always form the orders 1..n*.
        """
        out: list[tuple[U32A, F64A]] = []
        prev_keys: U32A = np.zeros(0, dtype=np.uint32)
        prev_lp: F64A = np.zeros(0)
        total1 = self.grams[1][1].sum()
        for n in sorted(self.grams):
            keys, cnt, pre, suf = self.grams[n]
            if n == 1:
                lp = np.log(cnt / total1)
                keep = np.ones(keys.size, dtype=np.bool_)
            else:
                ck, cv = self.ctx[n]
                den = _lookup(ck, cv, pre, 0.0)
                lp = np.log(np.minimum(cnt / np.maximum(den, cnt), 1.0))
                keep = np.isin(suf, prev_keys)
            cand = np.flatnonzero(keep)
            cand = cand[np.argsort(-cnt[cand], kind="stable")[: top_k[n]]]
            cand.sort()
            k, v = keys[cand], lp[cand]
            stored = v if n == 1 else v - _lookup(prev_keys, prev_lp, suf[cand], 0.0)
            out.append((k, stored))
            prev_keys, prev_lp = k, v
        return out


def build_language(lang: str, power: float) -> tuple[list[tuple[U32A, F64A]], tuple[U32A, F64A] | None, int]:
    """Char-model tables, word table and max order of one language."""
    top_k = TOP_K_FIRST if lang in FIRST_CLASS else TOP_K
    if lang not in WORDFREQ_CODES and lang != "be":
        return Stats.from_profile(profile_counts(lang)).tables(top_k), None, 3
    items = wordfreq_words(lang) if lang != "be" else belarusian_words()
    items = alphabet_filter(lang, [(w, f) for w, f in items if any(c.isalpha() for c in w)])
    char_items = items[:CHAR_TRAIN_WORDS]
    fold_w = FOLD_WEIGHT.get(lang, 0.0)
    if fold_w:
        extra: dict[str, float] = defaultdict(float)
        for w, f in char_items:
            fw = fold(w)
            if fw != w:
                extra[fw] += f * fold_w
        char_items = char_items + sorted(extra.items())
    tables = Stats.from_words(char_items, power).tables(top_k)
    return tables, word_table(items, lang, fold_w), tx.MAX_ORDER


def word_table(
    items: list[tuple[str, float]], lang: str, fold_w: float
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    """(word hash, log P(word)) for the most frequent words; folded spellings added."""
    limit = WORDS_FIRST if lang in FIRST_CLASS else WORDS_OTHER
    total = sum(f for _, f in items)
    acc: dict[str, float] = defaultdict(float)
    for w, f in items:
        for tok in tx.clean(w).replace("'", " ").replace("’", " ").split():
            if tok.isalpha():
                acc[tok] += f / total
    if fold_w:
        for w, f in list(acc.items()):
            fw = fold(w)
            if fw != w:
                acc[fw] += f * fold_w
    best = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    seg = tx.segment([w for w, _ in best])
    h, ok, _ = tx.word_hashes(seg)
    keep_doc = np.zeros(len(best), dtype=np.bool_)
    # only entries that are a single letter run map cleanly to a runtime word
    nw = np.bincount(seg.word_doc, minlength=len(best))
    keep_doc[nw == 1] = True
    wmask = keep_doc[seg.word_doc] & ok
    lp = np.log(np.array([f for _, f in best]))[seg.word_doc[wmask]]
    return _aggregate_max(h[wmask], lp)


def _aggregate_max(
    h: npt.NDArray[np.uint32], v: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    keys, inv = np.unique(h, return_inverse=True)
    out = np.full(keys.size, -np.inf)
    np.maximum.at(out, inv, v)
    return keys, out


def _csr(entries: list[tuple[U32A, F64A, int, int]], lo: float, hi: float) -> dict[str, npt.NDArray[np.generic]]:
    """Merge (hashes, values, language, group) lists into a compact hash-keyed CSR table.

    Rows are sorted by (group, hash): the group is the n-gram order (0 for words), and
    ``group_ptr[g]:group_ptr[g+1]`` delimits group g's rows.
    """
    keys = np.concatenate([e[0] for e in entries])
    vals = np.concatenate([e[1] for e in entries])
    langs = np.concatenate([np.full(e[0].size, e[2], dtype=np.uint8) for e in entries])
    groups = np.concatenate([np.full(e[0].size, e[3], dtype=np.int64) for e in entries])
    order = np.lexsort((langs, keys, groups))
    keys, vals, langs, groups = keys[order], vals[order], langs[order], groups[order]
    new = np.ones(keys.size, dtype=np.bool_)
    new[1:] = (keys[1:] != keys[:-1]) | (groups[1:] != groups[:-1])
    uk = keys[new]
    counts = np.diff(np.append(np.flatnonzero(new), keys.size))
    ug = groups[new]
    group_ptr = np.searchsorted(ug, np.arange(int(groups.max()) + 2))
    q = np.clip(np.round((vals - lo) / (hi - lo) * 255.0), 0, 255).astype(np.uint8)
    return {
        "keys": uk.astype(np.uint32),
        "counts": counts.astype(np.uint8),
        "langs": langs,
        "vals": q,
        "group_ptr": group_ptr.astype(np.int64),
    }


def save_npz(path: Path, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
    """Like ``np.savez_compressed`` but byte-reproducible (fixed zip timestamps)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, buf.getvalue())


def build(out_dir: Path, power: float = WEIGHT_POWER, verbose: bool = True) -> None:
    """Train every language and write ``ngrams.npz``, ``words.npz`` and ``config.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ng_entries: list[tuple[U32A, F64A, int, int]] = []
    w_entries: list[tuple[U32A, F64A, int, int]] = []
    max_order = []
    for li, lang in enumerate(LANGUAGES):
        tables, wtab, mo = build_language(lang, power)
        max_order.append(mo)
        for n, (keys, lp) in enumerate(tables, start=1):
            ng_entries.append((keys, lp, li, n))
        if wtab is not None:
            w_entries.append((wtab[0], wtab[1], li, 0))
        if verbose:
            print(
                f"{lang}: {sum(t[0].size for t in tables)} n-grams, {0 if wtab is None else wtab[0].size} words",
                file=sys.stderr,
            )
    ng = _csr(ng_entries, -NGRAM_Q, NGRAM_Q)
    wd = _csr(w_entries, -WORD_Q, 0.0)
    save_npz(out_dir / "ngrams.npz", ng)
    save_npz(out_dir / "words.npz", wd)
    has_words = sorted({e[2] for e in w_entries})
    cfg = {
        "version": 1,
        "languages": list(LANGUAGES),
        "max_order": max_order,
        "has_words": [LANGUAGES[i] for i in has_words],
        "ngram_range": [-NGRAM_Q, NGRAM_Q],
        "word_range": [-WORD_Q, 0.0],
        "weight_power": power,
    }
    cfg["scoring"] = dict(TUNED_SCORING)
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Entry point: rebuild the artifacts, then the manifest."""
    from clientsense.artifacts import models_dir, write_manifest

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=None, help="default: models/langid")
    args = ap.parse_args(argv)
    out = args.out or (models_dir() / "langid")
    build(out)
    if args.out is None:
        write_manifest(models_dir())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
