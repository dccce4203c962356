"""Counting: incidents into region x period cells.

The counting is written once, as SQL run by DuckDB (embedded, no server): over a
pandas frame it queries the frame in place; over a CSV or Parquet path it streams
the file without loading it into pandas. Only the small cell table comes back.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DateError, DuplicateIdError, SchemaError, TrendsError
from .incidents import UNKNOWN_REGION, Incidents, SourceInfo, make_ledger
from .periods import (
    PERIODS,
    period_bounds,
    period_labels,
    period_range,
    to_period_end_label,
    to_period_label,
)

__all__ = ["count", "SPANS"]

logger = logging.getLogger(__name__)

#: How an incident whose dates run over several periods is counted.
SPANS = ("start", "split", "exclude")

_COARSE_DATE = {  # date precisions coarser than each period
    "week": ("month", "year"),
    "month": ("year",),
    "quarter": ("year",),
    "year": (),
}
_COARSE_LOCATION = {  # location precisions coarser than each grouping level
    "subregion": ("region", "country", "unknown"),
    "region": ("country", "unknown"),
    "country": ("unknown",),
}
_TRUNC = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}
_OPTIONAL = {
    "date_end": "NULL::DATE",
    "date_precision": "NULL::VARCHAR",
    "location_precision": "NULL::VARCHAR",
    "country": "NULL::VARCHAR",
    "n_sources": "NULL::BIGINT",
    "sources": "NULL::VARCHAR",
    "fatalities": "NULL::DOUBLE",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def count(
    incidents: Incidents | pd.DataFrame | str | Path,
    region: str = "region",
    period: str = "month",
    *,
    start: str | None = None,
    end: str | None = None,
    span: str = "start",
    coverage: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Count incidents by region and period, with what coverage assessment needs.

    Parameters
    ----------
    incidents : Incidents, DataFrame, or path
        Canonical incidents. A CSV or Parquet path (canonical column names) is
        counted by DuckDB without loading the file into pandas.
    region : str, default ``"region"``
        Column to group by: ``region`` (admin-1), ``subregion`` or ``country``.
        An incident located no finer than this level is counted in a region named
        ``(unknown)`` of its country, so region totals add up to country totals.
        A region name found in several countries is written ``name, country``.
    period : {"month", "quarter", "year", "week"}
        ISO 8601 weeks run Monday to Sunday.
    start, end : str, optional
        First and last period of the table (a period label or a date). By default
        the source's coverage window. Periods outside the coverage window get a
        missing ``count`` and ``covered=False``: uncovered is not zero.
    span : {"start", "split", "exclude"}, default ``"start"``
        An incident whose dates run over several periods is counted in the period
        of its first day (``start``, UCDP's own convention for yearly totals),
        shared out over the periods in proportion to its days (``split``: counts
        become fractional), or set aside in the ledger (``exclude``).
    coverage : (first, last), optional
        Declare the coverage window (dates) instead of the source's.

    Returns
    -------
    DataFrame
        One row per region x period in ``start``..``end``, zeros included, sorted by
        region and period, with the columns documented in :mod:`trends.cells`:
        ``country, region, period, period_start, period_end, covered, count,
        exposure`` (days of the period inside the coverage window), ``events,
        events_unknown_sources, events_single_source, events_coarse_location,
        events_coarse_date, n_sources, top_source, top_source_events,
        source_counts, fatalities``. ``.attrs["ledger"]`` (a dict reason -> rows)
        accounts for every input row (``counted`` or the reason it was set aside), ``.attrs["source"]``
        describes the source and ``.attrs["period"]`` the period.
    """
    if period not in PERIODS:
        raise TrendsError(f"period={period!r} is not one of {list(PERIODS)}")
    if span not in SPANS:
        raise TrendsError(f"span={span!r} is not one of {list(SPANS)}")
    if region not in _COARSE_LOCATION:
        raise TrendsError(f"region={region!r} is not one of {list(_COARSE_LOCATION)}")

    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        relation, source, reader_ledger, rows_read = _relation(con, incidents)
        if coverage is not None:
            window = (pd.Timestamp(coverage[0]), pd.Timestamp(coverage[1]))
        elif source.coverage is not None:
            window = source.coverage
        else:
            first, last = con.execute(
                f"SELECT min(CAST(date_start AS DATE)), max(CAST(coalesce(date_end, date_start) AS DATE)) FROM {relation}"
            ).fetchone()
            if first is None:
                raise TrendsError(f"{source.path or 'incidents'}: no incident has a date")
            window = (pd.Timestamp(first), pd.Timestamp(last))
        first_label = (
            to_period_label(start, period) if start else period_labels([window[0]], period)[0]
        )
        last_label = (
            to_period_end_label(end, period) if end else period_labels([window[1]], period)[0]
        )
        labels = period_range(first_label, last_label, period)
        if not labels:
            raise TrendsError(
                f"the first period {first_label} is after the last {last_label}; "
                "check start= and end= against the source's coverage"
            )
        grid_start, _ = period_bounds([labels[0]], period)
        _, grid_end = period_bounds([labels[-1]], period)
        cells, outcomes = _aggregate(
            con, relation, region, period, span, grid_start[0], grid_end[0], window
        )
    finally:
        con.close()

    table = _densify(cells, labels, period, region, window)
    ledger_rows = {r: n for r, n in reader_ledger.items() if r != "kept"}
    ledger_rows.update({reason: n for reason, n in outcomes.items() if reason != "counted"})
    ledger = make_ledger(rows_read, ledger_rows)
    # A plain dict, not a DataFrame: pandas compares attrs when concatenating frames.
    table.attrs["ledger"] = {
        ("counted" if r == "kept" else r): int(n)
        for r, n in zip(ledger["reason"], ledger["rows"], strict=True)
    }
    table.attrs["source"] = source.as_dict()
    table.attrs["period"] = period
    table.attrs["span"] = span
    logger.info("counted %s incidents into %d cells", f"{outcomes.get('counted', 0):,}", len(table))
    return table


