"""Recount a recipe's numbers through the main path: ``read()``, the canonical table, ``count()``.

The data are read with :func:`trends.read` (every supported format, detected from
its columns) into the canonical incident table. What is specific to recipes is
done here, on that table: the recipe's filters, grouping by columns
:func:`trends.count` does not group by (UCDP's ``type_of_violence``, the actor), and
sums of fatality columns (``best``, ``low``, ``high``, ``deaths_b``, ...). The
coverage of the month cells behind each number comes from :func:`trends.count`
and :func:`trends.coverage_model.assess_window`.

The numbers themselves are not taken from ``count()``'s cells: a recipe counts every
event it selects, the few a release carries from before its coverage window
included (Candidate 22.0.2's late-coded January events), where ``count()`` sets
those aside as uncovered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import registry
from ..errors import TrendsError
from ..fetch import where_to_get
from ..incidents import UNKNOWN_REGION, Incidents, make_ledger
from ..methods import Registry
from ..periods import PERIODS, period_bounds, period_labels
from .recipe import Measure, Recipe, search_dirs

__all__ = [
    "FILTER_RULES",
    "read_data",
    "select",
    "group_keys",
    "key_text",
    "published_keys",
    "key_labels",
    "range_columns",
    "recount",
    "cell_coverage",
]

logger = logging.getLogger(__name__)

Window = tuple[pd.Timestamp, pd.Timestamp]


# ----------------------------------------------------------------------------- data


def read_data(
    recipe: Recipe, data: str | Path | Incidents | None, data_dir: str | Path | None
) -> Incidents:
    """The recipe's incidents: ``data`` (a file of any format :func:`trends.read` reads,
    or incidents already read), else the recipe's ``[data] file`` found in
    :func:`~trends.reproduction.recipe.search_dirs`.

    Raises
    ------
    TrendsError
        The file is missing; the message says what to pass and where the publisher
        offers the file (the dataset registry's download address).
    """
    if isinstance(data, Incidents):
        return data
    release = f"{recipe.dataset} {recipe.version}"
    if data is not None:
        path = Path(data)
        if not path.is_file():
            raise TrendsError(
                f"{path}: no such file (the {release} event file of recipe {recipe.id!r}). "
                f"Where to get it: {where_to_get(recipe.dataset, recipe.version)}"
            )
    elif not recipe.file:
        raise TrendsError(
            f"recipe {recipe.id!r} names no data file: pass the {release} event file with "
            f"--data FILE (data=). Where to get it: {where_to_get(recipe.dataset, recipe.version)}"
        )
    else:
        dirs = search_dirs(recipe, data_dir)
        found = [d / recipe.file for d in dirs if (d / recipe.file).is_file()]
        if not found:
            raise TrendsError(
                f"recipe {recipe.id!r} reads the {release} event file {recipe.file!r}, not "
                f"found in {[str(d) for d in dirs]}: pass the file with --data FILE (data=), "
                "or the folder that holds it with --data-dir (data_dir=) or $TRENDS_DATA. "
                f"Where to get it: {where_to_get(recipe.dataset, recipe.version)}"
            )
        path = found[0]
    from ..readers import read

    return read(path)


def _numeric(data: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(data[column], errors="coerce")


def _harmonise(names: list[str], countries: list[str]) -> list[str]:
    """Region names as the readers harmonise them (``Nineveh`` -> ``Nīnawá``)."""
    from ..readers import harmonise_region

    country = countries[0] if len(countries) == 1 else ""
    return list(
        harmonise_region(pd.Series([country] * len(names)), pd.Series(names, dtype="string"))
    )


# ----------------------------------------------------------------------------- filters

#: How each recipe filter selects events: ``rule(data, values, keep, filters, recipe)``
#: returns the rows that pass (``keep``: the rows the filters before it kept).
FILTER_RULES = Registry("recipe filter", option="filter")


def _refuse_unknown(recipe: Recipe, what: str, unknown: list[str], known: list[str]) -> None:
    """A filter naming a value the data lack: say which, and list what the data hold."""
    if unknown:
        raise TrendsError(
            f"recipe {recipe.id!r}: {what} {unknown[0]} is not in the data; "
            f"{'countries' if what == 'country' else what + 's'}: {known}"
        )


@FILTER_RULES.register("country", description="the data's country column (not coordinates)")
def _by_country(data, values, keep, filters, recipe) -> pd.Series:
    known = set(data["country"].dropna())
    _refuse_unknown(recipe, "country", [repr(c) for c in values if c not in known],
                    sorted(known)[:30])  # fmt: skip
    return data["country"].isin(values)


@FILTER_RULES.register(
    "region", description="admin-1 names, harmonised through datasets/regions.csv"
)
def _by_region(data, values, keep, filters, recipe) -> pd.Series:
    wanted = _harmonise(list(values), list(filters.get("country", [])))
    known = set(data.loc[keep, "region"].dropna())
    unknown = [raw if raw == h else f"{raw} ({h})"
               for raw, h in zip(values, wanted, strict=True) if h not in known]  # fmt: skip
    _refuse_unknown(recipe, "region", unknown, sorted(known))
    return data["region"].isin(wanted)


@FILTER_RULES.register(
    "type_of_violence", description="UCDP: 1 state-based, 2 non-state, 3 one-sided"
)
def _by_code(data, values, keep, filters, recipe) -> pd.Series:
    return _numeric(data, "type_of_violence").isin([int(v) for v in values])


def _by_value(column: str):
    def rule(data, values, keep, filters, recipe) -> pd.Series:
        return data[column].isin([str(v) for v in values])

    return rule


FILTER_RULES.add("event_type", _by_value("event_type"), description="the canonical event_type")
FILTER_RULES.add("actor", _by_value("actor"), description="the canonical actor (UCDP side_a)")
FILTER_RULES.add("side_b", _by_value("side_b"), description="UCDP side_b")


@FILTER_RULES.register("dates", description="inclusive, on each event's first day")
def _by_dates(data, values, keep, filters, recipe) -> pd.Series:
    first, last = (pd.Timestamp(d) for d in values)
    return data["date_start"].between(first, last)


_FILTER_COLUMNS = {"dates": "date_start"}


def select(data: pd.DataFrame, filters: Mapping[str, Any], recipe: Recipe) -> pd.DataFrame:
    """The events that pass every filter (in the order of :data:`FILTER_RULES`)."""
    keep = pd.Series(True, index=data.index)
    for name in FILTER_RULES.names():
        values = filters.get(name)
        if not values:
            continue
        column = _FILTER_COLUMNS.get(name, name)
        if column not in data.columns:
            raise TrendsError(
                f"recipe {recipe.id!r}: the filter {name!r} reads column {column!r}, which "
                f"the data lack (they have {', '.join(map(str, data.columns[:40]))})"
            )
        keep &= FILTER_RULES.get(name).func(data, values, keep, filters, recipe)
    return data[keep.fillna(False).astype(bool)]


# ----------------------------------------------------------------------------- keys


def key_text(group: str, values: pd.Series) -> pd.Series:
    """Group keys as comparable text: years and codes as integers, the rest stripped."""
    if group in ("year", "type_of_violence"):
        numbers = pd.to_numeric(values, errors="coerce")
        return pd.Series(
            [str(int(v)) if pd.notna(v) else pd.NA for v in numbers],
            index=values.index,
            dtype="string",
        )
    return values.astype("string").str.strip()


def group_keys(data: pd.DataFrame, group_by: tuple[str, ...]) -> pd.DataFrame:
    """Each event's group: its period label (:func:`trends.periods.period_labels` of its
    first day) and its values in the other group columns."""
    keys = pd.DataFrame(index=data.index)
    for g in group_by:
        if g in PERIODS:
            labels = period_labels(data["date_start"], g)
            keys[g] = pd.Series(labels, index=data.index, dtype="string")
        elif g == "type_of_violence":
            keys[g] = key_text(g, data[g])
        else:
            keys[g] = data[g].astype("string")
    return keys


def published_keys(rows: pd.DataFrame, recipe: Recipe, filters: Mapping[str, Any]) -> pd.DataFrame:
    """The published rows with keys comparable to :func:`group_keys` (regions harmonised)."""
    rows = rows.copy()
    for g in recipe.group_by:
        rows[g] = key_text(g, rows[g])
    if "region" in recipe.group_by:
        rows["region"] = _harmonise(list(rows["region"]), list(filters.get("country", [])))
    return rows


def key_labels(data: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Words for coded group keys, as the reader gave them: UCDP's ``type_of_violence``
    codes are read into the canonical ``event_type`` (``"1"`` -> ``"state-based"``)."""
    if not {"type_of_violence", "event_type"} <= set(data.columns):
        return {}
    pairs = (
        pd.DataFrame(
            {
                "code": key_text("type_of_violence", data["type_of_violence"]),
                "word": data["event_type"].astype("string"),
            }  # fmt: skip
        )
        .dropna()
        .drop_duplicates("code")
    )
    return {"type_of_violence": dict(zip(pairs["code"], pairs["word"], strict=True))}


