"""The sections of the report, one function each, in the order they appear.

Each function takes the :class:`~trends.reporting.analysis.Results` and the
:class:`~trends.reporting.html.Page` and adds one section (charts go through
``page.chart`` so they can also be saved as figures). Words are written from the
results and the options actually used; every value from the data is escaped.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__, plot, verdicts
from .analysis import Results
from .html import Column, Page, esc, fmt_num, fmt_p, slug, status_span, table, verdict_chip

__all__ = [
    "header_section",
    "summary_section",
    "rates_section",
    "comparison_section",
    "trend_section",
    "coverage_section",
    "methods_section",
    "ledger_section",
]

PERIOD_WORD = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}
RISE = {verdicts.INCREASE, verdicts.RISING}
FALL = {verdicts.DECREASE, verdicts.FALLING}
WITHHELD = verdicts.INCONCLUSIVE
NOT_COVERED = verdicts.NOT_COVERED
MAX_NAMES = 8  # regions named in one sentence before "and N more"


# --------------------------------------------------------------------------------------
# Words


def names(items: list[str], limit: int = MAX_NAMES) -> str:
    """``['A', 'B', 'C']`` -> ``'A, B and C'``, at most ``limit`` named.

    The items are HTML fragments: escape data before passing it.
    """
    items = list(items)
    if len(items) > limit:
        items = items[:limit] + [f"{len(items) - limit} more"]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def window_text(window: tuple[str, str]) -> str:
    first, last = window
    return esc(first) if first == last else f"{esc(first)} to {esc(last)}"


def pct(x: float, signed: bool = False) -> str:
    text = f"{x:+.0f}%" if signed else f"{x:.0f}%"
    return text.replace("-", "−")


def level_pct(res: Results) -> str:
    return f"{100 * float(res.options.get('level', 0.95)):g}%"


def _ratio_phrase(row: pd.Series, level: str) -> str:
    return (
        f"{esc(row['region'])} (rate ratio {fmt_num(row['rate_ratio'], 3)}, {level} CI "
        f"{fmt_num(row['rr_low'], 3)}–{fmt_num(row['rr_high'], 3)})"
    )


def _apc_phrase(row: pd.Series, level: str) -> str:
    return (
        f"{esc(row['region'])} ({pct(row['apc'], True)} a year, {level} CI "
        f"{pct(row['apc_low'], True)} to {pct(row['apc_high'], True)})"
    )


# --------------------------------------------------------------------------------------
# Sections


def header_section(page: Page, res: Results) -> None:
    """What was analysed: data set, citation, hash, filters, regions, period, options."""
    src = res.source
    facts: list[tuple[str, str]] = []
    if src is not None:
        name = " ".join(str(x) for x in (src.name, src.version) if x)
        facts.append(("Data set", esc(name)))
        if src.citation:
            facts.append(("Citation", esc(src.citation)))
        if src.licence:
            facts.append(("Licence", esc(src.licence)))
        if src.path:  # the name only: no local folders in a report that gets emailed,
            # and the same bytes wherever the file lies (the sha256 identifies it)
            name = PurePath(str(src.path)).name
            facts.append(("File", f'<span class="mono">{esc(name)}</span>'))
        if src.sha256:
            facts.append(("SHA-256", f'<span class="mono">{esc(src.sha256)}</span>'))
        if src.coverage:
            start, end = src.coverage
            claim = {
                "registry": "the release's documented coverage",
                "declared": "declared when the data were read",
            }.get(src.coverage_from, "the data's own date range")
            facts.append(("Source coverage", f"{esc(start.date())} to {esc(end.date())} ({claim})"))
    else:
        facts.append(("Data", "a cell table given directly (no incident file)"))
    facts.append(("Filters", esc("; ".join(res.filters)) if res.filters else "none"))
    periods = res.cells.sort_values("period_start")["period"].astype(str)
    word = PERIOD_WORD[res.period]
    facts.append(
        ("Period covered",
         f"{esc(periods.iloc[0])} to {esc(periods.iloc[-1])} "
         f"({plural(periods.nunique(), word)})")
    )  # fmt: skip
    facts.append(
        (f"Regions ({len(res.regions)})",
         esc(", ".join(res.regions)) + f" <span class=\"note\">(column "
         f"<code>{esc(res.options['region'])}</code>)</span>")
    )  # fmt: skip
    facts.append(("Parameters", parameters_text(res)))
    facts.append(("trends version", esc(__version__)))
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    page.add("data", "Data and parameters", f'<dl class="facts">{rows}</dl>')


def joinpoint_options(res: Results) -> dict[str, Any]:
    """Every option of :func:`trends.joinpoints` as used: the defaults, then those given."""
    import inspect

    from ..joinpoint.api import joinpoints

    defaults = {
        name: p.default
        for name, p in inspect.signature(joinpoints).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name != "progress"
    }
    return {
        **defaults,
        "level": res.options["level"],
        "rules": res.options["rules"],
        **res.options.get("joinpoints", {}),
    }


def parameters_text(res: Results) -> str:
    """Every option the results depend on, as ``name=value`` code."""
    o = res.options
    items = {
        "region": o["region"],
        "period": o["period"],
        "before": "..".join(o["before"]),
        "after": "..".join(o["after"]),
        "rules": o["rules"],
        "level": o["level"],
        "trend method": o["trend_method"],
    }
    if res.comparison is not None and "method" in res.comparison.columns:
        items["compare method"] = ", ".join(sorted(set(res.comparison["method"].astype(str))))
    chips = [f"<code>{esc(k)}={esc(v)}</code>" for k, v in items.items()]
    if res.joinpoints is not None:
        inner = ", ".join(f"{k}={v}" for k, v in joinpoint_options(res).items())
        chips.append(f"<code>joinpoints({esc(inner)})</code>")
    return ", ".join(chips)


def summary_section(page: Page, res: Results) -> None:
    """The findings in sentences an analyst can paste into a brief."""
    level = level_pct(res)
    paras: list[str] = []
    tiles = _tiles(res)
    if res.comparison is not None:
        paras.append(_comparison_words(res.comparison, res, level))
    if res.trend is not None:
        paras.append(_trend_words(res.trend, res, level))
    paras.append(_withheld_words(res))
    paras.append(_coverage_words(res))
    body = "".join(f"<p>{p}</p>" for p in paras if p)
    page.add("summary", "Summary", f'{tiles}<div class="summary">{body}</div>')


def _tiles(res: Results) -> str:
    """Verdict counts at a glance: one row of tiles per analysis."""
    rows = []
    periods = res.cells.sort_values("period_start")["period"].astype(str)
    when = {
        "Comparison": f"{window_text(res.options['after'])} vs {window_text(res.options['before'])}",
        "Trend": f"{esc(periods.iloc[0])} to {esc(periods.iloc[-1])}",
    }
    for what, frame, words in (
        ("Comparison", res.comparison, verdicts.words("change")),
        ("Trend", res.trend, verdicts.words("trend")),
    ):
        if frame is None:
            continue
        said = frame["verdict"].astype(str)
        tiles = []
        for word in (*words, WITHHELD, NOT_COVERED):
            n = int((said == word).sum())
            if n or word in words[:2]:
                label = "withheld (thin coverage)" if word == WITHHELD else word
                tiles.append(
                    f'<div class="tile t-{slug(word)}"><span class="n">{n}</span>'
                    f'<span class="w">{esc(label)}</span></div>'
                )
        label = f'<span class="what">{what}<small>{when[what]}</small></span>'
        rows.append(f'<div class="tiles">{label}{"".join(tiles)}</div>')
    return "".join(rows)


def _verdict_counts(frame: pd.DataFrame, up: set[str], down: set[str]) -> dict[str, int]:
    v = frame["verdict"].astype(str)
    return {
        "up": int(v.isin(up).sum()),
        "down": int(v.isin(down).sum()),
        "held": int((v == WITHHELD).sum()),
        "uncovered": int((v == NOT_COVERED).sum()),
    }


def _judged_tail(counts: dict[str, int], flat: int, flat_words: str) -> str:
    """The sentence after the rises and falls: no change, withheld, not covered."""
    rest = []
    if flat:
        rest.append(f"{flat_words} in {plural(flat, 'region')}")
    if counts["held"]:
        rest.append(f"withheld for thin coverage in {plural(counts['held'], 'region')}")
    if counts["uncovered"]:
        rest.append(f"not covered in {plural(counts['uncovered'], 'region')}")
    if not rest:
        return ""
    text = "; ".join(rest)
    return text[0].upper() + text[1:] + "."


def _comparison_words(cmp: pd.DataFrame, res: Results, level: str) -> str:
    before, after = window_text(res.options["before"]), window_text(res.options["after"])
    n = len(cmp)
    up = cmp[cmp["verdict"].isin(RISE)].sort_values("rate_ratio", ascending=False)
    down = cmp[cmp["verdict"].isin(FALL)].sort_values("rate_ratio")
    counts = _verdict_counts(cmp, RISE, FALL)
    flat = int((cmp["verdict"] == "no significant change").sum())
    parts = [f"<strong>{after} against {before}:</strong>"]
    if len(up):
        parts.append(
            f"events rose significantly in {len(up)} of {n} regions: "
            f"{names([_ratio_phrase(r, level) for _, r in up.iterrows()])}."
        )
    if len(down):
        lead = "They fell" if len(up) else "events fell"
        parts.append(
            f"{lead} significantly in {len(down)} of {n} regions: "
            f"{names([_ratio_phrase(r, level) for _, r in down.iterrows()])}."
        )
    if not len(up) and not len(down):
        parts.append(f"no significant rise or fall in any of the {n} regions.")
    parts.append(_judged_tail(counts, flat, "no significant change"))
    return " ".join(p for p in parts if p)


def _trend_words(tr: pd.DataFrame, res: Results, level: str) -> str:
    word = PERIOD_WORD[res.period]
    n = len(tr)
    up = tr[tr["verdict"] == "rising"].sort_values("apc", ascending=False)
    down = tr[tr["verdict"] == "falling"].sort_values("apc")
    counts = _verdict_counts(tr, {"rising"}, {"falling"})
    flat = int((tr["verdict"] == "stable").sum())
    parts = [f"<strong>Trend over the whole series</strong> (events per {word}):"]
    if len(up):
        parts.append(
            f"rising in {len(up)} of {n} regions, "
            f"{names([_apc_phrase(r, level) for _, r in up.iterrows()])}."
        )
    if len(down):
        parts.append(
            f"{'Falling' if len(up) else 'falling'} in {len(down)} of {n} regions, "
            f"{names([_apc_phrase(r, level) for _, r in down.iterrows()])}."
        )
    if not len(up) and not len(down):
        parts.append(f"no significant trend in any of the {n} regions.")
    parts.append(_judged_tail(counts, flat, "stable"))
    return " ".join(p for p in parts if p)


_COMPARATOR = re.compile(r",\s*(fewer than|above|below|at least|at most|more than)\b")


def reason_kind(reason: str) -> str:
    """The rule behind a coverage reason, without its numbers, to tally reasons.

    ``'before: 5.1 effective events (dispersion 4.67), fewer than 10'`` ->
    ``'fewer than 10 effective events'``.
    """
    text = re.sub(r"^(before|after|baseline):\s*", "", reason.strip())
    text = re.sub(r"\s*\([^)]*\)", "", text)
    match = _COMPARATOR.search(text)
    if match:
        subject = re.sub(r"(?<![\w])[\d.,]+%?(?![\w])", "", text[: match.start()]).strip()
        limit = text[match.start() + 1 :].strip()
        if limit.startswith("fewer than") and subject.endswith("events"):
            return f"{limit} {subject}"  # 'fewer than 20 events'
        return f"{subject} {limit}".strip()
    if re.match(r"^1 distinct source", text):
        return "a single source"
    text = re.sub(r"^[\d.]+% of ", "most ", text)
    text = re.sub(r"^[\d,]+ of [\d,]+ ", "", text)
    return re.sub(r":.*$", "", text).strip()


def _withheld_words(res: Results) -> str:
    """Which verdicts are withheld or impossible, and why, tallied by rule."""
    parts = []
    for what, frame in (("comparison", res.comparison), ("trend", res.trend)):
        if frame is None:
            continue
        held = frame[frame["verdict"] == WITHHELD]
        if len(held):
            kinds: dict[str, int] = {}
            for _, row in held.iterrows():
                for kind in dict.fromkeys(
                    reason_kind(r)
                    for r in plot.reasons_text(row.get("coverage_reasons")).split("; ")
                ):
                    if kind:
                        kinds[kind] = kinds.get(kind, 0) + 1
            tally = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
            why = "; ".join(f"{esc(k)} ({plural(v, 'region')})" for k, v in tally)
            regions = names([esc(r) for r in held["region"].astype(str)])
            parts.append(
                f"<strong>The {what} is withheld for thin coverage</strong> in "
                f"{plural(len(held), 'region')} ({regions}): the estimates are shown, but "
                f"the reporting is too thin to call a change. Commonest reasons: {why}."
            )
        uncovered = frame[frame["verdict"] == NOT_COVERED]
        if len(uncovered):
            regions = names([esc(r) for r in uncovered["region"].astype(str)])
            parts.append(
                f"<strong>No {what} is possible</strong> in {regions}: the source does not "
                "cover the periods needed."
            )
    return " ".join(parts)


def _coverage_words(res: Results) -> str:
    cov = res.coverage
    word = PERIOD_WORD[res.period]
    n = len(cov)
    counts = cov["status"].value_counts()
    parts = []
    for status in ("adequate", "thin", "insufficient", "uncovered"):
        k = int(counts.get(status, 0))
        if k:
            parts.append(f"{k:,} ({pct(100 * k / n)}) {status}")
    text = f"<strong>Coverage:</strong> of {n:,} region-{word}s, " + ", ".join(parts) + "."
    if len(res.sources) and res.sources["share"].notna().any():
        top = res.sources.iloc[0]
        text += (
            f" The outlet named most often, {esc(top['source'])}, is behind "
            f"{pct(100 * float(top['share']))} of the events that name a source"
        )
        text += (
            ": a change in its reporting would look like a change in events."
            if float(top["share"]) >= 0.5
            else "."
        )
    return text


def rates_section(page: Page, res: Results) -> None:
    """Small multiples of the rate, one per region, most events first."""
    word = PERIOD_WORD[res.period]
    chart = plot.rates(res.rates, coverage=res.coverage, joinpoints=res.joinpoints, sort="total")
    caption = (
        f"Events per month (per 30.4375 days of exposure) by {word}, with the "
        f"{level_pct(res)} confidence band; panels ordered by total events, each with its "
        "own scale. Points are cells: <strong>filled</strong> = adequate coverage, "
        "<strong>hollow</strong> = thin (too few events or sources to judge a change), "
        "<strong>grey</strong> = insufficient. Grey shading marks periods the source does "
        "not cover: gaps, not zeros."
    )
    if res.joinpoints is not None and len(res.joinpoints):
        caption += " Dashed red: the fitted joinpoint segments; dotted red rules: the joinpoints."
    caption += " Hover over a point for its numbers and coverage reasons."
    page.add("rates", "Rates by region", page.chart("rates", chart, caption))


def _verdict_row(row: dict) -> str:
    return f"row-v-{slug(row.get('verdict', ''))}"


def comparison_section(page: Page, res: Results) -> None:
    """Last period against the one before (or the windows given): ratio, CI, verdict."""
    if res.comparison is None:
        page.add("comparison", "Comparison", "<p>The comparison was not computed.</p>")
        return
    cmp = res.comparison.sort_values("rate_ratio", ascending=False, na_position="last")
    before, after = window_text(res.options["before"]), window_text(res.options["after"])
    how = (
        "the windows given"
        if res.options["windows"] == "given"
        else (f"the last {PERIOD_WORD[res.period]} against the one before")
    )
    intro = (
        f"<p>Rate in {after} against {before} ({how}), region by region. The rate ratio is "
        f"after / before, with its {level_pct(res)} confidence interval; q-values are "
        "adjusted for testing every region (Benjamini–Hochberg). Verdicts rest on the "
        "q-value and on the coverage of both windows. Click a header to sort.</p>"
    )
    columns = [
        Column("region", "Region", sort=True),
        Column("count_before", "Events before", fmt_num, numeric=True),
        Column("count_after", "Events after", fmt_num, numeric=True),
        Column("rate_ratio", "Rate ratio", lambda v: fmt_num(v, 3), numeric=True),
        Column("rr_low", "Lower", lambda v: fmt_num(v, 3), numeric=True),
        Column("rr_high", "Upper", lambda v: fmt_num(v, 3), numeric=True),
        Column("pvalue", "p", fmt_p, numeric=True),
        Column("qvalue", "q", fmt_p, numeric=True),
        Column("coverage", "Coverage", status_span, sort=True),
        Column("verdict", "Verdict", verdict_chip, sort=True),
        Column("coverage_reasons", "Why", esc),
    ]
    columns = [c for c in columns if c.name in cmp.columns]
    chart = plot.comparison(cmp, sort="estimate")
    body = intro + page.chart(
        "comparison", chart,
        "Rate ratios with their intervals (log scale); the grey rule is no change.",
    ) + table(cmp, columns, row_class=_verdict_row)  # fmt: skip
    page.add("comparison", "Comparison", body)


def trend_section(page: Page, res: Results) -> None:
    """Annual percent change per region, and the joinpoint segments."""
    if res.trend is None:
        page.add("trend", "Trend", "<p>The trend test was not computed.</p>")
        return
    tr = res.trend.sort_values("apc", ascending=False, na_position="last")
    method = ", ".join(sorted(set(tr["method"].astype(str)))) if "method" in tr else "?"
    intro = (
        f"<p>Annual percent change (APC) of the rate over each region's covered series "
        f"(method <code>{esc(method)}</code>), with its {level_pct(res)} interval; "
        "<em>rising</em> or <em>falling</em> when the interval excludes 0 and coverage "
        "is adequate. q-values: Benjamini–Hochberg over the regions.</p>"
    )
    columns = [
        Column("region", "Region", sort=True),
        Column("first_period", "From", sort=True),
        Column("last_period", "To", sort=True),
        Column("events", "Events", fmt_num, numeric=True),
        Column("apc", "APC %", lambda v: fmt_num(v, 3), numeric=True),
        Column("apc_low", "Lower", lambda v: fmt_num(v, 3), numeric=True),
        Column("apc_high", "Upper", lambda v: fmt_num(v, 3), numeric=True),
        Column("pvalue", "p", fmt_p, numeric=True),
        Column("qvalue", "q", fmt_p, numeric=True),
        Column("dispersion", "Dispersion", lambda v: fmt_num(v, 3), numeric=True),
        Column("coverage", "Coverage", status_span, sort=True),
        Column("verdict", "Verdict", verdict_chip, sort=True),
        Column("coverage_reasons", "Why", esc),
    ]
    columns = [c for c in columns if c.name in tr.columns]
    body = intro + page.chart(
        "trend", plot.trends(tr, sort="estimate"),
        "Annual percent change with its interval; the grey rule is no change.",
    ) + table(tr, columns, row_class=_verdict_row)  # fmt: skip
    if res.joinpoints is not None and len(res.joinpoints):
        body += "<h3>Joinpoint segments</h3>" + _joinpoint_table(res.joinpoints)
    page.add("trend", "Trend", body)


def _joinpoint_table(jp: pd.DataFrame) -> str:
    frame = jp.copy()
    for col in ("segment_start", "segment_end"):
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.strftime("%Y-%m-%d")
    columns = [
        Column("region", "Region", sort=True),
        Column("segment", "Segment", fmt_num, numeric=True),
        Column("segment_start", "From", sort=True),
        Column("segment_end", "To", sort=True),
        Column("apc", "APC %", lambda v: fmt_num(v, 3), numeric=True),
        Column("apc_low", "Lower", lambda v: fmt_num(v, 3), numeric=True),
        Column("apc_high", "Upper", lambda v: fmt_num(v, 3), numeric=True),
        Column("pvalue", "p", fmt_p, numeric=True),
        Column("qvalue", "q", fmt_p, numeric=True),
        Column("aapc", "AAPC %", lambda v: fmt_num(v, 3), numeric=True),
        Column("verdict", "Verdict", verdict_chip, sort=True),
        Column("notes", "Notes", esc),
    ]
    columns = [c for c in columns if c.name in frame.columns]
    return table(frame, columns, row_class=_verdict_row)


def coverage_section(page: Page, res: Results) -> None:
    """Heat map of cell coverage, the reasons in a table, and the top sources."""
    word = PERIOD_WORD[res.period]
    cov = res.coverage
    body = (
        f"<p>Each cell is one region and {word}, coloured by whether the reporting behind "
        "it supports a conclusion. Hover over a cell for its reasons; every cell that is "
        "not adequate is listed below with them.</p>"
    )
    body += page.chart("coverage", plot.coverage(cov, sort="total"))
    rules = _rules_of(res)
    if rules:
        body += f'<p class="note">Thresholds: {rules}.</p>'
    body += f"<h3>By region</h3>{_coverage_by_region(res)}"
    flagged = cov[cov["status"] != "adequate"].copy()
    if len(flagged):
        flagged["why"] = flagged["reasons"].map(plot.reasons_text)
        columns = [
            Column("region", "Region", sort=True),
            Column("period", "Period", sort=True),
            Column("count", "Events", fmt_num, numeric=True),
            Column("status", "Status", status_span, sort=True),
            Column("why", "Why"),
        ]
        body += f"<h3>Cells not adequate ({len(flagged):,} of {len(cov):,})</h3>" + table(
            flagged, columns, row_class=lambda r: f"row-s-{slug(r['status'])}"
        )
    body += "<h3>Top sources</h3>"
    if len(res.sources):
        body += (
            "<p>The outlets named by the most events, and the share of events naming a "
            "source that name them (an event can name several).</p>"
        )
        body += page.chart("sources", plot.sources(res.sources, top=10))
    else:
        body += "<p>The data name no outlets, so source shares are unknown.</p>"
    page.add("coverage", "Coverage", body)


def _coverage_by_region(res: Results) -> str:
    """Cells of each status per region, and the top outlet's share of its events."""
    cov = res.coverage.assign(region=res.coverage["region"].astype(str))
    counts = pd.crosstab(cov["region"], cov["status"])
    statuses = ["adequate", "thin", "insufficient", "uncovered"]
    counts = counts.reindex(columns=statuses, fill_value=0)
    counts["events"] = cov.groupby("region")["count"].sum(min_count=1)
    counts = counts.reset_index().sort_values(["events", "region"], ascending=[False, True])
    columns = [Column("region", "Region", sort=True), Column("events", "Events", fmt_num, True)]
    word = PERIOD_WORD[res.period]
    columns += [Column(s, f"{s.capitalize()} {word}s", fmt_num, True) for s in statuses]
    return table(counts, columns)


