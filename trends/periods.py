"""Calendar periods: labels, bounds and ranges for week, month, quarter and year.

Labels are strings an analyst can type: ``"2016"`` (year), ``"2016Q3"`` (quarter),
``"2016-07"`` (month) and ``"2016-W27"`` (ISO 8601 week, Monday to Sunday). Bounds
are inclusive calendar dates: a period runs from ``period_start`` to ``period_end``
and lasts ``(period_end - period_start).days + 1`` days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import OptionError, TrendsError

__all__ = [
    "PERIODS",
    "PERIODS_PER_YEAR",
    "period_labels",
    "period_bounds",
    "period_range",
    "infer_period",
    "to_period_label",
    "to_period_end_label",
    "period_span",
    "DEFAULT_WINDOW",
    "complete_periods",
    "default_windows",
    "describe_windows",
]

PERIODS = ("week", "month", "quarter", "year")

#: How many periods make a year; weeks use the mean Gregorian year (365.2425 days).
PERIODS_PER_YEAR = {"week": 365.2425 / 7, "month": 12.0, "quarter": 4.0, "year": 1.0}

_PATTERNS = {
    "year": re.compile(r"^\d{4}$"),
    "quarter": re.compile(r"^\d{4}Q[1-4]$"),
    "month": re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
    "week": re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"),
}
_PANDAS_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}


def _check_period(period: str) -> str:
    if period not in PERIODS:
        raise OptionError(f"period={period!r} is not one of {', '.join(map(repr, PERIODS))}")
    return period


def period_labels(dates: pd.Series | pd.DatetimeIndex, period: str) -> np.ndarray:
    """Label each date with the period that holds it (missing dates give ``None``)."""
    _check_period(period)
    dates = pd.DatetimeIndex(dates)
    out = np.full(len(dates), None, dtype=object)
    ok = ~dates.isna()
    if not ok.any():
        return out
    d = dates[ok]
    if period == "week":
        iso = d.isocalendar()
        labels = [f"{y:04d}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)]
    elif period == "month":
        labels = [f"{y:04d}-{m:02d}" for y, m in zip(d.year, d.month, strict=True)]
    elif period == "quarter":
        labels = [f"{y:04d}Q{q}" for y, q in zip(d.year, d.quarter, strict=True)]
    else:
        labels = [f"{y:04d}" for y in d.year]
    out[np.asarray(ok)] = labels
    return out


def infer_period(labels: Iterable[str]) -> str:
    """Tell which kind of period a set of labels is; raise if they are mixed or unknown."""
    kinds = set()
    values = labels if isinstance(labels, pd.Series) else pd.Series(list(labels), dtype="string")
    for label in values.dropna().unique():
        kind = next((k for k, pat in _PATTERNS.items() if pat.match(str(label))), None)
        if kind is None:
            raise TrendsError(
                f"period label {label!r} is not a year ('2016'), quarter ('2016Q3'), "
                "month ('2016-07') or ISO week ('2016-W27')"
            )
        kinds.add(kind)
    if len(kinds) != 1:
        raise TrendsError(f"period labels mix kinds: {sorted(kinds)}; use one kind per table")
    return kinds.pop()


def _label_start(label: str, period: str) -> dt.date:
    if period == "week":
        year, week = label.split("-W")
        try:
            return dt.date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            raise TrendsError(f"week label {label!r}: ISO year {year} has no week {week}") from None
    if period == "month":
        return dt.date(int(label[:4]), int(label[5:7]), 1)
    if period == "quarter":
        return dt.date(int(label[:4]), 3 * (int(label[5]) - 1) + 1, 1)
    return dt.date(int(label), 1, 1)


def _label_end(label: str, period: str) -> dt.date:
    if period == "week":
        return _label_start(label, period) + dt.timedelta(days=6)
    return pd.Period(label, freq=_PANDAS_FREQ[period]).end_time.date()


def period_bounds(labels: Iterable[str], period: str) -> tuple[pd.Series, pd.Series]:
    """Inclusive start and end dates (``datetime64[ns]``) of each labelled period."""
    _check_period(period)
    values = labels if isinstance(labels, pd.Series) else pd.Series(list(labels), dtype="string")
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    bad = [lab for lab in uniques if not _PATTERNS[period].match(str(lab))]
    if bad:
        raise TrendsError(f"{bad[0]!r} is not a {period} label (e.g. {_example(period)!r})")
    # work on the distinct labels only, then spread them out by position
    starts = np.array([_label_start(str(lab), period) for lab in uniques], dtype="datetime64[ns]")
    ends = np.array([_label_end(str(lab), period) for lab in uniques], dtype="datetime64[ns]")
    return pd.Series(starts[codes]), pd.Series(ends[codes])


def _example(period: str) -> str:
    return {"week": "2016-W27", "month": "2016-07", "quarter": "2016Q3", "year": "2016"}[period]


def to_period_label(value: str | dt.date | pd.Timestamp, period: str) -> str:
    """Turn a user's period or date (``"2016-07"``, ``"2016-07-15"``, a date) into a label.

    A label of a longer period names its first sub-period: ``"2016"`` as a month
    is ``"2016-01"``; use :func:`period_range` bounds for the last.
    """
    _check_period(period)
    text = str(value)
    if _PATTERNS[period].match(text):
        return text
    for kind, pat in _PATTERNS.items():
        if pat.match(text):
            start = _label_start(text, kind)
            return str(period_labels(pd.DatetimeIndex([start]), period)[0])
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise TrendsError(
            f"{value!r} is neither a {period} label (e.g. {_example(period)!r}) nor a date"
        ) from exc
    return str(period_labels(pd.DatetimeIndex([ts]), period)[0])


def to_period_end_label(value: str | dt.date | pd.Timestamp, period: str) -> str:
    """Like :func:`to_period_label`, but a longer period names its *last* sub-period."""
    text = str(value)
    for kind, pat in _PATTERNS.items():
        if pat.match(text) and kind != period:
            return str(period_labels(pd.DatetimeIndex([_label_end(text, kind)]), period)[0])
    return to_period_label(value, period)


def period_range(first: str, last: str, period: str) -> list[str]:
    """Every period label from ``first`` to ``last`` inclusive (empty if last < first)."""
    _check_period(period)
    start = _label_start(to_period_label(first, period), period)
    end = _label_start(to_period_end_label(last, period), period)
    if end < start:
        return []
    if period == "week":
        n = (end - start).days // 7
        days = pd.DatetimeIndex([start + dt.timedelta(days=7 * i) for i in range(n + 1)])
    else:
        days = pd.period_range(start, end, freq=_PANDAS_FREQ[period]).start_time
    return list(period_labels(days, period))


def period_span(value: str | dt.date | pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period label (``"2016"``, ``"2016Q3"``, ``"2016-07"``,
    ``"2016-W27"``), or a date twice (``"2016-07-15"``, a date, a Timestamp).

    Raises
    ------
    TrendsError
        (a ValueError) when ``value`` is neither.
    """
    text = str(value).strip()
    for kind, pat in _PATTERNS.items():
        if pat.match(text):
            return pd.Timestamp(_label_start(text, kind)), pd.Timestamp(_label_end(text, kind))
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        day = pd.NaT
    if pd.isna(day):
        raise TrendsError(
            f"{value!r} is not a period label (2016, 2016Q3, 2016-07, 2016-W27) or a date"
        )
    return day, day


