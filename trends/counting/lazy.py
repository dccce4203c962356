"""The counting once more, as portable dataframe expressions (narwhals).

:class:`LazyEngine` counts any frame narwhals reaches lazily: a Spark DataFrame
(PySpark or Spark Connect), a DuckDB relation, a polars, SQLFrame or Ibis lazy
frame. The engine behind the frame does the heavy work; what comes back is the same
small :class:`~trends.counting.plan.Aggregates` as from the DuckDB reference
(:mod:`trends.counting.sql`), collected through Arrow, and the cell table is built
from it by the same code.

Written for what differs between engines (narwhals documents the API;
https://narwhals-dev.github.io/narwhals/):

- periods come from whole days since 1970-01-01, computed by integer arithmetic
  from year, month and day (Hinnant's ``days_from_civil``,
  https://howardhinnant.github.io/date_algorithms.html), since engines truncate
  dates to ISO weeks differently or not at all; every division is of non-negative
  whole numbers, where floor and truncation agree;
- conditions are turned into 0/1 integers before they are summed;
- outlets are split on a literal separator and trimmed with character classes of
  literal characters, which mean the same to Java, RE2 and Rust regular expressions;
- distinct counts are exact (group by, then count), never approximate;
- dates are compared as day numbers, so date dtypes do not matter.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DateError, DuplicateIdError, SchemaError
from ..incidents import UNKNOWN_REGION, SourceInfo
from ..methods import Registry
from .plan import (
    COARSE_DATE,
    COARSE_LOCATION,
    OUTCOME_COUNTED,
    SOURCE_SEPARATOR,
    WHITESPACE_CLASS,
    Aggregates,
    Opened,
    Plan,
)

__all__ = ["LazyEngine", "RANGES", "SET_ASIDE", "is_lazy_frame"]

logger = logging.getLogger(__name__)

#: A column a reader's lazy mapping may add (:func:`trends.readers.icews.icews_lazy`):
#: the reason a row is set aside (in the ledger, not counted, its id not checked for
#: repeats), missing for a row kept. A reader of a file does the same in pandas.
SET_ASIDE = "set_aside"

_EPOCH = pd.Timestamp("1970-01-01")
#: Weeks are counted from a Monday far enough back that every day number is positive.
_WEEK_SHIFT = 100_000
_WS = WHITESPACE_CLASS
_SEP = re.escape(SOURCE_SEPARATOR)

#: How to make a frame of the whole numbers 0..n-1 (column ``j``) beside a native frame,
#: in the same engine, by narwhals implementation name. Engines not listed fall back to
#: a union of shifted copies.
RANGES = Registry("range frame", option="implementation")


@RANGES.register("duckdb", description="DuckDB's range() on the relation's connection")
def _duckdb_range(native: Any, n: int) -> Any:
    return native.query("_trends_any", f"SELECT range::BIGINT AS j FROM range({int(n)})")


@RANGES.register("pyspark", description="SparkSession.range")
def _spark_range(native: Any, n: int) -> Any:
    return native.sparkSession.range(int(n)).withColumnRenamed("id", "j")


RANGES.add("pyspark_connect", _spark_range, description="SparkSession.range (Spark Connect)")


@RANGES.register("polars", description="a polars LazyFrame")
def _polars_range(native: Any, n: int) -> Any:
    import polars as pl

    return pl.LazyFrame({"j": np.arange(int(n), dtype=np.int64)})


def is_lazy_frame(obj: object) -> bool:
    """True for a frame narwhals reaches lazily (and not a pandas frame)."""
    if isinstance(obj, pd.DataFrame):
        return False
    import narwhals as nw

    try:
        frame = nw.from_native(obj)
    except TypeError:
        return False
    return isinstance(frame, nw.LazyFrame)


# ---------------------------------------------------------------------- day arithmetic


def _civil_days(y: Any, m: Any, d: Any) -> Any:
    """Days since 1970-01-01 of year ``y``, month ``m``, day ``d`` (expressions; years >= 0)."""
    import narwhals as nw

    y = y - nw.when(m <= 2).then(nw.lit(1)).otherwise(nw.lit(0))
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _period_number(y: Any, m: Any, days: Any, period: str) -> Any:
    """The period holding a day, as a whole number (consecutive periods, consecutive numbers)."""
    if period == "week":  # ISO weeks run Monday to Sunday; 1970-01-05 was a Monday
        return (days + 3 + 7 * _WEEK_SHIFT) // 7 - _WEEK_SHIFT
    if period == "month":
        return y * 12 + m - 1
    if period == "quarter":
        return y * 4 + (m - 1) // 3
    return y


def _period_first_day(n: Any, period: str) -> Any:
    """Days since 1970-01-01 of the first day of period number ``n`` (an expression)."""
    import narwhals as nw

    one = nw.lit(1)
    if period == "week":
        return n * 7 - 3
    if period == "month":
        return _civil_days(n // 12, n % 12 + 1, one)
    if period == "quarter":
        return _civil_days(n // 4, (n % 4) * 3 + 1, one)
    return _civil_days(n, one, one)


def period_number(day: pd.Timestamp, period: str) -> int:
    """:func:`_period_number` of one date, in Python."""
    days = (day - _EPOCH).days
    if period == "week":
        return (days + 3) // 7
    return {
        "month": day.year * 12 + day.month - 1,
        "quarter": day.year * 4 + (day.month - 1) // 3,
        "year": day.year,
    }[period]


def period_starts(numbers: np.ndarray, period: str) -> np.ndarray:
    """First day (``datetime64[ns]``) of each period number."""
    n = np.asarray(numbers, dtype=np.int64)
    if period == "week":
        return (np.datetime64("1970-01-01") + (7 * n - 3).astype("timedelta64[D]")).astype(
            "datetime64[ns]"
        )
    per_year = {"month": 12, "quarter": 4, "year": 1}[period]
    year, index = np.divmod(n, per_year)
    months = (year - 1970) * 12 + index * (12 // per_year)
    return (np.datetime64("1970-01", "M") + months.astype("timedelta64[M]")).astype(
        "datetime64[ns]"
    )


# ---------------------------------------------------------------------- the engine


class LazyEngine:
    """Count a lazy frame of canonical columns on the engine that holds it."""

    def __init__(self) -> None:
        self.frame: Any = None
        self.label = "frame"
        #: the engine's own errors pass through (a Spark job's failure is not the input's)
        self.errors: tuple[type[Exception], ...] = ()

    def close(self) -> None:
        self.frame = None

    def open(self, native: Any, *, source: SourceInfo | None = None) -> Opened:
        import narwhals as nw

        frame = nw.from_native(native)
        self.impl = str(frame.implementation.name).lower()
        self.label = f"{self.impl} frame"
        self.native = native
        self.frame = self._canonical(frame)
        rows, missing = self._validate()
        return Opened(
            source or SourceInfo(name=self.label),
            {"kept": rows - missing, "date missing": missing},
            rows,
        )

    def _canonical(self, frame: Any) -> Any:
        """The canonical columns the counting reads, typed; day numbers beside the dates."""
        import narwhals as nw

        schema = frame.collect_schema()
        for needed in ("event_id", "date_start"):
            if needed not in schema:
                raise SchemaError(
                    f"missing column {needed!r}; counting needs canonical columns",
                    file=self.label,
                    column=needed,
                )
        text = ("date_precision", "location_precision", "country", "region", "subregion", "sources")
        columns = [nw.col("event_id").cast(nw.String).alias("event_id")]
        columns += [_as_date("date_start", schema["date_start"]).alias("d0")]
        if "date_end" in schema:
            columns.append(_as_date("date_end", schema["date_end"]).alias("d1_given"))
        else:
            columns.append(nw.lit(None, dtype=nw.Date).alias("d1_given"))
        for name in text:
            expr = nw.col(name).cast(nw.String) if name in schema else nw.lit(None, nw.String)
            columns.append(expr.alias(name))
        for name, kind in (("n_sources", nw.Int64), ("fatalities", nw.Float64)):
            expr = nw.col(name).cast(kind) if name in schema else nw.lit(None, kind)
            columns.append(expr.alias(name))
        reason = (
            nw.col(SET_ASIDE).cast(nw.String) if SET_ASIDE in schema else nw.lit(None, nw.String)
        )
        columns.append(reason.alias(SET_ASIDE))
        frame = frame.select(columns)
        d0, d1 = nw.col("d0"), nw.coalesce(nw.col("d1_given"), nw.col("d0"))
        return frame.with_columns(
            y0=d0.dt.year().cast(nw.Int64),
            m0=d0.dt.month().cast(nw.Int64),
            day0=_civil_days(*(_ymd(d0))),
            y1=d1.dt.year().cast(nw.Int64),
            m1=d1.dt.month().cast(nw.Int64),
            day1=_civil_days(*(_ymd(d1))),
            backward=nw.col("d1_given") < d0,
        )

    def _validate(self) -> tuple[int, int]:
        """Rows and missing dates; duplicate ids and backward dates are refused (exactly).

        One pass counts rows, missing and backward dates and finds the date range
        (kept for :meth:`date_range`); a second groups by id to find repeats.
        """
        import narwhals as nw

        kept = nw.col(SET_ASIDE).is_null()
        facts = _collect(
            self.frame.select(
                nw.len().alias("rows"),
                _flag(nw.col("d0").is_null() & kept).sum().alias("missing"),
                _flag(nw.col("backward")).sum().alias("backward"),
                nw.col("day0").min().alias("first"),
                nw.col("day1").max().alias("last"),
            )
        ).iloc[0]
        self._range = (facts["first"], facts["last"])
        f = self.frame.filter(kept)
        dup = _collect(
            f.group_by("event_id")
            .agg(nw.len().alias("n"))
            .filter(nw.col("n") > 1)
            .sort("event_id")
            .head(10)
        )
        if len(dup):
            raise DuplicateIdError(
                f"event ids appear more than once: {', '.join(map(str, dup['event_id']))}",
                file=self.label,
                column="event_id",
            )
        if int(facts["backward"]):
            back = _collect(
                f.filter(nw.col("backward"))
                .select("event_id", "d0", "d1_given")
                .sort("event_id")
                .head(1)
            ).iloc[0]
            raise DateError(
                f"event {back['event_id']}: date_end {pd.Timestamp(back['d1_given']).date()} "
                f"is before date_start {pd.Timestamp(back['d0']).date()}",
                file=self.label,
                column="date_end",
            )
        return int(facts["rows"]), int(facts["missing"])

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last day of any incident (``None``: no incident has a date)."""
        first, last = self._range
        if pd.isna(first):
            return None
        return _EPOCH + pd.Timedelta(days=int(first)), _EPOCH + pd.Timedelta(days=int(last))

    def aggregate(self, plan: Plan) -> Aggregates:
        import narwhals as nw

        f = self._outcomes(plan)
        outcomes = _collect(f.group_by("outcome").agg(nw.len().alias("n")))
        outcomes = dict(
            zip(outcomes["outcome"].astype(str), outcomes["n"].astype(int), strict=True)
        )
        parts = self._parts(f.filter(nw.col("outcome") == OUTCOME_COUNTED), plan)
        cells = _collect(self._cell_sums(parts, plan))
        keys = ["country", "region", "p"]
        cells = cells.sort_values([*keys, "den"], kind="stable", ignore_index=True)
        cells.insert(0, "cell", cells.groupby(keys, sort=False).ngroup().to_numpy())
        outlets = _collect(
            parts.filter(~nw.col("outlets").is_null())
            .select(*keys, "den", "o", _split(nw.col("outlets")).alias("source"))
            .explode("source")
            .group_by(*keys, "source", "den")
            .agg(nw.col("o").sum().alias("num"))
        )
        index = pd.MultiIndex.from_frame(cells[keys].drop_duplicates())
        at = index.get_indexer(pd.MultiIndex.from_frame(outlets[keys]))
        outlets = pd.DataFrame(
            {
                "cell": cells["cell"].drop_duplicates().to_numpy()[at] if len(at) else at,
                "source": outlets["source"].astype("string").to_numpy(),
                "den": outlets["den"].to_numpy(dtype=np.int64),
                "num": outlets["num"].to_numpy(dtype=np.int64),
            }
        )
        cells["p"] = period_starts(cells["p"].to_numpy(), plan.period)
        return Aggregates(outcomes=outcomes, parts=cells, outlets=outlets)

    def _outcomes(self, plan: Plan) -> Any:
        """Each incident's region, period numbers and outcome."""
        import narwhals as nw

        def day(ts: pd.Timestamp) -> Any:
            return nw.lit((ts - _EPOCH).days)

        period = plan.period
        n0 = _period_number(nw.col("y0"), nw.col("m0"), nw.col("day0"), period)
        n1 = _period_number(nw.col("y1"), nw.col("m1"), nw.col("day1"), period)
        last = nw.col("day1") if plan.span == "split" else nw.col("day0")
        coarse_loc = nw.col("location_precision").is_in(list(COARSE_LOCATION[plan.region]))
        if plan.region == "country":
            region = nw.coalesce(nw.col("country"), nw.lit(UNKNOWN_REGION))
        else:
            unknown = coarse_loc.fill_null(False) | nw.col(plan.region).is_null()
            region = nw.when(unknown).then(nw.lit(UNKNOWN_REGION)).otherwise(nw.col(plan.region))
        outcome = (
            nw.when(~nw.col(SET_ASIDE).is_null())
            .then(nw.col(SET_ASIDE))
            .when(nw.col("d0").is_null())
            .then(nw.lit("date missing"))
            .when((last < day(plan.window[0])) | (nw.col("day0") > day(plan.window[1])))
            .then(nw.lit("outside the coverage window"))
            .when((last < day(plan.grid[0])) | (nw.col("day0") > day(plan.grid[1])))
            .then(nw.lit("outside period range"))
        )
        if plan.span == "exclude":
            outcome = outcome.when(n0 != n1).then(nw.lit("spans several periods (span=exclude)"))
        outcome = outcome.otherwise(nw.lit(OUTCOME_COUNTED))
        return self.frame.with_columns(
            country=nw.coalesce(nw.col("country"), nw.lit(UNKNOWN_REGION)),
            region=region,
            n0=n0,
            n1=n1,
            outcome=outcome,
            outlets=_outlet_text(nw.col("sources")),
        )

    def _parts(self, counted: Any, plan: Plan) -> Any:
        """One row per counted incident and period ``p`` it is counted in, with ``o`` and ``den``."""
        import narwhals as nw

        period = plan.period
        lo, hi = period_number(plan.lo, period), period_number(plan.hi, period)
        if plan.span != "split":
            parts = counted.with_columns(p=nw.col("n0"), o=nw.lit(1), den=nw.lit(1))
        else:
            # Only incidents over several periods are spread (a cross join with the
            # offsets 0..widest); the others, nearly all, keep one part.
            several = nw.col("n1") > nw.col("n0")
            widest = _collect(counted.filter(several).select((nw.col("n1") - nw.col("n0")).max()))
            width = 0 if pd.isna(widest.iloc[0, 0]) else int(widest.iloc[0, 0])
            one = counted.filter(~several).with_columns(
                p=nw.col("n0"), o=nw.col("day1") - nw.col("day0") + 1
            )
            first = _period_first_day(nw.col("p"), period)
            after = _period_first_day(nw.col("p") + 1, period)
            spread = (
                self._spread(counted.filter(several), width + 1)
                .with_columns(p=nw.col("n0") + nw.col("j"))
                .filter(nw.col("p") <= nw.col("n1"))
                .with_columns(
                    o=nw.min_horizontal(nw.col("day1"), after - 1)
                    - nw.max_horizontal(nw.col("day0"), first)
                    + 1
                )
                .drop("j")
            )
            parts = nw.concat([one, spread.select(one.columns)], how="vertical").with_columns(
                den=nw.col("day1") - nw.col("day0") + 1
            )
        return parts.filter((nw.col("p") >= lo) & (nw.col("p") <= hi))

    def _spread(self, counted: Any, n: int) -> Any:
        """``counted`` joined with the offsets ``j`` = 0..n-1 (a cross join)."""
        import narwhals as nw

        if self.impl in RANGES:
            offsets = nw.from_native(RANGES.get(self.impl).func(self.native, n))
            return counted.join(offsets, how="cross")
        copies = [counted.with_columns(j=nw.lit(j)) for j in range(n)]
        return nw.concat(copies, how="vertical")

    def _cell_sums(self, parts: Any, plan: Plan) -> Any:
        import narwhals as nw

        o = nw.col("o")

        def days(condition: Any) -> Any:
            return nw.when(condition.fill_null(False)).then(o).otherwise(nw.lit(0)).sum()

        coarse_loc = nw.col("location_precision").is_in(list(COARSE_LOCATION[plan.region]))
        coarse_date = COARSE_DATE[plan.period]
        dated = nw.col("date_precision").is_in(list(coarse_date)) if coarse_date else nw.lit(False)
        return parts.group_by("country", "region", "p", "den").agg(
            nw.len().alias("events"),
            o.sum().alias("num_count"),
            days(nw.col("n_sources").is_null()).alias("num_unknown_sources"),
            days(nw.col("n_sources") == 1).alias("num_single_source"),
            days(coarse_loc).alias("num_coarse_location"),
            days(dated).alias("num_coarse_date"),
            _flag(~nw.col("outlets").is_null()).sum().alias("named"),
            _flag(~nw.col("fatalities").is_null()).sum().alias("fatalities_known"),
            (o * nw.col("fatalities")).sum().alias("num_fatalities"),
        )


