"""Scoring email exports: chunks of records → result rows, checkpointed, written atomically.

Every input message gives exactly one output row. Messages that are not the client's own words
— outbound (our staff), auto-replies, bounces, unreadable or empty ones — are kept with their
flags and ``skip_reason`` but not scored (their result columns are empty; ``error`` holds the
reason for unreadable ones). Progress is checkpointed per chunk in a hidden ``.<output>.parts``
folder beside the output; an interrupted run started again with the same inputs and options
continues after the last finished chunk, so no row is scored twice or written twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

import pandas as pd

from .config import EMAIL_CHUNK_SIZE
from .frame import RESULT_COLUMNS, score_frame
from .readers.export import ExportOptions, RawItem, iter_raw, parse_raw, records_frame
from .readers.records import RECORD_COLUMNS, EmailRecord

OUTPUT_COLUMNS: tuple[str, ...] = (*(c for c in RECORD_COLUMNS if c != "error"), *RESULT_COLUMNS)
_ROLLUP_READ = ("sender", "timestamp", "direction", "skip_reason", "language", "tone", "client_type", "p_abusive",
                "step", "signals", "error")  # fmt: skip
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
CHECKPOINT_FILE = "checkpoint.json"


@dataclass(frozen=True)
class ScoreReport:
    """What one run of :func:`score_export` did."""

    rows: int
    scored: int
    skipped: dict[str, int]
    chunks: int
    resumed_chunks: int
    seconds: float
    output: str | None
    rollup: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_records(
    records: Sequence[EmailRecord], analyzer: Any = None, n_jobs: int = 1, batch_size: int | None = None
) -> pd.DataFrame:
    """One output row per record: the record's fields plus the result columns (skipped rows unscored)."""
    df = records_frame(records)
    to_score = df["skip_reason"].isna()
    texts = pd.DataFrame({"_text": df["text"].where(to_score, None)}, index=df.index)
    results = score_frame(texts, text_col="_text", analyzer=analyzer, n_jobs=n_jobs, batch_size=batch_size)
    results = results.drop(columns="_text")
    results["error"] = results["error"].where(to_score, df["error"].astype("string"))
    out = pd.concat([df.drop(columns="error"), results], axis=1)
    return _typed(out[list(OUTPUT_COLUMNS)])


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Stable column types across chunks (strings, bools, floats, int index), so parts concatenate."""
    df = df.copy()
    for col in df.columns:
        s = df[col]
        if col in ("is_auto_reply", "is_bounce", "is_forward", "quote_removed", "signature_removed"):
            df[col] = s.astype(bool)
        elif col == "index":
            df[col] = s.astype("int64")
        elif pd.api.types.is_float_dtype(s):
            df[col] = s.astype("float64")
        else:
            df[col] = s.astype("string")
    return df


def _chunks(items: Iterable[RawItem], size: int) -> Iterator[list[RawItem]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def iter_raw_many(paths: Sequence[str | Path], options: ExportOptions) -> Iterator[RawItem]:
    """The raw messages of several exports, one after another."""
    return chain.from_iterable(iter_raw(p, options) for p in paths)


def iter_scored(
    paths: Sequence[str | Path],
    options: ExportOptions | None = None,
    *,
    analyzer: Any = None,
    chunk_size: int = EMAIL_CHUNK_SIZE,
    n_jobs: int = 1,
) -> Iterator[pd.DataFrame]:
    """Scored chunks of the exports, in input order (constant memory: one chunk at a time)."""
    o = options or ExportOptions()
    for batch in _chunks(iter_raw_many(paths, o), chunk_size):
        yield score_records([parse_raw(i, o) for i in batch], analyzer=analyzer, n_jobs=n_jobs)


def score_export_frame(
    paths: str | Path | Sequence[str | Path], options: ExportOptions | None = None, **kwargs: Any
) -> pd.DataFrame:
    """All scored rows of one or more exports in one DataFrame (for exports that fit in memory)."""
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    parts = list(iter_scored(paths, options, **kwargs))
    return pd.concat(parts, ignore_index=True) if parts else _typed(pd.DataFrame(columns=list(OUTPUT_COLUMNS)))


def _fingerprint(paths: Sequence[str | Path], options: ExportOptions, chunk_size: int, fmt: str) -> str:
    h = hashlib.sha256()
    for p in paths:
        path = Path(p).resolve()
        files = sorted(x for x in path.rglob("*") if x.is_file()) if path.is_dir() else [path]
        for f in files:
            st = f.stat()
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    h.update(repr((options, chunk_size, fmt)).encode())
    return h.hexdigest()


def _write_part(df: pd.DataFrame, path: Path, fmt: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        df.to_csv(tmp, index=False)
    elif fmt == "jsonl":
        df.to_json(tmp, orient="records", lines=True, force_ascii=False)
    else:
        df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _read_part(path: Path, fmt: str, columns: Sequence[str]) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, usecols=list(columns), dtype={"sender": str, "timestamp": str, "error": str})
    if fmt == "jsonl":
        return pd.read_json(path, lines=True, dtype=False)[list(columns)]
    return pd.read_parquet(path, columns=list(columns))


def _assemble(parts: list[Path], out: Path, fmt: str) -> None:
    """Concatenate the part files into ``out`` atomically, streaming (constant memory)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema(
                [(c, pa.int64() if c == "index" else pa.bool_() if c.startswith(("is_", "quote_", "signature_"))
                  else pa.float64() if c == "language_confidence" or c.startswith("p_") else pa.string())
                 for c in OUTPUT_COLUMNS]
            )  # fmt: skip
            with pq.ParquetWriter(tmp, schema) as writer:
                for p in parts:
                    writer.write_table(pq.read_table(p).select(list(OUTPUT_COLUMNS)).cast(schema))
                if not parts:
                    writer.write_table(schema.empty_table())
        else:
            with open(tmp, "wb") as dst:
                if fmt == "csv" and not parts:
                    dst.write((",".join(OUTPUT_COLUMNS) + "\n").encode())
                for k, p in enumerate(parts):
                    with open(p, "rb") as src:
                        if fmt == "csv" and k:
                            src.readline()  # each part repeats the header line
                        shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_atomic_frame(df: pd.DataFrame, out: Path) -> None:
    from .cli import _write_atomic

    _write_atomic(df, out)


