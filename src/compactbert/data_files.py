"""Which file names are data files that `load_task` reads: one rule for the data module, the export's search for a
recorded task file and the cards' naming of a task (a relative `out/reviews.csv` looks like a Hub id otherwise).

Standard library only, so the cards (layer 1) and the data module (layer 2) share it.
"""

from __future__ import annotations

import os
from pathlib import Path

# a data file's suffix -> the `datasets` builder that reads it
FILE_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
COMPRESSION = {".gz", ".bz2", ".xz", ".zst", ".zip"}


def data_suffix(path: str | os.PathLike) -> str:
    """The suffix that says a file's format, past a compression suffix (`reviews.v2.tsv.gz` -> `.tsv`)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSION:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def file_builder(path: str | os.PathLike) -> str | None:
    """The `datasets` builder for a data file name (`"csv"`, `"json"`, `"parquet"`), or `None` if not a data file.

    >>> file_builder("reviews.v2.tsv.gz"), file_builder("train.jsonl"), file_builder("notes.txt")
    ('csv', 'json', None)
    """
    return FILE_BUILDERS.get(data_suffix(path))


__all__ = ["COMPRESSION", "FILE_BUILDERS", "data_suffix", "file_builder"]
