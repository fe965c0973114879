"""Text normalisation, word segmentation and n-gram hashing shared by training and detection.

Everything here is vectorised with numpy and deterministic: the same text always gives the
same hashes, in every process (no use of Python's randomised ``hash``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
BoolA = npt.NDArray[np.bool_]

MAX_RAW_CHARS = 20_000
"""Only this many leading characters of a text are examined."""
MAX_LETTERS = 2_000
"""Of those, at most this many letters are scored."""
MAX_ORDER = 5
MAX_WORD_LEN = 24
"""Longer letter runs get no whole-word lookup (their n-grams are still scored)."""
SPACE = 32

_P = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_SEEDS = [
    np.uint64((0x9E3779B97F4A7C15 * (n + 1) + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF) for n in range(MAX_ORDER + 1)
]
_WORD_SEED = np.uint64(0xC2B2AE3D27D4EB4F)
_S33 = np.uint64(33)
_S32 = np.uint64(32)

_NOISE_RE = re.compile(
    r"(?:https?://|ftp://|www\.)\S+"  # URLs
    r"|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}"  # e-mail addresses (bounded: linear time)
    r"|@\w+",  # mentions
    re.IGNORECASE,
)

# Scripts (small ids). 255 = inherits the script of the previous character (combining marks).
SCRIPT_NAMES = (
    "other",
    "latin",
    "cyrillic",
    "greek",
    "arabic",
    "hebrew",
    "devanagari",
    "bengali",
    "gurmukhi",
    "gujarati",
    "tamil",
    "telugu",
    "kannada",
    "malayalam",
    "thai",
    "hangul",
    "kana",
    "han",
    "armenian",
    "georgian",
)
_INHERIT = 255
_SCRIPT_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0041, 0x024F, 1),
    (0x1E00, 0x1EFF, 1),
    (0x2C60, 0x2C7F, 1),
    (0xA720, 0xA7FF, 1),
    (0xFF21, 0xFF5A, 1),
    (0x0250, 0x02AF, 1),
    (0x0400, 0x052F, 2),
    (0x1C80, 0x1C8F, 2),
    (0x2DE0, 0x2DFF, 2),
    (0xA640, 0xA69F, 2),
    (0x0370, 0x03FF, 3),
    (0x1F00, 0x1FFF, 3),
    (0x0600, 0x06FF, 4),
    (0x0750, 0x077F, 4),
    (0x08A0, 0x08FF, 4),
    (0xFB50, 0xFDFF, 4),
    (0xFE70, 0xFEFF, 4),
    (0x0590, 0x05FF, 5),
    (0xFB1D, 0xFB4F, 5),
    (0x0900, 0x097F, 6),
    (0x0980, 0x09FF, 7),
    (0x0A00, 0x0A7F, 8),
    (0x0A80, 0x0AFF, 9),
    (0x0B80, 0x0BFF, 10),
    (0x0C00, 0x0C7F, 11),
    (0x0C80, 0x0CFF, 12),
    (0x0D00, 0x0D7F, 13),
    (0x0E00, 0x0E7F, 14),
    (0x1100, 0x11FF, 15),
    (0x3130, 0x318F, 15),
    (0xAC00, 0xD7AF, 15),
    (0x3040, 0x30FF, 16),
    (0x31F0, 0x31FF, 16),
    (0xFF66, 0xFF9F, 16),
    (0x3400, 0x4DBF, 17),
    (0x4E00, 0x9FFF, 17),
    (0xF900, 0xFAFF, 17),
    (0x3005, 0x3007, 17),
    (0x0530, 0x058F, 18),
    (0x10A0, 0x10FF, 19),
    (0x0300, 0x036F, _INHERIT),
    (0x1AB0, 0x1AFF, _INHERIT),
    (0x1DC0, 0x1DFF, _INHERIT),
    (0x20D0, 0x20FF, _INHERIT),
    (0xFE20, 0xFE2F, _INHERIT),
)
_N_SCRIPTS = len(SCRIPT_NAMES)


@lru_cache(maxsize=1)
def _tables() -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8]]:
    """Letter mask and script id for every BMP code point (built once, ~50 ms)."""
    letter = np.zeros(0x10000, dtype=np.bool_)
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        if cat[0] == "L" or cat[0] == "M":
            letter[cp] = True
    script = np.full(0x10000, 0, dtype=np.uint8)
    for lo, hi, sid in _SCRIPT_RANGES:
        script[lo : hi + 1] = sid
    script[~letter] = 0
    letter[0xAA] = letter[0xBA] = False  # ordinal indicators
    script[0xAA] = script[0xBA] = 0
    return letter, script


def clean(text: str) -> str:
    """Cap, repair (lone surrogates), normalise (NFC, lower case) and strip URLs/e-mails."""
    t = text[:MAX_RAW_CHARS]
    if "\x00" in t:
        t = t.replace("\x00", " ")
    if not t.isascii():
        t = t.encode("utf-8", "replace").decode("utf-8")
        t = unicodedata.normalize("NFC", t)
        t = t.replace("ş", "ș").replace("ţ", "ț").replace("Ş", "Ș").replace("Ţ", "Ț")
    if "@" in t or "//" in t or "www." in t or "WWW." in t:
        t = _NOISE_RE.sub(" ", t)
    return t.lower()


def clean_join(texts: list[str]) -> str:
    """``"\x00".join(clean(t) for t in texts) + "\x00"``, cleaning the batch in one pass.

    Equal to the per-text form: NUL is a starter that composes with nothing, is neither cased
    nor case-ignorable and is not a surrogate, so NFC, lower-casing and the surrogate repair
    treat it as a hard boundary. Texts with NULs of their own or longer than MAX_RAW_CHARS
    take the per-text path.
    """
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1 or (texts and max(map(len, texts)) > MAX_RAW_CHARS):
        return "\x00".join([clean(t) for t in texts]) + "\x00"
    if not joined.isascii():
        joined = joined.encode("utf-8", "replace").decode("utf-8")
        joined = unicodedata.normalize("NFC", joined)
        joined = joined.replace("ş", "ș").replace("ţ", "ț").replace("Ş", "Ș").replace("Ţ", "Ț")
    if "@" in joined or "//" in joined or "www." in joined or "WWW." in joined:
        parts = joined.split("\x00")
        for i, t in enumerate(parts):
            if "@" in t or "//" in t or "www." in t or "WWW." in t:
                parts[i] = _NOISE_RE.sub(" ", t)
        joined = "\x00".join(parts)
    return joined.lower() + "\x00"


@dataclass(frozen=True)
class Segments:
    """Letter runs ("words") of a batch of cleaned texts.

    ``seq`` holds the code points of all words, each preceded by a space, plus a final space.
    Position ``p > 0`` of ``seq`` is *predicted*: a letter, or a space ending the word before it.
    """

    seq: U64
    word_doc: I64  # doc id of every word
    word_start: I64  # index in seq of each word's first letter
    word_len: I64
    word_script: npt.NDArray[np.uint8]
    n_docs: int

    @cached_property
    def pos_word(self) -> I64:
        """Word id of every predicted position (index p-1): a word's letters and its end."""
        return np.repeat(np.arange(self.word_len.size, dtype=np.int64), self.word_len + 1)