def _relation(con, incidents) -> tuple[str, SourceInfo, dict[str, int], int]:
    """Register the input with DuckDB; return its relation name and what is known of it."""
    if isinstance(incidents, Incidents):
        con.register("incidents_frame", incidents.data)
        ledger = dict(zip(incidents.ledger["reason"], incidents.ledger["rows"], strict=True))
        return (
            _select(con, "incidents_frame", "incidents"),
            incidents.source,
            ledger,
            incidents.rows_read,
        )
    if isinstance(incidents, pd.DataFrame):
        con.register("incidents_frame", incidents)
        return (
            _select(con, "incidents_frame", "data frame"),
            SourceInfo(name="data frame"),
            {"kept": len(incidents)},
            len(incidents),
        )
    path = Path(incidents)
    if not path.exists():
        raise TrendsError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        scan = f"read_parquet({_literal(str(path))})"
    else:
        scan = f"read_csv({_literal(str(path))}, header=true)"
    name = _select(con, scan, str(path))
    facts = _validate_scan(con, name, str(path))
    rows, missing = facts["rows"], facts["missing"]
    return (
        name,
        SourceInfo(name=path.name, path=str(path)),
        {"kept": rows - missing, "date missing": missing},
        rows,
    )


def _select(con, scan: str, label: str) -> str:
    """A view over ``scan`` with the canonical columns the counting reads, typed."""
    columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    for needed in ("event_id", "date_start"):
        if needed not in columns:
            raise SchemaError(
                f"missing column {needed!r}; counting needs canonical columns",
                file=label,
                column=needed,
            )
    parts = ["CAST(event_id AS VARCHAR) AS event_id", "CAST(date_start AS DATE) AS date_start"]
    for name, default in _OPTIONAL.items():
        if name in columns:
            kind = default.split("::")[1]
            parts.append(f"CAST({_quote(name)} AS {kind}) AS {name}")
        else:
            parts.append(f"{default} AS {name}")
    for name in ("region", "subregion"):
        parts.append(
            f"CAST({_quote(name)} AS VARCHAR) AS {name}"
            if name in columns
            else f"NULL::VARCHAR AS {name}"
        )
    con.execute(f"CREATE TEMP VIEW canon AS SELECT {', '.join(parts)} FROM {scan}")
    return "canon"