# ----------------------------------------------------------------------------- recount


def _row_window(row: pd.Series, recipe: Recipe, dates: Window | None, window: Window) -> Window:
    """The dates behind one published number: its period, within the date filter.

    Without either, the data's own coverage window (the number is a total over it).
    """
    kind = recipe.period
    if kind is None:
        return dates if dates is not None else window
    starts, ends = period_bounds([str(row[kind])], kind)
    first, last = starts.iloc[0], ends.iloc[0]
    if dates is not None:
        first, last = max(first, dates[0]), min(last, dates[1])
    return first, last


def _fmt_date(ts: pd.Timestamp) -> str:
    return str(pd.Timestamp(ts).date())


def _untested(
    published: float, measure: Measure, span: Window, window: Window, recipe: Recipe, data
) -> str:
    """Why a published number cannot be tested (empty when it can)."""
    first, last = span
    if pd.isna(published):
        return "no published number to compare"
    if measure.what == "sum" and measure.column not in data.columns:
        why = registry.get(recipe.dataset).get("measures", {}).get("not_recorded", {})
        why = why.get(measure.column, "")
        return (
            f"the data has no column {measure.column!r}"
            + (f": {why}" if why else "")
            + f" ({recipe.dataset} {recipe.version})"
        )
    if first > last:
        return "outside the recipe's date filter: not tested"
    if first < window[0] or last > window[1]:
        return (
            f"the period {_fmt_date(first)} to {_fmt_date(last)} lies "
            + ("partly " if last >= window[0] and first <= window[1] else "")
            + f"outside the data's coverage ({_fmt_date(window[0])} to "
            f"{_fmt_date(window[1])}): not tested"
        )
    return ""


