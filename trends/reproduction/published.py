"""The published numbers a recipe checks, and where they were published.

A shipped recipe carries its published numbers itself (``[published] rows``, or an
inline ``[claim]``), with their source, so it needs no file beside the data. Where
the numbers were taken from a published table, ``taken_from`` names that table
(and how to read it) so that :func:`taken_from` can derive them again and a test can
check that the recipe copied them right. A recipe may instead name a table to read
at run time (``[published] file``, or ``[claim] file`` and ``id``), resolved as its
data file is.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import RecipeError, TrendsError
from ..periods import infer_period, period_bounds
from .recipe import Recipe, resolve_file

__all__ = ["Published", "published_numbers", "taken_from", "claim_dates"]

logger = logging.getLogger(__name__)

#: The columns of a claims table (``published_claims.csv``).
CLAIM_COLUMNS = ("claim_id", "claim", "value", "unit", "regions", "period_start", "period_end",
                 "actor", "published_by", "note")  # fmt: skip


@dataclass(frozen=True)
class Published:
    """What a recipe checks.

    Attributes
    ----------
    rows : DataFrame
        One row per published figure: the recipe's group columns, as published,
        and one column per measure (missing where nothing was published).
    source : dict
        Where the numbers were published: ``source`` (who, in which publication),
        ``url``, ``file`` (a table read at run time, or empty), ``taken_from``
        (the table the shipped numbers were copied from), and for a claim
        ``claim`` (its words), ``unit`` and ``note``.
    filters : dict
        The filters a claim implies (its ``dates``, ``actor`` and ``region``).
    """

    rows: pd.DataFrame
    source: dict[str, str]
    filters: dict[str, Any] = field(default_factory=dict)


def published_numbers(recipe: Recipe, data_dir: str | Path | None = None) -> Published:
    """The published numbers of a recipe: its own rows or claim, or the table it names.

    ``data_dir`` is only read when the recipe names a table (``file``) instead of
    carrying its numbers.
    """
    if recipe.claim is not None:
        claim = recipe.claim
        if claim.get("file"):
            path = resolve_file(claim["file"], recipe, data_dir, "claims file")
            return _claim_numbers(_claim_from_file(path, claim["id"], recipe), recipe, str(path))
        return _claim_numbers(claim, recipe, "")
    spec = recipe.published
    if spec.get("rows"):
        rows = pd.DataFrame([dict(r) for r in spec["rows"]])
        return Published(rows=_checked(_recoded(rows, spec), recipe, "the recipe"),
                         source=_source(spec, ""))  # fmt: skip
    path = resolve_file(spec["file"], recipe, data_dir, "published file")
    return Published(rows=_table_rows(spec, path, recipe), source=_source(spec, str(path)))


def taken_from(recipe: Recipe, data_dir: str | Path | None = None) -> Published | None:
    """The recipe's published numbers derived again from the table they were taken from.

    ``None`` when the recipe names no ``taken_from``. Comparing the result with
    :func:`published_numbers` checks that the numbers shipped in the recipe are the
    published ones.
    """
    if recipe.claim is not None:
        spec = recipe.claim.get("taken_from")
        if not spec:
            return None
        path = resolve_file(spec["file"], recipe, data_dir, "claims file")
        return _claim_numbers(_claim_from_file(path, recipe.claim["id"], recipe), recipe, str(path))
    spec = recipe.published.get("taken_from")
    if not spec:
        return None
    path = resolve_file(spec["file"], recipe, data_dir, "published file")
    return Published(
        rows=_table_rows(spec, path, recipe), source=_source(recipe.published, str(path))
    )


def _source(spec: dict[str, Any], file: str) -> dict[str, str]:
    taken = spec.get("taken_from") or {}
    return {
        "source": spec.get("source", ""),
        "url": spec.get("url", ""),
        "file": file,
        "taken_from": taken.get("file", ""),
    }


# ----------------------------------------------------------------------------- tables


def _keep(values: pd.Series, wanted: Any) -> pd.Series:
    """Rows of a published table whose ``values`` match ``wanted`` (value, list, {min, max})."""
    if isinstance(wanted, dict):
        keep = pd.Series(True, index=values.index)
        if "min" in wanted:
            keep &= values >= wanted["min"]
        if "max" in wanted:
            keep &= values <= wanted["max"]
        return keep
    if isinstance(wanted, list):
        return values.isin(wanted)
    return values == wanted


def _table_rows(spec: dict[str, Any], path: Path, recipe: Recipe) -> pd.DataFrame:
    """Rows of a published table: ``where`` picks them, ``keys`` and ``values`` rename
    the columns to the recipe's group and measure names, ``recode`` maps labels."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise TrendsError(f"{path}: cannot read the published table: {exc}") from exc
    for column, wanted in spec.get("where", {}).items():
        if column not in frame.columns:
            raise TrendsError(
                f"recipe {recipe.id!r}: published where= names column {column!r}, "
                f"not in {path.name}; columns: {list(frame.columns)}"
            )
        try:
            keep = _keep(frame[column], wanted)
        except TypeError as exc:  # a number compared with text
            raise RecipeError(
                f"{wanted!r} cannot be compared with column {column!r} of {path.name}: {exc}",
                file=str(recipe.path), key=f"published.where.{column}",
            ) from None  # fmt: skip
        frame = frame[keep.fillna(False).astype(bool)]
    keys, values = spec.get("keys", {}), spec.get("values", {})
    missing = [c for c in [*keys.values(), *values.values()] if c not in frame.columns]
    if missing:
        raise TrendsError(
            f"recipe {recipe.id!r}: column {missing[0]!r} is not in {path.name}; "
            f"columns: {list(frame.columns)}"
        )
    frame = frame.rename(columns={v: k for k, v in {**keys, **values}.items()})
    frame = _recoded(frame[[*keys, *values]], spec)
    return _checked(frame, recipe, path.name)


