"""Stage 6 — signal extraction: rule patterns that find the textual evidence for a step.

Patterns live in ``signal_patterns/<lang>.toml``, one table per signal id of the label guide
(section 5), each with a ``patterns`` list of regular expressions. They are matched against a
same-length *view* of the text: :func:`clientsense.clean.fold` (lower case, no Latin
diacritics, ё→е), with every whitespace character except ``\\n`` mapped to a plain space
and typographic apostrophes mapped to ``'``. Offsets in the view are offsets in the original
text, so every :class:`~clientsense.results.Span` holds the original substring.

Patterns must be linear-time in practice: the loader rejects unbounded quantifiers
(``*``, ``+``, ``{n,}``) and nested repeats whose combined bound is large. Write bounded
repeats instead (``\\w{0,3}``, ``.{0,40}``, ``(?:\\w{1,15} ){0,3}``).

What the literal gate needs of each shipped pattern is precomputed in
``signal_patterns/index.json`` (``make signal-index`` after editing a pattern file; a test checks
it); a pattern missing from it is analysed when its language is first used.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import threading
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import ahocorasick

from .clean import fold
from .config import MAX_RAW_CHARS, SIGNALS
from .results import Signal, Span

try:  # Python 3.11+: the parser moved; ``sre_parse`` still works but warns.
    from re import _constants as _sre_constants  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as _sre_constants  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = [
    "INDEX_FILE",
    "MAX_SPANS_PER_SIGNAL",
    "PATTERNS_DIR",
    "SignalExtractor",
    "extract_signals",
    "index_of",
    "pattern_index",
    "text_view",
    "write_index",
]

MAX_SPANS_PER_SIGNAL = 10
"""At most this many spans are reported per signal id (the earliest ones)."""
_MAX_NESTED_BOUND = 2000
_UNION = "*"
_VIEW_TABLE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_WS_RE = re.compile(r"[^\S\n]")
_REPEATS = {
    _sre_constants.MAX_REPEAT,
    _sre_constants.MIN_REPEAT,
    getattr(_sre_constants, "POSSESSIVE_REPEAT", _sre_constants.MAX_REPEAT),
}


def _view(text: str) -> str:
    """The same-length string patterns are matched against."""
    folded = fold(text).translate(_VIEW_TABLE)
    return _WS_RE.sub(" ", folded)


def text_view(text: str) -> str:
    """The view patterns read of a message: :func:`_view` of its first ``MAX_RAW_CHARS`` characters
    (compute it once and pass it to :meth:`SignalExtractor.extract` and
    :meth:`clientsense.threats.HarmThreats.find`)."""
    return _view(text[:MAX_RAW_CHARS])


def _subtrees(op: Any, arg: Any) -> list[Any]:
    """The parse trees nested in one parse-tree item (its group, branches, repeated or asserted
    part, conditional arms); none for a leaf."""
    if op in _REPEATS:
        return [arg[2]]
    if op is _sre_constants.SUBPATTERN:
        return [arg[-1]]
    if op is _sre_constants.BRANCH:
        return list(arg[1])
    if op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT):
        return [arg[1]]
    if op is _sre_constants.GROUPREF_EXISTS:
        return [arg[1]] if arg[2] is None else [arg[1], arg[2]]
    if op is getattr(_sre_constants, "ATOMIC_GROUP", None):
        return [arg]
    return []


def _check_bounded(pattern: str) -> None:
    """Raise ``ValueError`` if ``pattern`` has an unbounded or dangerously nested repeat."""
    unbounded = _sre_constants.MAXREPEAT

    def walk(items: Any, outer: int) -> None:
        for op, arg in items:
            inner = outer
            if op in _REPEATS:
                hi = arg[1]
                if hi == unbounded:
                    raise ValueError("unbounded quantifier (*, +, {n,}); use a bounded {m,n}")
                if outer > 1 and outer * max(hi, 1) > _MAX_NESTED_BOUND:
                    raise ValueError("nested repeats allow too many steps; tighten the bounds")
                inner = outer * max(hi, 1)
            for sub in _subtrees(op, arg):
                walk(sub, inner)

    walk(_sre_parse.parse(pattern), 1)


def _load_file(path: Path, check_patterns: bool = True) -> dict[str, list[str]]:
    """Read and validate one language file: ``{signal_id: [pattern, ...]}``.

    ``check_patterns=False`` skips compiling and bounding each pattern on its own (about half
    of the cold start's regex work). Only the shipped files load that way: a unit test runs
    the full check on them, and a user's file is always checked in full.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path.name}: cannot read pattern file: {exc}") from exc
    out: dict[str, list[str]] = {}
    for sig, table in data.items():
        if sig not in SIGNALS:
            raise ValueError(f"{path.name}: unknown signal id [{sig}] (expected one of SIGNALS)")
        if not isinstance(table, dict) or set(table) != {"patterns"}:
            raise ValueError(f"{path.name}: [{sig}] must hold exactly one key, 'patterns'")
        patterns = table["patterns"]
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"{path.name}: [{sig}] patterns must be a list of strings")
        for pat in patterns if check_patterns else ():
            where = f"{path.name}: [{sig}] pattern {pat!r}"
            if not pat:
                raise ValueError(f"{where}: empty pattern")
            try:
                re.compile(pat)
                _check_bounded(pat)
            except re.error as exc:
                raise ValueError(f"{where}: invalid regular expression: {exc}") from exc
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"{where}: {exc}") from exc
            if _sre_parse.parse(pat).getwidth()[0] == 0:
                raise ValueError(f"{where}: can match the empty string")
        out[sig] = patterns
    return out