def _flag(condition: Any) -> Any:
    """A condition as 0/1 (engines sum booleans differently, or not at all)."""
    import narwhals as nw

    return nw.when(condition.fill_null(False)).then(nw.lit(1)).otherwise(nw.lit(0))


def _ymd(d: Any) -> tuple[Any, Any, Any]:
    import narwhals as nw

    return (d.dt.year().cast(nw.Int64), d.dt.month().cast(nw.Int64), d.dt.day().cast(nw.Int64))


def _as_date(name: str, dtype: Any) -> Any:
    """A column as a date, whatever the engine stored: text (ISO), date or timestamp."""
    import narwhals as nw

    expr = nw.col(name)
    if dtype == nw.String:
        return expr.str.slice(0, 10).str.to_date("%Y-%m-%d")
    if dtype == nw.Date:
        return expr
    if isinstance(dtype, nw.Datetime) or dtype == nw.Datetime:
        return expr.dt.date()
    raise SchemaError(f"holds {dtype}, not dates", column=name)


def _split(outlets: Any) -> Any:
    """An outlets text as a list of distinct names (a name repeated in one incident counts once)."""
    return outlets.str.split(SOURCE_SEPARATOR).list.unique()


def _outlet_text(sources: Any) -> Any:
    """The outlets an incident names, separator-joined, trimmed, none empty (missing if none)."""
    import narwhals as nw

    joined = sources.str.replace_all(f"{_WS}*(?:{_SEP}{_WS}*)+", SOURCE_SEPARATOR)
    trimmed = joined.str.replace_all(f"^(?:{_WS}|{_SEP})+|(?:{_WS}|{_SEP})+$", "")
    return nw.when(trimmed != "").then(trimmed)


def _collect(frame: Any) -> pd.DataFrame:
    """Collect a narwhals lazy frame to pandas through Arrow."""
    table = frame.collect(backend="pyarrow").to_native()
    return table.to_pandas()