_HOMO_SRC = np.array([ord(c) for c in "aceiopxyïë"], dtype=np.int64)
_HOMO_DST = np.array([ord(c) for c in "асеіорхуїё"], dtype=np.int64)


def _fix_homoglyphs(cp: npt.NDArray[np.int32], script: npt.NDArray[np.int32]) -> None:
    """Latin look-alikes (i, a, e, o, ...) touching Cyrillic letters become Cyrillic, in place.

    Belarusian and Ukrainian web text often types Latin ``i`` for ``і``.
    """
    if not (script == 2).any():
        return
    lat = np.flatnonzero((script == 1) & np.isin(cp, _HOMO_SRC))
    if lat.size == 0:
        return
    for _ in range(3):
        prev_c = script[np.maximum(lat - 1, 0)] == 2
        next_c = script[np.minimum(lat + 1, script.size - 1)] == 2
        flip = lat[prev_c | next_c]
        if flip.size == 0:
            break
        script[flip] = 2
        cp[flip] = _HOMO_DST[np.searchsorted(_HOMO_SRC_SORTED, cp[flip])].astype(np.int32)
        lat = lat[~(prev_c | next_c)]
        if lat.size == 0:
            break


_ORDER = np.argsort(_HOMO_SRC)
_HOMO_SRC_SORTED = _HOMO_SRC[_ORDER]
_HOMO_DST = _HOMO_DST[_ORDER]


def segment(texts: list[str]) -> Segments:
    """Split cleaned texts into letter runs; a change of script also ends a run."""
    return segment_joined("\x00".join(texts) + "\x00", len(texts))


