"""Reproduce published figures, and check published claims, against the data.

A *recipe* (a TOML file, format in ``reports/recipes/README.md``) names the data set
(registry id and release), the filters, what is counted (events, or the sum of a
fatality column), the grouping, the published numbers with where they were
published, a tolerance and a note on expected differences. :func:`reproduce`
recounts the figures from the data and sets them beside the published ones:

* a table, one row per published number: ``published``, ``reproduced``,
  ``abs_diff`` (reproduced - published), ``rel_diff`` (abs_diff / published),
  ``match`` (within the tolerance) and the row's ``status``;
* the coverage of the cells behind each row (:func:`trends.coverage_model.assess_window`);
* a verdict: ``reproduced exactly``, ``reproduced within tolerance``, ``differs`` or
  ``cannot be tested with this data``, with the reasons in plain sentences.

A published number the data cannot test (a quantity the data set does not record,
such as the wounded in UCDP; a period outside the data's coverage) is reported as
untested with the reason; it is never forced into a comparison.

Data files are named in a recipe by a file name (``ucdp/ged191_iraq.csv``) resolved
against ``data_dir`` (or the ``TRENDS_DATA`` environment variable); ``data=`` gives
the event file directly. There is no hidden default folder.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import registry
from .errors import TrendsError
from .incidents import UNKNOWN_REGION, Incidents, make_ledger

__all__ = [
    "reproduce",
    "Reproduction",
    "Recipe",
    "load_recipe",
    "list_recipes",
    "VERDICTS",
]

logger = logging.getLogger(__name__)

EXACT = "reproduced exactly"
WITHIN = "reproduced within tolerance"
DIFFERS = "differs"
UNTESTABLE = "cannot be tested with this data"
VERDICTS = (EXACT, WITHIN, DIFFERS, UNTESTABLE)

GROUPINGS = ("country", "region", "type_of_violence", "actor", "year", "month")
MEASURES = ("events", "sum")
_FILTERS = ("country", "region", "type_of_violence", "actor", "side_b", "dates")
_TOP_KEYS = {
    "id",
    "title",
    "reproduces",
    "expected",
    "data",
    "filters",
    "count",
    "published",
    "claim",
    "tolerance",
    "differences",
    "context",
}


# ----------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe (see ``reports/recipes/README.md`` for each field)."""

    id: str
    title: str
    reproduces: str
    path: Path
    dataset: str
    version: str
    file: str | None
    filters: dict[str, Any]
    group_by: tuple[str, ...]
    measures: tuple[dict[str, Any], ...]
    published: dict[str, Any]
    claim: dict[str, Any] | None
    tolerance: dict[str, float]
    differences: str
    expected: str | None
    context: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def recipes_dir() -> Path:
    """The folder of the shipped recipes (``reports/recipes``, or its installed copy)."""
    return registry.data_dir("reports") / "recipes"


def _shipped() -> dict[str, Path]:
    folder = recipes_dir()
    return {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}


def load_recipe(recipe: str | Path) -> Recipe:
    """Read a recipe: a shipped recipe's id (``iraq-owid-2003-2018``) or a TOML path."""
    if isinstance(recipe, Recipe):
        return recipe
    path = Path(recipe)
    if not path.is_file():
        shipped = _shipped()
        if str(recipe) not in shipped:
            raise TrendsError(
                f"recipe {str(recipe)!r} is neither a file nor a shipped recipe; "
                f"shipped: {sorted(shipped)}"
            )
        path = shipped[str(recipe)]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TrendsError(f"{path}: not valid TOML: {exc}") from exc
    return _parse(raw, path)


def _need(raw: Mapping[str, Any], key: str, where: str, path: Path) -> Any:
    if key not in raw:
        raise TrendsError(f"{path}: {where} needs {key!r}")
    return raw[key]


def _parse(raw: dict[str, Any], path: Path) -> Recipe:
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise TrendsError(
            f"{path}: unknown key {unknown[0]!r}; valid top-level keys: {sorted(_TOP_KEYS)}"
        )
    data = _need(raw, "data", "the recipe", path)
    dataset = _need(data, "dataset", "[data]", path)
    registry.get(dataset)  # raises, listing the known ids
    version = str(_need(data, "version", "[data]", path))
    versions = registry.get(dataset).get("versions", {})
    if version not in versions:
        raise TrendsError(
            f"{path}: version {version!r} of {dataset!r} is not in the registry; "
            f"known: {sorted(versions)}"
        )
    filters = dict(raw.get("filters", {}))
    bad = sorted(set(filters) - set(_FILTERS))
    if bad:
        raise TrendsError(f"{path}: unknown filter {bad[0]!r}; valid: {list(_FILTERS)}")
    count = raw.get("count", {})
    group_by = tuple(count.get("group_by", ()))
    bad = [g for g in group_by if g not in GROUPINGS]
    if bad:
        raise TrendsError(f"{path}: group_by {bad[0]!r} is not one of {list(GROUPINGS)}")
    measures = tuple(dict(m) for m in count.get("measures", ()))
    if not measures:
        raise TrendsError(f"{path}: [count] needs at least one entry in measures")
    for m in measures:
        if m.get("what") not in MEASURES:
            raise TrendsError(
                f"{path}: measure {m.get('name')!r} has what={m.get('what')!r}; "
                f"valid: {list(MEASURES)}"
            )
        if m["what"] == "sum" and not m.get("column"):
            raise TrendsError(f"{path}: measure {m.get('name')!r} sums but names no column")
        m.setdefault("name", m.get("column") or m["what"])
    expected = raw.get("expected")
    if expected is not None and expected not in VERDICTS:
        raise TrendsError(f"{path}: expected={expected!r} is not one of {list(VERDICTS)}")
    published = dict(raw.get("published", {}))
    claim = dict(raw["claim"]) if "claim" in raw else None
    if claim is None and not (published.get("file") or published.get("rows")):
        raise TrendsError(f"{path}: [published] needs a file or rows (or give a [claim])")
    tolerance = {k: float(v) for k, v in raw.get("tolerance", {}).items()}
    bad = sorted(set(tolerance) - {"absolute", "relative"})
    if bad or any(v < 0 for v in tolerance.values()):
        raise TrendsError(
            f"{path}: tolerance {tolerance!r}: give non-negative 'absolute' and/or 'relative'"
        )
    return Recipe(
        id=str(raw.get("id", path.stem)),
        title=str(raw.get("title", path.stem)),
        reproduces=str(raw.get("reproduces", "")),
        path=path,
        dataset=dataset,
        version=version,
        file=data.get("file"),
        filters=filters,
        group_by=group_by,
        measures=measures,
        published=published,
        claim=claim,
        tolerance={
            "absolute": tolerance.get("absolute", 0.0),
            "relative": tolerance.get("relative", 0.0),
        },
        differences=str(raw.get("differences", {}).get("note", "")).strip(),
        expected=expected,
        context=dict(raw["context"]) if "context" in raw else None,
        raw=raw,
    )