def score_export(
    paths: str | Path | Sequence[str | Path],
    output: str | Path,
    *,
    options: ExportOptions | None = None,
    rollup: str | Path | None = None,
    analyzer: Any = None,
    chunk_size: int = EMAIL_CHUNK_SIZE,
    n_jobs: int = 1,
    resume: bool = True,
    progress: bool = False,
) -> ScoreReport:
    """Score every message of the exports into ``output`` (.csv, .jsonl or .parquet), with a checkpoint.

    ``rollup`` writes one row per client sender (:func:`clientsense.history.rollup` over the
    inbound, scored messages; unreadable ones count as errors). ``resume=False`` discards a
    checkpoint left by an interrupted run.
    """
    start = time.perf_counter()
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    out = Path(output)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"{out}: output must end in .csv, .jsonl or .parquet")
    for p in paths:
        if not Path(p).exists():
            raise FileNotFoundError(f"{p}: no such file or directory")
    o = options or ExportOptions()
    parts_dir = out.parent / f".{out.name}.parts"
    state_path = parts_dir / CHECKPOINT_FILE
    fingerprint = _fingerprint(paths, o, chunk_size, fmt)
    done = 0
    if resume and state_path.is_file():
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("fingerprint") == fingerprint:
            done = int(state["chunks"])
    if not done and parts_dir.exists():
        shutil.rmtree(parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(unit="msg", desc="clientsense", initial=0)
    parts: list[Path] = []
    n_chunks = 0
    for k, batch in enumerate(_chunks(iter_raw_many(paths, o), chunk_size)):
        part = parts_dir / f"part-{k:06d}.{fmt}"
        n_chunks = k + 1
        if k < done and part.is_file():
            parts.append(part)
            if bar:
                bar.update(len(batch))
            continue
        scored = score_records([parse_raw(i, o) for i in batch], analyzer=analyzer, n_jobs=n_jobs)
        _write_part(scored, part, fmt)
        parts.append(part)
        tmp_state = state_path.with_suffix(".tmp")
        tmp_state.write_text(json.dumps({"fingerprint": fingerprint, "chunks": k + 1}), encoding="utf-8")
        os.replace(tmp_state, state_path)
        if bar:
            bar.update(len(batch))
    if bar:
        bar.close()
    _assemble(parts, out, fmt)
    small = pd.concat([_read_part(p, fmt, _ROLLUP_READ) for p in parts], ignore_index=True) if parts else None
    skipped: dict[str, int] = {}
    scored_n = 0
    if small is not None:
        skipped = {str(k): int(v) for k, v in small["skip_reason"].value_counts().items()}
        scored_n = int(small["skip_reason"].isna().sum())
    if rollup is not None:
        from .history import rollup as _rollup

        frame = small if small is not None else pd.DataFrame(columns=list(_ROLLUP_READ))
        keep = frame["skip_reason"].isna() | (frame["skip_reason"] == "error")
        clients = frame[keep & (frame["direction"] == "inbound")].copy()
        clients["timestamp"] = pd.to_datetime(clients["timestamp"], utc=True, errors="coerce", format="mixed")
        _write_atomic_frame(_rollup(clients, sender_col="sender", time_col="timestamp"), Path(rollup))
    shutil.rmtree(parts_dir, ignore_errors=True)
    rows = 0 if small is None else len(small)
    return ScoreReport(
        rows=rows,
        scored=scored_n,
        skipped=skipped,
        chunks=n_chunks,
        resumed_chunks=min(done, n_chunks),
        seconds=time.perf_counter() - start,
        output=str(out),
        rollup=str(rollup) if rollup is not None else None,
    )


def summary_frame(output: str | Path) -> pd.DataFrame:
    """The label columns of a written output, for :func:`clientsense.report.summary_text`."""
    out = Path(output)
    return _read_part(out, _FORMATS[out.suffix.lower()], _ROLLUP_READ)
