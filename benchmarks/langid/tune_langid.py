"""Tune clientsense's language-detector scoring parameters on the DEV slice only.

Dev slice = first 20 % of every lingua test file (see ``lingua_data.py``); nothing here reads
the remaining 80 %, on which ``bench_langid.py`` reports. Steps:

1. coordinate search of the scoring parameters (back-off penalty, floor, word weight, ...)
   maximising the mean dev accuracy over sentences, word pairs and single words;
2. calibration: fit ``T(n) = t0 * n**t1`` (softmax temperature per text length) by minimum
   negative log-likelihood of the gold language;
3. mixed texts: pick the second-language thresholds on synthetic dev mixes (sentence of
   language A followed by a sentence of language B) against unmixed dev texts.

Prints the resulting ``TUNED_SCORING`` (paste into ``clientsense/language/train.py``);
``--write`` also stores it in ``models/langid/config.json`` and refreshes the manifest.

    PYTHONPATH=src python benchmarks/langid/tune_langid.py [--search] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lingua_data import KINDS, LANGS16, load

from clientsense.language import _text as tx
from clientsense.language._mixed import secondary_language
from clientsense.language._model import Model
from clientsense.language.languages import base_log_prior

GRID = {
    "log_beta": [-0.5, -0.75, -1.0, -1.5, -2.0],
    "floor": [-7.0, -8.0, -9.0, -10.5, -12.0],
    "lam": [0.5, 0.7, 0.9, 0.95],
    "profile_order": [3, 4, 5],
    "word_cap": [1e9, 8.0, 12.0, 16.0, 24.0],
}
PRIOR_POWERS = [0.0, 0.25, 0.5, 0.75, 1.0]


def doc_scores(model: Model, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Raw per-language scores and letter counts of texts."""
    seg = tx.segment([tx.clean(t) for t in texts])
    ws = model.word_scores(seg)
    s = np.zeros((len(texts), model.n_langs))
    np.add.at(s, seg.word_doc, ws)
    letters = np.bincount(seg.word_doc, weights=seg.word_len, minlength=len(texts))
    return s, letters


def log_prior(model: Model) -> np.ndarray:
    base = base_log_prior(float(model.scoring["prior_power"]))
    lp = np.array([base[lg] for lg in model.languages])
    return lp - np.log(np.exp(lp).sum())


