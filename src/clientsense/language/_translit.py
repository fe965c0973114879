"""Russian written in Latin letters ("translit"): ``kogda budet dostavka?``, ``spasibo, zhdu``.

Russian clients often type without a Cyrillic keyboard. The n-gram model, trained on
Cyrillic Russian, then sees a Slavic-looking Latin text and answers Czech, Slovak or Croatian.
This module recognises such text by frequent Russian words in their common Latin spellings
(zh/j, sh/sch/shch, kh/h, ya/ja, -yi/-ii/-iy endings). The lexicon keeps only forms that are
not ordinary words of the Latin-script languages we support (``vy``, ``den``, ``ne``, ``kozel``
are Czech or Slovak words and are left out). A text is Russian when it is plain ASCII and at
least ``MIN_HITS`` distinct lexicon words make up at least ``MIN_SHARE`` of its words. "Plain
ASCII" is about letters: a typographic dash, quotes or an emoji do not disqualify a text.

When the model's guess is itself a Latin-script Slavic language (``SLAVIC_LATIN``), words spelled
the way only Russian translit spells them count too (``zh``, ``kh``, ``ya``/``yu``/``yo``, the soft
sign as an apostrophe, ``-yi``/``-iy``/``-aya`` endings): one lexicon word plus such words, together
``MIN_HITS`` and ``MIN_SHARE`` of the text, make it Russian. On lingua's test set (91,301 ASCII
sentences, word pairs and words in 75 languages) neither rule turns anything into Russian.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from typing import Any

MIN_HITS = 2
MIN_SHARE = 0.2
SHORT_WORDS = 3
SHORT_MIN_LETTERS = 6
CONFIDENCE = {1: 0.6, 2: 0.8, 3: 0.9}
"""Confidence given for 1 long lexicon word in a short text, 2 distinct words, 3 or more."""

_WORDS = """
kogda kagda pochemu pochemy zachem skolko skoka kuda otkuda gde chto shto chtoby shtoby
zdravstvuite zdravstvuyte zdrastvuite zdrastvuyte zdravstvujte dobryi dobryy dobriy dobrii
dobroe dobrogo privet spasibo spasiba spsb pozhaluista pozhaluysta pojaluista pojaluysta
pozhalujsta pzhl izvinite prostite podskazhite podskajite skazhite pomogite uzhe uje eshe
eshche voobshe voobshche vobshe seichas seychas sejchas sichas segodnya sevodnya segodnia
zavtra vchera nikogda vsegda opyat opiat tozhe takzhe ochen ochenj nemnogo horosho khorosho
xorosho harasho konechno navernoe mozhet mozhno mozhete nelzya nuzhno nuzhen nuzhna hochu
khochu hotim khotim khotel khotela budet budut menya tebya nichego nichem nigde kotoryi
kotoryy kotoraya kotoroe etot eto etogo etom etu etoi vash vasha vashe vashi vashego vashei
vashu vashim nash nasha nashe nashi moya moyu moego svoyu svoego dengi deneg dengami zakazyval
dostavka dostavku dostavki posylka posylku posylki kurer kurera zvonyu pishu otvet otveta
otvechaet otvechayut otvetit rabotaet rabotayut slomalsya slomalas slomano polomka vozvrat
vozvrata vernite vernut zamenu zamena pomenyat pomenyaite oplata oplatu oplaty schet scheta
schyot sdelat sdelali sdelaite sdelayte prishel prishla prishlo prishli proshel proshlo
proshla poluchil poluchila poluchili nedelyu dnya dnei dney mesyac mesyaca chasa obeshali
obeshchali obeshal obmanuli obman zhdu zhdem zhdat jdat srochno pochta pochty sotrudnik ponyal
ponyala ponyatno ponimaete ponimayu znaete znayu dumayu kazhetsya vopros voprosa otmenite
otmenit otmena priem priema vrach blin blya blyat blyad nahuy nahui nahren pizdec pizdets
huinya hernya mudak mudaki tupye tupoi tupoy zhuliki zhulik vory moshenniki obmanshiki cherez
dlya dvazhdy molchite prines prinesli poslednii posledniy svoei obrashayus obrashchayus tupaya
vorovki hamlo hamstvo kak esli uzhas uzhasno sovsem rubley rublei tysyach privezli pozvonite
napishite otpishites skazali pochinite pochinit rebenok rebenka muzh zhena rabota kvartira
kvartiru
"""

LEXICON: frozenset[str] = frozenset(_WORDS.split())
_NOT_ALONE = frozenset({"privet"})  # an English word too ("privet hedge"): never enough on its own

_TO_SPACE = str.maketrans({c: " " for c in string.punctuation + string.digits})
_TO_SPACE_KEEP_APOSTROPHE = str.maketrans({c: " " for c in string.punctuation.replace("'", "") + string.digits})
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
SLAVIC_LATIN = frozenset({"cs", "sk", "hr", "sl", "bs", "sr", "pl"})
"""Model guesses under which Russian-only spellings count as evidence."""
_RUSSIAN_SPELLING = re.compile(
    r"zh|kh|shch|ya|yu|yo|[bcdfgklmnprstvz]'(?:[a-z]|$)|(?:yi|iy|yy|yj|ij|ie|oe|ye|aya|oy|ey|uyu)$"
)


def translit_russian_hits(text: str, slavic_guess: bool = False) -> int:
    """Distinct lexicon words of ``text`` when it reads as Latin-script Russian, else 0.

    ``slavic_guess``: the model took the text for a Latin-script Slavic language; then words in
    Russian-only spellings count alongside the lexicon words (at least one of those is needed).
    """
    if not latin_ascii_letters(text):
        return 0
    low = text.lower()
    if next(_lexicon_automaton().iter(low), None) is None:  # no lexicon word even as a substring
        return 0
    words = low.translate(_TO_SPACE).split()
    if not words:
        return 0
    found = LEXICON.intersection(words)
    hits = len(found)
    if hits == 1 and len(words) <= SHORT_WORDS:
        word = next(iter(found))
        return 1 if len(word) >= SHORT_MIN_LETTERS and word not in _NOT_ALONE else 0
    if hits >= MIN_HITS and hits >= MIN_SHARE * len(words):
        return hits
    if slavic_guess and found - _NOT_ALONE:
        spelled = {
            w.strip("'") for w in low.translate(_TO_SPACE_KEEP_APOSTROPHE).split() if _RUSSIAN_SPELLING.search(w)
        }
        marked = len(found | spelled)
        if marked >= MIN_HITS and marked >= MIN_SHARE * len(words):
            return marked
    return 0


def latin_ascii_letters(text: str) -> bool:
    """Every letter of ``text`` is ASCII (dashes, typographic quotes, emoji and digits may be
    anything): a Cyrillic or accented letter means the text is not translit."""
    return text.isascii() or not any(m.group().isalpha() for m in _NON_ASCII.finditer(text))


@lru_cache(maxsize=1)
def _lexicon_automaton() -> Any:
    """Finds any lexicon word inside a text in one pass (a cheap exit for the usual text with none)."""
    import ahocorasick

    automaton = ahocorasick.Automaton()
    for word in sorted(LEXICON):
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


def translit_confidence(hits: int) -> float:
    """The confidence reported for a text recognised with ``hits`` lexicon words."""
    return CONFIDENCE[min(hits, 3)]
