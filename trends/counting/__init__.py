"""Counting: incidents into region x period cells.

The counting is written once, as SQL run by DuckDB (embedded, no server): over a
pandas frame it queries the frame in place; over a CSV or Parquet path it reads
the file without loading it into pandas. What comes back is small (one row per
cell) except the outlets each incident names, which numpy sorts by cell and
outlet to assemble each cell's source mix.
"""

from __future__ import annotations

import itertools
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
#: A cell's id in the outlets query: a salted hash of its key (checked to be unique).
_CELL_ID = "hash(country, region, p, {salt})"
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
    # the queries sort what they need; DuckDB may stream rows in any order
    con.execute("SET preserve_insertion_order = false")
    if span == "split":
        # Fractional weights: a float sum depends on the order of its terms, and
        # threads add them in whatever order they finish. One thread adds them in
        # input order, so the same input gives the same bits.
        con.execute("SET threads = 1")
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
    parquet = path.suffix.lower() in (".parquet", ".pq")
    if parquet:
        scan = f"read_parquet({_literal(str(path))})"
    else:
        scan = f"read_csv({_literal(str(path))}, header=true)"
    # A CSV file is parsed once into a table of the columns counted (a few hundred MB
    # for millions of rows); a Parquet file is cheap to read again for each query.
    name = _select(con, scan, str(path), materialise=not parquet)
    facts = _validate_scan(con, name, str(path))
    rows, missing = facts["rows"], facts["missing"]
    return (
        name,
        SourceInfo(name=path.name, path=str(path)),
        {"kept": rows - missing, "date missing": missing},
        rows,
    )


def _select(con, scan: str, label: str, *, materialise: bool = False) -> str:
    """A view (or table) over ``scan`` with the canonical columns the counting reads, typed."""
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
    kind = "TABLE" if materialise else "VIEW"
    con.execute(f"CREATE TEMP {kind} canon AS SELECT {', '.join(parts)} FROM {scan}")
    return "canon"


def _validate_scan(con, name: str, file: str) -> dict[str, int]:
    """The checks a reader makes, for a file counted straight from disk.

    One pass fetches a hash of every event id and flags missing and backward dates;
    the slower look-ups that name offenders run only when something is wrong. Equal
    ids have equal hashes, so no repeated hash proves the ids unique; a repeat
    (a duplicate, or a rare hash collision) sends us to the exact check.
    """
    scan = con.execute(
        f"SELECT hash(event_id) AS id, date_start IS NULL AS missing,"
        f" coalesce(date_end < date_start, false) AS backward FROM {name}"
    ).fetchnumpy()
    ids = np.sort(scan["id"])
    if (ids[1:] == ids[:-1]).any():
        dup = con.execute(
            f"SELECT event_id FROM {name} GROUP BY event_id HAVING count(*) > 1"
            " ORDER BY event_id LIMIT 10"
        ).fetchall()
        if dup:
            raise DuplicateIdError(
                f"event ids appear more than once: {', '.join(str(d[0]) for d in dup)}",
                file=file,
                column="event_id",
            )
    if scan["backward"].any():
        back = con.execute(
            f"SELECT event_id, date_start, date_end FROM {name} WHERE date_end < date_start LIMIT 1"
        ).fetchone()
        raise DateError(
            f"event {back[0]}: date_end {back[2]} is before date_start {back[1]}",
            file=file,
            column="date_end",
        )
    return {"rows": len(ids), "missing": int(scan["missing"].sum())}


