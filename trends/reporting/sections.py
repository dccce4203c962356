"""The sections of the report: one function each, found by name in :data:`SECTIONS`.

A section is a function ``(page, res) -> Markup`` registered with its title; the page
shows the sections in the order they are registered. Adding a section is one function
and one ``@SECTIONS.register(...)`` line. Charts go through :func:`figure` (so they
can also be saved as figures, and a chart that cannot be built says why instead of
taking the report down). Words come from :mod:`.words`, method texts from
:mod:`.methods`, tables from :mod:`.tables`; every value from the data is text,
escaped by the HTML helpers (:mod:`.html`).

What a chart leaves out is said beside it: regions beyond the panels drawn, ratios of
0 or infinity that a log axis cannot show, estimates that are not estimable.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import altair as alt
import pandas as pd

from .. import __version__, plot, verdicts
from ..methods import Registry
from . import methods, tables
from .analysis import Results
from .formats import fmt_num
from .html import Markup, Page, join, slug, tag
from .words import (
    PERIOD_WORD,
    alarm_words,
    comparison_words,
    coverage_words,
    level_pct,
    names,
    plural,
    trend_words,
    window_text,
    withheld_words,
)

__all__ = ["SECTIONS", "figure", "parameters_text", "joinpoint_options", "footer_text"]

logger = logging.getLogger(__name__)

#: The report's sections, in page order: name -> function, description = the title.
SECTIONS = Registry("report section", option="section")

#: Panels of small multiples drawn (the regions with the most events).
MAX_PANELS = 24
#: Rows of a forest plot or of the coverage heat map.
MAX_CHART_ROWS = 40
#: Region names listed in the data section before "and N more".
MAX_REGIONS_LISTED = 60
#: Chart sizes (pixels) that fit a section 1,063 pixels wide (a 1,280-pixel window),
#: axis labels included: 4 panels of 200, a heat map of 720 beside its region names.
PANEL_WIDTH, HEAT_WIDTH, FOREST_WIDTH = 200, 720, 480


def figure(
    page: Page, name: str, build: Callable[[], alt.TopLevelMixin], caption: Any = ""
) -> Markup:
    """The chart ``build()`` returns, placed on the page; or, when it cannot be built,
    a sentence saying so and why (the report goes on). ``caption`` may be a function
    of the chart (to say what the chart left out)."""
    try:
        chart = build()
        return page.chart(name, chart, caption(chart) if callable(caption) else caption)
    except Exception as exc:  # a chart must never take the report down
        logger.warning("report: chart %s not drawn: %s", name, exc)
        why = " ".join(str(exc).split())[:300]
        return tag("p", f"The {name} chart could not be drawn ({type(exc).__name__}: {why}).",
                   class_="note")  # fmt: skip


def _skipped(res: Results, step: str, what: str) -> Markup:
    why = res.skipped.get(step, "it was not asked for")
    return tag("p", f"The {what} was not computed: {why}.")


# ----------------------------------------------------------------------------- summary


@SECTIONS.register("summary", description="Summary")
def summary(page: Page, res: Results) -> Markup:
    """The findings in sentences an analyst can paste into a brief."""
    paras: list[Markup] = []
    for step, frame, words, what in (
        ("compare", res.comparison, comparison_words, "comparison"),
        ("trend", res.trend, trend_words, "trend test"),
    ):
        if frame is not None and len(frame):
            paras.append(words(frame, res))
        elif step in res.skipped:
            paras.append(join([tag("strong", f"No {what}:"), f" {res.skipped[step]}."]))
    label, latest = res.latest_alarms()
    if latest is not None:
        paras.append(alarm_words(label, latest, res))
    elif "alarms" in res.skipped:
        paras.append(join([tag("strong", "No alarm scan:"), f" {res.skipped['alarms']}."]))
    paras.append(withheld_words(res))
    paras.append(coverage_words(res))
    body = join(tag("p", p) for p in paras if p)
    return _tiles(res) + tag("div", body, class_="summary")


def _tiles(res: Results) -> Markup:
    """Verdict counts at a glance: one row of tiles per analysis."""
    rows = []
    periods = res.cells.sort_values("period_start")["period"].astype(str)
    latest_label, latest = res.latest_alarms()
    for what, frame, kind in (
        ("Comparison", res.comparison, "change"),
        ("Trend", res.trend, "trend"),
        ("Unusual periods", latest, "alarm"),
    ):
        if frame is None or not len(frame):
            continue
        if kind == "change":
            when = f"{window_text(res.options['after'])} vs {window_text(res.options['before'])}"
        else:
            when = (
                f"{periods.iloc[0]} to {periods.iloc[-1]}" if kind == "trend" else str(latest_label)
            )
        up, down, neutral = verdicts.words(kind)
        said = frame["verdict"].astype(str)
        tiles = []
        for word in (up, down, neutral, *sorted(verdicts.WITHHELD)):
            n = int((said == word).sum())
            if n or word in (up, down):
                label = "withheld (thin coverage)" if word == verdicts.INCONCLUSIVE else word
                tiles.append(tag("div", tag("span", f"{n:,}", class_="n"),
                                 tag("span", label, class_="w"), class_=f"tile t-{slug(word)}"))  # fmt: skip
        label = tag("span", what, tag("small", when), class_="what")
        rows.append(tag("div", label, *tiles, class_="tiles"))
    return join(rows)


# ----------------------------------------------------------------------------- data


def _source_facts(src: Any) -> list[tuple[str, Any]]:
    facts: list[tuple[str, Any]] = []
    facts.append(("Data set", " ".join(str(x) for x in (src.name, src.version) if x)))
    if src.citation:
        facts.append(("Citation", src.citation))
    if src.licence:
        facts.append(("Licence", src.licence))
    if src.path:  # the name only: no local folders in a report that gets emailed,
        # and the same bytes wherever the file lies (the sha256 identifies it)
        facts.append(("File", tag("span", PurePath(str(src.path)).name, class_="mono")))
    if src.sha256:
        facts.append(("SHA-256", tag("span", src.sha256, class_="mono")))
    if src.coverage:
        start, end = src.coverage
        claim = {
            "registry": "the release's documented coverage",
            "declared": "declared when the data were read",
        }.get(src.coverage_from, "the data's own date range")
        facts.append(("Source coverage", f"{start.date()} to {end.date()} ({claim})"))
    return facts


@SECTIONS.register("data", description="Data and parameters")
def data(page: Page, res: Results) -> Markup:
    """What was analysed: data set, citation, hash, filters, regions, period, options."""
    if res.source is not None:
        facts = _source_facts(res.source)
    else:
        facts = [("Data", "a cell table given directly (no incident file)")]
    facts.append(("Filters", "; ".join(res.filters) if res.filters else "none"))
    periods = res.cells.sort_values("period_start")["period"].astype(str)
    word = PERIOD_WORD[res.period]
    facts.append(("Period covered", f"{periods.iloc[0]} to {periods.iloc[-1]} "
                                    f"({plural(periods.nunique(), word)})"))  # fmt: skip
    listed = names(res.regions, limit=MAX_REGIONS_LISTED)
    column = tag("span", "(column ", tag("code", res.options["region"]), ")", class_="note")
    facts.append((f"Regions ({len(res.regions):,})", join([listed, " ", column])))
    facts.append(("Parameters", parameters_text(res)))
    facts.append(("trends version", __version__))
    rows = join(tag("dt", k) + tag("dd", v) for k, v in facts)
    return tag("dl", rows, class_="facts")


def joinpoint_options(res: Results) -> dict[str, Any]:
    """Every option of :func:`trends.joinpoints` as used: the defaults, then those given."""
    from ..joinpoint.api import joinpoints

    defaults = {
        name: p.default
        for name, p in inspect.signature(joinpoints).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("progress", "rules")
    }
    return {
        **defaults,
        "level": res.options["level"],
        "rules": methods.rules_name(res),
        **res.options.get("joinpoints", {}),
    }


def parameters_text(res: Results) -> Markup:
    """Every option the results depend on, as ``name=value`` code."""
    o = res.options
    items = {"region": o["region"], "period": o["period"]}
    if o.get("before") is not None:
        items["before"] = "..".join(o["before"])
        items["after"] = "..".join(o["after"])
    items.update(
        {"rules": methods.rules_name(res), "level": o["level"],
         "trend method": o["trend_method"]}
    )  # fmt: skip
    if res.comparison is not None and "method" in res.comparison.columns:
        used = sorted(set(res.comparison["method"].dropna().astype(str)))
        items["compare method"] = ", ".join(used)
    chips = [tag("code", f"{k}={v}") for k, v in items.items()]
    if res.joinpoints is not None:
        inner = ", ".join(f"{k}={v}" for k, v in joinpoint_options(res).items())
        chips.append(tag("code", f"joinpoints({inner})"))
    return join(chips, ", ")


# ----------------------------------------------------------------------------- rates


def _panel_regions(res: Results) -> list[str]:
    """The regions drawn as panels: the most events first, at most :data:`MAX_PANELS`."""
    return plot.style.region_order(res.cells, "total")[:MAX_PANELS]


def _undrawn_segments(frame: pd.DataFrame, jp: pd.DataFrame | None) -> list[str]:
    """Regions with joinpoint segments whose fitted line could not be drawn."""
    if jp is None or not len(jp) or "segment" not in jp.columns:
        return []
    fitted = set(frame.loc[frame["fitted"].notna(), "region"])
    with_segments = set(
        jp.loc[pd.to_numeric(jp["segment"], errors="coerce").notna(), "region"].astype(str)
    )
    return sorted((with_segments & set(frame["region"])) - fitted)


@SECTIONS.register("rates", description="Rates by region")
def rates(page: Page, res: Results) -> Markup:
    """Small multiples of the rate, one per region, most events first."""
    shown = _panel_regions(res)
    rates = res.rates[res.rates["region"].astype(str).isin(shown)]
    cov = res.coverage[res.coverage["region"].astype(str).isin(shown)]
    jp = res.joinpoints
    if jp is not None:
        jp = jp[jp["region"].astype(str).isin(shown)]
    points = rates.groupby(rates["region"].astype(str)).size().max() <= plot.POINTS_UP_TO

    def caption(chart: alt.FacetChart) -> Markup:
        words = _rates_caption(res, len(shown), points=points)
        if jp is not None and len(jp):
            words.append(
                " Dashed red: the fitted joinpoint segments; dotted red rules: the joinpoints."
            )
            undrawn = _undrawn_segments(chart.data, jp)  # the table the chart draws
            if undrawn:
                words.append(
                    Markup(" The segments of {} could not be drawn (the fit of the segments "
                           "at the joinpoints found did not converge).").format(names(undrawn))
                )  # fmt: skip
        if points:
            words.append(" Hover over a point for its numbers and coverage reasons.")
        return join(words)

    return figure(
        page, "rates",
        lambda: plot.rates(rates, coverage=cov, joinpoints=jp, sort="total", width=PANEL_WIDTH),
        caption,
    )  # fmt: skip


def _rates_caption(res: Results, panels: int, *, points: bool) -> list[Any]:
    """What the small multiples show, what the marks mean, what is left out."""
    word = PERIOD_WORD[res.period]
    caption: list[Any] = [
        f"Events per month (per 30.4375 days of exposure) by {word}, with the "
        f"{level_pct(res)} confidence band; panels ordered by total events, each with its "
        "own scale. Grey shading marks periods the source does not cover: gaps, not zeros."
    ]
    if points:
        caption += [
            " Points are cells: ", tag("strong", "filled"), " = adequate coverage, ",
            tag("strong", "hollow"), " = thin (too few events or sources to judge a change), ",
            tag("strong", "grey"), " = insufficient.",
        ]  # fmt: skip
    else:
        caption.append(
            f" A series longer than {plot.POINTS_UP_TO} {word}s has no point per cell (it "
            "would be a smear): the coverage heat map below shows each cell."
        )
    if len(res.regions) > panels:
        caption.append(
            f" The {panels} regions with the most events are drawn; the other "
            f"{len(res.regions) - panels:,} are in the tables below."
        )
    return caption


# ----------------------------------------------------------------------------- forest plots


def _forest_rows(frame: pd.DataFrame, events: str | list[str]) -> pd.DataFrame:
    """At most :data:`MAX_CHART_ROWS` rows for a forest plot: every directional verdict
    first, then the regions with the most events."""
    total = frame[events].sum(axis=1) if isinstance(events, list) else frame[events]
    directional = frame["verdict"].astype(str).isin(verdicts.DIRECTIONAL)
    rank = pd.DataFrame({"d": ~directional, "e": -pd.to_numeric(total, errors="coerce").fillna(0)})
    order = rank.sort_values(["d", "e"], kind="stable").index[:MAX_CHART_ROWS]
    return frame.loc[order]


def _not_drawn(frame: pd.DataFrame, drawn: pd.DataFrame, describe: Callable[[Any], str]) -> Markup:
    """Words for the rows a forest plot leaves out, and for a plot cut to its rows."""
    parts = []
    missing = drawn[~drawn["drawn"]]
    if len(missing):
        rows = {str(r["region"]): r for r in frame.to_dict("records")}
        said = [f"{r} ({describe(rows[r])})" for r in missing["region"]]
        parts.append(Markup(" Not drawn: {}.").format(names(said, limit=12)))
    if drawn["clipped"].any():
        parts.append(" A dashed interval runs to 0 or infinity beyond the edge of the axis.")
    if len(frame) > len(drawn):
        parts.append(
            f" {len(drawn)} of {len(frame):,} regions are drawn (every rise and fall first, then "
            "the most events); the table lists all."
        )
    return join(parts)


def _forest_figure(
    page: Page,
    name: str,
    build: Callable[[], alt.TopLevelMixin],
    drawn: pd.DataFrame,
    what: str,
    left_out: Markup,
) -> Markup:
    """The forest plot with its caption, or, when no row can be drawn, only the words."""
    if drawn["drawn"].any():
        return figure(page, name, build, join([what, left_out]))
    return tag("p", "No region has a mark to draw on this chart.", left_out, class_="note")


def _ratio_why(row: dict[str, Any]) -> str:
    """Why a comparison row has no mark on the log axis, in words."""
    verdict = str(row.get("verdict", ""))
    before, after = row.get("count_before"), row.get("count_after")
    if verdict == verdicts.NOT_COVERED:
        return "not covered"
    if before == 0 and after == 0:
        return "no events in either window"
    if before == 0:
        return "no events before: the ratio is infinite"
    if after == 0:
        return "no events after: the ratio is 0"
    return verdict if verdict in verdicts.WITHHELD else "no ratio"


def _apc_why(row: dict[str, Any]) -> str:
    """Why a trend row has no mark, in words."""
    verdict = str(row.get("verdict", ""))
    ok, why = verdicts.apc_estimable([row.get("apc")], [row.get("apc_low")], [row.get("apc_high")])
    notes = str(row.get("notes", "") or "")
    if not ok[0]:
        return f"{verdicts.NOT_ESTIMABLE}: {why[0]}"
    return (
        f"{verdict}: {notes}" if notes and verdict in verdicts.WITHHELD else (verdict or "no APC")
    )


@SECTIONS.register("comparison", description="Comparison")
def comparison(page: Page, res: Results) -> Markup:
    """The windows compared: ratio, interval, verdict, and the forest plot."""
    if res.comparison is None:
        return _skipped(res, "compare", "comparison")
    cmp = res.comparison.sort_values("rate_ratio", ascending=False, na_position="last")
    before, after = window_text(res.options["before"]), window_text(res.options["after"])
    how = "the windows given" if res.options["windows"] == "given" else "the default windows"
    intro = tag(
        "p",
        f"Rate in {after} against {before} ({how}), region by region. The rate ratio is "
        f"after / before, with its {level_pct(res)} confidence interval; q-values are "
        "adjusted for testing every region (Benjamini–Hochberg). Verdicts rest on the "
        "q-value and on the coverage of both windows. Click a header to sort.",
    )
    rows = _forest_rows(cmp, ["count_before", "count_after"])
    drawn = plot.forest_frame(rows, estimate="rate_ratio", low="rr_low", high="rr_high", log=True)
    chart = _forest_figure(
        page, "comparison", lambda: plot.comparison(rows, sort="estimate", width=FOREST_WIDTH),
        drawn, "Rate ratios with their intervals (log scale); the grey rule is no change.",
        _not_drawn(cmp, drawn, _ratio_why),
    )  # fmt: skip
    return intro + chart + tables.comparison_table(cmp, res)


@SECTIONS.register("trend", description="Trend")
def trend(page: Page, res: Results) -> Markup:
    """Annual percent change per region, and the joinpoint segments."""
    if res.trend is None:
        body = _skipped(res, "trend", "trend test")
    else:
        tr = res.trend.sort_values("apc", ascending=False, na_position="last")
        used = ", ".join(sorted(set(tr["method"].dropna().astype(str)))) if "method" in tr else "?"
        intro = tag(
            "p", "Annual percent change (APC) of the rate over each region's covered series "
            "(method ", tag("code", used), f"), with its {level_pct(res)} interval; ",
            tag("em", "rising"), " or ", tag("em", "falling"), " when the q-value "
            "(Benjamini–Hochberg over the regions, and over all the report's tests) is below alpha "
            "and coverage is adequate.",
        )  # fmt: skip
        rows = _forest_rows(tr, "events") if "events" in tr.columns else tr.head(MAX_CHART_ROWS)
        drawn = plot.forest_frame(
            rows, estimate="apc", low="apc_low", high="apc_high", log=False,
            estimable=verdicts.apc_estimable(rows["apc"], rows["apc_low"], rows["apc_high"])[0],
        )  # fmt: skip
        chart = _forest_figure(
            page, "trend", lambda: plot.trends(rows, sort="estimate", width=FOREST_WIDTH),
            drawn, "Annual percent change with its interval; the grey rule is no change.",
            _not_drawn(tr, drawn, _apc_why),
        )  # fmt: skip
        body = intro + chart + tables.trend_table(tr, res)
    if res.joinpoints is not None and len(res.joinpoints):
        body += tag("h3", "Joinpoint segments") + tables.joinpoint_table(res.joinpoints, res)
    elif "joinpoints" in res.skipped:
        body += tag("p", f"Joinpoints were not fitted: {res.skipped['joinpoints']}.", class_="note")
    return body


# ----------------------------------------------------------------------------- alarms


@SECTIONS.register("alarms", description="Unusual periods")
def alarms(page: Page, res: Results) -> Markup:
    """Is the latest period unusual? The alarms, a timeline per region, the false alarms
    to expect (:mod:`.unusual`)."""
    from .unusual import unusual_periods

    return unusual_periods(page, res)


# ----------------------------------------------------------------------------- coverage


@SECTIONS.register("coverage", description="Coverage")
def coverage(page: Page, res: Results) -> Markup:
    """Heat map of cell coverage, the cells not adequate with their reasons, top sources."""
    word = PERIOD_WORD[res.period]
    cov = res.coverage
    shown = plot.style.region_order(cov, "total")[:MAX_CHART_ROWS]
    intro = tag(
        "p",
        f"Each cell is one region and {word}, coloured by whether the reporting behind it "
        "supports a conclusion. Hover over a cell for its reasons; every cell that is not "
        "adequate is listed below with them. The thresholds are in the methods section.",
    )
    caption = ""
    if len(res.regions) > len(shown):
        caption = (
            f"The {len(shown)} regions with the most events are drawn; the table below "
            f"counts the cells of all {len(res.regions):,}."
        )
    part = cov[cov["region"].astype(str).isin(shown)]
    body = intro + figure(
        page, "coverage", lambda: plot.coverage(part, sort="total", width=HEAT_WIDTH), caption
    )
    body += tag("h3", "By region") + tables.coverage_by_region(res) + tables.flagged_cells(res)
    body += tag("h3", "Top sources")
    if len(res.sources):
        body += tag(
            "p",
            "The outlets named by the most events, and the share of events naming a source "
            "that name them (an event can name several).",
        )
        body += figure(page, "sources", lambda: plot.sources(res.sources, top=10))
    else:
        body += tag("p", "The data name no outlets, so source shares are unknown.")
    return body


# ----------------------------------------------------------------------------- methods


def _joinpoint_methods(res: Results) -> tuple[Markup, list[str]]:
    used = sorted(set(res.joinpoints.get("method", pd.Series(dtype=str)).dropna().astype(str)))
    return methods.joinpoint_item(joinpoint_options(res), used)


@SECTIONS.register("methods", description="Methods")
def methods_section(page: Page, res: Results) -> Markup:
    """The decision rule, methods and thresholds as actually used, with references."""
    level = level_pct(res)
    items, refs = [], []
    steps = [
        (True, lambda: methods.verdict_item(res)),
        (True, lambda: methods.counting_item(res)),
        (True, lambda: methods.rates_item(res, level)),
        (res.comparison is not None, lambda: methods.comparison_item(res, level)),
        (res.trend is not None, lambda: methods.trend_item(res)),
        (res.joinpoints is not None, lambda: _joinpoint_methods(res)),
        (res.alarms is not None, lambda: methods.alarm_item(res)),
        (True, lambda: methods.coverage_item(res)),
    ]
    for wanted, make in steps:
        if wanted:
            item, keys = make()
            items.append(tag("li", item))
            refs += keys
    body = tag("ul", *items)
    if res.warnings:
        body += tag("h3", "Warnings raised by the analysis")
        body += tag("ul", *(tag("li", w) for w in res.warnings))
    cited = [tag("li", methods.citation(k)) for k in dict.fromkeys(refs)]
    return body + tag("h3", "References") + tag("ol", *cited)


# ----------------------------------------------------------------------------- ledger


@SECTIONS.register("ledger", description="Ledger")
def ledger(page: Page, res: Results) -> Markup:
    """Rows read, counted, and set aside with the reason."""
    if res.ledger is None:
        return tag(
            "p",
            "The report was made from a cell table, so there is no row ledger. Events "
            f"counted: {fmt_num(res.cells['count'].sum())}.",
        )
    return tables.ledger_table(res)


def footer_text(res: Results, timestamp: str | None) -> str:
    """Which trends made the page, and when (only if asked)."""
    made = f" on {timestamp}" if timestamp else ""
    return (
        f"Made by trends {__version__}{made}. Self-contained: this file loads nothing "
        "from the network."
    )
