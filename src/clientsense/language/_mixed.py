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