def list_recipes() -> pd.DataFrame:
    """The shipped recipes.

    Returns
    -------
    DataFrame
        One row per recipe: ``id``, ``title``, ``dataset``, ``version``,
        ``reproduces`` (what it reproduces) and ``expected`` (its expected verdict).
    """
    rows = []
    for name, path in _shipped().items():
        r = load_recipe(path)
        rows.append(
            {
                "id": name,
                "title": r.title,
                "dataset": r.dataset,
                "version": r.version,
                "reproduces": r.reproduces,
                "expected": r.expected,
            }
        )
    return pd.DataFrame(
        rows, columns=["id", "title", "dataset", "version", "reproduces", "expected"]
    )


# ----------------------------------------------------------------------------- files


def _search_dirs(recipe: Recipe, data_dir: str | Path | None) -> list[Path]:
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("TRENDS_DATA"):
        dirs.append(Path(os.environ["TRENDS_DATA"]))
    dirs.append(recipe.path.parent)
    return dirs


def _resolve(name: str, recipe: Recipe, data_dir: str | Path | None, what: str) -> Path:
    path = Path(name)
    if path.is_absolute():
        if path.is_file():
            return path
        raise TrendsError(f"recipe {recipe.id!r}: {what} {path} does not exist")
    dirs = _search_dirs(recipe, data_dir)
    for folder in dirs:
        if (folder / path).is_file():
            return folder / path
    hint = ""
    if what == "data file":
        release = registry.get(recipe.dataset)["versions"][recipe.version]
        if release.get("download") and registry.get(recipe.dataset).get("access", "open") == "open":
            hint = (
                f"; trends.datasets.fetch({recipe.dataset!r}, {recipe.version!r}) downloads "
                "the release, then pass its path as data"
            )
    raise TrendsError(
        f"recipe {recipe.id!r} needs the {what} {name!r} ({recipe.dataset} {recipe.version}): "
        f"not found in {[str(d) for d in dirs]}; pass data_dir= (--data-dir) or set "
        f"TRENDS_DATA{' or give data= (--data)' if what == 'data file' else ''}{hint}"
    )


def _read_data(
    recipe: Recipe, data: str | Path | Incidents | None, data_dir: str | Path | None
) -> Incidents:
    if isinstance(data, Incidents):
        return data
    if data is None:
        if not recipe.file:
            raise TrendsError(
                f"recipe {recipe.id!r} names no data file: pass data= (--data) with the "
                f"{recipe.dataset} {recipe.version} file"
            )
        data = _resolve(recipe.file, recipe, data_dir, "data file")
    fmt = registry.get(recipe.dataset).get("format")
    if fmt != "ucdp-ged":
        raise TrendsError(
            f"recipe {recipe.id!r}: reading the {fmt!r} format for reproduction is not "
            "supported yet; supported: ['ucdp-ged']"
        )
    from .readers import read_ucdp_ged

    return read_ucdp_ged(data, dataset=recipe.dataset, version=recipe.version)


# ----------------------------------------------------------------------------- claims


def _period_bounds(text: str, end: bool) -> pd.Timestamp:
    """``2014-06`` -> its first (or last) day; ``2020`` -> the year's; a date as is."""
    text = str(text).strip()
    try:
        if len(text) in (4, 7):
            period = pd.Period(text, freq="Y" if len(text) == 4 else "M")
            return (period.end_time if end else period.start_time).normalize()
        return pd.Timestamp(text).normalize()
    except (ValueError, TypeError) as exc:
        raise TrendsError(f"date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD") from exc


def _claim(recipe: Recipe, data_dir: str | Path | None) -> tuple[dict, list[dict], dict]:
    """Filters, published rows and provenance taken from a claims table row."""
    spec = recipe.claim or {}
    path = _resolve(_need(spec, "file", "[claim]", recipe.path), recipe, data_dir, "claims file")
    table = pd.read_csv(path, dtype="string", keep_default_na=False)
    claim_id = _need(spec, "id", "[claim]", recipe.path)
    row = table[table["claim_id"] == claim_id]
    if row.empty:
        raise TrendsError(f"claim {claim_id!r} is not in {path}; claims: {list(table['claim_id'])}")
    row = row.iloc[0]
    regions = [r.strip() for r in str(row.get("regions", "")).split(";") if r.strip()]
    filters: dict[str, Any] = {}
    if row.get("period_start"):
        filters["dates"] = [
            str(_period_bounds(row["period_start"], end=False).date()),
            str(_period_bounds(row["period_end"] or row["period_start"], end=True).date()),
        ]
    if row.get("actor"):
        filters["actor"] = [row["actor"]]
    measure = recipe.measures[0]
    if measure.get("rank"):
        published = [{"region": r, measure["name"]: i + 1} for i, r in enumerate(regions)]
    else:
        if regions:
            filters["region"] = regions
        value = row.get("value")
        published = [{measure["name"]: float(value) if value else np.nan}]
    provenance = {
        "source": row.get("published_by", ""),
        "claim": row.get("claim", ""),
        "unit": row.get("unit", ""),
        "note": row.get("note", ""),
        "file": str(path),
    }
    return filters, published, provenance