def _aggregate(con, relation, region, period, span, grid_start, grid_end, window):
    """Run the counting queries: outcomes, cells with measures and source mix.

    Three passes over the input: the outcome of every incident (the ledger), the
    counted incidents grouped by region and period (the cell measures), and the
    outlets each counted incident names, by cell (the source mix). Period labels
    are attached later, per cell.
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
    outcomes = dict(con.execute("SELECT outcome, count(*) FROM ev GROUP BY outcome").fetchall())
    # Parts: one row per counted incident and period p with its weight w (only
    # span="split" makes several parts of an incident, with fractional weights).
    # Views, not tables: each query below streams the input again rather than holding
    # a copy of millions of rows in memory.
    counted = "(SELECT * FROM ev WHERE outcome = 'counted') e"
    if span == "split":
        parts = f"""
            SELECT e.*, p,
                   (least(e.d1, CAST(p + INTERVAL 1 {unit} - INTERVAL 1 DAY AS DATE))
                    - greatest(e.d0, CAST(p AS DATE)) + 1) / (e.d1 - e.d0 + 1)::DOUBLE AS w
            FROM {counted}, unnest(generate_series(date_trunc('{unit}', e.d0),
                                                   date_trunc('{unit}', e.d1), INTERVAL 1 {unit})) AS t(p)"""
    else:
        parts = f"SELECT e.*, date_trunc('{unit}', e.d0) AS p, 1.0::DOUBLE AS w FROM {counted}"
    in_window = f"p >= date_trunc('{unit}', DATE '{lo}') AND p <= DATE '{hi}'"
    con.execute(f"CREATE TEMP VIEW parts AS SELECT * FROM ({parts}) WHERE {in_window}")

    def share(condition: str) -> str:  # the weight of the parts that meet a condition
        return f"sum(CASE WHEN {condition} THEN w ELSE 0 END)"

    # The outlets query names each part's cell by a hash of the cell's key rather than
    # carrying the key's strings; a salt is added until no two cells share a hash (the
    # first try fails with a chance of about one in a billion).
    for salt in itertools.count():
        cell_id = _CELL_ID.format(salt=salt)
        cells = _arrow(
            con.sql(f"""
            SELECT {cell_id} AS cell, country, region, p,
                   sum(w) AS count, count(*) AS events,
                   {share("n_sources IS NULL")} AS events_unknown_sources,
                   {share("n_sources = 1")} AS events_single_source,
                   {share(f"location_precision IN ({coarse_loc})")} AS events_coarse_location,
                   {share(f"date_precision IN ({coarse_date})")} AS events_coarse_date,
                   count(sources) AS events_named,
                   sum(w * fatalities) AS fatalities
            FROM parts GROUP BY country, region, p""")
        ).to_pandas()
        if cells["cell"].is_unique:
            break
    weight = ", w" if span == "split" else ""  # otherwise every weight is 1
    outlets = _arrow(
        con.sql(f"""
        SELECT cell, source{weight}
        FROM (SELECT {cell_id} AS cell, w, trim(unnest(string_split(sources, ';'))) AS source
              FROM parts WHERE sources IS NOT NULL)
        WHERE source <> ''""")
    )
    mix = _source_mix(outlets, cells["cell"].to_numpy())
    cells = cells.drop(columns="cell").assign(p=cells["p"].astype("datetime64[ns]"), **mix)
    return cells, outcomes


def _arrow(relation) -> pa.Table:
    """A DuckDB relation's rows as an Arrow table (the method's name changed in 1.4)."""
    fetch = getattr(relation, "to_arrow_table", None)
    return fetch() if fetch is not None else relation.arrow()


def _source_mix(outlets: pa.Table, cells: np.ndarray) -> dict[str, object]:
    """Per cell: distinct outlets, the top one (most events, then name), the mix as JSON.

    ``outlets`` has one row per incident part and outlet named: ``cell`` (an id in
    ``cells``), ``source`` and the part's weight ``w`` (absent: 1). The rows are
    sorted by cell and outlet name (integer codes), summed per cell and outlet, and
    each cell's JSON object is joined from its run of rows, keys in name order
    (code point order, as ``json.dumps(..., sort_keys=True)``). Returns columns
    aligned with ``cells``, missing where a cell names no outlet.
    """
    empty = np.full(len(cells), np.nan)
    if outlets.num_rows == 0:
        none = pd.array([None] * len(cells), dtype="string")
        return {
            "source_counts": none,
            "n_sources": empty,
            "top_source": none,
            "top_source_events": empty,
        }
    # integer codes: the cell's row in ``cells``, the outlet's rank by name
    cell = pd.Index(cells).get_indexer(outlets["cell"].to_numpy())
    if (cell < 0).any():  # both queries read the same parts: this cannot happen
        raise AssertionError("count: an outlet row names no cell")
    source = outlets["source"].combine_chunks().dictionary_encode()
    names = np.array(source.dictionary.to_pylist(), dtype=object)
    by_name = np.argsort(names)
    rank = np.empty(len(names), dtype=np.int64)
    rank[by_name] = np.arange(len(names))
    names = names[by_name]
    key = cell * len(names) + rank[source.indices.to_numpy()]
    # one row per cell and outlet, in cell then name order, with its events
    order = _argsort(key)
    key = key[order]
    starts = np.flatnonzero(np.append(True, key[1:] != key[:-1]))
    if "w" in outlets.column_names:
        events = _round9(np.add.reduceat(outlets["w"].to_numpy()[order], starts))
    else:
        events = np.diff(np.append(starts, len(key))).astype(float)
    cell, source = np.divmod(key[starts], len(names))
    # each cell is a run of rows
    first = np.flatnonzero(np.append(True, cell[1:] != cell[:-1]))
    run = np.cumsum(np.append(True, cell[1:] != cell[:-1])) - 1
    # the top outlet: the first (by name) of the cell's rows with its most events
    top = np.flatnonzero(events == np.maximum.reduceat(events, first)[run])
    top = top[np.append(True, run[top][1:] != run[top][:-1])]
    # the mix: '"name": events' fragments (events formatted as Python does), joined
    # by ", " per cell; the first and last of a cell carry its braces. The text is
    # made once for each distinct (outlet, events, first, last) and then repeated.
    value, values = pd.factorize(events)
    opens = np.zeros(len(cell), dtype=np.int64)
    opens[first] = 1
    closes = np.zeros(len(cell), dtype=np.int64)
    closes[np.append(first[1:], len(cell)) - 1] = 1
    kind, kinds = pd.factorize(((source * len(values) + value) * 2 + opens) * 2 + closes)
    name_text = [json.dumps(str(n), ensure_ascii=False) for n in names]
    value_text = pd.Series(values).astype(str).tolist()

    def fragment(code: int) -> str:
        code, close = divmod(code, 2)
        code, open_ = divmod(code, 2)
        name, value = divmod(code, len(values))
        return "{" * open_ + f"{name_text[name]}: {value_text[value]}" + "}" * close

    text = pa.large_string()  # the joined mixes may pass 2 GB
    fragments = pa.array([fragment(c) for c in kinds.tolist()], type=text).take(kind)
    runs = pa.ListArray.from_arrays(np.append(first, len(cell)).astype(np.int32), fragments)
    mix = pc.binary_join(runs, pa.scalar(", ", text))
    # back to one entry per cell (runs are in cell order, a cell without outlets has none)
    at = np.full(len(cells), -1)
    at[cell[first]] = np.arange(len(first))
    slot = pa.array(at, mask=at < 0)
    n_sources = np.bincount(run, minlength=len(first)).astype(float)
    return {
        "source_counts": (mix if len(first) == len(cells) else mix.take(slot))
        .to_pandas()
        .astype("string"),
        "n_sources": np.where(at < 0, np.nan, n_sources[at]),
        "top_source": pa.array(names[source[top]]).take(slot).to_pandas().astype("string"),
        "top_source_events": np.where(at < 0, np.nan, events[top][at]),
    }


def _argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for non-negative integer keys, faster.

    Each key is packed with its position into one int64, so a plain (vectorised)
    sort orders the keys and carries the positions along.
    """
    bits = len(key).bit_length()
    if len(key) == 0 or int(key.max()) >= 2 ** (63 - bits):
        return np.argsort(key, kind="stable")
    packed = np.sort((key << bits) | np.arange(len(key)))
    return packed & ((1 << bits) - 1)


