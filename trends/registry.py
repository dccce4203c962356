"""The dataset registry: what ``trends`` knows about the data sets it reads.

The facts live in ``datasets/registry.toml`` and ``datasets/regions.csv`` at the
top of the repository; a wheel carries them as ``trends/_data/datasets``.
"""

from __future__ import annotations

import functools
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import OptionError, TrendsError

__all__ = [
    "data_dir",
    "get",
    "has",
    "ids",
    "coverage",
    "version_for_dates",
    "region_aliases",
    "source_aliases",
    "source_name",
]


def data_dir(name: str = "datasets") -> Path:
    """Folder of the package's data (``datasets`` or ``reports``), installed or in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / name, here.parent / name):
        if candidate.is_dir():
            return candidate
    raise TrendsError(f"the package data folder {name!r} is missing from this installation")


@functools.cache
def _registry() -> dict[str, Any]:
    with (data_dir() / "registry.toml").open("rb") as handle:
        return tomllib.load(handle)


def ids() -> list[str]:
    return sorted(_registry())


def has(dataset: str) -> bool:
    return dataset in _registry()


def get(dataset: str) -> dict[str, Any]:
    """The registry entry of a data set (raises, listing the known ids, if unknown)."""
    try:
        return _registry()[dataset]
    except KeyError:
        raise OptionError(f"dataset {dataset!r} is not in the registry; known: {ids()}") from None


def coverage(dataset: str, version: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The inclusive coverage window of one release, if the registry records it."""
    entry = get(dataset).get("versions", {}).get(version)
    if not entry or "coverage" not in entry:
        return None
    first, last = entry["coverage"]
    return pd.Timestamp(first), pd.Timestamp(last)


def version_for_dates(dataset: str, dates: pd.Series) -> str | None:
    """The narrowest release whose window holds at least 95% of ``dates``, if any.

    Not all: a Candidate release also carries a few late-coded events of the
    month before, which lie outside its window.
    """
    dates = pd.Series(dates).dropna()
    if dates.empty:
        return None
    best: tuple[pd.Timedelta, str] | None = None
    for version, entry in get(dataset).get("versions", {}).items():
        if "coverage" not in entry:
            continue
        lo, hi = (pd.Timestamp(d) for d in entry["coverage"])
        if dates.between(lo, hi).mean() >= 0.95:
            width = hi - lo
            if best is None or width < best[0]:
                best = (width, version)
    return best[1] if best else None


@functools.cache
def region_aliases() -> pd.DataFrame:
    """The alias table: columns country, region (harmonised name), alias."""
    return pd.read_csv(data_dir() / "regions.csv", dtype="string")


@functools.cache
def source_aliases() -> pd.DataFrame:
    """The outlet alias table (``datasets/sources.csv``): columns source (the name
    used), alias (another spelling of the same outlet)."""
    return pd.read_csv(data_dir() / "sources.csv", dtype="string", keep_default_na=False)


def _source_key(name: str) -> str:
    """Spelling-insensitive key: no accents, case, spacing or punctuation (``@``, ``.``)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@functools.cache
def _source_lookup() -> dict[str, str]:
    out: dict[str, str] = {}
    for source, alias in source_aliases().itertuples(index=False):
        for spelling in (source, alias):
            key = _source_key(str(spelling))
            if key and out.setdefault(key, str(source)) != str(source):
                raise TrendsError(
                    f"datasets/sources.csv: {spelling!r} is listed for both "
                    f"{out[key]!r} and {source!r}"
                )
    return out


def source_name(name: str) -> str:
    """The name an outlet goes by: ``"Air Wars"`` -> ``"Airwars"``, ``"HRW"`` ->
    ``"Human Rights Watch"``; a name the alias table does not list is returned as is.

    Spellings are matched regardless of case, accents, spacing and punctuation, so
    ``"AIRWARS"`` and ``"Air-Wars"`` match too; only names listed in
    ``datasets/sources.csv`` (source or alias) are ever changed.
    """
    key = _source_key(name)
    return _source_lookup().get(key, name) if key else name