def _validate_scan(con, name: str, file: str) -> dict[str, int]:
    """The checks a reader makes, for a file counted straight from disk.

    One pass counts rows, distinct id hashes, missing start dates and backward date
    ranges; the slower look-ups that name offenders run only when something is wrong.
    Equal ids have equal hashes, so as many distinct hashes as rows proves the ids
    unique; fewer (duplicates, or a rare hash collision) sends us to the exact check.
    """
    rows, hashes, missing, backward = con.execute(
        f"SELECT count(*), count(DISTINCT hash(event_id)), count(*) FILTER (WHERE date_start IS NULL),"
        f" count(*) FILTER (WHERE date_end < date_start) FROM {name}"
    ).fetchone()
    if hashes < rows:
        dup = con.execute(
            f"SELECT event_id FROM {name} GROUP BY event_id HAVING count(*) > 1 ORDER BY event_id LIMIT 10"
        ).fetchall()
        if dup:
            raise DuplicateIdError(
                f"event ids appear more than once: {', '.join(str(d[0]) for d in dup)}",
                file=file,
                column="event_id",
            )
    if backward:
        back = con.execute(
            f"SELECT event_id, date_start, date_end FROM {name} WHERE date_end < date_start LIMIT 1"
        ).fetchone()
        raise DateError(
            f"event {back[0]}: date_end {back[2]} is before date_start {back[1]}",
            file=file,
            column="date_end",
        )
    return {"rows": rows, "missing": missing}


def _aggregate(con, relation, region, period, span, grid_start, grid_end, window):
    """Run the counting queries: cells with measures and source mix, and outcomes.

    Two passes over the input: one groups every incident by outcome, region and
    period (the ledger and the cell measures), one groups the outlets each incident
    names by cell (the source mix). Period labels are attached later, per cell.
    """
    unit = _TRUNC[period]
    coarse_loc = ", ".join(_literal(v) for v in _COARSE_LOCATION[region])
    coarse_date = ", ".join(_literal(v) for v in _COARSE_DATE[period]) or "NULL"
    lo = max(pd.Timestamp(grid_start), window[0]).date().isoformat()
    hi = min(pd.Timestamp(grid_end), window[1]).date().isoformat()
    g_lo, g_hi = (
        pd.Timestamp(grid_start).date().isoformat(),
        pd.Timestamp(grid_end).date().isoformat(),
    )
    region_expr = (
        "country"
        if region == "country"
        else f"CASE WHEN location_precision IN ({coarse_loc}) OR {region} IS NULL "
        f"THEN {_literal(UNKNOWN_REGION)} ELSE {region} END"
    )
    # The outcome of each incident: counted, or why it is set aside. With span="split"
    # an incident is counted if any of its days fall in the range and window (the
    # days outside are dropped); otherwise its first day decides.
    last_day = "coalesce(date_end, date_start)" if span == "split" else "date_start"
    con.execute(f"""
        CREATE TEMP VIEW ev AS
        SELECT coalesce(country, {_literal(UNKNOWN_REGION)}) AS country, {region_expr} AS region,
               date_start AS d0, coalesce(date_end, date_start) AS d1,
               date_precision, location_precision, n_sources, sources, fatalities,
               CASE
                 WHEN date_start IS NULL THEN 'date missing'
                 WHEN {last_day} < DATE '{window[0].date()}' OR date_start > DATE '{window[1].date()}'
                   THEN 'outside the coverage window'
                 WHEN {last_day} < DATE '{g_lo}' OR date_start > DATE '{g_hi}'
                   THEN 'outside period range'
                 WHEN {"true" if span == "exclude" else "false"}
                      AND date_trunc('{unit}', date_start) <> date_trunc('{unit}', coalesce(date_end, date_start))
                   THEN 'spans several periods (span=exclude)'
                 ELSE 'counted'
               END AS outcome
        FROM {relation}""")
    # Parts: one row per incident and period p with its weight w. Only span="split"
    # makes several parts of a counted incident (``first`` marks the one that stands
    # for the incident in the ledger); parts outside the periods asked for and the
    # coverage window are not ``kept`` in a cell.
    if span == "split":
        parts = f"""
            SELECT e.*, p,
                   (least(e.d1, CAST(p + INTERVAL 1 {unit} - INTERVAL 1 DAY AS DATE))
                    - greatest(e.d0, CAST(p AS DATE)) + 1) / (e.d1 - e.d0 + 1)::DOUBLE AS w
            FROM ev e, unnest(CASE WHEN e.outcome = 'counted'
                                   THEN generate_series(date_trunc('{unit}', e.d0),
                                                        date_trunc('{unit}', e.d1), INTERVAL 1 {unit})
                                   ELSE [date_trunc('{unit}', e.d0)] END) AS t(p)"""
    else:
        parts = f"SELECT e.*, date_trunc('{unit}', e.d0) AS p, 1.0::DOUBLE AS w FROM ev e"
    # Views, not tables: each query below streams the input again rather than holding
    # a copy of millions of rows in memory.
    con.execute(f"""
        CREATE TEMP VIEW parts AS
        SELECT *, p IS NOT DISTINCT FROM date_trunc('{unit}', d0) AS first,
               outcome = 'counted' AND p >= date_trunc('{unit}', DATE '{lo}') AND p <= DATE '{hi}'
                   AS kept
        FROM ({parts})""")
    groups = con.execute(f"""
        SELECT outcome, kept, country, region, CAST(p AS DATE) AS p,
               count(*) FILTER (WHERE first) AS incidents,
               sum(w) AS count, count(*) AS events,
               coalesce(sum(w) FILTER (WHERE n_sources IS NULL), 0) AS events_unknown_sources,
               coalesce(sum(w) FILTER (WHERE n_sources = 1), 0) AS events_single_source,
               coalesce(sum(w) FILTER (WHERE location_precision IN ({coarse_loc})), 0)
                   AS events_coarse_location,
               coalesce(sum(w) FILTER (WHERE date_precision IN ({coarse_date})), 0)
                   AS events_coarse_date,
               count(*) FILTER (WHERE sources IS NOT NULL) AS events_named,
               sum(w * fatalities) AS fatalities
        FROM parts GROUP BY ALL""").df()
    outcomes = groups.groupby("outcome")["incidents"].sum().astype(int).to_dict()
    cells = groups[groups["kept"]].drop(columns=["outcome", "kept", "incidents"])
    cells = cells.assign(p=cells["p"].astype("datetime64[ns]"))
    outlets = _arrow(
        con.sql("""
        SELECT country, region, CAST(p AS DATE) AS p, source, round(sum(w), 9) AS events
        FROM (SELECT country, region, p, w, trim(unnest(string_split(sources, ';'))) AS source
              FROM parts WHERE kept AND sources IS NOT NULL)
        WHERE source <> '' GROUP BY ALL""")
    )
    return cells.merge(_source_mix(outlets), on=["country", "region", "p"], how="left"), outcomes