def _rules_of(res: Results) -> str:
    """The coverage thresholds in use, as text (empty if they cannot be resolved)."""
    from ..coverage_model import resolve_rules

    try:
        rules = resolve_rules(res.options["rules"])
    except (ValueError, TypeError):
        return ""
    return ", ".join(
        f"<code>{esc(f.name)}={esc(getattr(rules, f.name))}</code>"
        for f in dataclasses.fields(rules)
    )


#: References behind each method a report can state, keyed by the method's name.
REFERENCES: dict[str, str] = {
    "garwood": "Garwood F (1936). Fiducial limits for the Poisson distribution. "
    "<em>Biometrika</em> 28:437–442.",
    "bh": "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate. "
    "<em>J R Stat Soc B</em> 57:289–300.",
    "quasipoisson": "Wedderburn RWM (1974). Quasi-likelihood functions, generalized linear "
    "models, and the Gauss–Newton method. <em>Biometrika</em> 61:439–447; McCullagh P, "
    "Nelder JA (1989). <em>Generalized Linear Models</em>, 2nd ed., §4.5.",
    "negbin": "Venables WN, Ripley BD (2002). <em>Modern Applied Statistics with S</em>, "
    "4th ed., §7.4.",
    "mann-kendall": "Mann HB (1945). Nonparametric tests against trend. "
    "<em>Econometrica</em> 13:245–259; Sen PK (1968). <em>JASA</em> 63:1379–1389.",
    "joinpoint": "Kim H-J, Fay MP, Feuer EJ, Midthune DN (2000). Permutation tests for "
    "joinpoint regression with applications to cancer rates. <em>Stat Med</em> 19:335–351.",
    "joinpoint-eq": "Kim H-J, Chen H-S, Byrne J, Wheeler B, Feuer EJ (2022). Twenty years "
    "since Joinpoint 1.0: two major enhancements, their justification, and impact. "
    "<em>Stat Med</em> 41:3102–3130.",
    "nchs": "National Center for Health Statistics (2023). Data presentation standards for "
    "rates and counts. <em>Vital Health Stat</em> 2.",
    "poisson-test": "Fay MP (2010). Two-sided exact tests and matching confidence intervals "
    "for discrete data. <em>R Journal</em> 2(1):53–58.",
    "gu2008": "Gu K, Ng HKT, Tang ML, Schucany WR (2008). Testing the ratio of two Poisson "
    "rates. <em>Biometrical Journal</em> 50(2):283–298.",
    "lancaster": "Lancaster HO (1961). Significance tests in discrete distributions. "
    "<em>JASA</em> 56:223–234.",
    "etest": "Krishnamoorthy K, Thomson J (2004). A more powerful test for comparing two "
    "Poisson means. <em>J Stat Plan Inference</em> 119:23–35.",
}