#: Length of each default comparison window: a year of periods.
DEFAULT_WINDOW = {"week": 52, "month": 12, "quarter": 4, "year": 1}

_PLURAL = {"week": "weeks", "month": "months", "quarter": "quarters", "year": "years"}


def complete_periods(cells: pd.DataFrame) -> list[str]:
    """The labels of the periods wholly inside the source's coverage, in time order.

    A period is complete when some cell of it has a count, is covered, and has an
    ``exposure`` (where given) of the period's whole length in days: a month the data set
    covers only in part is not complete (its count is not comparable with the others').

    Parameters
    ----------
    cells : DataFrame
        A cell table (:func:`trends.count`): ``period``, ``count``, and where known
        ``covered``, ``exposure``.
    """
    from .cells import cells_period

    kind = cells_period(cells)
    usable = cells[cells["count"].notna()]
    if "covered" in usable.columns:
        usable = usable[usable["covered"].fillna(True).astype(bool)]
    if "exposure" in usable.columns:
        labels = usable["period"].astype("string")
        start, end = period_bounds(labels, kind)
        days = (end - start).dt.days.to_numpy() + 1
        usable = usable[usable["exposure"].to_numpy(float) >= days]
    return sorted(set(usable["period"].astype(str)), key=lambda lab: _label_start(lab, kind))


def default_windows(cells: pd.DataFrame) -> tuple[tuple[str, str], tuple[str, str]]:
    """The default comparison: the last year of complete periods against the year before.

    ``after`` is the last :data:`DEFAULT_WINDOW` complete periods (twelve months, four
    quarters, 52 weeks or one year) and ``before`` the as many periods before them. A
    period is complete when it lies wholly inside the source's coverage window (its
    ``exposure`` is its length in days), so a month the data set covers only in part
    is never compared. With fewer than two years of complete periods the complete
    periods are split into two halves of equal length. :func:`describe_windows` says
    it in words.

    Parameters
    ----------
    cells : DataFrame
        A cell table (:func:`trends.count`): ``period``, ``count``, and where known
        ``covered``, ``exposure``, ``period_start``, ``period_end``.

    Returns
    -------
    (before, after)
        Each a ``(first, last)`` pair of period labels.
    """
    from .cells import cells_period

    kind = cells_period(cells)
    complete = complete_periods(cells)
    if len(complete) < 2:
        which = f"only one complete {kind} ({complete[0]})" if complete else f"no complete {kind}"
        raise TrendsError(
            f"{which} inside the source's coverage: nothing to compare; give before= and after="
        )
    n = min(DEFAULT_WINDOW[kind], len(complete) // 2)
    after = complete[-n:]
    before = complete[-2 * n : -n]
    return (before[0], before[-1]), (after[0], after[-1])


def describe_windows(before: tuple[str, str], after: tuple[str, str], period: str) -> str:
    """The default windows in words: ``the last 12 complete months (2019-01 to 2019-12)
    against the 12 before (2018-01 to 2018-12)``."""
    n_after = len(period_range(after[0], after[1], period))
    n_before = len(period_range(before[0], before[1], period))
    unit = _PLURAL[period] if n_after != 1 else period

    def span(window: tuple[str, str]) -> str:
        return window[0] if window[0] == window[1] else f"{window[0]} to {window[1]}"

    return (
        f"the last {n_after} complete {unit} ({span(after)}) against the "
        f"{n_before} before ({span(before)})"
    )
