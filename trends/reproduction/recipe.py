"""Recipes: the TOML schema, parsing with clear errors, and where their files are found.

A recipe (format in ``reports/recipes/README.md``) names the data set and release,
the filters, what is counted and how it is grouped, the published numbers it checks
and where they were published, a tolerance and the differences to expect. Every
malformed shape raises a :class:`~trends.errors.RecipeError` naming the recipe file
and the key (``count.measures[1].what``), never a bare ``TypeError``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import registry
from ..errors import RecipeError, TrendsError
from ..periods import PERIODS
from ..verdicts import REPRODUCTION_VERDICTS

__all__ = [
    "Recipe",
    "Measure",
    "GROUPINGS",
    "MEASURES",
    "load_recipe",
    "list_recipes",
    "recipes_dir",
    "search_dirs",
    "resolve_file",
]

logger = logging.getLogger(__name__)

#: What a recipe can group by: columns of the canonical incident table (``country``,
#: ``region``, ``event_type``, ``actor``), UCDP's ``type_of_violence`` code, and a
#: period of :mod:`trends.periods` (an event's period is that of its first day).
GROUPINGS = ("country", "region", "type_of_violence", "event_type", "actor", *PERIODS)
#: What a measure counts: rows (``events``) or the ``sum`` of a column.
MEASURES = ("events", "sum")

_TOP_KEYS = ("id", "title", "reproduces", "expected", "data", "filters", "count", "published",
             "claim", "tolerance", "differences", "context")  # fmt: skip
_TABLE_SPEC = ("file", "where", "keys", "values", "recode")
_PUBLISHED_KEYS = ("rows", "source", "url", "taken_from", *_TABLE_SPEC)
_CLAIM_FIELDS = ("text", "value", "unit", "regions", "period", "actor", "published_by", "url",
                 "note")  # fmt: skip
_CLAIM_KEYS = ("id", "file", "taken_from", *_CLAIM_FIELDS)


@dataclass(frozen=True)
class Measure:
    """One number a recipe counts: ``events`` (rows) or the ``sum`` of ``column``;
    with ``rank``, the rank (1 = most) of each region among all regions."""

    name: str
    what: str
    column: str | None = None
    rank: bool = False

    def describe(self) -> str:
        """``'deaths: sum of best'``, ``'rank: rank by events'``."""
        text = "events" if self.what == "events" else f"sum of {self.column}"
        return f"{self.name}: " + (f"rank by {text}" if self.rank else text)


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe (``reports/recipes/README.md`` documents each field).

    ``published`` holds the ``[published]`` table as written (``rows`` inline, or a
    ``file`` read at run time, with ``source``, ``url`` and ``taken_from``);
    ``claim`` the ``[claim]`` table (inline fields, or ``file`` and ``id``).
    """

    id: str
    title: str
    reproduces: str
    path: Path
    dataset: str
    version: str
    file: str | None
    filters: dict[str, Any]
    group_by: tuple[str, ...]
    measures: tuple[Measure, ...]
    published: dict[str, Any]
    claim: dict[str, Any] | None
    tolerance: dict[str, float]
    differences: str
    expected: str | None
    context: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def period(self) -> str | None:
        """The period the rows are grouped by (``year``, ``month``, ...), if any."""
        return next((g for g in self.group_by if g in PERIODS), None)


# ----------------------------------------------------------------------------- typed access