# ----------------------------------------------------------------------------- published


def _published(recipe: Recipe, data_dir: str | Path | None) -> tuple[pd.DataFrame, dict]:
    spec = recipe.published
    names = [m["name"] for m in recipe.measures]
    if spec.get("rows"):
        frame = pd.DataFrame(spec["rows"])
        provenance = {"source": spec.get("source", ""), "file": "inline"}
    else:
        path = _resolve(spec["file"], recipe, data_dir, "published file")
        frame = pd.read_csv(path)
        provenance = {"source": spec.get("source", ""), "file": str(path)}
        for column, wanted in spec.get("where", {}).items():
            if column not in frame.columns:
                raise TrendsError(
                    f"recipe {recipe.id!r}: published where= names column {column!r}, "
                    f"not in {path.name}; columns: {list(frame.columns)}"
                )
            values = frame[column]
            if isinstance(wanted, dict):
                keep = pd.Series(True, index=frame.index)
                if "min" in wanted:
                    keep &= values >= wanted["min"]
                if "max" in wanted:
                    keep &= values <= wanted["max"]
            elif isinstance(wanted, list):
                keep = values.isin(wanted)
            else:
                keep = values == wanted
            frame = frame[keep.fillna(False).astype(bool)]
        keys = spec.get("keys", {})
        values_map = spec.get("values", {})
        missing = [c for c in [*keys.values(), *values_map.values()] if c not in frame.columns]
        if missing:
            raise TrendsError(
                f"recipe {recipe.id!r}: column {missing[0]!r} is not in {path.name}; "
                f"columns: {list(frame.columns)}"
            )
        frame = frame.rename(columns={v: k for k, v in {**keys, **values_map}.items()})
        frame = frame[[*keys, *values_map]]
    for column, mapping in spec.get("recode", {}).items():
        frame[column] = frame[column].map(lambda v, m=mapping: m.get(str(v), v))
    absent = [g for g in recipe.group_by if g not in frame.columns]
    absent += [n for n in names if n not in frame.columns]
    if absent:
        raise TrendsError(
            f"recipe {recipe.id!r}: the published rows lack {absent[0]!r}; "
            f"they have {list(frame.columns)}"
        )
    if frame.empty:
        raise TrendsError(f"recipe {recipe.id!r}: no published rows after the where= filter")
    return frame.reset_index(drop=True), provenance


def _key_text(group: str, values: pd.Series) -> pd.Series:
    """Group keys as comparable text: years and codes as integers."""
    if group in ("year", "type_of_violence"):
        numbers = pd.to_numeric(values, errors="coerce")
        return pd.Series(
            [str(int(v)) if pd.notna(v) else pd.NA for v in numbers],
            index=values.index,
            dtype="string",
        )
    return values.astype("string").str.strip()


# ----------------------------------------------------------------------------- data


