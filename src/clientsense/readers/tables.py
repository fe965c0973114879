"""Helpdesk exports as CSV, JSONL or Parquet, detected by content as well as extension.

Every record of the file becomes one row, in file order: a record that cannot be parsed (bad
JSON, a CSV row with more fields than the header) becomes a row whose text is missing and
whose ``_read_error`` says why. A file that cannot be read as a table at all raises
:class:`ReaderError`. Text is decoded as UTF-8, or UTF-16/32 when the file starts with their
byte-order mark; invalid bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

CSV_DELIMITERS = ",;\t|"
"""A CSV's delimiter is the one of these that occurs most often in its header line (``,`` if none)."""
_FIELD_LIMIT = 2**31 - 1


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
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


def _encoding(path: Path) -> str:
    """UTF-32/UTF-16 when the file starts with their byte-order mark, else UTF-8 (BOM dropped)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _read_jsonl(path: Path, text_col: str) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    with open(path, encoding=_encoding(path), errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("line is not a JSON object")
                rows.append({**obj, "_line": n, "_read_error": None})
            except (ValueError, RecursionError) as e:  # RecursionError: absurdly deep nesting
                msg = "nesting too deep" if isinstance(e, RecursionError) else str(e)
                rows.append({text_col: None, "_line": n, "_read_error": f"line {n}: {msg}"})
    return pd.DataFrame(rows, dtype=object)  # object: no int → float coercion (ids above 2**53 stay exact)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _column_names(header: list[str]) -> list[str]:
    """Header cells made unique (``a``, ``a.1``) and non-empty (``Unnamed: i``), as pandas does."""
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        name = raw.strip() or f"Unnamed: {i}"
        base, k = name, 0
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen.add(name)
        names.append(name)
    return names


def _read_csv(path: Path) -> pd.DataFrame:
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    with open(path, encoding=_encoding(path), errors="replace", newline="") as fh:
        if path.suffix.lower() == ".tsv":
            sep = "\t"
        else:
            sep = _delimiter(fh.readline())
            fh.seek(0)
        reader = csv.reader(fh, delimiter=sep, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            raise ReaderError(f"{path}: empty file") from None
        except csv.Error as e:
            raise ReaderError(f"{path}: unreadable CSV header: {e}") from None
        columns = _column_names(header)
        width = len(columns)
        rows: list[list[Any]] = []
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:  # e.g. a quoted field still open at the end of the file
                rows.append([None] * width + [f"line {line}: {e}"])
                break
            if not fields:
                continue  # blank line
            if len(fields) > width:
                rows.append([None] * width + [f"line {line}: {len(fields)} fields, header has {width}"])
                continue
            cells: list[Any] = [f if f != "" else None for f in fields]
            rows.append(cells + [None] * (width - len(fields)) + [None])
    return pd.DataFrame(rows, columns=[*columns, "_read_error"], dtype=object)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as e:
        raise ReaderError(f"{path}: reading Parquet needs pyarrow (pip install 'clientsense[parquet]'): {e}") from e
    except Exception as e:  # pyarrow raises its own error types on corrupt files
        raise ReaderError(f"{path}: not a readable Parquet file: {e}") from e


def read_messages(path: str | Path, text_col: str = "text", fmt: str | None = None) -> pd.DataFrame:
    """Read a table of messages: one row per record, unparseable records as rows with ``_read_error``."""
    path = Path(path)
    if not path.is_file():
        raise ReaderError(f"{path}: no such file")
    fmt = fmt or sniff_format(path)
    if fmt == "jsonl":
        df = _read_jsonl(path, text_col)
    elif fmt == "parquet":
        df = _read_parquet(path)
    elif fmt == "csv":
        df = _read_csv(path)
    else:
        raise ReaderError(f"unknown format {fmt!r}; use csv, jsonl or parquet")
    if text_col not in df.columns:
        raise ReaderError(
            f"{path}: no column {text_col!r} (columns: {[str(c) for c in df.columns if not str(c).startswith('_')]})"
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
