"""Loading a file into a raw table of text columns, before any parsing.

CSV text is kept as text (pandas' string dtype, only empty fields missing);
Parquet columns keep their types. Failures raise an
:class:`~trends.errors.InputError` naming the file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import EmptyInputError, FormatError, TrendsError

__all__ = ["read_table", "column_names"]

logger = logging.getLogger(__name__)


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (text kept as text) or Parquet file, with a clear error on failure."""
    if not path.exists():
        raise TrendsError(f"{path}: no such file")
    suffixes = "".join(path.suffixes[-2:]).lower()
    try:
        if suffixes.endswith(".parquet") or suffixes.endswith(".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype="string", keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(
            "the file is empty: expected a header row and data rows", file=str(path)
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise FormatError(f"cannot be read as CSV or Parquet: {exc}", file=str(path)) from exc
    if frame.empty:
        raise EmptyInputError("the file has a header but no data rows", file=str(path))
    return frame


def column_names(path: Path) -> set[str]:
    """The column names of a CSV (its header line) or Parquet file (its schema)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    if not path.exists():
        raise TrendsError(f"{path}: no such file")
    with path.open(encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    if not header.strip():
        raise EmptyInputError("the file is empty: expected a header row", file=str(path))
    return {n.strip().strip('"') for n in header.rstrip("\r\n").split(",")}
