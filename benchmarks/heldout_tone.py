"""The tone model alone, fitted without one writer generation and scored on that generation.

Usage::

    PYTHONPATH=src python benchmarks/heldout_tone.py --generation 12 [--set seed=1] [--set tone_seeds=1]

A quicker cousin of ``heldout_writers.py`` (2–7 minutes on one core instead of half an hour): it
fits only ``fit_tone`` on the train rows of the corpus without generation G (plus the public
corpora), chooses the per-language temperatures on the dev rows without G, and prints the tone
macro-F1, abusive precision / recall and civil → abusive share on G's train and dev rows (never
its test rows) and on the dev rows, as one JSON line. ``--set`` overrides a ``TrainConfig`` field.

Refit variance is large on a left-out generation: seeds 0–3 gave tone 0.794–0.835 on generation
12 while dev moved 0.009 (docs/unseen_writers.md), so compare settings over several seeds.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import pandas as pd
from heldout_writers import argument_parser, left_out_generation
from sklearn.metrics import f1_score, precision_score, recall_score

from clientsense.training.corpora import load_public
from clientsense.training.train import fit_tone, tone_inputs, tone_training_frame


def tone_scores(model: Any, df: pd.DataFrame) -> dict[str, Any]:
    """Tone macro-F1 (overall and per language), abusive P / R and civil → abusive of ``model`` on ``df``."""
    pred = np.asarray(model.classes_)[model.predict_proba(tone_inputs(df)).argmax(axis=1)]
    gold = df["tone"].to_numpy()
    langs = df["lang"].to_numpy()
    civil = gold == "frustrated"
    return {
        "n": len(gold),
        "tone_macro_f1": round(float(f1_score(gold, pred, average="macro")), 4),
        "abusive_precision": round(float(precision_score(gold == "abusive", pred == "abusive", zero_division=0)), 3),
        "abusive_recall": round(float(recall_score(gold == "abusive", pred == "abusive", zero_division=0)), 3),
        "civil_flagged_abusive": round(float((pred[civil] == "abusive").mean()) if civil.any() else 0.0, 4),
        "per_language": {
            lang: round(float(f1_score(gold[langs == lang], pred[langs == lang], average="macro")), 3)
            for lang in sorted(set(langs.tolist()))
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = argument_parser(__doc__.split("\n\n")[0]).parse_args(argv)
    changed, cfg, held, rest = left_out_generation(args)
    dev = rest[rest["split"] == "dev"]
    frame = tone_training_frame(load_public(cfg.shared_root, cfg.public_sources), rest, cfg, ("train",))
    tone = fit_tone(frame, cfg)
    tone.calibrate_per_language(tone_inputs(dev), dev["tone"])
    report = {
        "generation": args.generation,
        "overrides": changed,
        "held_out": tone_scores(tone, held),
        "dev": tone_scores(tone, dev),
    }
    json.dump(report, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