def _arrow(relation) -> pa.Table:
    """A DuckDB relation's rows as an Arrow table (the method's name changed in 1.4)."""
    fetch = getattr(relation, "to_arrow_table", None)
    return fetch() if fetch is not None else relation.arrow()


def _codes(column: pa.ChunkedArray, values: list | None = None) -> tuple[np.ndarray, list]:
    """Integer codes of a column's values in ``values`` (default: its distinct values, sorted)."""
    if values is None:
        values = sorted(pc.unique(column).to_pylist())
    codes = pc.index_in(column, value_set=pa.array(values, type=column.type))
    return codes.to_numpy(), values


def _source_mix(outlets: pa.Table) -> pd.DataFrame:
    """Per cell: distinct outlets, the top one (most events, then name), the mix as JSON.

    ``outlets`` has one row per cell (country, region, p) and outlet, in any order.
    The rows are sorted by cell and outlet name with integer codes, and each cell's
    JSON object is assembled from its run of rows, keys in name order.
    """
    keys = ["country", "region", "p"]
    if outlets.num_rows == 0:
        columns = [*keys, "source_counts", "n_sources", "top_source", "top_source_events"]
        return pd.DataFrame(columns=columns).astype({"p": "datetime64[ns]", "n_sources": float})
    country, countries = _codes(outlets["country"])
    region, regions = _codes(outlets["region"])
    p = outlets["p"].cast(pa.int32()).to_numpy()
    source, names = _codes(outlets["source"])
    order = np.lexsort((source, p, region, country))
    country, region, p, source = country[order], region[order], p[order], source[order]
    events = outlets["events"].to_numpy()[order]
    # each cell is a run of rows: its first row starts a new (country, region, p)
    new_cell = np.ones(len(order), dtype=bool)
    new_cell[1:] = (country[1:] != country[:-1]) | (region[1:] != region[:-1]) | (p[1:] != p[:-1])
    starts = np.flatnonzero(new_cell)
    stops = np.append(starts[1:], len(order))
    cell = np.cumsum(new_cell) - 1
    # the top outlet: the first (by name) of the cell's rows with its most events
    is_top = events == np.maximum.reduceat(events, starts)[cell]
    top = np.flatnonzero(is_top)
    top = top[np.append(True, cell[top][1:] != cell[top][:-1])]
    # the mix: one JSON fragment per distinct (outlet, events) pair, joined per cell
    values, value_code = np.unique(events, return_inverse=True)
    value_text = pd.Series(values).astype(str).tolist()
    pair = source.astype(np.int64) * len(values) + value_code
    pair_code, pair_index = np.unique(pair, return_inverse=True)
    name_text = [json.dumps(str(n), ensure_ascii=False) for n in names]
    fragments = np.array(
        [f"{name_text[c // len(values)]}: {value_text[c % len(values)]}" for c in pair_code],
        dtype=object,
    )[pair_index].tolist()
    mix = [
        "{" + ", ".join(fragments[a:b]) + "}"
        for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
    ]
    return pd.DataFrame(
        {
            "country": np.array(countries, dtype=object)[country[starts]],
            "region": np.array(regions, dtype=object)[region[starts]],
            "p": p[starts].astype("datetime64[D]").astype("datetime64[ns]"),
            "source_counts": mix,
            "n_sources": (stops - starts).astype(float),
            "top_source": np.array(names, dtype=object)[source[top]],
            "top_source_events": events[top].astype(float),
        }
    )


