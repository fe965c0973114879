"""Finding a second language in a text that mixes two (e.g. a Russian then an English sentence)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]


def secondary_language(
    word_scores: F32,
    word_len: npt.NDArray[np.int64],
    primary: int,
    allowed: npt.NDArray[np.int64],
    switch_cost: float,
    min_gain: float,
    min_share: float,
    min_letters: int,
) -> int | None:
    """Column of a clear second language in one text, or None.

    Each word is labelled with the primary language or one candidate language B by a
    two-state Viterbi pass that pays ``switch_cost`` per change of label. B is accepted when
    its words gain at least ``min_gain`` (log-score, net of switches) over the primary and
    cover at least ``min_share`` of the letters and ``min_letters`` letters.
    """
    n = word_scores.shape[0]
    total = int(word_len.sum())
    if n < 2 or total < 2 * min_letters:
        return None
    adv = word_scores[:, allowed] - word_scores[:, primary : primary + 1]  # n x cands
    # only languages that win at least one word outright can be a second language
    best = allowed[np.argmax(word_scores[:, allowed], axis=1)]
    cands = np.unique(best[best != primary])
    if cands.size == 0:
        return None
    cols = np.searchsorted(allowed, cands)
    adv = adv[:, cols].astype(np.float64)
    k = cands.size
    # states: 0 = primary, 1 = candidate; score of best path ending in each state
    s_a = np.zeros(k)
    s_b = np.full(k, -switch_cost)
    back = np.zeros((n, 2, k), dtype=np.bool_)  # True = came from the other state
    for i in range(n):
        a_stay, a_sw = s_a, s_b - switch_cost
        b_stay, b_sw = s_b, s_a - switch_cost
        back[i, 0] = a_sw > a_stay
        back[i, 1] = b_sw > b_stay
        s_a = np.maximum(a_stay, a_sw)
        s_b = np.maximum(b_stay, b_sw) + adv[i]
    end_b = s_b > s_a
    gain = np.maximum(s_a, s_b)  # path score relative to "all primary" (= 0)
    best_c, best_gain = None, min_gain
    for j in np.argsort(-gain, kind="stable"):
        if gain[j] < min_gain:
            break
        state = 1 if end_b[j] else 0
        letters = 0
        for i in range(n - 1, -1, -1):
            if state == 1:
                letters += int(word_len[i])
            if back[i, state, j]:
                state = 1 - state
        if (
            letters >= min_letters
            and letters >= min_share * total
            and total - letters >= min_share * total
            and gain[j] >= best_gain
        ):
            best_c, best_gain = int(cands[j]), float(gain[j])
            break
    return best_c


def secondary_languages(
    scores: F32,
    inv: npt.NDArray[np.int64],
    word_len: npt.NDArray[np.int64],
    bounds: npt.NDArray[np.int64],
    docs: npt.NDArray[np.int64],
    primary: npt.NDArray[np.int64],
    allowed: npt.NDArray[np.int64],
    switch_cost: float,
    min_gain: float,
    min_share: float,
    min_letters: int,
) -> npt.NDArray[np.int64]:
    """``secondary_language`` for many texts at once (-1 where there is none).

    Word w of the batch scores ``scores[inv[w]]``; text ``d = docs[i]`` holds the words
    ``bounds[d]:bounds[d+1]`` and has primary language ``primary[i]``. One Viterbi "lane" runs per (text, candidate language); the lanes of all
    texts advance together, word by word, with the same float arithmetic as the single-text
    version, so the answers are identical.
    """
    out = np.full(docs.size, -1, dtype=np.int64)
    start = bounds[docs]
    n = bounds[docs + 1] - start
    csum = np.concatenate(([0], np.cumsum(word_len)))
    total = csum[start + n] - csum[start]
    ok = np.flatnonzero((n >= 2) & (total >= 2 * min_letters))
    if ok.size == 0 or allowed.size < 2:
        return out
    # candidates: languages (other than the primary) that win at least one word outright
    n_ok = n[ok]
    doc_of_word = np.repeat(np.arange(ok.size), n_ok)
    words = np.repeat(start[ok] - (np.cumsum(n_ok) - n_ok), n_ok) + np.arange(int(n_ok.sum()))
    n_l = scores.shape[1]
    flat = scores.reshape(-1)
    sub = scores.take(inv.take(words), axis=0)
    if allowed.size != n_l:
        sub = sub[:, allowed]
    best = allowed[np.argmax(sub, axis=1)]
    prim = primary[ok]
    win = best != prim[doc_of_word]
    pair = np.unique(doc_of_word[win] * n_l + best[win])  # sorted: by text, then language
    if pair.size == 0:
        return out
    lane_doc = pair // n_l  # index into ok
    lane_lang = pair - lane_doc * n_l
    # lanes of longer texts first: at word i the running lanes are a prefix
    by_len = np.argsort(-n_ok[lane_doc], kind="stable")
    lane_doc, lane_lang = lane_doc[by_len], lane_lang[by_len]
    lane_start = start[ok][lane_doc]
    lane_n = n_ok[lane_doc]
    lane_prim = prim[lane_doc]
    n_lanes = lane_doc.size
    running = np.searchsorted(-lane_n, -np.arange(int(lane_n[0])), side="left")  # lanes with n > i
    s_a = np.zeros(n_lanes)
    s_b = np.full(n_lanes, -switch_cost)
    backs: list[tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]] = []
    for i in range(int(lane_n[0])):
        m = int(running[i])
        row = inv.take(lane_start[:m] + i) * n_l
        adv = (flat.take(row + lane_lang[:m]) - flat.take(row + lane_prim[:m])).astype(np.float64)
        a_stay, b_stay = s_a[:m], s_b[:m]
        a_sw, b_sw = b_stay - switch_cost, a_stay - switch_cost
        back_a, back_b = a_sw > a_stay, b_sw > b_stay
        new_a = np.maximum(a_stay, a_sw)
        s_b[:m] = np.maximum(b_stay, b_sw) + adv
        s_a[:m] = new_a
        backs.append((back_a, back_b))
    state_b = s_b > s_a
    gain = np.maximum(s_a, s_b)
    letters = np.zeros(n_lanes, dtype=np.int64)
    for i in range(int(lane_n[0]) - 1, -1, -1):
        m = int(running[i])
        st = state_b[:m]
        letters[:m] += np.where(st, word_len[lane_start[:m] + i], 0)
        back_a, back_b = backs[i]
        st ^= np.where(st, back_b, back_a)
    tot = total[ok][lane_doc]
    good = (
        (gain >= min_gain)
        & (letters >= min_letters)
        & (letters >= min_share * tot)
        & (tot - letters >= min_share * tot)
    )
    # per text: the good lane of highest gain, ties to the lowest language id (as the loop)
    g = np.flatnonzero(good)
    if g.size:
        pick = g[np.lexsort((lane_lang[g], -gain[g], lane_doc[g]))]
        first = np.r_[True, lane_doc[pick][1:] != lane_doc[pick][:-1]]
        chosen = pick[first]
        out[ok[lane_doc[chosen]]] = lane_lang[chosen]
    return out