def _starts_with_boundary(pattern: str, parsed: Any) -> bool:
    """True if ``pattern`` (parse tree ``parsed``) is one sequence (no top-level ``|``) that
    begins with ``\\b``."""
    return (
        pattern.startswith(r"\b") and len(parsed) > 1 and parsed[0] == (_sre_constants.AT, _sre_constants.AT_BOUNDARY)
    )


def _tried_order(patterns: list[str]) -> list[tuple[str, bool, Any]]:
    """``(pattern, begins with \\b, parse tree)`` in the order a signal's alternation tries them:
    the patterns that begin with ``\\b`` first (they share one ``\\b`` in :func:`_compile`), then
    the others. Each pattern is parsed once, here, for this test and for the literal gate."""
    flagged = []
    for p in patterns:
        tree = _sre_parse.parse(p)
        flagged.append((p, _starts_with_boundary(p, tree), tree))
    return [f for f in flagged if f[1]] + [f for f in flagged if not f[1]]


def _compile(patterns: list[str]) -> re.Pattern[str]:
    """One alternation of a signal's patterns, in :func:`_tried_order`, the leading ``\\b`` shared.
    The extractor runs the same alternatives gated one by one (:class:`_Gated`); this form serves
    the backtracking check."""
    ordered = _tried_order(patterns)
    bounded = [p[2:] for p, boundary, _ in ordered if boundary]
    rest = [p for p, boundary, _ in ordered if not boundary]
    parts = [f"(?:{p})" for p in rest]
    if bounded:
        parts.insert(0, r"\b(?:" + "|".join(f"(?:{p})" for p in bounded) + ")")
    return re.compile("|".join(parts))


_COMMON_LETTERS = frozenset("eaitonsrlоеаинтсрвлąęiăâîșț")


def _char_share(ch: str) -> float:
    """A rough share of ``ch`` among the characters of client messages (for choosing rare literals)."""
    if ch.isspace():
        return 0.16
    if ch.isalpha():
        return 0.07 if ch in _COMMON_LETTERS else 0.03
    if ch.isdigit():
        return 0.01
    return 0.02 if ch in ".,'-?!:;" else 0.003