def _recoded(frame: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    for column, mapping in spec.get("recode", {}).items():
        if column in frame.columns:
            frame[column] = frame[column].map(lambda v, m=mapping: m.get(str(v), v))
    return frame


def _checked(frame: pd.DataFrame, recipe: Recipe, where: str) -> pd.DataFrame:
    names = [m.name for m in recipe.measures]
    absent = [g for g in recipe.group_by if g not in frame.columns]
    absent += [n for n in names if n not in frame.columns]
    if absent:
        raise TrendsError(
            f"recipe {recipe.id!r}: the published rows ({where}) lack {absent[0]!r}; "
            f"they have {list(frame.columns)}"
        )
    if frame.empty:
        raise TrendsError(f"recipe {recipe.id!r}: no published rows after the where= filter")
    return frame.reset_index(drop=True)


# ----------------------------------------------------------------------------- claims


def _claim_from_file(path: Path, claim_id: str, recipe: Recipe) -> dict[str, Any]:
    """A row of a claims table, in the shape of an inline ``[claim]``."""
    table = pd.read_csv(path, dtype="string", keep_default_na=False)
    absent = [c for c in CLAIM_COLUMNS if c not in table.columns]
    if absent:
        raise TrendsError(f"{path}: not a claims table: no column {absent[0]!r}")
    row = table[table["claim_id"] == claim_id]
    if row.empty:
        raise RecipeError(
            f"claim {claim_id!r} is not in {path}; claims: {list(table['claim_id'])}",
            file=str(recipe.path), key="claim.id",
        )  # fmt: skip
    row = row.iloc[0]
    period = [p for p in (row["period_start"], row["period_end"]) if p]
    return {
        "id": claim_id,
        "text": row["claim"],
        "value": float(row["value"]) if row["value"] else None,
        "unit": row["unit"],
        "regions": [r.strip() for r in str(row["regions"]).split(";") if r.strip()],
        "period": period,
        "actor": row["actor"],
        "published_by": row["published_by"],
        "note": row["note"],
    }


def _bound(text: str, *, end: bool) -> pd.Timestamp:
    """The first (or last) day of a period label (:mod:`trends.periods`) or a date."""
    text = str(text).strip()
    try:
        kind = infer_period([text])
    except TrendsError:
        try:
            return pd.Timestamp(dt.date.fromisoformat(text))
        except ValueError:
            raise TrendsError(
                f"claim period {text!r} is neither a period label (2020, 2020Q2, 2014-06, "
                "2016-W27) nor a date (YYYY-MM-DD)"
            ) from None
    starts, ends = period_bounds([text], kind)
    return (ends if end else starts).iloc[0]


def claim_dates(period: list[str]) -> list[str]:
    """A claim's period (``["2014-06", "2017-11"]``, or one label) as two ISO dates:
    the first day of the first period to the last day of the last."""
    first, last = period[0], period[-1]
    return [str(_bound(first, end=False).date()), str(_bound(last, end=True).date())]


def _claim_numbers(claim: dict[str, Any], recipe: Recipe, file: str) -> Published:
    """The filters and the published rows a claim implies.

    A claim's regions, period and actor become filters. A claim with no value whose
    measure is a rank is a ranking: its regions, in order, are ranks 1, 2, ...
    """
    regions = list(claim.get("regions") or [])
    if isinstance(claim.get("regions"), str):
        regions = [claim["regions"]]
    filters: dict[str, Any] = {}
    if claim.get("period"):
        filters["dates"] = claim_dates(list(claim["period"]))
    if claim.get("actor"):
        filters["actor"] = [claim["actor"]]
    measure = recipe.measures[0]
    if measure.rank:
        rows = [{"region": r, measure.name: i + 1} for i, r in enumerate(regions)]
    else:
        if regions:
            filters["region"] = regions
        value = claim.get("value")
        rows = [{measure.name: np.nan if value is None else float(value)}]
    source = {
        "source": claim.get("published_by", ""),
        "url": claim.get("url", ""),
        "file": file,
        "taken_from": (claim.get("taken_from") or {}).get("file", ""),
        "claim": claim.get("text", ""),
        "unit": claim.get("unit", ""),
        "note": claim.get("note", ""),
    }
    return Published(rows=pd.DataFrame(rows), source=source, filters=filters)