#: What each comparison method is, in words, and its reference (see trends.compare).
COMPARE_METHODS: dict[str, tuple[str, str]] = {
    "score": (
        "the conditional score test of the rate ratio, its interval the inverted test",
        "gu2008",
    ),
    "exact-cond": ("the exact conditional (binomial) test, as R's poisson.test", "poisson-test"),
    "mid-p": ("the mid-p exact conditional test", "lancaster"),
    "etest": ("the E-test with the score statistic", "etest"),
}


def methods_section(page: Page, res: Results) -> None:
    """Methods and thresholds as actually used, with references."""
    level = level_pct(res)
    items = [
        "<li><strong>Counting.</strong> Incidents are counted by region and "
        f"{PERIOD_WORD[res.period]}; periods outside the source's coverage are left "
        "uncovered, never zero. Exposure is the number of days in each period.</li>",
        f"<li><strong>Rates.</strong> Events per month (per 30.4375 days of exposure) with "
        f"exact Poisson {level} intervals (Garwood 1936).</li>",
    ]
    refs = ["garwood", "nchs"]
    if res.comparison is not None:
        cmp = res.comparison
        methods = sorted(set(cmp.get("method", pd.Series(dtype=str)).dropna().astype(str)))
        how = "; ".join(
            f"<code>{esc(m)}</code>: {COMPARE_METHODS[m][0]}" if m in COMPARE_METHODS
            else f"<code>{esc(m)}</code>"
            for m in methods
        )  # fmt: skip
        dispersion = ""
        if "dispersion" in cmp.columns and cmp["dispersion"].notna().any():
            d = pd.to_numeric(cmp["dispersion"], errors="coerce")
            dispersion = (
                " Each region's test allows for overdispersion with a quasi-Poisson "
                f"dispersion estimated from its cells (here {fmt_num(d.min(), 2)} to "
                f"{fmt_num(d.max(), 2)}; 1 is Poisson)."
            )
        items.append(
            "<li><strong>Comparison.</strong> The rate in "
            f"{window_text(res.options['after'])} against {window_text(res.options['before'])} "
            f"by {how}; rate ratio with its {level} interval; q-values by "
            f"Benjamini–Hochberg over the regions compared.{dispersion}</li>"
        )
        refs += [COMPARE_METHODS[m][1] for m in methods if m in COMPARE_METHODS] + ["bh"]
    if res.trend is not None:
        methods = sorted(set(res.trend["method"].astype(str)))
        params = sorted(set(res.trend.get("parameters", pd.Series(dtype=str)).astype(str)))
        items.append(
            f"<li><strong>Trend.</strong> <code>{esc(', '.join(methods))}</code> log-linear "
            "model of the counts on the period index with the exposure as offset; the "
            "annual percent change is 100·(exp(k·slope) − 1), k periods per year. Options: "
            f"<code>{esc(' | '.join(params))}</code>.</li>"
        )
        refs += [m for m in methods if m in REFERENCES] + ["bh"]
        if any(m.startswith("mann-kendall") for m in methods):
            refs.append("mann-kendall")
    if res.joinpoints is not None:
        options = joinpoint_options(res)
        shown = ", ".join(f"{k}={v}" for k, v in options.items())
        methods = sorted(set(res.joinpoints.get("method", pd.Series(dtype=str)).astype(str)))
        items.append(
            "<li><strong>Joinpoints.</strong> Segmented log-linear regression continuous at "
            f"the joinpoints (<code>{esc(', '.join(methods))}</code>), the number of "
            f"joinpoints chosen by <code>{esc(options.get('selection', '?'))}</code> "
            f"(options: <code>{esc(shown)}</code>). The segments drawn are the continuous "
            "piecewise log-linear Poisson fit at the joinpoints found. "
            + (
                "APC intervals are empirical quantiles of resampled fits in which the "
                "joinpoints are found again, so they include the uncertainty of where the "
                "trend bends"
                if options.get("interval") == "empirical"
                else "APC intervals are t intervals given the joinpoints found"
            )
            + ". A segment whose source mix changes between its halves, or against the "
            "previous segment, is withheld.</li>"
        )
        refs.append("joinpoint")
        if options.get("interval") == "empirical":
            refs.append("joinpoint-eq")
    rules = _rules_of(res)
    items.append(
        "<li><strong>Coverage.</strong> Each cell, and each window behind a verdict, is "
        "<em>adequate</em>, <em>thin</em>, <em>insufficient</em> or <em>uncovered</em> by "
        f"the <code>{esc(res.options['rules'])}</code> rules"
        + (f" ({rules})" if rules else "")
        + ". A change resting on thin or insufficient data is reported as "
        "<em>inconclusive (thin coverage)</em>: its numbers are shown, its verdict "
        "withheld. Rates on fewer than 20 events are unreliable (NCHS).</li>"
    )
    refs_html = "".join(f"<li>{REFERENCES[r]}</li>" for r in dict.fromkeys(refs))
    body = f"<ul>{''.join(items)}</ul>"
    if res.warnings:
        said = "".join(f"<li>{esc(w)}</li>" for w in res.warnings)
        body += f"<h3>Warnings raised by the analysis</h3><ul>{said}</ul>"
    body += f"<h3>References</h3><ol>{refs_html}</ol>"
    page.add("methods", "Methods", body)


