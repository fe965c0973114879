"""The ``clientsense`` command: argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def _analyzer(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .analyzer import Analyzer

    return Analyzer(
        args.models,
        playbook=args.playbook,
        rules=args.rules,
        languages=args.languages.split(",") if args.languages else None,
        advice_language=args.advice_language,
        trusted=args.trusted,
    )


def cmd_analyze(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    a = _analyzer(args).analyze(text)
    if args.json:
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
        return 0
    tone_p = ", ".join(f"{k} {v:.0%}" for k, v in sorted(a.tone_proba.items(), key=lambda kv: -kv[1]))
    print(f"language     {a.language} ({a.language_confidence:.0%})")
    print(f"tone         {a.tone}   [{tone_p}]")
    print(f"client type  {a.client_type} ({a.client_type_proba[a.client_type]:.0%})")
    print(f"step         {a.step.id} — {a.step.title}")
    print(f"advice       {a.step.advice}")
    if a.step.example:
        print(f"example      {a.step.example}")
    print(f"reason       {a.step.reason}")
    if a.step.alternatives:
        print(f"also fine    {', '.join(a.step.alternatives)}")
    for s in a.signals:
        print(f"signal       {s.id}: '{s.span.text}' [{s.span.start}:{s.span.end}]")
    if a.step.aftercare:
        print(f"after-care   {a.step.aftercare}")
    for w in a.warnings:
        print(f"warning      {w}")
    return 0


def _write_atomic(df, out: Path) -> None:  # type: ignore[no-untyped-def]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        suffix = out.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            df.to_json(tmp, orient="records", lines=True, force_ascii=False)
        elif suffix == ".parquet":
            df.to_parquet(tmp)
        else:
            df.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cmd_score(args: argparse.Namespace) -> int:
    from .frame import score_frame
    from .readers import read_messages
    from .report import summary_text

    df = read_messages(args.path, text_col=args.text_col)
    scored = score_frame(
        df.drop(columns=["_read_error"]),
        text_col=args.text_col,
        analyzer=_analyzer(args),
        n_jobs=args.n_jobs,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    read_err = df["_read_error"].notna()
    scored.loc[read_err, "error"] = df.loc[read_err, "_read_error"]
    if args.output:
        _write_atomic(scored, Path(args.output))
    if not args.quiet:
        print(summary_text(scored))
        if args.output:
            print(f"\nwrote {len(scored)} rows to {args.output}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    print(json.dumps(_analyzer(args).info(), ensure_ascii=False, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    if Path(args.data).is_file():
        return _train_user(args)
    from .training.train import TrainConfig, train

    cfg = TrainConfig(shared_root=Path(args.shared), corpus_root=Path(args.data), out_dir=Path(args.out or "models"))
    meta = train(cfg)
    print(f"trained model {meta['version']} into {cfg.out_dir}")
    return 0


def _train_user(args: argparse.Namespace) -> int:
    from .training.user import train_on_labelled

    out = Path(args.out or f"{Path(args.data).stem}_model")
    meta = train_on_labelled(Path(args.data), out)
    counts = "; ".join(
        f"{k}: " + ", ".join(f"{lab} {n}" for lab, n in v.items()) for k, v in meta["label_counts"].items()
    )
    print(f"trained model {meta['version']} on {meta['rows']} labelled rows ({counts}) into {out}")
    print(
        f"use it with: clientsense score FILE --models {out} --trusted   (Python: Analyzer(models=..., trusted=True))"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .training.report import evaluate_models

    metrics = evaluate_models(
        Path(args.models) if args.models else None, Path(args.data), split=args.split, trusted=args.trusted
    )
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=2))
    else:
        from .training.report import metrics_markdown

        print(metrics_markdown(metrics))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clientsense", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def model_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--models", help="model directory (default: the shipped model)")
        sp.add_argument(
            "--trusted", action="store_true", help="allow unpickling a model directory other than the shipped one"
        )
        sp.add_argument("--playbook", help="your own playbook TOML")
        sp.add_argument("--rules", help="your own rule table TOML")
        sp.add_argument("--languages", help="restrict language detection, e.g. en,ro")
        sp.add_argument("--advice-language", help="return advice in this language")

    a = sub.add_parser("analyze", help="analyse one message ('-' reads standard input)")
    a.add_argument("text")
    a.add_argument("--json", action="store_true")
    model_opts(a)
    a.set_defaults(func=cmd_analyze)

    s = sub.add_parser("score", help="score a CSV/JSONL/Parquet file of messages")
    s.add_argument("path")
    s.add_argument("-o", "--output", help="output file (.csv, .jsonl or .parquet)")
    s.add_argument("--text-col", default="text")
    s.add_argument("--n-jobs", type=int, default=1)
    s.add_argument("-q", "--quiet", action="store_true")
    model_opts(s)
    s.set_defaults(func=cmd_score)

    i = sub.add_parser("info", help="model version, languages and paths")
    model_opts(i)
    i.set_defaults(func=cmd_info)

    t = sub.add_parser(
        "train",
        help="rebuild the models from the corpora, or retrain on your own labelled file (--data FILE --out DIR)",
    )
    t.add_argument("--shared", default="../shared/corpora")
    t.add_argument(
        "--data",
        default="data/corpus",
        help="the authored corpus directory, or a CSV/JSONL/Parquet file with text, tone, client_type[, lang, step]",
    )
    t.add_argument("--out", help="output directory (default: models/, or FILE-stem_model for a labelled file)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate a model on the authored corpus")
    e.add_argument("--models")
    e.add_argument("--trusted", action="store_true")
    e.add_argument("--data", default="data/corpus")
    e.add_argument("--split", default="test", choices=["train", "dev", "test", "all"])
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (OSError, ValueError, KeyError) as e:
        print(f"clientsense: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
