"""The ``clientsense`` command: argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .config import EMAIL_CHUNK_SIZE


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
        print(json.dumps(a.to_dict(redact=args.redact), ensure_ascii=False, indent=2))
        return 0
    from .redact import redact

    mask = redact if args.redact else str
    tone_p = ", ".join(f"{k} {v:.0%}" for k, v in sorted(a.tone_proba.items(), key=lambda kv: -kv[1]))
    print(f"language     {a.language} ({a.language_confidence:.0%})")
    print(f"tone         {a.tone}   [{tone_p}]")
    print(f"client type  {a.client_type} ({a.client_type_proba[a.client_type]:.0%})")
    print(f"step         {a.step.id} — {a.step.title}")
    print(f"advice       {a.step.advice}")
    if a.step.example:
        print(f"example      {a.step.example}")
    print(f"reason       {mask(a.step.reason)}")
    if a.step.alternatives:
        print(f"also fine    {', '.join(a.step.alternatives)}")
    for s in a.signals:
        print(f"signal       {s.id}: '{mask(s.span.text)}' [{s.span.start}:{s.span.end}]")
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


_EMAIL_FLAGS = ("rollup", "sender_col", "timestamp_col", "thread_col", "staff", "staff_domain", "email")


def _is_email_run(args: argparse.Namespace) -> bool:
    """Mailbox inputs, several inputs, or any email option → the email pipeline; a lone table → the table scorer."""
    from .readers import sniff

    if len(args.path) > 1 or any(getattr(args, f) for f in _EMAIL_FLAGS):
        return True
    p = Path(args.path[0])
    return p.exists() and sniff(p, args.text_col) not in ("csv", "jsonl", "parquet")


def cmd_score_email(args: argparse.Namespace) -> int:
    from .emailscore import score_export, summary_frame
    from .readers import ExportOptions
    from .report import summary_text

    if not args.output:
        raise ValueError("scoring an email export needs -o/--output (.csv, .jsonl or .parquet)")
    options = ExportOptions.build(
        staff_addresses=[a for a in args.staff if "@" in a],
        staff_domains=[*args.staff_domain, *(a for a in args.staff if "@" not in a)],
        text_col=args.text_col,
        sender_col=args.sender_col or "sender",
        timestamp_col=args.timestamp_col or "timestamp",
        thread_col=args.thread_col or "thread_id",
        direction_col=args.direction_col,
        strip_quotes=not args.keep_quotes,
    )
    report = score_export(
        args.path,
        args.output,
        options=options,
        rollup=args.rollup,
        analyzer=_analyzer(args),
        chunk_size=args.chunk_size,
        n_jobs=args.n_jobs,
        resume=not args.no_resume,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    if not args.quiet:
        small = summary_frame(args.output)
        print(summary_text(small[small["skip_reason"].isna() | (small["skip_reason"] == "error")]))
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(report.skipped.items())) or "none"
        resumed = f", {report.resumed_chunks} chunk(s) resumed from the checkpoint" if report.resumed_chunks else ""
        print(f"\nwrote {report.rows} rows to {args.output} (not scored: {skipped}){resumed}")
        if args.rollup:
            print(f"wrote the per-client rollup to {args.rollup}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    if _is_email_run(args):
        return cmd_score_email(args)
    args.path = args.path[0]
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
        redact=args.redact,
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
        Path(args.models) if args.models else None,
        Path(args.data),
        split=args.split,
        trusted=args.trusted,
        baseline_root=Path(args.baseline_data) if args.baseline_data else None,
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
        sp.add_argument(
            "--redact",
            action="store_true",
            help="mask e-mails, phone, IBAN- and card-like numbers in the output (spans keep original offsets)",
        )

    a = sub.add_parser("analyze", help="analyse one message ('-' reads standard input)")
    a.add_argument("text")
    a.add_argument("--json", action="store_true")
    model_opts(a)
    a.set_defaults(func=cmd_analyze)

    s = sub.add_parser(
        "score", help="score a CSV/JSONL/Parquet table, or email exports (mbox, .eml folder, Maildir, .msg)"
    )
    s.add_argument("path", nargs="+", help="one or more files or folders; the kind is detected by content")
    s.add_argument("-o", "--output", help="output file (.csv, .jsonl or .parquet)")
    s.add_argument("--text-col", default="text")
    s.add_argument("--n-jobs", type=int, default=1)
    s.add_argument("-q", "--quiet", action="store_true")
    em = s.add_argument_group("email exports (any of these selects the email pipeline)")
    em.add_argument("--email", action="store_true", help="treat a helpdesk table as an email export")
    em.add_argument("--rollup", help="write one row per client sender to this file")
    em.add_argument("--sender-col", help="helpdesk column with the sender (default: sender)")
    em.add_argument("--timestamp-col", help="helpdesk column with the time (default: timestamp)")
    em.add_argument("--thread-col", help="helpdesk column with the thread/ticket id (default: thread_id)")
    em.add_argument("--direction-col", help="helpdesk column marking agent replies (outbound/agent/staff)")
    em.add_argument("--staff", action="append", default=[], help="our own address or domain (repeatable)")
    em.add_argument("--staff-domain", action="append", default=[], help="our own mail domain (repeatable)")
    em.add_argument("--keep-quotes", action="store_true", help="do not remove quoted history and signatures")
    em.add_argument("--chunk-size", type=int, default=EMAIL_CHUNK_SIZE, help="messages per checkpointed chunk")
    em.add_argument("--no-resume", action="store_true", help="ignore a checkpoint left by an interrupted run")
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
    e.add_argument(
        "--baseline-data",
        help="fit the TF-IDF baseline on this corpus' train split (default: --data); evaluated rows are left out",
    )
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