def segment_joined(joined: str, n_docs: int) -> Segments:
    """``segment`` of texts given as ``"\x00".join(texts) + "\x00"`` (see ``clean_join``)."""
    letter_tab, script_tab = _tables()
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4").astype(np.int32)
    zero = cp == 0
    doc = np.cumsum(zero, dtype=np.int32)  # doc id (+1 on the separators themselves)
    doc -= zero
    if int(cp.max()) < 0x10000:
        is_letter = letter_tab.take(cp)
        script = script_tab.take(cp).astype(np.int32)  # 0 for non-letters
    else:
        bmp = cp < 0x10000
        cpb = np.where(bmp, cp, 0)
        is_letter = np.where(bmp, letter_tab[cpb], (cp >= 0x20000) & (cp <= 0x323AF))
        script = np.where(bmp, script_tab[cpb], 17).astype(np.int32)
        script[~is_letter] = 0
    # combining marks inherit the script of the preceding letter
    inherit = script == _INHERIT
    if inherit.any():
        idx = np.where(inherit, 0, np.arange(len(script)))
        np.maximum.accumulate(idx, out=idx)
        based = is_letter[idx] & ~inherit[idx]
        script = script[idx]
        is_letter &= ~inherit | based  # marks after non-letters are dropped
    _fix_homoglyphs(cp, script)
    li = np.flatnonzero(is_letter)
    if li.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return Segments(np.array([SPACE], dtype=np.uint64), e, e, e, np.zeros(0, dtype=np.uint8), n_docs)
    ls = script.take(li)
    ld = doc.take(li)
    new = np.ones(li.size, dtype=np.bool_)
    new[1:] = (li[1:] != li[:-1] + 1) | (ls[1:] != ls[:-1]) | (ld[1:] != ld[:-1])
    # cap the letters scored per document
    if np.bincount(ld, minlength=1).max() > MAX_LETTERS:
        first_of_doc = np.ones(li.size, dtype=np.bool_)
        first_of_doc[1:] = ld[1:] != ld[:-1]
        grp_start = np.maximum.accumulate(np.where(first_of_doc, np.arange(li.size), 0))
        keep = np.flatnonzero((np.arange(li.size) - grp_start) < MAX_LETTERS)
        li, ls, ld, new = li.take(keep), ls.take(keep), ld.take(keep), new.take(keep)
    starts = np.flatnonzero(new)
    n_words = starts.size
    wid = np.cumsum(new, dtype=np.int64)
    # layout: for word w, a space at (start_w - 1) then its letters; one final space.
    out_pos = wid + np.arange(li.size)  # = index + word id + 1
    seq = np.full(li.size + n_words + 1, SPACE, dtype=np.uint64)
    seq[out_pos] = cp.take(li)
    word_len = np.diff(np.append(starts, li.size))
    return Segments(
        seq, ld.take(starts).astype(np.int64), out_pos.take(starts), word_len, ls.take(starts).astype(np.uint8), n_docs
    )


def subset(seg: Segments, words: I64) -> Segments:
    """A Segments holding only the given words (in that order), each as its own document."""
    ln = seg.word_len.take(words)
    n = words.size
    new_start = np.cumsum(ln + 1) - ln  # index of each word's first letter in the new seq
    total = int(ln.sum()) + n + 1
    seq = np.full(total, SPACE, dtype=np.uint64)
    rep = np.repeat(new_start - (np.cumsum(ln) - ln), ln)
    offs = np.arange(rep.size)
    dst = rep + offs
    src = np.repeat(seg.word_start.take(words) - (np.cumsum(ln) - ln), ln) + offs
    seq[dst] = seg.seq.take(src)
    return Segments(
        seq,
        np.arange(n, dtype=np.int64),
        new_start.astype(np.int64),
        ln.astype(np.int64),
        seg.word_script.take(words),
        n,
    )


def _finish(h: U64) -> U32:
    h = h ^ (h >> _S33)
    h = h * _MIX1
    h = h ^ (h >> _S33)
    return (h >> _S32).astype(np.uint32)


def ngram_hashes(seq: U64) -> tuple[list[U32], list[BoolA]]:
    """For every order n=1..5: hash and validity of the n-gram ending at each predicted position.

    Arrays are indexed by ``p - 1`` for predicted positions ``p = 1..len(seq)-1``. An n-gram is
    valid if it lies inside one space-padded word (spaces only at its ends).
    """
    is_space = seq == SPACE
    cs = np.concatenate(([0], np.cumsum(is_space)))  # cs[i] = spaces in seq[:i]
    p = np.arange(1, seq.size)
    hashes: list[U32] = []
    valid: list[BoolA] = []
    cp1 = seq + np.uint64(1)
    for n in range(1, MAX_ORDER + 1):
        start = p - n + 1
        ok = start >= 0
        s = np.maximum(start, 0)
        # spaces strictly inside the window (s, p)
        inner = cs[p] - cs[np.minimum(s + 1, p)]
        ok &= inner == 0
        hashes.append(window_hash(cp1, s, n))
        valid.append(ok)
    return hashes, valid


# first predicted position of order n in a word, relative to the space before it
_FIRST_OFFSET = np.array([max(n - 1, 1) for n in range(1, MAX_ORDER + 1)], dtype=np.int64)
# seed_n * P**n: the seed's part of ``window_hash`` for order n (wrapping uint64 arithmetic)
_SEED_TERM = np.array(
    [(int(_SEEDS[n]) * pow(int(_P), n, 1 << 64)) & 0xFFFFFFFFFFFFFFFF for n in range(1, MAX_ORDER + 1)],
    dtype=np.uint64,
)