def _kind(value: Any) -> str:
    """How a TOML value reads to a person: ``the integer 5``, ``a list``, ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    names = {int: "integer", float: "number", str: "string"}
    return f"the {names.get(type(value), type(value).__name__)} {value!r}"


class _Table:
    """One table of a recipe, read with its types checked; errors name the file and key."""

    def __init__(self, raw: Any, path: Path, key: str = "") -> None:
        self.raw, self.path, self.key = raw, path, key
        if not isinstance(raw, dict):
            raise self.error("", f"must be a table, not {_kind(raw)}")

    def name(self, key: str) -> str:
        return f"{self.key}.{key}" if self.key and key else (self.key or key)

    def error(self, key: str, message: str) -> RecipeError:
        return RecipeError(message, file=str(self.path), key=self.name(key) or None)

    def only(self, valid: Iterable[str]) -> None:
        valid = tuple(valid)
        unknown = [k for k in self.raw if k not in valid]
        if unknown:
            raise self.error(unknown[0], f"unknown key; valid keys here: {', '.join(valid)}")

    def need(self, key: str) -> Any:
        if key not in self.raw:
            raise self.error(key, "is missing (required)")
        return self.raw[key]

    def table(self, key: str, *, required: bool = False) -> _Table | None:
        if key not in self.raw and not required:
            return None
        return _Table(self.need(key), self.path, self.name(key))

    def tables(self, key: str) -> list[_Table]:
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            raise self.error(
                key, f"must be a list of tables ([[{self.name(key)}]]), not {_kind(value)}"
            )
        return [_Table(v, self.path, f"{self.name(key)}[{i + 1}]") for i, v in enumerate(value)]

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        if key not in self.raw:
            return self.need(key) if required else default
        value = self.raw[key]
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {_kind(value)}")
        return value

    def texts(self, key: str) -> list[str]:
        """A string or a list of strings, as a list."""
        value = self.raw.get(key, [])
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.error(key, f"must be a string or a list of strings, not {_kind(value)}")
        return list(values)

    def integers(self, key: str) -> list[int]:
        value = self.raw.get(key, [])
        values = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(values, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values
        ):
            raise self.error(key, f"must be a whole number or a list of them, not {_kind(value)}")
        return list(values)

    def number(self, key: str, default: float) -> float:
        """A finite non-negative number."""
        value = self.raw.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value < 0:
            raise self.error(key, f"must be a finite non-negative number, not {_kind(value)}")
        return float(value)

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_kind(value)}")
        return value

    def choice(self, key: str, valid: Iterable[str], *, required: bool = False) -> str | None:
        valid = tuple(valid)
        value = self.text(key, required=required)
        if value is not None and value not in valid:
            raise self.error(key, f"{value!r} is not one of {', '.join(map(repr, valid))}")
        return value

    def dates(self, key: str) -> list[str] | None:
        """Two dates (``"2014-06-01"`` or TOML dates), first <= last, as ISO text."""
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not isinstance(value, list) or len(value) != 2:
            raise self.error(key, f"must be a list of two dates [first, last], not {_kind(value)}")
        days = []
        for item in value:
            if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
                days.append(pd.Timestamp(item))
                continue
            try:
                days.append(pd.Timestamp(dt.date.fromisoformat(item)))
            except (TypeError, ValueError):
                raise self.error(key, f"{item!r} is not a date (YYYY-MM-DD)") from None
        if days[1] < days[0]:
            raise self.error(key, f"ends ({days[1].date()}) before it starts ({days[0].date()})")
        return [str(d.date()) for d in days]


# ----------------------------------------------------------------------------- the schema


def _data(top: _Table) -> tuple[str, str, str | None]:
    data = top.table("data", required=True)
    data.only(("dataset", "version", "file"))
    dataset = data.text("dataset", required=True)
    if not registry.has(dataset):
        raise data.error("dataset", f"{dataset!r} is not in the registry; known: {registry.ids()}")
    version = data.text("version", required=True)
    versions = registry.get(dataset).get("versions", {})
    if version not in versions:
        raise data.error(
            "version",
            f"{version!r} of {dataset!r} is not in the registry; known: {sorted(versions)}",
        )
    return dataset, version, data.text("file")


def _filters(top: _Table) -> dict[str, Any]:
    from .recount import FILTER_RULES  # the filters and how each selects events

    table = top.table("filters")
    if table is None:
        return {}
    table.only(FILTER_RULES.names())
    out: dict[str, Any] = {}
    for key in table.raw:
        if key == "dates":
            out[key] = table.dates(key)
        elif key == "type_of_violence":
            out[key] = table.integers(key)
        else:
            out[key] = table.texts(key)
    return out


def _group_by(count: _Table) -> tuple[str, ...]:
    group_by = count.texts("group_by")
    bad = [g for g in group_by if g not in GROUPINGS]
    if bad:
        raise count.error("group_by", f"{bad[0]!r} is not one of {', '.join(map(repr, GROUPINGS))}")
    periods = [g for g in group_by if g in PERIODS]
    if len(periods) > 1:
        raise count.error("group_by", f"groups by several periods {periods}: choose one")
    return tuple(group_by)


def _measures(count: _Table, group_by: tuple[str, ...]) -> tuple[Measure, ...]:
    tables = count.tables("measures")
    if not tables:
        raise count.error("measures", "needs at least one measure ([[count.measures]])")
    measures = []
    for m in tables:
        m.only(("name", "what", "column", "rank"))
        what = m.choice("what", MEASURES, required=True)
        column = m.text("column")
        if what == "sum" and not column:
            raise m.error(
                "column", 'is missing: a measure with what = "sum" names the column summed'
            )
        rank = m.flag("rank")
        if rank and "region" not in group_by:
            raise m.error("rank", 'ranks regions: the recipe must group by "region"')
        name = m.text("name") or column or what
        measures.append(Measure(name=name, what=what, column=column, rank=rank))
    names = [m.name for m in measures]
    if len(set(names)) < len(names):
        raise count.error("measures", f"two measures share a name: {names}")
    return tuple(measures)


def _where(table: _Table) -> None:
    """``where``, ``keys``, ``values`` and ``recode`` of a published table, checked."""
    where = table.table("where")
    for key, wanted in (where.raw if where else {}).items():
        if isinstance(wanted, dict):
            bounds = _Table(wanted, table.path, where.name(key))
            bounds.only(("min", "max"))
    for key in ("keys", "values"):
        mapping = table.table(key)
        for k in mapping.raw if mapping else {}:
            mapping.text(k, required=True)
    recode = table.table("recode")
    for k in recode.raw if recode else {}:
        recode.table(k, required=True)


def _published(top: _Table, group_by: tuple[str, ...], measures: tuple[Measure, ...]) -> dict:
    table = top.table("published")
    if table is None:
        if top.raw.get("claim") is None:
            raise top.error(
                "published", "is missing: give [published] rows (or a file), or a [claim]"
            )
        return {}
    table.only(_PUBLISHED_KEYS)
    for key in ("source", "url", "file"):
        table.text(key)
    rows = table.tables("rows")
    if not rows and not table.raw.get("file"):
        raise table.error("rows", "is missing: give the published numbers as rows (or a file)")
    if rows and table.raw.get("file"):
        raise table.error("file", "and rows are both given: give the numbers as rows, or the "
                          "file to read them from (rows copied from a file: [published.taken_from])")  # fmt: skip
    for row in rows:  # a row's keys are required; a missing number is "not tested"
        row.only([*group_by, *(m.name for m in measures)])
        for key in group_by:
            row.need(key)
    _where(table)
    taken = table.table("taken_from")
    if taken is not None:
        taken.only(_TABLE_SPEC)
        taken.text("file", required=True)
        _where(taken)
    return dict(table.raw)


def _claim(top: _Table) -> dict[str, Any] | None:
    claim = top.table("claim")
    if claim is None:
        return None
    claim.only(_CLAIM_KEYS)
    claim.text("id", required=True)
    for key in ("file", "text", "unit", "actor", "published_by", "url", "note"):
        claim.text(key)
    if "value" in claim.raw:
        claim.number("value", 0.0)
    claim.texts("regions")
    period = claim.texts("period")
    if "period" in claim.raw and len(period) not in (1, 2):
        raise claim.error("period", "must be one period or [first, last]")
    taken = claim.table("taken_from")
    if taken is not None:
        taken.only(("file",))
        taken.text("file", required=True)
    if not claim.raw.get("file"):
        claim.text("text", required=True)  # an inline claim says what was claimed
    return dict(claim.raw)


def _context(top: _Table) -> dict[str, Any] | None:
    table = top.table("context")
    if table is None:
        return None
    table.only(("dates", "why"))
    if "dates" not in table.raw:
        raise table.error("dates", "is missing (required)")
    return {"dates": table.dates("dates"), "why": table.text("why", "context period")}


def _parse(raw: dict[str, Any], path: Path) -> Recipe:
    top = _Table(raw, path)
    top.only(_TOP_KEYS)
    dataset, version, file = _data(top)
    count = top.table("count", required=True)
    count.only(("group_by", "measures"))
    group_by = _group_by(count)
    measures = _measures(count, group_by)
    tolerance = top.table("tolerance")
    if tolerance is not None:
        tolerance.only(("absolute", "relative"))
    differences = top.table("differences")
    if differences is not None:
        differences.only(("note",))
    tol = tolerance or _Table({}, path, "tolerance")
    return Recipe(
        id=top.text("id") or path.stem,
        title=top.text("title") or path.stem,
        reproduces=top.text("reproduces", ""),
        path=path,
        dataset=dataset,
        version=version,
        file=file,
        filters=_filters(top),
        group_by=group_by,
        measures=measures,
        published=_published(top, group_by, measures),
        claim=_claim(top),
        tolerance={
            "absolute": tol.number("absolute", 0.0),
            "relative": tol.number("relative", 0.0),
        },
        differences=((differences.text("note", "") if differences else "") or "").strip(),
        expected=top.choice("expected", REPRODUCTION_VERDICTS),
        context=_context(top),
        raw=raw,
    )


# ----------------------------------------------------------------------------- loading


def recipes_dir() -> Path:
    """The folder of the shipped recipes (``reports/recipes``, or its installed copy)."""
    return registry.data_dir("reports") / "recipes"


def _shipped() -> dict[str, Path]:
    folder = recipes_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def load_recipe(recipe: str | Path | Recipe) -> Recipe:
    """Read a recipe: a shipped recipe's id (``owid-iraq-2003-2018-ged191``) or a TOML path.

    Raises
    ------
    RecipeError
        Neither a file nor a shipped id (the message lists the shipped ones); not
        TOML; or a key of the wrong shape, naming the file and the key.
    """
    if isinstance(recipe, Recipe):
        return recipe
    path = Path(recipe)
    if not path.is_file():
        shipped = _shipped()
        if str(recipe) not in shipped:
            raise RecipeError(
                f"recipe {str(recipe)!r} is neither a file nor a shipped recipe; "
                f"shipped: {sorted(shipped)}"
            )
        path = shipped[str(recipe)]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"not valid TOML: {exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise RecipeError(f"not UTF-8 text: {exc}", file=str(path)) from exc
    return _parse(raw, path)


def list_recipes() -> pd.DataFrame:
    """The shipped recipes.

    Returns
    -------
    DataFrame
        One row per recipe: ``id``, ``title``, ``dataset``, ``version``,
        ``reproduces`` (what it reproduces) and ``expected`` (its expected verdict).
    """
    columns = ["id", "title", "dataset", "version", "reproduces", "expected"]
    rows = []
    for name, path in _shipped().items():
        r = load_recipe(path)
        rows.append([name, r.title, r.dataset, r.version, r.reproduces, r.expected])
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------------------- files


def search_dirs(recipe: Recipe, data_dir: str | Path | None) -> list[Path]:
    """Where a recipe's file names are looked up: ``data_dir``, ``$TRENDS_DATA``, the
    recipe's own folder, in that order."""
    dirs = [] if data_dir is None else [Path(data_dir)]
    if os.environ.get("TRENDS_DATA"):
        dirs.append(Path(os.environ["TRENDS_DATA"]))
    dirs.append(recipe.path.parent)
    return dirs


def resolve_file(name: str, recipe: Recipe, data_dir: str | Path | None, what: str) -> Path:
    """The file a recipe names (absolute, or found in :func:`search_dirs`).

    Raises
    ------
    TrendsError
        Not found: the message lists the folders searched and what to pass.
    """
    path = Path(name)
    dirs = [Path()] if path.is_absolute() else search_dirs(recipe, data_dir)
    for folder in dirs:
        if (folder / path).is_file():
            return folder / path
    raise TrendsError(
        f"recipe {recipe.id!r} needs the {what} {name!r}: not found in "
        f"{[str(d) for d in dirs]}; pass the folder that holds it with data_dir= "
        "(--data-dir) or set TRENDS_DATA"
    )
