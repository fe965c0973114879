"""Helpdesk exports as CSV, JSONL or Parquet, detected by content as well as extension."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd


class ReaderError(ValueError):
    """A file could not be read as a table of messages."""


def sniff_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the extension, else from the first bytes."""
    ext = path.suffix.lower()
    if ext in {".csv", ".tsv", ".jsonl", ".ndjson", ".parquet"}:
        return {".tsv": "csv", ".ndjson": "jsonl"}.get(ext, ext[1:])
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip().startswith(b"{"):
        return "jsonl"
    return "csv"


def _read_jsonl(path: Path, text_col: str) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("line is not a JSON object")
                rows.append({**obj, "_line": n, "_read_error": None})
            except ValueError as e:
                rows.append({text_col: None, "_line": n, "_read_error": f"line {n}: {e}"})
    return pd.DataFrame(rows)


def read_messages(path: str | Path, text_col: str = "text", fmt: str | None = None) -> pd.DataFrame:
    """Read a table of messages. JSONL lines that fail to parse become rows with ``_read_error``."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    fmt = fmt or sniff_format(path)
    if fmt == "jsonl":
        df = _read_jsonl(path, text_col)
    elif fmt == "parquet":
        df = pd.read_parquet(path)
    elif fmt == "csv":
        sep = "\t" if path.suffix.lower() == ".tsv" else None
        df = pd.read_csv(path, sep=sep, engine="python", dtype=str, keep_default_na=False, encoding_errors="replace")
        df = df.replace({"": None})
    else:
        raise ReaderError(f"unknown format {fmt!r}; use csv, jsonl or parquet")
    if text_col not in df.columns:
        raise ReaderError(
            f"{path}: no column {text_col!r} (columns: {[c for c in df.columns if not c.startswith('_')]})"
        )
    if "_read_error" not in df.columns:
        df["_read_error"] = None
    return df


def iter_table_rows(
    path: str | Path, fmt: str | None = None, chunksize: int = 10_000
) -> Iterator[tuple[dict[str, object] | None, str | None]]:
    """Rows of a CSV/JSONL/Parquet table one at a time, as ``(row, None)`` or ``(None, reason)``.

    Streams in chunks, so memory does not grow with the file; a JSONL line that is not a JSON
    object is yielded as an error so that it keeps its row.
    """
    path = Path(path)
    fmt = fmt or sniff_format(path)
    if fmt == "jsonl":
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    yield None, f"line {n}: {e}"
                    continue
                yield (obj, None) if isinstance(obj, dict) else (None, f"line {n}: line is not a JSON object")
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
            for row in batch.to_pylist():
                yield row, None
    elif fmt == "csv":
        sep = "\t" if path.suffix.lower() == ".tsv" else None
        reader = pd.read_csv(
            path,
            sep=sep,
            engine="python",
            dtype=str,
            keep_default_na=False,
            encoding_errors="replace",
            chunksize=chunksize,
        )
        for chunk in reader:
            for row in chunk.to_dict(orient="records"):
                yield {str(k): (v if v != "" else None) for k, v in row.items()}, None
    else:
        raise ReaderError(f"unknown format {fmt!r}; use csv, jsonl or parquet")
