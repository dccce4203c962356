"""The reference engine: the counting as SQL, run by DuckDB (embedded, no server).

Over a pandas frame it queries the frame in place; over a CSV or Parquet path it
reads the file without loading it into pandas. What comes back is small: one row
per cell and incident length, and one per cell, outlet and length (the source mix),
as :class:`~trends.counting.plan.Aggregates` describes. Every other engine
(:mod:`trends.counting.lazy`) must give the same cells; the equivalence tests hold
them to it.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import DateError, DuplicateIdError, SchemaError
from ..incidents import UNKNOWN_REGION, Incidents, SourceInfo
from .outlets import OutletCodes
from .plan import (
    COARSE_DATE,
    COARSE_LOCATION,
    OUTCOME_COUNTED,
    SOURCE_SEPARATOR,
    WHITESPACE,
    WHITESPACE_CLASS,
    Aggregates,
    Opened,
    Plan,
)

__all__ = ["DuckDBEngine"]

logger = logging.getLogger(__name__)

_TRUNC = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}
#: A cell's id in the outlets query: a salted hash of its key (checked to be unique).
_CELL_ID = "hash(country, region, p, {salt})"
#: Up to this many incident parts, the outlets query hands back a row per part and
#: outlet, and :func:`~trends.counting.assemble.source_mix` adds them up (a sort of
#: integer keys); above it, DuckDB groups them first, so what comes back is bounded by
#: the cells' outlets however many rows the file has. A cell holds few incidents
#: (3 M incidents over 2,000 regions x 156 months: about ten), so grouping by cell and
#: outlet barely shrinks the rows, and DuckDB's hash table of millions of nearly
#: unique keys cost more than the sort (3 M rows: 4.5 s of CPU in DuckDB's grouping).
UNGROUPED_OUTLET_PARTS = 5_000_000
_OPTIONAL = {
    "date_end": "NULL::DATE",
    "date_precision": "NULL::VARCHAR",
    "location_precision": "NULL::VARCHAR",
    "country": "NULL::VARCHAR",
    "n_sources": "NULL::BIGINT",
    "sources": "NULL::VARCHAR",
    "fatalities": "NULL::DOUBLE",
    "region": "NULL::VARCHAR",
    "subregion": "NULL::VARCHAR",
}


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


#: A ``sources`` value that needs trimming: empty, an empty name, or whitespace beside a
#: separator or at an end.
_UNTIDY = f"^$|(^|{SOURCE_SEPARATOR})({WHITESPACE_CLASS}|{SOURCE_SEPARATOR}|$)|{WHITESPACE_CLASS}({SOURCE_SEPARATOR}|$)"
_NAMES_NONE = f"^({WHITESPACE_CLASS}|{SOURCE_SEPARATOR})*$"


def _outlet_list(column: str, *, tidy: bool = False, distinct: bool = False) -> str:
    """SQL: the distinct outlet names of a ``sources`` value, trimmed, none empty.

    Tidy values (no name to trim or drop: nearly all) take the cheap path; with
    ``tidy``, every value is known to be tidy (parsed by the readers' rule), and with
    ``distinct`` too, no value names an outlet twice (no list needs de-duplicating).
    """
    chars = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)
    sep = literal(SOURCE_SEPARATOR)
    split = f"string_split({column}, {sep})"
    untidy = f"list_distinct([t for t in [trim(x, {chars}) for x in {split}] if t <> ''])"
    if tidy and distinct:
        return f"CASE WHEN contains({column}, {sep}) THEN {split} ELSE [{column}] END"
    if tidy:
        return (
            f"CASE WHEN contains({column}, {sep}) THEN list_distinct({split}) ELSE [{column}] END"
        )
    return (
        f"CASE WHEN regexp_matches({column}, {literal(_UNTIDY)}) THEN {untidy}"
        f" WHEN contains({column}, {sep}) THEN list_distinct({split}) ELSE [{column}] END"
    )


def _names_an_outlet(column: str, *, tidy: bool = False) -> str:
    """SQL: a ``sources`` value names at least one outlet."""
    if tidy:
        return f"({column} IS NOT NULL)"
    return f"({column} IS NOT NULL AND NOT regexp_matches({column}, {literal(_NAMES_NONE)}))"


class DuckDBEngine:
    """Count incidents from a pandas frame or a CSV/Parquet path with DuckDB."""

    def __init__(self, *, threads: int | None = None) -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        # the queries sort what they need; DuckDB may stream rows in any order
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.relation = "canon"
        self.label = "incidents"
        #: whether every ``sources`` value is already parsed by the readers' rule
        self.tidy = False
        #: whether no ``sources`` value names an outlet twice (known for parsed values)
        self.distinct = False
        #: the outlet names' codes, when the input's distinct lists are known (a file)
        self.outlets: OutletCodes | None = None
        #: what the engine raises on input it cannot read (wrapped as a FormatError)
        self.errors: tuple[type[Exception], ...] = (duckdb.Error,)

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------------ input

    def open(self, incidents: Incidents | pd.DataFrame | str | Path) -> Opened:
        """Register the input with DuckDB; return what is known of it."""
        con = self.con
        if isinstance(incidents, Incidents):
            con.register("incidents_frame", incidents.data)
            self._select("incidents_frame", "incidents")
            ledger = dict(zip(incidents.ledger["reason"], incidents.ledger["rows"], strict=True))
            return Opened(incidents.source, ledger, incidents.rows_read)
        if isinstance(incidents, pd.DataFrame):
            con.register("incidents_frame", incidents)
            self._select("incidents_frame", "data frame")
            n = len(incidents)
            return Opened(SourceInfo(name="data frame"), {"kept": n}, n)
        from .validate import ParquetColumns, route

        path = Path(incidents)
        target = route(path)
        if isinstance(target, Incidents):  # read by trends.read(): its rules, its errors
            return self.open(target)
        self.label = str(path)
        columns = ParquetColumns(con, path)
        columns.view()
        self.tidy = True  # outlet lists parsed by the readers' rule (ParquetColumns)
        self.distinct = not columns.repeats_names
        self.outlets = columns.outlets
        if self.outlets is not None:
            con.register("outlet_pairs", self.outlets.pairs)
        facts = columns.facts()
        rows, missing = self._validate(str(path), table="parsed")
        no_place = facts["location missing (no country or region)"]
        ledger = {"kept": rows - missing - no_place, "date missing": missing}
        if no_place:
            ledger["location missing (no country or region)"] = no_place
        return Opened(SourceInfo(name=path.name, path=str(path)), ledger, rows)

    def _select(self, scan: str, label: str, *, materialise: bool = False) -> None:
        """A view (or table) over ``scan`` with the canonical columns the counting reads, typed."""
        self.label = label
        columns = {row[0] for row in self.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
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
                parts.append(f"CAST({quote(name)} AS {kind}) AS {name}")
            else:
                parts.append(f"{default} AS {name}")
        kind = "TABLE" if materialise else "VIEW"
        self.con.execute(f"CREATE TEMP {kind} canon AS SELECT {', '.join(parts)} FROM {scan}")

    def _validate(self, file: str, *, table: str = "canon") -> tuple[int, int]:
        """The checks a reader makes, for a file counted straight from disk: rows, missing dates.

        One pass fetches a hash of every event id and flags missing and backward dates;
        the slower look-ups that name offenders run only when something is wrong. Equal
        ids have equal hashes, so no repeated hash proves the ids unique; a repeat (a
        duplicate, or a rare hash collision) sends us to the exact check.
        """
        scan = self.con.execute(
            "SELECT hash(event_id) AS id, date_start IS NULL AS missing,"
            f" coalesce(date_end < date_start, false) AS backward FROM {table}"
        ).fetchnumpy()
        ids = np.sort(scan["id"])
        rows, missing, backward = len(ids), int(scan["missing"].sum()), scan["backward"].any()
        if (ids[1:] == ids[:-1]).any():
            dup = self.con.execute(
                f"SELECT event_id FROM {table} GROUP BY event_id HAVING count(*) > 1"
                " ORDER BY event_id LIMIT 10"
            ).fetchall()
            if dup:
                raise DuplicateIdError(
                    f"event ids appear more than once: {', '.join(str(d[0]) for d in dup)}",
                    file=file,
                    column="event_id",
                )
        if backward:
            back = self.con.execute(
                f"SELECT event_id, date_start, date_end FROM {table} WHERE date_end < date_start LIMIT 1"
            ).fetchone()
            raise DateError(
                f"event {back[0]}: date_end {back[2]} is before date_start {back[1]}",
                file=file,
                column="date_end",
            )
        return int(rows), int(missing)

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last day of any incident (``None``: no incident has a date)."""
        first, last = self.con.execute(
            "SELECT min(date_start), max(coalesce(date_end, date_start)) FROM canon"
        ).fetchone()
        if first is None:
            return None
        return pd.Timestamp(first), pd.Timestamp(last)

    # ------------------------------------------------------------------ counting

    def aggregate(self, plan: Plan) -> Aggregates:
        """Three passes over the input: outcomes (the ledger), cell sums, outlet sums."""
        con = self.con
        unit = _TRUNC[plan.period]
        window, span = plan.window, plan.span
        coarse_loc = ", ".join(literal(v) for v in COARSE_LOCATION[plan.region])
        coarse_date = ", ".join(literal(v) for v in COARSE_DATE[plan.period]) or "NULL"
        lo, hi = plan.lo.date().isoformat(), plan.hi.date().isoformat()
        g_lo, g_hi = plan.grid[0].date().isoformat(), plan.grid[1].date().isoformat()
        region_expr = (
            "country"
            if plan.region == "country"
            else f"CASE WHEN location_precision IN ({coarse_loc}) OR {plan.region} IS NULL "
            f"THEN {literal(UNKNOWN_REGION)} ELSE {plan.region} END"
        )
        # The outcome of each incident: counted, or why it is set aside. With span="split"
        # an incident is counted if any of its days fall in the range and window (the
        # days outside are dropped); otherwise its first day decides.
        last_day = "coalesce(date_end, date_start)" if span == "split" else "date_start"
        con.execute(f"""
            CREATE TEMP VIEW ev AS
            SELECT coalesce(country, {literal(UNKNOWN_REGION)}) AS country, {region_expr} AS region,
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
                     ELSE '{OUTCOME_COUNTED}'
                   END AS outcome
            FROM {self.relation}""")
        outcomes = dict(con.execute("SELECT outcome, count(*) FROM ev GROUP BY outcome").fetchall())
        # Parts: one row per counted incident and period p, with its overlap o in days
        # and the incident's length den (span="split"; otherwise o = den = 1). Views, not
        # tables: each query below streams the input again rather than holding a copy.
        counted = f"(SELECT * FROM ev WHERE outcome = '{OUTCOME_COUNTED}') e"
        if span == "split":
            parts = f"""
                SELECT e.*, CAST(p AS DATE) AS p,
                       least(e.d1, CAST(p + INTERVAL 1 {unit} - INTERVAL 1 DAY AS DATE))
                       - greatest(e.d0, CAST(p AS DATE)) + 1 AS o,
                       e.d1 - e.d0 + 1 AS den
                FROM {counted}, unnest(generate_series(date_trunc('{unit}', e.d0),
                                                       date_trunc('{unit}', e.d1), INTERVAL 1 {unit})) AS t(p)"""
        else:
            parts = f"SELECT e.*, date_trunc('{unit}', e.d0) AS p, 1 AS o, 1 AS den FROM {counted}"
        in_window = f"p >= date_trunc('{unit}', DATE '{lo}') AND p <= DATE '{hi}'"
        con.execute(f"CREATE TEMP VIEW parts AS SELECT * FROM ({parts}) WHERE {in_window}")

        def days(condition: str) -> str:  # the overlap days of the parts that meet a condition
            if span != "split":  # every overlap is 1: a filtered count, the same number, faster
                return f"count(*) FILTER (WHERE {condition})"
            return f"sum(CASE WHEN {condition} THEN o ELSE 0 END)::BIGINT"

        # The outlets query names each part's cell by a hash of the cell's key rather than
        # carrying the key's strings; a salt is added until no two cells share a hash (the
        # first try fails with a chance of about one in a billion).
        for salt in itertools.count():
            cell_id = _CELL_ID.format(salt=salt)
            cells = _arrow(
                con.sql(f"""
                SELECT {cell_id} AS cell, country, region, p, den,
                       count(*) AS events, {days("true")} AS num_count,
                       {days("n_sources IS NULL")} AS num_unknown_sources,
                       {days("n_sources = 1")} AS num_single_source,
                       {days(f"location_precision IN ({coarse_loc})")} AS num_coarse_location,
                       {days(f"date_precision IN ({coarse_date})")} AS num_coarse_date,
                       count(*) FILTER (WHERE {_names_an_outlet("sources", tidy=self.tidy)}) AS named,
                       count(fatalities) AS fatalities_known,
                       sum(o * fatalities) AS num_fatalities
                FROM parts GROUP BY country, region, p, den""")
            ).to_pandas()
            if cells.drop_duplicates(["cell", "country", "region", "p"])["cell"].is_unique:
                break
        # a row per part and outlet it names, or, for many parts, one row per cell,
        # outlet and incident length: bounded by the cells' outlets, not by the rows,
        # so memory stays flat as files grow
        grouped = int(cells["events"].sum()) > UNGROUPED_OUTLET_PARTS
        if self.outlets is not None:  # each list joined to its outlets' codes: integers
            names = self.outlets.names
            listed = (  # one row per part and outlet it names
                "SELECT country, region, p, o, den, l.code AS source"
                " FROM parts JOIN outlet_pairs l ON parts.sources = l.raw"
            )
        else:
            names = None
            listed = (
                "SELECT country, region, p, o, den,"
                f" unnest({_outlet_list('sources', tidy=self.tidy, distinct=self.distinct)})"
                " AS source FROM parts WHERE sources IS NOT NULL"
            )
        # DuckDB estimates the filtered rows below the pairs and would build its hash
        # table on the rows (the strings of every row held at once); the pairs, one row
        # per distinct list and name, are the side to build on, as written
        pinned = names is not None and _has_optimizer(con, "build_side_probe_side")
        if pinned:
            con.execute("SET disabled_optimizers = 'build_side_probe_side'")
        try:
            outlets = _arrow(
                con.sql(f"""
                SELECT {cell_id} AS cell, source, den, {"sum(o)" if grouped else "o"}::BIGINT AS num
                FROM ({listed}) {"GROUP BY ALL" if grouped else ""}""")
            )
        finally:
            if pinned:
                con.execute("RESET disabled_optimizers")
        return Aggregates(outcomes=outcomes, parts=cells, outlets=outlets, names=names)


def _has_optimizer(con, name: str) -> bool:
    """Whether this DuckDB has the optimizer ``name`` (they come and go between versions)."""
    found = con.execute("SELECT count(*) FROM duckdb_optimizers() WHERE name = ?", [name])
    return bool(found.fetchone()[0])


def _arrow(relation) -> pa.Table:
    """A DuckDB relation's rows as an Arrow table (the method's name changed in 1.4)."""
    fetch = getattr(relation, "to_arrow_table", None)
    return fetch() if fetch is not None else relation.arrow()