def _in_group(keys: pd.DataFrame, row: pd.Series, recipe: Recipe, measure: Measure) -> pd.Series:
    """Events in the published row's group (a rank is taken among all regions)."""
    mask = pd.Series(True, index=keys.index)
    for g in recipe.group_by:
        if not (measure.rank and g == "region"):
            mask &= keys[g] == row[g]
    return mask


def range_columns(recipe: Recipe, measure: Measure, data: pd.DataFrame) -> tuple[str, str] | None:
    """The columns of the low and high bounds of the column a measure sums, if the data set
    has them (the registry's ``range``: UCDP's ``low`` and ``high`` beside ``best``; the
    canonical ``fatalities_low`` and ``fatalities_high`` beside ``fatalities``)."""
    if measure.what != "sum" or measure.rank:
        return None
    ranges = registry.get(recipe.dataset).get("measures", {}).get("range", {})
    canonical = {"fatalities": ("fatalities_low", "fatalities_high")}
    columns = ranges.get(measure.column) or canonical.get(measure.column)
    if columns is None or not set(columns) <= set(data.columns):
        return None
    return columns[0], columns[1]


def _measure(
    rows: pd.DataFrame, keys: pd.DataFrame, row: pd.Series, measure: Measure
) -> tuple[float, float]:
    """The reproduced value of one published number from its group's events, and the
    events behind it."""
    if measure.what == "events":
        values = pd.Series(1.0, index=rows.index)
    else:
        values = _numeric(rows, measure.column).fillna(0.0)
    if not measure.rank:
        return float(values.sum()), float(len(rows))
    # A rank: this row's place among all regions of the filtered data (1 = most).
    # Events located no finer than the country ("(unknown)") are not a region: left out.
    by = keys.loc[rows.index, "region"]
    totals = values.groupby(by).sum().drop(UNKNOWN_REGION, errors="ignore")
    region = row["region"]
    if region not in totals.index:
        return float(len(totals) + 1), 0.0
    ranks = totals.rank(ascending=False, method="min")
    return float(ranks[region]), float((by == region).sum())


def _bounds(rows: pd.DataFrame, columns: tuple[str, str]) -> tuple[float, float]:
    """Sums of the low and high columns (missing if any event lacks a bound)."""
    low, high = (_numeric(rows, c) for c in columns)
    if low.isna().any() or high.isna().any():
        return np.nan, np.nan
    return float(low.sum()), float(high.sum())