def logits(model: Model, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Calibrated logits as the detector computes them."""
    t = float(model.scoring["t0"]) * np.maximum(n, 1) ** float(model.scoring["t1"])
    return s / t[:, None] + log_prior(model)[None, :]


def accuracy(model: Model, data: dict[str, tuple[list[str], list[str]]], with_prior: bool = False) -> dict[str, float]:
    out = {}
    for kind, (x, y) in data.items():
        s, n = doc_scores(model, x)
        z = logits(model, s, n) if with_prior else s
        pred = np.array(model.languages)[z.argmax(1)]
        gold = np.array(y)
        out[kind] = float(np.mean([(pred[gold == lg] == lg).mean() for lg in LANGS16]))
    return out


def search(model: Model, data: dict[str, tuple[list[str], list[str]]]) -> None:
    """Coordinate ascent over GRID (two rounds), in place on ``model.scoring``."""
    best = float(np.mean(list(accuracy(model, data).values())))
    for _ in range(2):
        for key, values in GRID.items():
            for v in values:
                old = model.scoring[key]
                if v == old:
                    continue
                model.scoring[key] = v
                model.refresh()
                acc = float(np.mean(list(accuracy(model, data).values())))
                if acc > best + 1e-4:
                    best = acc
                    print(f"  {key}={v}: {acc:.4f}", file=sys.stderr)
                else:
                    model.scoring[key] = old
                    model.refresh()


def calibrate(model: Model, data: dict[str, tuple[list[str], list[str]]]) -> tuple[float, float]:
    """Grid-fit t0, t1 by negative log-likelihood of the gold labels."""
    ss, ns, gs = [], [], []
    for x, y in data.values():
        s, n = doc_scores(model, x)
        ss.append(s)
        ns.append(n)
        gs.append([model.languages.index(lg) for lg in y])
    s, n, g = np.concatenate(ss), np.concatenate(ns), np.concatenate(gs)
    prior = log_prior(model)
    best = (np.inf, 1.0, 0.5)
    for t1 in np.arange(0.0, 1.01, 0.05):
        for t0 in np.exp(np.arange(-3.0, 3.0, 0.05)):
            z = s / (t0 * np.maximum(n, 1) ** t1)[:, None] + prior[None, :]
            z -= z.max(1, keepdims=True)
            nll = -(z[np.arange(len(g)), g] - np.log(np.exp(z).sum(1))).mean()
            if nll < best[0]:
                best = (nll, float(t0), float(t1))
    print(f"  calibration nll={best[0]:.4f} t0={best[1]:.4f} t1={best[2]:.2f}", file=sys.stderr)
    return round(best[1], 4), round(best[2], 2)


def mixed_sets(n_pairs: int = 600) -> tuple[list[str], list[str], list[str]]:
    """(mixed texts, their second language, unmixed texts) built from dev sentences."""
    x, y = load("sentences", "dev")
    rng = np.random.default_rng(0)
    by = {lg: [t for t, g in zip(x, y, strict=True) if g == lg and len(t) >= 30] for lg in LANGS16}
    mixed, second, plain = [], [], []
    for _ in range(n_pairs):
        a, b = rng.choice(len(LANGS16), 2, replace=False)
        la, lb = LANGS16[a], LANGS16[b]
        ta = by[la][rng.integers(len(by[la]))]
        tb = by[lb][rng.integers(len(by[lb]))]
        mixed.append(f"{ta} {tb}")
        second.append(lb if len(ta) >= len(tb) else la)
        tc = by[la][rng.integers(len(by[la]))]
        plain.append(f"{ta} {tc}")
    for kind in ("sentences", "word-pairs"):
        px, _ = load(kind, "dev")
        plain += px[::4]
    return mixed, second, plain


def tune_mixed(model: Model) -> dict[str, float]:
    """Thresholds maximising recall on mixes with <= 1 % false seconds on unmixed texts."""
    mixed, second, plain = mixed_sets()
    langs = model.languages
    allowed = np.arange(model.n_langs)

    def run(texts: list[str], params: tuple[float, float, float, int]) -> list[str | None]:
        seg = tx.segment([tx.clean(t) for t in texts])
        ws = model.word_scores(seg)
        bounds = np.searchsorted(seg.word_doc, np.arange(len(texts) + 1))
        out: list[str | None] = []
        for d in range(len(texts)):
            w0, w1 = int(bounds[d]), int(bounds[d + 1])
            if w1 - w0 < 2:
                out.append(None)
                continue
            top = int(ws[w0:w1].sum(0).argmax())
            c = secondary_language(ws[w0:w1], seg.word_len[w0:w1], top, allowed, *params)
            out.append(None if c is None else langs[c])
        return out

    best: tuple[float, tuple[float, float, float, int]] = (-1.0, (8.0, 15.0, 0.2, 8))
    for sw in (4.0, 8.0, 12.0, 16.0):
        for gain in (5.0, 10.0, 15.0, 25.0, 40.0):
            for share in (0.1, 0.15, 0.2):
                p = (sw, gain, share, 8)
                fp = np.mean([r is not None for r in run(plain, p)])
                rec = np.mean([r == s for r, s in zip(run(mixed, p), second, strict=True)])
                if fp <= 0.01 and rec > best[0]:
                    best = (float(rec), p)
    sw, gain, share, letters = best[1]
    print(f"  mixed: recall={best[0]:.3f} switch={sw} gain={gain} share={share}", file=sys.stderr)
    return {"mix_switch": sw, "mix_gain": gain, "mix_share": share, "mix_letters": letters}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--models", type=Path, default=None, help="default: models/langid")
    ap.add_argument("--search", action="store_true", help="also search the scoring grid")
    ap.add_argument("--write", action="store_true", help="store the result in config.json")
    args = ap.parse_args()
    from clientsense.artifacts import models_dir, write_manifest

    mdir = args.models or (models_dir() / "langid")
    model = Model.load(mdir / "config.json", mdir / "ngrams.npz", mdir / "words.npz")
    data = {kind: load(kind, "dev") for kind in KINDS}
    print(f"dev accuracy before: {accuracy(model, data)}", file=sys.stderr)
    if args.search:
        search(model, data)
        print(f"dev accuracy after: {accuracy(model, data)}", file=sys.stderr)
    model.scoring["t0"], model.scoring["t1"] = calibrate(model, data)
    best_pp, best_acc = model.scoring["prior_power"], -1.0
    for pp in PRIOR_POWERS:
        model.scoring["prior_power"] = pp
        acc = accuracy(model, data, with_prior=True)
        mean = float(np.mean(list(acc.values())))
        print(f"  prior_power={pp}: {acc} mean={mean:.4f}", file=sys.stderr)
        if mean > best_acc + 1e-4:
            best_pp, best_acc = pp, mean
    model.scoring["prior_power"] = best_pp
    model.scoring["t0"], model.scoring["t1"] = calibrate(model, data)
    model.scoring.update(tune_mixed(model))
    print(json.dumps(model.scoring, indent=1, sort_keys=True))
    if args.write:
        cfg_path = mdir / "config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        cfg["scoring"] = model.scoring
        cfg_path.write_text(json.dumps(cfg, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if args.models is None:
            write_manifest(models_dir())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