def _numeric(data: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(data[column], errors="coerce")


def _harmonise(names: list[str], countries: list[str]) -> list[str]:
    from .readers import harmonise_region

    country = countries[0] if len(countries) == 1 else ""
    return list(
        harmonise_region(pd.Series([country] * len(names)), pd.Series(names, dtype="string"))
    )


def _filter(data: pd.DataFrame, filters: Mapping[str, Any], recipe: Recipe) -> pd.DataFrame:
    keep = pd.Series(True, index=data.index)
    countries = [str(c) for c in filters.get("country", [])]
    if countries:
        known = set(data["country"].dropna())
        unknown = [c for c in countries if c not in known]
        if unknown:
            raise TrendsError(
                f"recipe {recipe.id!r}: country {unknown[0]!r} is not in the data; "
                f"countries: {sorted(known)[:30]}"
            )
        keep &= data["country"].isin(countries)
    if filters.get("region"):
        wanted = _harmonise([str(r) for r in filters["region"]], countries)
        known = set(data.loc[keep, "region"].dropna())
        unknown = [
            raw if raw == h else f"{raw} ({h})"
            for raw, h in zip(filters["region"], wanted, strict=True)
            if h not in known
        ]
        if unknown:
            raise TrendsError(
                f"recipe {recipe.id!r}: region {unknown[0]} is not in the data; "
                f"regions: {sorted(known)}"
            )
        keep &= data["region"].isin(wanted)
    if filters.get("type_of_violence"):
        keep &= _numeric(data, "type_of_violence").isin(
            [int(v) for v in filters["type_of_violence"]]
        )
    if filters.get("actor"):
        keep &= data["actor"].isin([str(a) for a in filters["actor"]])
    if filters.get("side_b"):
        keep &= data["side_b"].isin([str(a) for a in filters["side_b"]])
    if filters.get("dates"):
        first, last = (pd.Timestamp(d) for d in filters["dates"])
        keep &= data["date_start"].between(first, last)
    return data[keep.fillna(False).astype(bool)]


def _group_keys(data: pd.DataFrame, group_by: tuple[str, ...]) -> pd.DataFrame:
    keys = pd.DataFrame(index=data.index)
    for g in group_by:
        if g == "year":
            keys[g] = data["date_start"].dt.year.astype("Int64").astype("string")
        elif g == "month":
            keys[g] = data["date_start"].dt.strftime("%Y-%m").astype("string")
        elif g == "type_of_violence":
            keys[g] = _key_text(g, data["type_of_violence"])
        else:
            keys[g] = data[g].astype("string")
    return keys


def _row_window(
    row: pd.Series,
    group_by: tuple[str, ...],
    dates: tuple[pd.Timestamp, pd.Timestamp] | None,
    window: tuple[pd.Timestamp, pd.Timestamp],
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The dates behind one published number: its month or year, within the date filter.

    Without either, the data's own coverage window (the number is a total over it).
    """
    key = "month" if "month" in group_by else "year" if "year" in group_by else None
    if key is None:
        return dates if dates is not None else window
    period = pd.Period(str(row[key]), freq="M" if key == "month" else "Y")
    first, last = period.start_time, period.end_time.normalize()
    if dates is not None:
        first, last = max(first, dates[0]), min(last, dates[1])
    return first, last


def _fmt_date(ts: pd.Timestamp) -> str:
    return str(pd.Timestamp(ts).date())


# ----------------------------------------------------------------------------- result


@dataclass
class Reproduction:
    """The outcome of :func:`reproduce`.

    Attributes
    ----------
    recipe : Recipe
    table : DataFrame
        One row per published number: the group columns of the recipe, then
        ``measure``, ``published``, ``reproduced``, ``abs_diff`` (reproduced -
        published), ``rel_diff`` (abs_diff / published; missing when published is
        0), ``match`` (bool, within the tolerance; missing when the row was not
        tested), ``status`` (``exact``, ``within tolerance``, ``differs``, ``not
        tested``), ``events`` (events behind the reproduced number), ``coverage``
        and ``coverage_reasons`` (the coverage status of the cells behind the row),
        ``note`` (why the row differs or was not tested), and ``context`` (the
        value over the recipe's context period, when it has one).
    coverage : DataFrame
        One row per place (country or region) in the filtered data over the
        recipe's window: ``place``, ``events``, one column per summed measure (e.g.
        ``deaths``), ``coverage``, ``coverage_reasons``.
    verdict : str
        One of :data:`VERDICTS`.
    reasons : list of str
    source : dict
        The data set read (``trends.incidents.SourceInfo.as_dict``).
    published_source : dict
        Where the published numbers come from.
    filters : dict
        The filters applied (a claim's region, period and actor included).
    """

    recipe: Recipe
    table: pd.DataFrame
    coverage: pd.DataFrame
    verdict: str
    reasons: list[str]
    source: dict[str, Any]
    published_source: dict[str, Any]
    filters: dict[str, Any]

    @property
    def ok(self) -> bool:
        """True when the recipe reproduces exactly or within its tolerance."""
        return self.verdict in (EXACT, WITHIN)

    @property
    def as_expected(self) -> bool | None:
        """Whether the verdict is the one the recipe expects (None if it states none)."""
        return None if self.recipe.expected is None else self.verdict == self.recipe.expected

    def summary(self) -> str:
        """The verdict and its reasons, as plain text."""
        lines = [f"{self.recipe.id}: {self.verdict}"]
        lines += [f"  - {r}" for r in self.reasons]
        if self.recipe.expected is not None:
            word = "as" if self.as_expected else "NOT as"
            lines.append(f"  ({word} the recipe expects: {self.recipe.expected})")
        return "\n".join(lines)

    def chart(self):
        """An Altair chart overlaying the published and reproduced numbers."""
        return overlay_chart(self)

    def to_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML page (verdict, table, chart, coverage, provenance)."""
        return write_html(self, Path(path))


# ----------------------------------------------------------------------------- main


def reproduce(
    recipe: str | Path | Recipe,
    data: str | Path | Incidents | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Reproduction:
    """Recount a published figure (or check a claim) from the data a recipe names.

    Parameters
    ----------
    recipe : str, Path or Recipe
        A shipped recipe's id (see :func:`list_recipes`) or a recipe TOML file.
    data : path or Incidents, optional
        The event file of the recipe's data set (or incidents already read). By
        default the recipe's ``file``, resolved against ``data_dir``.
    data_dir : path, optional
        Folder against which the recipe's file names (data, published numbers,
        claims) are resolved; then ``$TRENDS_DATA``, then the recipe's own folder.

    Returns
    -------
    Reproduction
        ``.table`` (published vs reproduced, one row per published number; columns
        documented in :class:`Reproduction`), ``.coverage``, ``.verdict``
        (``reproduced exactly``, ``reproduced within tolerance``, ``differs``,
        ``cannot be tested with this data``) and ``.reasons``.

    References
    ----------
    Högbladh, S. (2019) UCDP GED Codebook version 19.1, Department of Peace and
    Conflict Research, Uppsala University (type_of_violence, side_a, best, deaths_b,
    the event year as the year of ``date_start``). Peng, R. D. (2011) Reproducible
    research in computational science. Science 334(6060): 1226-1227.

    Notes
    -----
    A row matches when ``|reproduced - published| <= max(absolute, relative *
    |published|)`` (the recipe's ``tolerance``; default 0, exact). Events are
    assigned to a period by their first day (``date_start``), UCDP's own convention
    for yearly totals. Rows whose period lies (even partly) outside the data set's
    coverage window are not tested: outside the window a zero is unknown, not zero.
    The verdict rests on the tested rows only; when none can be tested it is
    ``cannot be tested with this data``.
    """
    recipe = load_recipe(recipe)
    filters = dict(recipe.filters)
    if recipe.claim is not None:
        claim_filters, rows, published_source = _claim(recipe, data_dir)
        filters = {**claim_filters, **filters}
        published = pd.DataFrame(rows)
    else:
        published, published_source = _published(recipe, data_dir)
    incidents = _read_data(recipe, data, data_dir)
    source = incidents.source.as_dict()
    window = registry.coverage(recipe.dataset, recipe.version) or incidents.source.coverage
    if window is None:
        window = (incidents.data["date_start"].min(), incidents.data["date_end"].max())
    checks = _data_checks(recipe, incidents, window)

    # The rows' keys as text, published regions harmonised like the data's.
    for g in recipe.group_by:
        published[g] = _key_text(g, published[g])
    if "region" in recipe.group_by:
        published["region"] = _harmonise(
            list(published["region"]), [str(c) for c in filters.get("country", [])]
        )

    dates = filters.get("dates")
    date_filter = (pd.Timestamp(dates[0]), pd.Timestamp(dates[1])) if dates else None
    span = date_filter or window
    missing_columns = {
        m["column"]: m
        for m in recipe.measures
        if m["what"] == "sum" and m["column"] not in incidents.data
    }
    not_recorded = registry.get(recipe.dataset).get("measures", {}).get("not_recorded", {})

    data = incidents.data
    selected = _filter(data, filters, recipe)
    keys = _group_keys(selected, recipe.group_by)
    context_value = None
    if recipe.context is not None:
        cdates = recipe.context.get("dates")
        cfilters = {**filters, "dates": cdates}
        csel = _filter(data, cfilters, recipe)
        context_value = (csel, _group_keys(csel, recipe.group_by))

    out_rows = []
    for _, prow in published.iterrows():
        row_first, row_last = _row_window(prow, recipe.group_by, date_filter, window)
        in_group = pd.Series(True, index=selected.index)
        for g in recipe.group_by:
            if not (recipe.measures[0].get("rank") and g == "region"):
                in_group &= keys[g] == prow[g]
        for measure in recipe.measures:
            name = measure["name"]
            published_value = pd.to_numeric(pd.Series([prow[name]]), errors="coerce").iloc[0]
            record = {g: prow[g] for g in recipe.group_by}
            record.update(measure=name, published=published_value)
            note = ""
            value = np.nan
            events = np.nan
            tested = True
            if pd.isna(published_value):
                tested = False
                note = "no published number to compare"
            elif measure["what"] == "sum" and measure["column"] in missing_columns:
                tested = False
                column = measure["column"]
                why = not_recorded.get(column, "")
                note = (
                    f"the data has no column {column!r}"
                    + (f": {why}" if why else "")
                    + f" ({recipe.dataset} {recipe.version})"
                )
            elif row_first > row_last:
                tested = False
                note = "outside the recipe's date filter: not tested"
            elif row_first < window[0] or row_last > window[1]:
                tested = False
                note = (
                    f"the period {_fmt_date(row_first)} to {_fmt_date(row_last)} lies "
                    + ("partly " if row_last >= window[0] and row_first <= window[1] else "")
                    + f"outside the data's coverage ({_fmt_date(window[0])} to "
                    f"{_fmt_date(window[1])}): not tested"
                )
            else:
                value, events = _measure(selected, keys, in_group, measure, prow, recipe)
            has_column = measure["what"] != "sum" or measure["column"] not in missing_columns
            if context_value is not None and has_column:
                csel, ckeys = context_value
                cgroup = pd.Series(True, index=csel.index)
                for g in recipe.group_by:
                    if not (measure.get("rank") and g == "region"):
                        cgroup &= ckeys[g] == prow[g]
                record["context"] = _measure(csel, ckeys, cgroup, measure, prow, recipe)[0]
            record.update(reproduced=value, events=events, _tested=tested, note=note)
            record["_first"], record["_last"] = row_first, row_last
            out_rows.append(record)
    table = pd.DataFrame(out_rows)
    table = _compare(table, recipe)
    table, coverage = _coverage(table, selected, incidents, recipe, span, window)
    verdict, verdict_reasons = _verdict(table, recipe, published_source)
    reasons = [*verdict_reasons, *checks]
    columns = [
        *recipe.group_by,
        "measure",
        "published",
        "reproduced",
        "abs_diff",
        "rel_diff",
        "match",
        "status",
        "events",
        "coverage",
        "coverage_reasons",
        "note",
    ]
    if "context" in table.columns:
        columns.append("context")
    table = table[columns].reset_index(drop=True)
    return Reproduction(
        recipe=recipe,
        table=table,
        coverage=coverage,
        verdict=verdict,
        reasons=reasons,
        source=source,
        published_source=published_source,
        filters=filters,
    )


def _data_checks(
    recipe: Recipe, incidents: Incidents, window: tuple[pd.Timestamp, pd.Timestamp]
) -> list[str]:
    """Signs that the data given is not the release the recipe names (said, not fatal)."""
    checks = []
    src = incidents.source
    if src.dataset_id and (src.dataset_id, src.version) != (recipe.dataset, recipe.version):
        checks.append(
            f"the data read is {src.dataset_id} {src.version}, but the recipe names "
            f"{recipe.dataset} {recipe.version}"
        )
    dates = incidents.data["date_start"].dropna()
    if len(dates):
        inside = float(dates.between(window[0], window[1]).mean())
        if inside < 0.95:
            checks.append(
                f"only {inside:.0%} of the data's events fall inside the coverage window of "
                f"{recipe.dataset} {recipe.version} ({_fmt_date(window[0])} to "
                f"{_fmt_date(window[1])}): is this the file the recipe names?"
            )
    return checks


def _measure(
    selected: pd.DataFrame,
    keys: pd.DataFrame,
    in_group: pd.Series,
    measure: Mapping[str, Any],
    prow: pd.Series,
    recipe: Recipe,
) -> tuple[float, float]:
    """The reproduced value of one row (and the events behind it)."""
    rows = selected[in_group]
    if measure["what"] == "events":
        values = pd.Series(1.0, index=rows.index)
    else:
        values = _numeric(rows, measure["column"]).fillna(0.0)
    if not measure.get("rank"):
        return float(values.sum()), float(len(rows))
    # A rank: this row's place among all regions of the filtered data (1 = most).
    # Events located no finer than the country ("(unknown)") are not a region: left out.
    by = keys.loc[rows.index, "region"]
    totals = values.groupby(by).sum().drop(UNKNOWN_REGION, errors="ignore")
    region = prow["region"]
    if region not in totals.index:
        return float(len(totals) + 1), 0.0
    ranks = totals.rank(ascending=False, method="min")
    return float(ranks[region]), float((by == region).sum())


def _compare(table: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    tested = table["_tested"].astype(bool)
    diff = table["reproduced"] - table["published"]
    table["abs_diff"] = diff.where(tested)
    rel = diff / table["published"].where(table["published"] != 0)
    table["rel_diff"] = rel.where(tested)
    allowed = np.maximum(
        recipe.tolerance["absolute"], recipe.tolerance["relative"] * table["published"].abs()
    )
    match = (diff.abs() <= allowed + 1e-9) & tested & table["published"].notna()
    table["match"] = pd.array(
        [bool(m) if t else pd.NA for m, t in zip(match, tested, strict=True)], dtype="boolean"
    )
    status = np.where(
        ~tested,
        "not tested",
        np.where(diff == 0, "exact", np.where(match, "within tolerance", "differs")),
    )
    table["status"] = status
    differs = table["status"] == "differs"
    if recipe.differences:
        table.loc[differs & (table["note"] == ""), "note"] = recipe.differences
    return table


def _coverage(
    table: pd.DataFrame,
    selected: pd.DataFrame,
    incidents: Incidents,
    recipe: Recipe,
    span: tuple[pd.Timestamp, pd.Timestamp],
    window: tuple[pd.Timestamp, pd.Timestamp],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage status of the month cells behind each row, and per place overall."""
    from .counting import count
    from .coverage_model import assess_window

    level = "region" if ("region" in recipe.group_by or recipe.filters.get("region")) else "country"
    if recipe.claim is not None and not any(m.get("rank") for m in recipe.measures):
        level = "region"
    first, last = max(span[0], window[0]), min(span[1], window[1])
    empty_cov = pd.DataFrame(columns=["place", "events", "coverage", "coverage_reasons"])
    table["coverage"] = pd.Series(pd.NA, index=table.index, dtype="string")
    table["coverage_reasons"] = pd.Series("", index=table.index, dtype="string")
    if selected.empty or first > last:
        table.loc[table["_tested"], "coverage"] = "uncovered" if first > last else "insufficient"
        table.loc[table["_tested"], "coverage_reasons"] = "no events in the filtered data"
        return table, empty_cov
    subset = Incidents(
        data=selected.reset_index(drop=True),
        ledger=make_ledger(len(selected), {}),
        source=incidents.source,
    )
    cells = count(
        subset,
        region=level,
        period="month",
        start=first.strftime("%Y-%m"),
        end=last.strftime("%Y-%m"),
    )
    for i, row in table.iterrows():
        if not row["_tested"]:
            continue
        mask = (cells["period_start"] >= row["_first"].to_period("M").start_time) & (
            cells["period_start"] <= row["_last"]
        )
        if level in recipe.group_by:  # the row's own place
            mask &= cells["region"] == row[level]
        status, why = assess_window(cells[mask])
        table.at[i, "coverage"] = status
        table.at[i, "coverage_reasons"] = "; ".join(why)
    # Per place: the events and each summed column, over the same window as the cells.
    inside = selected[selected["date_start"].between(first, last)]
    sums = {
        m["name"]: _numeric(inside, m["column"]).groupby(inside[level]).sum()
        for m in recipe.measures
        if m["what"] == "sum" and m["column"] in inside.columns and not m.get("rank")
    }
    rows = []
    for place, group in cells.groupby("region", sort=True):
        status, why = assess_window(group)
        row = {"place": place, "events": float(group["events"].sum())}
        row.update({name: float(s.get(place, 0.0)) for name, s in sums.items()})
        row.update(coverage=status, coverage_reasons="; ".join(why))
        rows.append(row)
    columns = ["place", "events", *sums, "coverage", "coverage_reasons"]
    return table, pd.DataFrame(rows, columns=columns)


def _years_text(values: list[str]) -> str:
    return ", ".join(values[:12]) + (f" and {len(values) - 12} more" if len(values) > 12 else "")


def _key_label(group: str, value: Any) -> str:
    """A group key for people: UCDP violence codes as words."""
    if group == "type_of_violence":
        from .readers import UCDP_VIOLENCE

        return UCDP_VIOLENCE.get(int(value), str(value)) if str(value).isdigit() else str(value)
    return str(value)


def _row_label(row: pd.Series, recipe: Recipe) -> str:
    parts = [_key_label(g, row[g]) for g in recipe.group_by]
    if len(recipe.measures) > 1:
        parts.append(str(row["measure"]))
    return " ".join(parts) or str(row["measure"])


def _verdict(table: pd.DataFrame, recipe: Recipe, published_source: dict) -> tuple[str, list[str]]:
    tested = table[table["_tested"].astype(bool)]
    untested = table[~table["_tested"].astype(bool)]
    reasons: list[str] = []
    context = ""
    if "context" in table.columns and recipe.context is not None:
        shown = ", ".join(
            f"{_row_label(r, recipe)} {r['context']:,.0f}" for _, r in table.iterrows()
        )
        context = f"shown for context, not tested ({recipe.context.get('why', 'context period')}): {shown}"
    if tested.empty:
        notes = list(dict.fromkeys(untested["note"]))
        reasons = [f"{n[0].upper()}{n[1:]}" for n in notes]
        if recipe.differences:
            reasons.append(recipe.differences)
        return UNTESTABLE, reasons + ([context] if context else [])
    n = len(tested)
    n_exact = int((tested["status"] == "exact").sum())
    n_within = int((tested["status"] == "within tolerance").sum())
    differs = tested[tested["status"] == "differs"]
    if differs.empty and n_within == 0:
        verdict = EXACT
        reasons.append(f"all {n} tested numbers reproduced exactly")
    elif differs.empty:
        verdict = WITHIN
        reasons.append(
            f"{n_exact} of {n} tested numbers reproduced exactly, {n_within} within the "
            f"tolerance ({_tolerance_text(recipe)})"
        )
    else:
        verdict = DIFFERS
        exact = tested[tested["status"] == "exact"]
        exact_labels = [_row_label(r, recipe) for _, r in exact.iterrows()]
        worst = differs.loc[differs["abs_diff"].abs().idxmax()]
        rel = worst["rel_diff"]
        reasons.append(
            f"{len(differs)} of {n} tested numbers differ beyond the tolerance "
            f"({_tolerance_text(recipe)})"
            + (f"; {n_exact} reproduced exactly ({_years_text(exact_labels)})" if n_exact else "")
        )
        reasons.append(
            f"largest difference: {_row_label(worst, recipe)}, reproduced "
            f"{worst['reproduced']:,.0f} against {worst['published']:,.0f} published "
            f"({worst['abs_diff']:+,.0f}" + (f", {rel:+.1%})" if pd.notna(rel) else ")")
        )
        if recipe.differences:
            reasons.append(f"expected difference: {recipe.differences}")
    if not untested.empty:
        labels = [_row_label(r, recipe) for _, r in untested.iterrows()]
        reasons.append(
            f"{len(untested)} published number{'s' if len(untested) > 1 else ''} not tested "
            f"({_years_text(labels)}): {untested['note'].iloc[0]}"
        )
    thin = tested[tested["coverage"].isin(["thin", "insufficient", "uncovered"])]
    if not thin.empty:
        reasons.append(
            f"coverage of the cells behind {len(thin)} of {n} tested numbers is "
            f"{'/'.join(sorted(set(thin['coverage'])))}: the reproduction checks arithmetic, "
            "not whether the data are complete"
        )
    if context:
        reasons.append(context)
    return verdict, reasons


def _tolerance_text(recipe: Recipe) -> str:
    a, r = recipe.tolerance["absolute"], recipe.tolerance["relative"]
    if a == 0 and r == 0:
        return "exact"
    parts = []
    if a:
        parts.append(f"±{a:g}")
    if r:
        parts.append(f"±{r:.1%}")
    return " or ".join(parts)


# ----------------------------------------------------------------------------- chart, page


def _chart_frame(result: Reproduction) -> pd.DataFrame:
    """Long form for the chart: one row per number and series (published, reproduced)."""
    table = result.table
    label = [
        " ".join(_key_label(g, r[g]) for g in result.recipe.group_by) or "total"
        for _, r in table.iterrows()
    ]
    rows = []
    for i, (_, r) in enumerate(table.iterrows()):
        for series in ("published", "reproduced"):
            value = r[series]
            if pd.isna(value):
                continue
            rows.append(
                {
                    "label": label[i] or "total",
                    "order": i,
                    "measure": r["measure"],
                    "series": series,
                    "value": float(value),
                    "status": r["status"],
                    "coverage": "" if pd.isna(r["coverage"]) else str(r["coverage"]),
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "order", "measure", "series", "value", "status", "coverage"]
    )


def overlay_chart(result: Reproduction):
    """Published (hollow circles) and reproduced (filled points) numbers on one chart.

    Rows grouped by year or month are drawn as lines over time; other groupings as
    points per group. Rows that were not tested show the published number only.
    One panel per measure when the recipe counts several.
    """
    import altair as alt

    frame = _chart_frame(result)
    by_time = any(g in ("year", "month") for g in result.recipe.group_by)
    sort = list(dict.fromkeys(frame.sort_values("order")["label"]))
    x = alt.X("label:N", sort=sort, title=", ".join(result.recipe.group_by) or None)
    if by_time:
        time_key = "year" if "year" in result.recipe.group_by else "month"
        x = alt.X("label:O", sort=sort, title=time_key)
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=["published", "reproduced"], range=["#444444", "#d95f02"]),
        title=None,
    )
    tooltip = ["label:N", "measure:N", "series:N", alt.Tooltip("value:Q", format=",.0f"),
               "status:N", "coverage:N"]  # fmt: skip
    base = alt.Chart(frame).encode(x=x, y=alt.Y("value:Q", title=None), color=colour)
    published = (
        base.transform_filter(alt.datum.series == "published")
        .mark_point(size=80, strokeWidth=2, filled=False, shape="circle")
        .encode(tooltip=tooltip)
    )
    reproduced = (
        base.transform_filter(alt.datum.series == "reproduced")
        .mark_point(size=60, filled=True, shape="diamond")
        .encode(tooltip=tooltip)
    )
    points = alt.layer(published, reproduced)
    overlay = alt.layer(base.mark_line(strokeWidth=1.5, opacity=0.6), points) if by_time else points
    diffs = (
        alt.Chart(_diff_frame(result))
        .mark_bar(size=8)
        .encode(
            x=x,
            y=alt.Y("abs_diff:Q", title="reproduced − published"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["exact", "within tolerance", "differs"],
                    range=["#1b9e77", "#7570b3", "#d95f02"],
                ),
                title="match",
            ),
            tooltip=[
                "label:N",
                "measure:N",
                alt.Tooltip("abs_diff:Q", format="+,.0f"),
                alt.Tooltip("rel_diff:Q", format="+.2%"),
                "status:N",
            ],  # fmt: skip
        )
    )
    width = 560 if len(result.recipe.measures) == 1 else 300
    panels = []
    for measure in [m["name"] for m in result.recipe.measures]:
        keep = alt.datum.measure == measure
        panels.append(
            alt.vconcat(
                overlay.transform_filter(keep).properties(width=width, height=220, title=measure),
                diffs.transform_filter(keep).properties(width=width, height=90),
            )
        )
    chart = panels[0] if len(panels) == 1 else alt.hconcat(*panels)
    return chart.resolve_scale(color="independent", shape="independent").properties(
        title=result.recipe.title
    )


def _diff_frame(result: Reproduction) -> pd.DataFrame:
    frame = _chart_frame(result)
    frame = frame[frame["series"] == "published"].drop(columns=["series", "value"])
    tested = result.table.reset_index(drop=True)
    frame["abs_diff"] = tested.loc[frame["order"], "abs_diff"].to_numpy(dtype=float)
    frame["rel_diff"] = tested.loc[frame["order"], "rel_diff"].to_numpy(dtype=float)
    return frame[frame["abs_diff"].notna()]


def write_html(result: Reproduction, path: Path) -> Path:
    """One self-contained HTML page of a reproduction (the report's page shell)."""
    from . import __version__
    from .reporting.html import Column, Page, esc, fmt_num, slug, status_span, table

    r = result.recipe
    page = Page(title=r.title, subtitle=esc(r.reproduces))
    colour = {EXACT: "#1b9e77", WITHIN: "#7570b3", DIFFERS: "#d95f02"}.get(result.verdict, "#777")
    chip = (
        f'<span class="verdict v-{slug(result.verdict)}" style="background:{colour};'
        f'color:#fff;font-size:15px">{esc(result.verdict)}</span>'
    )
    reasons = "".join(f"<li>{esc(x)}</li>" for x in result.reasons)
    page.add("verdict", "Verdict", f"<p>{chip}</p><ul>{reasons}</ul>")

    def num(value: Any) -> str:
        return fmt_num(value, 4)

    def pct(value: Any) -> str:
        return "–" if pd.isna(value) else f"{float(value):+.2%}".replace("-", "−")

    columns = [Column(g, g, sort=True) for g in r.group_by]
    columns += [
        Column("measure", "measure"),
        Column("published", "published", num, numeric=True),
        Column("reproduced", "reproduced", num, numeric=True),
        Column("abs_diff", "difference", num, numeric=True),
        Column("rel_diff", "relative", pct, numeric=True),
        Column("status", "match", esc, sort=True),
        Column("coverage", "coverage", status_span, sort=True),
        Column("coverage_reasons", "coverage reasons"),
        Column("note", "note"),
    ]
    if "context" in result.table.columns:
        columns.append(Column("context", "context (not a test)", num, numeric=True))
    page.add(
        "table",
        "Published and reproduced",
        table(result.table, columns, caption=f"Tolerance: {_tolerance_text(r)}"),
    )
    page.add("chart", "Chart", page.chart("overlay", overlay_chart(result)))
    if not result.coverage.empty:
        cov_cols = [Column("place", "place", sort=True),
                    Column("events", "events", num, numeric=True),
                    *[Column(c, c, num, numeric=True) for c in result.coverage.columns
                      if c not in ("place", "events", "coverage", "coverage_reasons")],
                    Column("coverage", "coverage", status_span, sort=True),
                    Column("coverage_reasons", "reasons")]  # fmt: skip
        page.add(
            "coverage",
            "Coverage of the cells",
            table(result.coverage, cov_cols, caption="Month cells of the filtered data, pooled"),
        )
    src = result.source
    facts = [
        ("Recipe", f'<span class="mono">{esc(r.path)}</span>'),
        ("Published by", esc(result.published_source.get("source", ""))),
        (
            "Published file",
            f'<span class="mono">{esc(result.published_source.get("file", ""))}</span>',
        ),
        ("Data set", esc(f"{src.get('name')} {src.get('version') or ''}")),
        ("Citation", esc(src.get("citation") or "")),
        ("Licence", esc(src.get("licence") or "")),
        ("Data file", f'<span class="mono">{esc(src.get("path") or "")}</span>'),
        ("SHA-256", f'<span class="mono">{esc(src.get("sha256") or "")}</span>'),
        ("Filters", esc("; ".join(f"{k}={v}" for k, v in result.filters.items()) or "none")),
        ("Counted", esc(", ".join(_measure_text(m) for m in r.measures))),
        ("Grouped by", esc(", ".join(r.group_by) or "nothing (one total)")),
        ("Expected differences", esc(r.differences or "none stated")),
        ("trends version", esc(__version__)),
    ]
    if result.published_source.get("claim"):
        facts.insert(1, ("Claim", esc(result.published_source["claim"])))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    page.add("provenance", "Recipe, data and provenance", f'<dl class="facts">{body}</dl>')
    page.footer = esc(f"trends {__version__} · trends reproduce {r.id}")
    path.write_text(page.render(), encoding="utf-8")
    return path


def _measure_text(m: Mapping[str, Any]) -> str:
    text = "events" if m["what"] == "events" else f"sum of {m['column']}"
    return f"{m['name']}: " + (f"rank by {text}" if m.get("rank") else text)
