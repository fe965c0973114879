"""``LanguageDetector``: calibrated language identification for short client messages."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from clientsense.artifacts import ArtifactError, models_dir, verify_file
from clientsense.language import _text as tx
from clientsense.language._mixed import secondary_languages
from clientsense.language._model import Model
from clientsense.language._translit import SLAVIC_LATIN, translit_confidence, translit_russian_hits
from clientsense.language.languages import LANGUAGES, base_log_prior
from clientsense.results import LanguageResult

UND = LanguageResult("und", 0.0, (), None)
OTHER_PRIOR_MASS = 0.1
"""With a ``prior``, the languages it does not name share this much prior probability."""
ARTIFACTS = ("config.json", "ngrams.npz", "words.npz")
# scripts (ids of ``_text.SCRIPT_NAMES``) that no supported language is written in
_UNSUPPORTED_SCRIPTS = (0, 18, 19)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"language detection expects a str, got {type(text).__name__}")
    return text


def load_model(directory: Path | None = None) -> Model:
    """Load the artifacts of ``models/langid/`` after checking them against the manifest."""
    root = directory if directory is not None else models_dir()
    paths = [verify_file(root, f"langid/{name}") for name in ARTIFACTS]
    return Model.load(*paths)


class LanguageDetector:
    """Identifies the language of texts; loads its artifacts once.

    ``languages`` restricts the candidates (ISO 639-1 codes of ``SUPPORTED_LANGUAGES``);
    ``prior`` gives relative weights of the languages clients are expected to write in: they
    share 90 % of the prior probability, the other languages 10 % (in proportion to the
    built-in prior, a tempered share of web content, used alone when ``prior`` is None).
    ``backend`` is ``"native"`` (the shipped n-gram model), ``"langdetect"``, or ``"auto"``:
    native, falling back to langdetect with a warning when the artifacts cannot be loaded.
    """

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        prior: Mapping[str, float] | None = None,
        *,
        backend: str = "auto",
        model_dir: Path | None = None,
    ) -> None:
        if backend not in ("auto", "native", "langdetect"):
            raise ValueError(f"unknown backend {backend!r}: use auto, native or langdetect")
        self._model: Model | None = None
        self.backend = backend
        if backend != "langdetect":
            try:
                self._model = load_model(model_dir)
            except (ArtifactError, OSError, ValueError, KeyError) as exc:
                if backend == "native":
                    raise
                warnings.warn(
                    f"language model unavailable ({exc}); falling back to langdetect", RuntimeWarning, stacklevel=2
                )
        self.backend = "native" if self._model is not None else "langdetect"
        supported = self._model.languages if self._model is not None else LANGUAGES
        self._all = tuple(supported)
        self.languages = self._validate(languages)
        self._allowed = np.array(sorted(self._all.index(lg) for lg in self.languages), dtype=np.int64)
        self._log_prior = self._make_prior(prior)

    # -- configuration -------------------------------------------------------------------
    def _validate(self, languages: Sequence[str] | None) -> tuple[str, ...]:
        if languages is None:
            return self._all
        if isinstance(languages, str):
            languages = [languages]
        langs = tuple(dict.fromkeys(str(lg).lower() for lg in languages))
        unknown = [lg for lg in langs if lg not in self._all]
        if unknown or not langs:
            raise ValueError(f"unsupported language code(s) {unknown or '[]'}; supported: {' '.join(self._all)}")
        return langs

    def _make_prior(self, prior: Mapping[str, float] | None) -> npt.NDArray[np.float64]:
        """Log prior over all languages: the built-in one, or ``prior`` on top of it."""
        power = float(self._model.scoring["prior_power"]) if self._model is not None else 0.0
        base_d = base_log_prior(power)
        base = np.exp(np.array([base_d.get(lg, 0.0) for lg in self._all]))
        base /= base.sum()
        if not prior:
            return np.asarray(np.log(base), dtype=np.float64)
        named = {str(k).lower(): float(v) for k, v in prior.items()}
        bad = [k for k, v in named.items() if k not in self._all or not 0 < v < np.inf]
        if bad:
            raise ValueError(f"prior needs positive finite weights of supported languages: {bad}")
        idx = [self._all.index(k) for k in named]
        w = np.array(list(named.values()))
        p = np.zeros(len(self._all))
        rest = np.ones(len(self._all), dtype=np.bool_)
        rest[idx] = False
        if rest.any():
            p[rest] = OTHER_PRIOR_MASS * base[rest] / base[rest].sum()
            p[idx] = (1.0 - OTHER_PRIOR_MASS) * w / w.sum()
        else:
            p[idx] = w / w.sum()
        return np.asarray(np.log(p), dtype=np.float64)

    # -- public API ----------------------------------------------------------------------
    def detect(self, text: str) -> LanguageResult:
        """The language of one text (``"und"`` when it has no letters)."""
        return self._detect([_check_text(text)], None)[0]

    def detect_many(self, texts: Iterable[str]) -> list[LanguageResult]:
        """The languages of many texts, scored together (much faster than one by one)."""
        return self._detect([_check_text(t) for t in texts], None)

    def _detect(self, texts: list[str], languages: Sequence[str] | None) -> list[LanguageResult]:
        allowed = self._allowed
        if languages is not None:
            sub = self._validate(languages)
            allowed = np.array(sorted(self._all.index(lg) for lg in sub), dtype=np.int64)
        if self._model is None:
            from clientsense.language._fallback import detect_with_langdetect

            return detect_with_langdetect(texts, [self._all[i] for i in allowed])
        out: list[LanguageResult] = []
        step = 1000  # bound the memory of one vectorised pass
        for i in range(0, len(texts), step):
            out.extend(self._detect_native(texts[i : i + step], allowed))
        return out

    def _detect_native(self, texts: list[str], allowed: npt.NDArray[np.int64]) -> list[LanguageResult]:
        model = self._model
        assert model is not None
        n_docs = len(texts)
        seg = tx.segment_joined(tx.clean_join(texts), n_docs)
        if seg.word_start.size == 0:
            return [UND] * n_docs
        scores32, inv = model.unique_word_scores(seg)  # word i scores scores32[inv[i]]
        n_words = seg.word_start.size
        if inv is None:
            inv = np.arange(n_words, dtype=np.int64)
        bounds = np.searchsorted(seg.word_doc, np.arange(n_docs + 1))
        # per text, the sum of its word scores, in word order (float32, as np.add.reduceat)
        occ = sp.csr_matrix((np.ones(n_words, dtype=np.float32), inv, bounds), shape=(n_docs, scores32.shape[0]))
        scores = np.asarray(occ @ scores32, dtype=np.float64)
        letters = np.bincount(seg.word_doc, weights=seg.word_len, minlength=n_docs).astype(float)
        per_script = tx.script_counts(seg)
        supported = letters - per_script[:, list(_UNSUPPORTED_SCRIPTS)].sum(axis=1)
        probs = self._calibrate(scores if allowed.size == model.n_langs else scores[:, allowed], letters, allowed)
        order = np.argsort(-probs, axis=1, kind="stable")[:, :3]
        top = allowed[order[:, 0]]
        top_p = np.round(np.take_along_axis(probs, order, axis=1), 4)
        mixed_docs = self._maybe_mixed(scores32, inv, bounds, top, allowed)
        second = np.full(n_docs, -1, dtype=np.int64)
        if mixed_docs.size:
            sc = model.scoring
            second[mixed_docs] = secondary_languages(
                scores32,
                inv,
                seg.word_len,
                bounds,
                mixed_docs,
                top[mixed_docs],
                allowed,
                sc["mix_switch"],
                sc["mix_gain"],
                sc["mix_share"],
                int(sc["mix_letters"]),
            )
        names = [self._all[int(i)] for i in allowed]
        all_names: list[str | None] = [*self._all, None]
        width = order.shape[1]
        results: list[LanguageResult] = []
        for sup, o, p, s in zip((supported > 0).tolist(), order.tolist(), top_p.tolist(), second.tolist(), strict=True):
            if not sup:
                results.append(UND)
            elif width == 3:
                n0, p0 = names[o[0]], p[0]
                results.append(
                    LanguageResult(n0, p0, ((n0, p0), (names[o[1]], p[1]), (names[o[2]], p[2])), all_names[s])
                )
            else:
                cands = tuple((names[j], q) for j, q in zip(o, p, strict=True))
                results.append(LanguageResult(cands[0][0], cands[0][1], cands, all_names[s]))
        if "ru" in names:
            for i, (text, r) in enumerate(zip(texts, results, strict=True)):
                if r.lang != "ru" and r.lang != "und":  # translit_russian_hits rejects non-ASCII letters
                    hits = translit_russian_hits(text, slavic_guess=r.lang in SLAVIC_LATIN)
                    if hits:
                        results[i] = _as_translit_russian(r, hits)
        return results

    def _maybe_mixed(
        self,
        scores: npt.NDArray[np.float32],
        inv: npt.NDArray[np.int64],
        bounds: npt.NDArray[np.int64],
        top: npt.NDArray[np.int64],
        allowed: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.int64]:
        """Texts that can hold a second language B: the words B wins must gain at least
        ``mix_gain + mix_switch`` over the primary in total (an upper bound of the Viterbi gain).

        Word i of the batch scores ``scores[inv[i]]``. A cheaper bound first - each word's best
        allowed language instead of B - leaves ~10 % of the sentences for the exact test.
        """
        assert self._model is not None
        sc = self._model.scoring
        n_docs = bounds.size - 1
        n_l = scores.shape[1]
        e = np.zeros(0, dtype=np.int64)
        if allowed.size < 2 or inv.size == 0:
            return e
        need = float(sc["mix_gain"]) + float(sc["mix_switch"])
        n_words = np.diff(bounds)
        doc_of_word = np.repeat(np.arange(n_docs), n_words)
        full = allowed.size == n_l
        best = (scores if full else scores[:, allowed]).max(axis=1)
        flat = scores.reshape(-1)
        gap = best.take(inv) - flat.take(inv * n_l + top.take(doc_of_word))  # >= every B's advantage
        bound = np.bincount(doc_of_word, weights=gap, minlength=n_docs)
        # float32 sums of at most MAX_LETTERS terms can exceed the float64 bound by far less
        cand = np.flatnonzero((bound * (1 + 1e-3) + 1e-3 >= need) & (n_words >= 2))
        if cand.size == 0:
            return e
        cn = n_words[cand]
        starts = np.cumsum(cn) - cn
        rows = inv.take(np.repeat(bounds[cand] - starts, cn) + np.arange(int(cn.sum())))
        sub = scores.take(rows, axis=0)
        if not full:
            sub = sub[:, allowed]
        adv = sub - flat.take(rows * n_l + np.repeat(top.take(cand), cn))[:, None]
        np.maximum(adv, 0.0, out=adv)
        total = np.add.reduceat(adv, starts, axis=0)
        return cand[total.max(axis=1) >= need]

    def _calibrate(
        self, scores: npt.NDArray[np.float64], letters: npt.NDArray[np.float64], allowed: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Posterior probabilities: softmax(score / T(n) + log prior), T(n) = t0 * n**t1."""
        assert self._model is not None
        sc = self._model.scoring
        temp = float(sc["t0"]) * np.maximum(letters, 1.0) ** float(sc["t1"])
        logits = scores / temp[:, None] + self._log_prior[allowed][None, :]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def _as_translit_russian(r: LanguageResult, hits: int) -> LanguageResult:
    """Russian in Latin letters (see ``_translit``): ru first, the model's candidates after it."""
    conf = translit_confidence(hits)
    rest = tuple((lg, round(p * (1.0 - conf), 4)) for lg, p in r.candidates if lg != "ru")
    return LanguageResult("ru", conf, (("ru", conf), *rest[:2]), r.secondary if r.secondary != "ru" else None)


_default: LanguageDetector | None = None
_lock = threading.Lock()


def default_detector() -> LanguageDetector:
    """The shared detector behind ``detect_language`` (created on first use)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = LanguageDetector()
    return _default


def detect_language(text: str, languages: Sequence[str] | None = None) -> LanguageResult:
    """The language of ``text``; ``languages`` restricts the candidates."""
    return default_detector()._detect([_check_text(text)], languages)[0]


def detect_languages(texts: Iterable[str], languages: Sequence[str] | None = None) -> list[LanguageResult]:
    """Batch version of ``detect_language`` (vectorised)."""
    if isinstance(texts, str):
        raise TypeError("detect_languages expects an iterable of str, not a single str")
    return default_detector()._detect([_check_text(t) for t in texts], languages)