def _densify(cells, labels, period, region, window) -> pd.DataFrame:
    """The full grid: every region seen x every period, zeros in, uncovered marked."""
    starts, ends = period_bounds(labels, period)
    grid = pd.DataFrame({"period": labels, "period_start": starts, "period_end": ends})
    lo, hi = window
    overlap_start = grid["period_start"].clip(lower=lo)
    overlap_end = grid["period_end"].clip(upper=hi)
    days = (overlap_end - overlap_start).dt.days + 1
    grid["covered"] = days > 0
    grid["exposure"] = days.clip(lower=0).astype(float)
    regions = cells[["country", "region"]].drop_duplicates()
    if regions.empty:
        raise TrendsError("no incident falls inside the periods and coverage window asked for")
    table = regions.merge(grid, how="cross")
    # cells carry their period's first day, p; the grid gives it its label
    measures = cells.rename(columns={"p": "period_start"})
    table = table.merge(measures, on=["country", "region", "period_start"], how="left")
    counts = [
        "count",
        "events",
        "events_unknown_sources",
        "events_single_source",
        "events_coarse_location",
        "events_coarse_date",
        "events_named",
    ]
    for col in counts:
        table[col] = table[col].astype(float).fillna(0.0).where(table["covered"])
    table["fatalities"] = table["fatalities"].astype(float)
    table.loc[
        table["covered"] & table["fatalities"].isna() & (table["events"] == 0), "fatalities"
    ] = 0.0
    covered = table["covered"]
    for col in ("n_sources", "top_source_events"):
        table[col] = table[col].astype(float).fillna(0.0).where(covered)
    table["top_source"] = table["top_source"].astype("string")
    table["source_counts"] = table["source_counts"].astype("string")
    # n_sources is unknown where the cell has events but none name an outlet
    unknown = table["covered"] & (table["events"] > 0) & (table["events_named"] == 0)
    table.loc[unknown, ["n_sources", "top_source_events"]] = np.nan
    table = table.drop(columns=["events_named"])
    shared = table.groupby("region")["country"].transform("nunique") > 1
    if region != "country" and shared.any():
        table["region"] = table["region"].where(~shared, table["region"] + ", " + table["country"])
    table["region"] = table["region"].astype("string")
    table["country"] = table["country"].astype("string")
    table["period"] = table["period"].astype("string")
    order = [
        "country",
        "region",
        "period",
        "period_start",
        "period_end",
        "covered",
        "count",
        "exposure",
        "events",
        "events_unknown_sources",
        "events_single_source",
        "events_coarse_location",
        "events_coarse_date",
        "n_sources",
        "top_source",
        "top_source_events",
        "source_counts",
        "fatalities",
    ]
    table = (
        table[order].sort_values(["region", "period_start"], kind="stable").reset_index(drop=True)
    )
    return table