def ngram_counts(word_len: I64) -> I64:
    """Valid n-grams per word and order (n_words x MAX_ORDER): l+1, l+1, l, l-1, l-2 (>= 0)."""
    return np.maximum(word_len[:, None] + (2 - _FIRST_OFFSET)[None, :], 0)


def ngram_queries(seg: Segments) -> tuple[U32, I64, I64]:
    """Hash, order (1..5) and word of every valid n-gram, ordered by word, then order, then
    position: the order ``ngram_hashes`` + a stable sort by word would give, computed directly.

    Hashes equal ``window_hash``'s: ``seed_n * P**n + sum_k cp1[p-n+1+k] * P**(n-1-k)``, built
    with one rolling pass per order.
    """
    n_words = seg.word_start.size
    cnt = ngram_counts(seg.word_len)
    flat_cnt = cnt.reshape(-1)
    total = int(flat_cnt.sum())
    if total == 0:
        e = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=np.uint32), e, e
    # rolling polynomial of the windows ending at every position, one row per order
    cp1 = seg.seq + np.uint64(1)
    size = cp1.size
    g = np.empty((MAX_ORDER, size), dtype=np.uint64)
    g[0] = cp1
    for n in range(1, MAX_ORDER):
        g[n, 0] = cp1[0]
        np.multiply(g[n - 1, :-1], _P, out=g[n, 1:])
        g[n, 1:] += cp1[1:]
    g += _SEED_TERM[:, None]
    # flat index into g of each query: row (order) * size + first position of the block + rank
    block_start = np.cumsum(flat_cnt) - flat_cnt
    first = (seg.word_start - 1)[:, None] + (_FIRST_OFFSET + size * np.arange(MAX_ORDER))[None, :]
    flat = np.repeat(first.reshape(-1) - block_start, flat_cnt)
    flat += np.arange(total, dtype=np.int64)
    order = np.repeat(np.tile(np.arange(1, MAX_ORDER + 1, dtype=np.int64), n_words), flat_cnt)
    word = np.repeat(np.arange(n_words, dtype=np.int64), cnt.sum(axis=1))
    return _finish(g.reshape(-1)[flat]), order, word


def window_hash(cp1: U64, start: I64, n: int) -> U32:
    """Hash of the n code points (plus one) ``cp1[start:start+n]`` for every start."""
    h = np.full(start.size, _SEEDS[n], dtype=np.uint64)
    top = cp1.size - 1
    for k in range(n):
        h = h * _P + cp1[np.minimum(start + k, top)]
    return _finish(h)


def hash_strings(grams: list[str]) -> U32:
    """Hashes of n-gram strings (all of one length n), as ``ngram_hashes`` computes them."""
    if not grams:
        return np.zeros(0, dtype=np.uint32)
    n = len(grams[0])
    cp = np.frombuffer("".join(grams).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    return window_hash(cp + np.uint64(1), np.arange(0, cp.size, n), n)


def word_hashes(seg: Segments) -> tuple[U32, BoolA, U64]:
    """Hash of every word (its letters): 32-bit table key, ``ok`` (False for words longer
    than MAX_WORD_LEN) and a 64-bit identity key (for de-duplication and caching)."""
    n = seg.word_start.size
    h = np.full(n, _WORD_SEED, dtype=np.uint64)
    ln = seg.word_len
    if n:
        # longest words first: the words still running at letter k are a prefix
        by_len = np.argsort(-np.minimum(ln, MAX_WORD_LEN).astype(np.int16), kind="stable")
        start = seg.word_start.take(by_len)
        running = np.bincount(np.minimum(ln, MAX_WORD_LEN), minlength=MAX_WORD_LEN + 1)[::-1].cumsum()[::-1]
        hs = h[:n].copy()
        for k in range(min(MAX_WORD_LEN, int(ln.max()))):
            m = int(running[k + 1])  # words with more than k letters
            hs[:m] *= _P
            hs[:m] += seg.seq.take(start[:m] + k) + np.uint64(1)
        h[by_len] = hs
    h64 = h * _MIX1
    h64 ^= h64 >> _S33
    return _finish(h), ln <= MAX_WORD_LEN, h64


def script_counts(seg: Segments) -> npt.NDArray[np.int64]:
    """Letters per (document, script)."""
    out = np.zeros((seg.n_docs, _N_SCRIPTS), dtype=np.int64)
    np.add.at(out, (seg.word_doc, seg.word_script.astype(np.int64) % _N_SCRIPTS), seg.word_len)
    return out
