"""Every regular expression clientsense runs on message text, timed on adversarial inputs.

Catastrophic (exponential) or quadratic backtracking shows up as a long run on strings of
repeated characters or near-matches. Each pattern must scan 20,000 characters (the most any
stage reads of one message) within a generous bound, and grow no worse than linearly.
"""

from __future__ import annotations

import importlib
import re
import time

import pytest

from clientsense.signals import SignalExtractor, _compile, _sre_constants, _sre_parse
from clientsense.threats import HarmThreats

N = 20_000
BOUND_S = 1.5
MODULES = ("clientsense.clean", "clientsense.redact", "clientsense.features", "clientsense.signals")
LANGUAGE_MODULES = ("clientsense.language._text", "clientsense.language._mixed", "clientsense.language.detector")

GENERIC = {
    "letters": "a",
    "letters+space": "a ",
    "space": " ",
    "newlines": "\n",
    "digits": "1",
    "digits+space": "1 ",
    "digit-dash": "1-",
    "plus-digit": "+1 ",
    "brackets": "(1)",
    "at": "a@",
    "dots": "a.",
    "email-near": "a.b@c",
    "url-near": "http:/",
    "www": "www.",
    "apostrophes": "'a",
    "cyrillic": "я ",
    "upper-alnum": "A1",
    "iban-near": "RO49 ",
}


def _module_patterns() -> dict[str, re.Pattern[str]]:
    out: dict[str, re.Pattern[str]] = {}
    for name in MODULES + LANGUAGE_MODULES:
        mod = importlib.import_module(name)
        for attr, value in vars(mod).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                out[f"{name}.{attr}"] = value
    return out


def _literals(pattern: str) -> list[str]:
    """The literal words of ``pattern`` (to build near-matches out of its own vocabulary)."""
    words: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        if cur:
            words.append("".join(cur))
            cur.clear()

    def walk(items: object) -> None:
        for op, arg in items:  # type: ignore[attr-defined]
            if op is _sre_constants.LITERAL:
                cur.append(chr(arg))
                continue
            flush()
            if op is _sre_constants.SUBPATTERN:
                walk(arg[-1])
            elif op is _sre_constants.BRANCH:
                for branch in arg[1]:
                    walk(branch)
                    flush()
            elif op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT):
                walk(arg[2])
        flush()

    walk(_sre_parse.parse(pattern))
    return [w for w in words if w.strip()]


def _inputs(rx: re.Pattern[str]) -> dict[str, str]:
    strings = {k: (v * (N // len(v) + 1))[:N] for k, v in GENERIC.items()}
    words = _literals(rx.pattern)
    if words:
        spaced = " ".join(words[:400]) + " "
        glued = "".join(words[:400])
        strings["own words"] = (spaced * (N // len(spaced) + 1))[:N]
        strings["own words glued"] = (glued * (N // len(glued) + 1))[:N]
    return strings


def _scan(rx: re.Pattern[str], s: str) -> float:
    """CPU seconds of this thread for one scan: other processes on a busy machine do not count."""
    t = time.thread_time()
    for _ in rx.finditer(s):
        pass
    return time.thread_time() - t


def _best(rx: re.Pattern[str], s: str, runs: int) -> float:
    """The fastest of ``runs`` scans: the pattern's own cost, not the other processes on the machine."""
    return min(_scan(rx, s) for _ in range(runs))


def _check(name: str, rx: re.Pattern[str]) -> None:
    slow = []
    for kind, s in _inputs(rx).items():
        took = _scan(rx, s)
        if took > 0.05:  # re-measure: a busy machine inflates single runs
            took = min(took, _best(rx, s, 2))
        if took > BOUND_S:
            slow.append(f"{kind}: {took:.2f} s")
        elif took > 0.05:  # measurable: a tenth of the input must take about a tenth of the time
            short = _best(rx, s[: N // 10], 5)
            if took > 30 * max(short, 1e-3):
                slow.append(f"{kind}: superlinear ({short * 1e3:.1f} ms → {took * 1e3:.0f} ms for 10× input)")
    assert not slow, f"{name}: {slow}"


@pytest.mark.parametrize(("name", "rx"), sorted(_module_patterns().items()), ids=lambda v: str(v)[:60])
def test_module_patterns(name: str, rx: re.Pattern[str]) -> None:
    _check(name, rx)


def test_every_module_pattern_is_collected() -> None:
    names = set(_module_patterns())
    for expected in ("clientsense.clean.URL_RE", "clientsense.clean.EMAIL_RE", "clientsense.language._text._NOISE_RE"):
        assert expected in names


_EXTRACTOR = SignalExtractor()


_UNION_SOURCES = _EXTRACTOR._compiled.sources["*"]


@pytest.mark.parametrize("signal", sorted(_UNION_SOURCES))
def test_signal_patterns(signal: str) -> None:
    """The alternation of every language's patterns for one signal. Scanning it costs at least as
    much as scanning any of its patterns, which is how the extractor runs them (gated, one by one)."""
    _check(f"signal {signal}", _compile(_UNION_SOURCES[signal]))


@pytest.mark.parametrize("lang", HarmThreats().languages)
def test_harm_threat_patterns(lang: str) -> None:
    """One language's threat-of-harm patterns, as the analyzer runs them (one alternation)."""
    _check(f"harm threats {lang}", HarmThreats()._compiled[lang])


def test_shipped_pattern_files_pass_the_full_check() -> None:
    """The shipped files load without the per-pattern check; it must hold for them here."""
    from importlib import resources
    from pathlib import Path

    from clientsense.signals import _load_file

    root = resources.files("clientsense").joinpath("signal_patterns")
    files = [f for f in root.iterdir() if f.name.endswith(".toml")]
    assert len(files) == 5
    for entry in files:
        with resources.as_file(entry) as p:
            assert _load_file(Path(p)) == _load_file(Path(p), check_patterns=False)


def test_the_check_catches_a_quadratic_pattern() -> None:
    """The harness itself: a quadratic pattern (about 0.6 s of CPU on 20,000 spaces) must fail it."""
    with pytest.raises(AssertionError, match=r"bad: \[.*(superlinear|[0-9.]+ s)"):
        _check("bad", re.compile(r"\s*x\s*$"))
