"""The report's result tables, laid out to fit their card.

Each table keeps to narrow columns: the interval in one column, the coverage reasons
and notes as numbered links to a list written once below the table
(:class:`~trends.reporting.html.Footnotes`), the reliability flag as a † beside the
verdict with its legend under the table, and an annual percent change the data cannot
support printed as "not estimable" (its reason in the notes), never as ``1e+125``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import verdicts
from ..coverage_model import CoverageRules
from ..plot import reasons_text
from .analysis import Results
from .formats import fmt_num, fmt_p, fmt_pct, fmt_range, missing
from .html import Column, Footnotes, Markup, esc, join, slug, status_span, table, tag, verdict_chip
from .methods import rules_of
from .words import PERIOD_WORD, level_pct

__all__ = [
    "DAGGER",
    "reliability_legend",
    "comparison_table",
    "trend_table",
    "joinpoint_table",
    "alarm_table",
    "coverage_by_region",
    "flagged_cells",
    "ledger_table",
    "MAX_FLAGGED_ROWS",
]

DAGGER = "†"
#: Rows of the "cells not adequate" table before it says "and N more".
MAX_FLAGGED_ROWS = 300


def _verdict_row(row: dict) -> str:
    return f"row-v-{slug(row.get('verdict', ''))}"


def _unreliable(value: Any) -> bool:
    return not missing(value) and value is not None and not bool(value)


def _markup(frame: pd.DataFrame, values: list[Markup]) -> pd.Series:
    """A column of markup (object dtype: pandas would turn it into plain strings)."""
    return pd.Series(values, index=frame.index, dtype=object)


def _verdict_shown(frame: pd.DataFrame) -> pd.Series:
    """The verdict chip, with a † when the estimate is flagged unreliable."""
    flags = frame["reliable"] if "reliable" in frame.columns else [True] * len(frame)
    cells = [
        tag("span", verdict_chip(v), _flag(f), class_="verdict-cell")
        for v, f in zip(frame["verdict"].astype(str), flags, strict=True)
    ]
    return _markup(frame, cells)


def _flag(reliable: Any) -> Markup | None:
    """A † (unreliable estimate) or nothing."""
    if not _unreliable(reliable):
        return None
    return tag("span", DAGGER, class_="flag", title="unreliable: see the note under the table")


def reliability_legend(frame: pd.DataFrame, rules: CoverageRules) -> Markup:
    """The † legend, when a row of ``frame`` is flagged (empty otherwise)."""
    if "reliable" not in frame.columns or not any(_unreliable(v) for v in frame["reliable"]):
        return Markup("")
    parts = []
    if rules.reliable_events is not None:
        parts.append(f"rests on fewer than {fmt_num(rules.reliable_events)} events")
    if rules.reliable_rse is not None:
        parts.append(f"has a relative standard error of {100 * rules.reliable_rse:g}% or more")
    why = " or ".join(parts) or "is imprecise"
    return tag(
        "p",
        f"{DAGGER} Unreliable: the estimate {why} (NCHS presentation standards). "
        "The verdict stands; the number is imprecise.",
        class_="note legend",
    )


def _notes_column(
    frame: pd.DataFrame, notes: Footnotes, extra: list[list[str]] | None = None
) -> pd.Series:
    """Each row's coverage reasons and notes as numbered links to the list below.

    A row's reasons, and its notes, are each one entry (their parts are joined with
    "; " and a part may itself hold "; ", so they are never split).
    """
    reasons = frame.get("coverage_reasons", pd.Series([""] * len(frame), index=frame.index))
    column = "notes" if "notes" in frame.columns else "note"
    remarks = frame.get(column, pd.Series([""] * len(frame), index=frame.index))
    extra = extra or [[] for _ in range(len(frame))]
    return _markup(
        frame,
        [
            notes.refs([reasons_text(r), reasons_text(n), *x])
            for r, n, x in zip(reasons, remarks, extra, strict=True)
        ],
    )


def _apc_shown(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[list[str]]]:
    """APC and interval as printed: "not estimable" where the data cannot support it."""
    ok, why = verdicts.apc_estimable(frame["apc"], frame["apc_low"], frame["apc_high"])
    ok &= frame["verdict"].astype(str).to_numpy() != verdicts.NOT_ESTIMABLE
    out = frame.assign(
        apc_shown=[
            fmt_num(a) if k else verdicts.NOT_ESTIMABLE
            for a, k in zip(frame["apc"], ok, strict=True)
        ],
        ci=[
            fmt_range(lo, hi) if k else ""
            for lo, hi, k in zip(frame["apc_low"], frame["apc_high"], ok, strict=True)
        ],
        apc_key=np.where(ok, pd.to_numeric(frame["apc"], errors="coerce"), np.nan),
        ci_key=np.where(ok, pd.to_numeric(frame["apc_low"], errors="coerce"), np.nan),
    )
    return out, [[w] if w else [] for w in why]


NOTES_TITLE = "Notes: why a verdict is withheld, and what limits an estimate"


def _verdict_columns(*, dispersion: bool = False) -> list[Column]:
    """The columns every result table ends with: p, q, (dispersion,) coverage, verdict
    (with its †) and the numbered notes (which give the q-value across the report's
    tests where it withdrew a word, :func:`trends.verdicts.one_family`)."""
    return [
        Column("pvalue", "p", fmt_p, numeric=True),
        Column("qvalue", "q", fmt_p, numeric=True),
        *([Column("dispersion", "Dispersion", fmt_num, numeric=True)] if dispersion else []),
        Column("coverage", "Coverage", status_span, sort=True, nowrap=True),
        Column("verdict_shown", "Verdict", esc, sort_by="verdict", wrap=True),
        Column("notes_shown", "Notes", esc, wrap=True),
    ]


def _result_table(
    frame: pd.DataFrame,
    shown: pd.DataFrame,
    columns: list[Column],
    notes: Footnotes,
    res: Results,
    title: str = NOTES_TITLE,
) -> Markup:
    """The table (columns absent from ``shown`` left out), the † legend and the notes."""
    columns = [c for c in columns if c.name in shown.columns]
    body = table(shown, columns, row_class=_verdict_row)
    return body + reliability_legend(frame, rules_of(res)) + notes.html(title)


def comparison_table(cmp: pd.DataFrame, res: Results) -> Markup:
    """Rate ratios, intervals, q-values, coverage, verdict (†) and numbered notes."""
    notes = Footnotes("cmp-note")
    shown = cmp.assign(
        ci=[
            fmt_range(lo, hi) for lo, hi in zip(cmp.get("rr_low"), cmp.get("rr_high"), strict=True)
        ],
        verdict_shown=_verdict_shown(cmp),
        notes_shown=_notes_column(cmp, notes),
    )
    columns = [
        Column("region", "Region", sort=True, wrap=True),
        Column("count_before", "Events before", fmt_num, numeric=True),
        Column("count_after", "Events after", fmt_num, numeric=True),
        Column("rate_ratio", "Rate ratio", fmt_num, numeric=True),
        Column("ci", f"{level_pct(res)} CI", numeric=True, sort_by="rr_low"),
        *_verdict_columns(),
    ]
    return _result_table(cmp, shown, columns, notes, res)


def trend_table(tr: pd.DataFrame, res: Results) -> Markup:
    """APC per region (not estimable where unsupported), interval, q, verdict, notes."""
    notes = Footnotes("trend-note")
    shown, why = _apc_shown(tr)
    shown = shown.assign(
        verdict_shown=_verdict_shown(tr), notes_shown=_notes_column(tr, notes, why)
    )
    spans = set(zip(tr.get("first_period", []), tr.get("last_period", []), strict=True))
    if len(spans) > 1:  # each label kept whole; the line may break at "to"
        shown["series"] = _markup(tr, [
            join([tag("span", a, class_="nw"), " to ", tag("span", b, class_="nw")])
            if not (missing(a) or missing(b)) else Markup("")
            for a, b in zip(tr["first_period"], tr["last_period"], strict=True)
        ])  # fmt: skip
        shown["series_key"] = tr["first_period"].astype("string")
    columns = [
        Column("region", "Region", sort=True, wrap=True),
        Column("series", "Series", esc, sort_by="series_key"),
        Column("events", "Events", fmt_num, numeric=True),
        Column("apc_shown", "APC %", numeric=True, sort_by="apc_key"),
        Column("ci", f"{level_pct(res)} CI", numeric=True, sort_by="ci_key"),
        *_verdict_columns(dispersion=True),
    ]
    return _result_table(tr, shown, columns, notes, res)


def joinpoint_table(jp: pd.DataFrame, res: Results) -> Markup:
    """One row per segment: dates, APC (not estimable where unsupported), AAPC, verdict."""
    notes = Footnotes("jp-note")
    frame = jp.copy()
    for col in ("segment_start", "segment_end"):  # the period labels, else the dates
        if f"{col}_period" in frame.columns:
            frame[col] = frame[f"{col}_period"].astype("string")
        elif col in frame.columns:
            frame[col] = pd.to_datetime(frame[col], errors="coerce").dt.strftime("%Y-%m-%d")
    for col in ("apc", "apc_low", "apc_high", "aapc"):
        if col not in frame.columns:
            frame[col] = np.nan
    shown, why = _apc_shown(frame)
    aapc_ok, _ = verdicts.apc_estimable(frame["aapc"], frame["aapc"], frame["aapc"])
    shown = shown.assign(
        aapc_shown=[fmt_num(a) if k else verdicts.NOT_ESTIMABLE if not missing(a) else fmt_num(a)
                    for a, k in zip(frame["aapc"], aapc_ok, strict=True)],
        verdict_shown=_verdict_shown(frame),
        notes_shown=_notes_column(frame, notes, why),
    )  # fmt: skip
    columns = [
        Column("region", "Region", sort=True, wrap=True),
        Column("segment", "Segment", fmt_num, numeric=True),
        Column("segment_start", "From", sort=True, nowrap=True),
        Column("segment_end", "To", sort=True, nowrap=True),
        Column("apc_shown", "APC %", numeric=True, sort_by="apc_key"),
        Column("ci", f"{level_pct(res)} CI", numeric=True, sort_by="ci_key"),
        Column("aapc_shown", "AAPC %", numeric=True, sort_by="aapc"),
        *_verdict_columns(),
    ]
    return _result_table(frame, shown, columns, notes, res, "Notes on the segments")


def alarm_table(latest: pd.DataFrame, res: Results, *, bound: str = "Upper bound") -> Markup:
    """One row per region for one period of :func:`trends.alarms`: events observed,
    expected, the bound above which the count is unusual, p, coverage, verdict and the
    numbered notes (why a verdict is withheld or cannot be given)."""
    notes = Footnotes("alarm-note")
    order = pd.DataFrame({
        "d": ~latest["verdict"].astype(str).isin(verdicts.DIRECTIONAL),
        "s": -pd.to_numeric(latest["score"], errors="coerce").fillna(-np.inf),
        "o": -pd.to_numeric(latest["observed"], errors="coerce").fillna(0),
    }).sort_values(["d", "s", "o"], kind="stable").index  # fmt: skip
    rows = latest.loc[order]
    shown = rows.assign(verdict_shown=_verdict_shown(rows), notes_shown=_notes_column(rows, notes))
    columns = [
        Column("region", "Region", sort=True, wrap=True),
        Column("observed", "Events", fmt_num, numeric=True),
        Column("expected", "Expected", fmt_num, numeric=True),
        Column("upperbound", bound, fmt_num, numeric=True),
        *[c for c in _verdict_columns() if c.name != "qvalue" or rows["qvalue"].notna().any()],
    ]
    return _result_table(rows, shown, columns, notes, res)


def coverage_by_region(res: Results) -> Markup:
    """Cells of each status per region, and the events."""
    cov = res.coverage.assign(
        region=res.coverage["region"].astype(str), status=res.coverage["status"].astype(str)
    )
    counts = pd.crosstab(cov["region"], cov["status"])
    statuses = ["adequate", "thin", "insufficient", "uncovered"]
    counts = counts.reindex(columns=statuses, fill_value=0)
    counts["events"] = cov.groupby("region")["count"].sum(min_count=1)
    counts = counts.reset_index().sort_values(["events", "region"], ascending=[False, True])
    columns = [Column("region", "Region", sort=True, wrap=True),
               Column("events", "Events", fmt_num, numeric=True)]  # fmt: skip
    word = PERIOD_WORD[res.period]
    columns += [Column(s, f"{s.capitalize()} {word}s", fmt_num, numeric=True) for s in statuses]
    return table(counts, columns)


def flagged_cells(res: Results) -> Markup:
    """The cells that are not adequate, with their reasons (the first few hundred)."""
    cov = res.coverage
    flagged = cov[cov["status"].astype(str) != "adequate"].copy()
    if not len(flagged):
        return Markup("")
    flagged = flagged.sort_values(["region", "period_start"], kind="stable")
    heading = tag("h3", f"Cells not adequate ({len(flagged):,} of {len(cov):,})")
    more = Markup("")
    if len(flagged) > MAX_FLAGGED_ROWS:
        more = tag(
            "p",
            f"The first {MAX_FLAGGED_ROWS:,} are listed (by region and period); "
            f"{len(flagged) - MAX_FLAGGED_ROWS:,} more are in the table trends.coverage() "
            "returns, and the heat map shows every cell.",
            class_="note",
        )
        flagged = flagged.head(MAX_FLAGGED_ROWS)
    flagged["why"] = [reasons_text(r) for r in flagged.get("reasons", [""] * len(flagged))]
    columns = [
        Column("region", "Region", sort=True, wrap=True),
        Column("period", "Period", sort=True, nowrap=True),
        Column("count", "Events", fmt_num, numeric=True),
        Column("status", "Status", status_span, sort=True, nowrap=True),
        Column("why", "Why", wrap=True),
    ]
    rows = table(flagged, columns, row_class=lambda r: f"row-s-{slug(r['status'])}")
    return heading + more + rows


def ledger_table(res: Results) -> Markup:
    """Rows read, kept and set aside with the reason."""
    ledger = res.ledger.copy()
    total = int(ledger["rows"].sum())
    ledger["share"] = ledger["rows"] / total if total else np.nan
    kept = int(ledger.loc[ledger["reason"] == "kept", "rows"].sum())
    counted = res.cells["count"].sum()
    intro = tag(
        "p",
        f"{total:,} rows read; {kept:,} kept; {total - kept:,} set aside, each for the "
        f"reason below. {fmt_num(counted)} events counted in the cells.",
    )
    columns = [
        Column("reason", "Outcome", sort=True, wrap=True),
        Column("rows", "Rows", fmt_num, numeric=True),
        Column("share", "Share", lambda v: fmt_pct(100 * v), numeric=True),
    ]
    return intro + table(ledger, columns)