def recount(
    recipe: Recipe,
    incidents: Incidents,
    published: pd.DataFrame,
    filters: Mapping[str, Any],
    window: Window,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recount every published number of a recipe.

    Parameters
    ----------
    recipe : Recipe
    incidents : Incidents
        The data, as :func:`read_data` read them.
    published : DataFrame
        The published rows (:class:`~trends.reproduction.published.Published`).
    filters : mapping
        The recipe's filters, with those a claim implies.
    window : (first, last)
        The coverage window of the recipe's release.

    Returns
    -------
    table : DataFrame
        One row per published number and measure: the group keys, ``measure``,
        ``published``, ``reproduced``, ``reproduced_low`` and ``reproduced_high`` (the
        sums of the bounds, when a measure has them: :func:`range_columns`),
        ``events``, ``note`` (why it was not tested), ``context`` (over the recipe's
        context dates) and the private columns ``_tested``, ``_first``, ``_last`` (the
        dates behind the number).
    selected : DataFrame
        The events that pass the filters.
    """
    data = incidents.data
    dates = filters.get("dates")
    date_filter = (pd.Timestamp(dates[0]), pd.Timestamp(dates[1])) if dates else None
    rows = published_keys(published, recipe, filters)
    selected = select(data, filters, recipe)
    keys = group_keys(selected, recipe.group_by)
    context = None
    if recipe.context is not None:
        chosen = select(data, {**filters, "dates": recipe.context["dates"]}, recipe)
        context = (chosen, group_keys(chosen, recipe.group_by))
    ranges = {m.name: range_columns(recipe, m, data) for m in recipe.measures}
    records = []
    for _, row in rows.iterrows():
        span = _row_window(row, recipe, date_filter, window)
        for measure in recipe.measures:
            value = pd.to_numeric(pd.Series([row[measure.name]]), errors="coerce").iloc[0]
            note = _untested(value, measure, span, window, recipe, data)
            record = {g: row[g] for g in recipe.group_by}
            record.update(measure=measure.name, published=value)
            reproduced, events, bounds = np.nan, np.nan, (np.nan, np.nan)
            if not note:
                group = selected[_in_group(keys, row, recipe, measure)]
                reproduced, events = _measure(group, keys, row, measure)
                if ranges[measure.name] is not None:
                    bounds = _bounds(group, ranges[measure.name])
            has_column = measure.what != "sum" or measure.column in data.columns
            if context is not None and has_column:
                chosen, chosen_keys = context
                group = chosen[_in_group(chosen_keys, row, recipe, measure)]
                record["context"] = _measure(group, chosen_keys, row, measure)[0]
            record.update(reproduced=reproduced, events=events, _tested=not note, note=note)
            if any(r is not None for r in ranges.values()):
                record["reproduced_low"], record["reproduced_high"] = bounds
            record["_first"], record["_last"] = span
            records.append(record)
    return pd.DataFrame(records), selected


# ----------------------------------------------------------------------------- coverage


def cell_coverage(
    table: pd.DataFrame,
    selected: pd.DataFrame,
    incidents: Incidents,
    recipe: Recipe,
    span: Window,
    window: Window,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage status of the month cells behind each row, and per place overall.

    The selected events are counted by :func:`trends.count` into place x month cells
    over the recipe's dates within the coverage window; each tested row gets
    :func:`~trends.coverage_model.assess_window` of the cells of its period (and its
    place, when the recipe groups by place).
    """
    from ..counting import count
    from ..coverage_model import assess_window

    level = "region" if ("region" in recipe.group_by or recipe.filters.get("region")) else "country"
    if recipe.claim is not None and not any(m.rank for m in recipe.measures):
        level = "region"
    first, last = max(span[0], window[0]), min(span[1], window[1])
    empty = pd.DataFrame(columns=["place", "events", "coverage", "coverage_reasons"])
    table["coverage"] = pd.Series(pd.NA, index=table.index, dtype="string")
    table["coverage_reasons"] = pd.Series("", index=table.index, dtype="string")
    if selected.empty or first > last:
        table.loc[table["_tested"], "coverage"] = "uncovered" if first > last else "insufficient"
        table.loc[table["_tested"], "coverage_reasons"] = "no events in the filtered data"
        return table, empty
    subset = Incidents(
        data=selected.reset_index(drop=True),
        ledger=make_ledger(len(selected), {}),
        source=incidents.source,
    )
    cells = count(
        subset, region=level, period="month",
        start=first.strftime("%Y-%m"), end=last.strftime("%Y-%m"),
    )  # fmt: skip
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
    return table, _place_coverage(cells, selected, recipe, level, (first, last))


def _place_coverage(
    cells: pd.DataFrame, selected: pd.DataFrame, recipe: Recipe, level: str, span: Window
) -> pd.DataFrame:
    """Per place: the events and each summed column (and its low and high bounds) over the
    span, and its coverage."""
    from ..coverage_model import assess_window

    inside = selected[selected["date_start"].between(*span)]
    sums = {}
    for m in recipe.measures:
        if m.what != "sum" or m.column not in inside.columns or m.rank:
            continue
        sums[m.name] = _numeric(inside, m.column).groupby(inside[level]).sum()
        bounds = range_columns(recipe, m, inside)
        for suffix, column in zip(("low", "high"), bounds or (), strict=False):
            sums[f"{m.name}_{suffix}"] = _numeric(inside, column).groupby(inside[level]).sum()
    rows = []
    for place, group in cells.groupby("region", sort=True):
        status, why = assess_window(group)
        row = {"place": place, "events": float(group["events"].sum())}
        row.update({name: float(s.get(place, 0.0)) for name, s in sums.items()})
        row.update(coverage=status, coverage_reasons="; ".join(why))
        rows.append(row)
    return pd.DataFrame(rows, columns=["place", "events", *sums, "coverage", "coverage_reasons"])
