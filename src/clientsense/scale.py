"""Scale-out on Dask: one partition per export file, scored on the workers of any Dask cluster.

>>> from dask.distributed import Client, LocalCluster          # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=4))                 # or the address of a real cluster
>>> ddf = score_exports_dask(sorted(Path("exports").glob("*.mbox")))
>>> ddf.to_parquet("scored/")                                  # or ddf.compute() when it fits

Each worker loads the shipped model once (``clientsense.default_analyzer``). A partition is one
export file, scored chunk by chunk; split a very large mbox into several files to spread it.
Needs the extra ``clientsense[email]`` (``dask[distributed]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .config import EMAIL_CHUNK_SIZE
from .emailscore import iter_scored, score_records
from .readers.export import ExportOptions


def _score_one(path: str, options: ExportOptions, chunk_size: int) -> pd.DataFrame:
    parts = list(iter_scored([path], options, chunk_size=chunk_size))
    return pd.concat(parts, ignore_index=True) if parts else empty_scored()


def empty_scored() -> pd.DataFrame:
    """An empty frame with the output columns and types (the Dask ``meta``)."""
    return score_records([])


def score_exports_dask(
    paths: Sequence[str | Path], options: ExportOptions | None = None, *, chunk_size: int = EMAIL_CHUNK_SIZE
) -> Any:
    """A lazy ``dask.dataframe.DataFrame`` of every message of ``paths`` (one partition per path)."""
    import dask.dataframe as dd

    if not paths:
        raise ValueError("score_exports_dask needs at least one export path")
    o = options or ExportOptions()
    return dd.from_map(
        _score_one,
        [str(p) for p in paths],
        options=o,
        chunk_size=chunk_size,
        meta=empty_scored(),
        enforce_metadata=False,
    )