def _round9(x: np.ndarray) -> np.ndarray:
    """Round to 9 decimals as Python's round() does (correctly rounded, as DuckDB 2's round).

    Sums of ``span="split"`` weights carry float noise; rounding keeps the JSON short.
    Whole numbers (every sum with other spans) are left as they are.
    """
    out = x.copy()
    fractional = np.flatnonzero(x != np.floor(x))
    out[fractional] = [round(v, 9) for v in x[fractional].tolist()]
    return out


def _densify(cells, labels, period, region, window) -> pd.DataFrame:
    """The full grid: every region seen x every period, zeros in, uncovered marked.

    Built by position: each grid row (region x period) looks up its cell's row in
    ``cells`` (-1: no incident there), so each column is gathered once.
    """
    starts, ends = period_bounds(labels, period)
    lo, hi = window
    days = ((ends.clip(upper=hi) - starts.clip(lower=lo)).dt.days + 1).to_numpy()
    regions = cells[["country", "region"]].drop_duplicates()
    if regions.empty:
        raise TrendsError("no incident falls inside the periods and coverage window asked for")
    names = regions["region"].astype("string")
    shared = regions.groupby("region")["country"].transform("nunique") > 1
    if region != "country" and shared.any():  # a name found in several countries
        names = names.where(~shared.to_numpy(), names + ", " + regions["country"].astype("string"))
    # grid rows in table order: regions by name, then periods in order (a stable
    # sort, so regions sharing a name keep their order)
    n_periods = len(labels)
    cell_region = cells.groupby(["country", "region"], sort=False).ngroup().to_numpy()
    cell_period = pd.Index(starts).get_indexer(cells["p"])
    cell_at = np.full(len(regions) * n_periods, -1)
    cell_at[cell_region * n_periods + cell_period] = np.arange(len(cells))
    name_rank = pd.factorize(names, sort=True)[0]
    grid_region = np.repeat(np.arange(len(regions)), n_periods)
    grid_period = np.tile(np.arange(n_periods), len(regions))
    order = np.lexsort((grid_period, name_rank[grid_region]))
    at, rg, pe = cell_at[order], grid_region[order], grid_period[order]
    has_cell = at >= 0
    covered = days[pe] > 0

    def gather(column: str, fill: float) -> np.ndarray:
        values = cells[column].to_numpy(dtype=float, na_value=np.nan)
        return np.where(has_cell, values[at], fill)

    table = pd.DataFrame(
        {
            "country": regions["country"].astype("string").array.take(rg),
            "region": names.array.take(rg),
            "period": pd.array(labels, dtype="string").take(pe),
            "period_start": starts.to_numpy()[pe],
            "period_end": ends.to_numpy()[pe],
            "covered": covered,
            "exposure": np.clip(days, 0, None).astype(float)[pe],
        }
    )
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
        table[col] = np.where(covered, gather(col, 0.0), np.nan)
    fatalities = gather("fatalities", np.nan)
    fatalities[covered & np.isnan(fatalities) & (table["events"] == 0).to_numpy()] = 0.0
    table["fatalities"] = fatalities
    for col in ("n_sources", "top_source_events"):
        table[col] = np.where(covered, np.nan_to_num(gather(col, 0.0), nan=0.0), np.nan)
    for col in ("top_source", "source_counts"):
        table[col] = (
            cells[col].astype("string").array.take(np.where(has_cell, at, -1), allow_fill=True)
        )
    # n_sources is unknown where the cell has events but none name an outlet
    unknown = covered & (table["events"] > 0).to_numpy() & (table["events_named"] == 0).to_numpy()
    table.loc[unknown, ["n_sources", "top_source_events"]] = np.nan
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
    return table[order]