def _rarity(lits: frozenset[str]) -> float:
    """Minus the expected share of positions where one of ``lits`` starts (higher: rarer)."""
    return -sum(math.prod(map(_char_share, lit)) for lit in lits)


def _required_literals(pattern: str | Any) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` (a regex or its parse tree) contains at least
    one, or ``None`` if no such set can be proven (then the pattern always runs). Of the sets
    that can be proven, the one that looks rarest in text (:func:`_rarity`).

    Read off the parsed expression: a run of literal characters is required; a group or a repeat
    of at least one passes on its content's set; an alternation requires one of its branches'
    sets. Anything case-insensitive gives nothing.
    """
    parsed = _sre_parse.parse(pattern) if isinstance(pattern, str) else pattern
    if parsed.state.flags & re.IGNORECASE:
        return None

    def best(items: Any) -> frozenset[str] | None:
        found: list[frozenset[str]] = []
        run: list[str] = []
        for op, arg in [*items, (None, None)]:
            if op is _sre_constants.LITERAL:
                run.append(chr(arg))
                continue
            if run:
                found.append(frozenset(["".join(run)]))
                run = []
            sub = None
            if op is _sre_constants.SUBPATTERN and not arg[1] & re.IGNORECASE:
                sub = best(arg[-1])
            elif op is _sre_constants.BRANCH:
                branches = [best(b) for b in arg[1]]
                if all(b is not None for b in branches):
                    sub = frozenset().union(*branches)  # type: ignore[arg-type]
            elif op in _REPEATS and arg[0] >= 1:
                sub = best(arg[2])
            elif op is getattr(_sre_constants, "ATOMIC_GROUP", None):
                sub = best(arg)
            if sub:
                found.append(sub)
        return max(found, key=_rarity) if found else None

    return best(parsed) or None


def _reach(parsed: Any) -> tuple[int, int] | None:
    """``(width, ahead)`` of a parse tree: the most characters a match consumes, and how far
    past that its lookaheads may read (their widths, summed: a bound, not the exact figure);
    ``None`` if either is unbounded."""
    ahead = 0

    def walk(items: Any) -> None:
        nonlocal ahead
        for op, arg in items:
            if op in (_sre_constants.ASSERT, _sre_constants.ASSERT_NOT) and arg[0] == 1:
                ahead += arg[1].getwidth()[1]
            for sub in _subtrees(op, arg):
                walk(sub)

    width = parsed.getwidth()[1]
    walk(parsed)
    if width >= _sre_constants.MAXREPEAT or ahead >= _sre_constants.MAXREPEAT:
        return None
    return width, ahead


Facts = tuple[bool, frozenset[str] | None, tuple[int, int] | None]
"""What the literal gate knows of a pattern: begins with ``\\b``, required literals, reach."""

INDEX_FILE = "index.json"
"""The shipped patterns' :data:`Facts`, precomputed (``python -m clientsense.signals``): reading
them off the parse trees took about a quarter of a second per language on the first message."""


def _facts(pattern: str) -> Facts:
    tree = _sre_parse.parse(pattern)
    return _starts_with_boundary(pattern, tree), _required_literals(tree), _reach(tree)


def _digest(pattern: str) -> str:
    return hashlib.sha256(pattern.encode("utf-8")).hexdigest()[:32]


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def pattern_index(patterns: Iterable[str]) -> dict[str, Any]:
    """The JSON-ready :data:`Facts` of ``patterns``, keyed by a digest of each pattern's text
    (the parser is Python's own, so the index names the Python it was made with)."""
    facts = {}
    for p in sorted(set(patterns)):
        boundary, lits, reach = _facts(p)
        facts[_digest(p)] = [boundary, sorted(lits) if lits is not None else None, list(reach) if reach else None]
    return {"python": _python(), "facts": facts}


def _read_index(data: Mapping[str, Any]) -> dict[str, Facts]:
    """The facts of an index made by this Python (``{}`` for another, or a malformed index)."""
    if data.get("python") != _python() or not isinstance(data.get("facts"), dict):
        return {}
    out: dict[str, Facts] = {}
    for key, (boundary, lits, reach) in data["facts"].items():
        out[key] = (bool(boundary), frozenset(lits) if lits is not None else None, tuple(reach) if reach else None)
    return out


class _Gated:
    """One language's patterns, compiled one by one behind a literal gate.

    A pattern is tried on a text only if one of its required literals occurs in it (one
    Aho-Corasick pass over the text finds every occurrence of every literal), and only over the
    stretch of text those occurrences allow: every match contains an occurrence, so it starts at
    most ``width`` characters before the first one and at or before the last one, and the engine
    reads no further than ``width + ahead`` past that start (see :func:`_reach`). A search over
    that window finds exactly what a search over the whole text finds, since lookbehinds and
    ``\\b`` still see the characters before it (``pos``/``endpos`` do not slice the string). So
    the hits are exactly those of the signal's alternation (:func:`_compile`): at each position
    the earliest match wins, ties going to the pattern tried first. Patterns never match the
    empty string (checked at load), so no empty-match rules apply.
    """

    def __init__(self, by_signal: dict[str, list[str]], known: Mapping[str, Facts] | None = None) -> None:
        """``known``: precomputed :data:`Facts` by pattern digest; other patterns are parsed here."""
        known = known or {}
        self.signals: list[tuple[str, tuple[int, ...]]] = []
        self.sources: list[str] = []
        self.patterns: list[re.Pattern[str] | None] = []  # compiled at first use (see _pattern)
        self.reach: list[tuple[int, int] | None] = []
        always: list[int] = []
        owners: dict[str, list[int]] = {}  # literal -> the patterns requiring it (one of a set)
        for sig in SIGNALS:
            ids = []
            facts = [(pat, known.get(_digest(pat)) or _facts(pat)) for pat in by_signal.get(sig) or []]
            # the order of the signal's alternation (:func:`_tried_order`): patterns led by \b first
            for pat, (_, lits, reach) in [f for f in facts if f[1][0]] + [f for f in facts if not f[1][0]]:
                pid = len(self.patterns)
                self.sources.append(pat)
                self.patterns.append(None)
                self.reach.append(reach)
                ids.append(pid)
                if lits is None:
                    always.append(pid)
                    continue
                for lit in sorted(lits):
                    owners.setdefault(lit, []).append(pid)
            if ids:
                self.signals.append((sig, tuple(ids)))
        self.always = frozenset(always)
        # one automaton finds every occurrence of every literal in one pass over the text
        self.literals = tuple(owners)
        self.owners = tuple(tuple(owners[lit]) for lit in self.literals)
        self.automaton = ahocorasick.Automaton()
        for k, lit in enumerate(self.literals):
            self.automaton.add_word(lit, k)
        if self.literals:
            self.automaton.make_automaton()

    def _pattern(self, pid: int) -> re.Pattern[str]:
        """Pattern ``pid``, compiled the first time a text may match it: a first message then pays
        for the few dozen patterns it can trigger, not the language's several hundred (threads
        racing here both compile the same expression; either result serves)."""
        rx = self.patterns[pid]
        if rx is None:
            rx = self.patterns[pid] = re.compile(self.sources[pid])
        return rx

    def candidates(self, view: str) -> dict[int, tuple[int, int]]:
        """The patterns that may match ``view``, each with the ``(pos, endpos)`` window to search."""
        ends: dict[int, list[int]] = {}  # literal -> [first, last] end index of its occurrences
        if self.literals:
            for end, k in self.automaton.iter(view):  # ordered by end index
                seen = ends.get(k)
                if seen is None:
                    ends[k] = [end, end]
                else:
                    seen[1] = end
        spans: dict[int, list[int]] = {}  # pattern -> [first, last] start of its literals
        literals, owners = self.literals, self.owners
        for k, (first_end, last_end) in ends.items():
            back = len(literals[k]) - 1
            first, last = first_end - back, last_end - back
            for pid in owners[k]:
                seen = spans.get(pid)
                if seen is None:
                    spans[pid] = [first, last]
                else:
                    if first < seen[0]:
                        seen[0] = first
                    if last > seen[1]:
                        seen[1] = last
        n = len(view)
        out = dict.fromkeys(self.always, (0, n))
        for pid, (first, last) in spans.items():
            reach = self.reach[pid]
            if reach is None:
                out[pid] = (0, n)
            else:
                width, ahead = reach
                out[pid] = (max(first - width, 0), min(last + width + ahead + 2, n))
        return out

    def finditer(self, view: str) -> Iterator[tuple[str, int, int]]:
        """``(signal, start, end)`` of each signal's non-overlapping matches, at most
        :data:`MAX_SPANS_PER_SIGNAL` per signal."""
        windows = self.candidates(view)
        for sig, ids in self.signals:
            tried = [(self._pattern(i), windows[i]) for i in ids if i in windows]
            if not tried:
                continue
            if len(tried) == 1:
                rx, (lo, hi) = tried[0]
                matches: Iterator[re.Match[str]] = rx.finditer(view, lo, hi)
            else:
                matches = _alternation(tried, view)
            for n, m in enumerate(matches, 1):
                yield sig, m.start(), m.end()
                if n >= MAX_SPANS_PER_SIGNAL:
                    break


def _alternation(patterns: list[tuple[re.Pattern[str], tuple[int, int]]], view: str) -> Iterator[re.Match[str]]:
    """``finditer`` of the alternation of ``patterns`` (none of which matches the empty string),
    each searched within its ``(pos, endpos)`` window (see :class:`_Gated`).

    Each pattern's next match is kept: ``search(view, pos)`` is the leftmost match starting at or
    after ``pos`` (the whole string stays visible to lookarounds), so a kept match that starts at
    or after the new position is what a new search would return, and a pattern with no match
    left has none further on. Only the patterns whose kept match overlaps the yielded one are
    searched again.
    """
    pending = [rx.search(view, lo, hi) for rx, (lo, hi) in patterns]
    while True:
        best: re.Match[str] | None = None
        for m in pending:
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        if best is None:
            return
        yield best
        pos = best.end()
        for i, m in enumerate(pending):
            if m is not None and m.start() < pos:
                rx, (lo, hi) = patterns[i]
                pending[i] = rx.search(view, max(pos, lo), hi)


class _Rules(dict[str, _Gated]):
    """Compiled rules per language, compiled on first use: compiling every language's (and the
    union's) expressions up front was most of the extractor's construction time."""

    def __init__(self, sources: dict[str, dict[str, list[str]]], index: Traversable | None = None) -> None:
        """``index``: a file written by :func:`write_index`, read each time a language is first
        used (a few milliseconds) rather than held in memory."""
        super().__init__()
        self.sources = sources
        self.index = index
        self._lock = threading.Lock()

    def known(self) -> dict[str, Facts]:
        """The facts of ``index`` (``{}`` without one, for another Python, or if it is damaged)."""
        if self.index is None or not self.index.is_file():
            return {}
        try:
            return _read_index(json.loads(self.index.read_text(encoding="utf-8")))
        except (ValueError, TypeError, AttributeError):  # a damaged index: parse every pattern
            return {}

    def __missing__(self, lang: str) -> _Gated:
        by_signal = self.sources[lang]  # KeyError for a language without a file, as before
        with self._lock:
            if lang not in self:
                self[lang] = _Gated(by_signal, self.known())
            return dict.__getitem__(self, lang)


class SignalExtractor:
    """Finds signals in a message with per-language regular expressions.

    The pattern files are loaded and compiled once, in the constructor. ``patterns_dir``
    defaults to the ``signal_patterns`` directory shipped with the package. A malformed file
    raises ``ValueError`` naming the file and the signal or pattern at fault.
    """

    def __init__(self, patterns_dir: Path | None = None) -> None:
        self.patterns_dir = patterns_dir
        sources: dict[str, dict[str, list[str]]] = {}
        index: Traversable | None = None
        if patterns_dir is None:
            root = resources.files("clientsense").joinpath("signal_patterns")
            files = sorted((f for f in root.iterdir() if f.name.endswith(".toml")), key=str)
            for entry in files:
                with resources.as_file(entry) as p:
                    sources[entry.name[: -len(".toml")]] = _load_file(Path(p), check_patterns=False)
            index = root.joinpath(INDEX_FILE)
        else:
            for p in sorted(Path(patterns_dir).glob("*.toml")):
                sources[p.stem] = _load_file(p)
        union: dict[str, list[str]] = {}
        for by_signal in sources.values():
            for sig, pats in by_signal.items():
                union.setdefault(sig, []).extend(pats)
        sources[_UNION] = union
        self.languages: tuple[str, ...] = tuple(k for k in sources if k != _UNION)
        self._compiled = _Rules(sources, index)
        if patterns_dir is not None:  # a user's files: report a pattern that does not combine now
            for lang in sources:
                self._compiled[lang]

    def extract(self, text: str, lang: str, view: str | None = None) -> tuple[Signal, ...]:
        """Signals found in ``text`` (patterns of ``lang``, or of all languages if unknown).

        Returns one :class:`Signal` per non-overlapping match (at most
        :data:`MAX_SPANS_PER_SIGNAL` per id), sorted by span start. Only the first
        :data:`clientsense.config.MAX_RAW_CHARS` characters are searched. ``view``, if given, must
        be :func:`text_view` of ``text`` (computed once for every pattern stage).
        """
        if not isinstance(text, str) or not text:
            return ()
        key = lang.lower().replace("_", "-").split("-")[0] if isinstance(lang, str) else _UNION
        rules = self._compiled[key] if key in self._compiled.sources else None
        if rules is None or not rules.signals:
            rules = self._compiled[_UNION]
        if view is None:
            view = text_view(text)  # bounded time on any input: spans lie in this prefix
        found = [Signal(sig, Span(start, end, text[start:end])) for sig, start, end in rules.finditer(view)]
        found.sort(key=lambda s: (s.span.start, s.span.end, s.id))
        return tuple(found)


_default: SignalExtractor | None = None


def extract_signals(text: str, lang: str) -> tuple[Signal, ...]:
    """Signals in ``text`` found with the packaged patterns (extractor built on first use)."""
    global _default
    if _default is None:
        _default = SignalExtractor()
    return _default.extract(text, lang)


PATTERNS_DIR = Path(__file__).with_name("signal_patterns")
"""The shipped pattern files on disk (the extractor itself reads them as package resources)."""


def index_of(patterns_dir: Path = PATTERNS_DIR) -> dict[str, Any]:
    """:func:`pattern_index` of every pattern in the ``*.toml`` files of ``patterns_dir``."""
    files = sorted(Path(patterns_dir).glob("*.toml"))
    return pattern_index(p for f in files for pats in _load_file(f).values() for p in pats)


def write_index(patterns_dir: Path = PATTERNS_DIR) -> Path:
    """Write ``INDEX_FILE`` for the pattern files of ``patterns_dir`` (default: the shipped ones)."""
    out = Path(patterns_dir) / INDEX_FILE
    index = index_of(patterns_dir)
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in index["facts"].items()]
    body = ",\n".join(lines)
    out.write_text(f'{{"python": {json.dumps(index["python"])}, "facts": {{\n{body}\n}}}}\n', encoding="utf-8")
    return out


if __name__ == "__main__":
    print(write_index())