def ledger_section(page: Page, res: Results) -> None:
    """Rows read, counted, and set aside with the reason."""
    if res.ledger is None:
        body = (
            "<p>The report was made from a cell table, so there is no row ledger. "
            f"Events counted: {fmt_num(res.cells['count'].sum())}.</p>"
        )
        page.add("ledger", "Ledger", body)
        return
    ledger = res.ledger.copy()
    total = int(ledger["rows"].sum())
    ledger["share"] = ledger["rows"] / total if total else np.nan
    kept = int(ledger.loc[ledger["reason"] == "kept", "rows"].sum())
    counted = res.cells["count"].sum()
    body = (
        f"<p>{total:,} rows read; {kept:,} kept; {total - kept:,} set aside, each for the "
        f"reason below. {fmt_num(counted)} events counted in the cells.</p>"
    )
    columns = [
        Column("reason", "Outcome", sort=True),
        Column("rows", "Rows", fmt_num, numeric=True),
        Column("share", "Share", lambda v: pct(100 * v) if v == v else "–", numeric=True),
    ]
    body += table(ledger, columns)
    page.add("ledger", "Ledger", body)


def footer_text(res: Results, timestamp: str | None) -> str:
    made = f" on {esc(timestamp)}" if timestamp else ""
    return (
        f"Made by trends {esc(__version__)}{made}. Self-contained: this file loads nothing "
        "from the network."
    )
