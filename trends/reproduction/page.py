"""The page of a reproduction: the chart (Altair) and one self-contained HTML file.

The page is built from :mod:`trends.reporting.html` (the report's page shell,
tables and escaping): every text that comes from a recipe or the data is escaped.
The table shows every published number in a row of its own, with a long note (the
same for many rows) once below the table; the chart draws ranks with 1 at the top,
the data's low-high range beside the reproduced number, and a context series when
the recipe has one.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..output import write_text
from ..verdicts import ROW_DIFFERS, ROW_EXACT, ROW_WITHIN
from .result import key_label, tolerance_text

if TYPE_CHECKING:
    from .recipe import Measure
    from .result import Reproduction

__all__ = ["overlay_chart", "write_html"]

logger = logging.getLogger(__name__)

_SERIES = {  # series -> (colour, filled, shape, size), in the order they are drawn
    "context (not tested)": ("#7f8c8d", True, "square", 60),
    "reproduced": ("#d95f02", True, "diamond", 60),
    "published": ("#444444", False, "circle", 120),  # hollow, on top: the diamond shows inside
}
_STATUS_COLOURS = {ROW_EXACT: "#1b9e77", ROW_WITHIN: "#7570b3", ROW_DIFFERS: "#d95f02"}


def _labels(result: Reproduction) -> list[str]:
    """Each row's label for people: its group keys (coded keys as words), or ``total``."""
    return [
        " ".join(key_label(g, r[g], result.labels) for g in result.recipe.group_by) or "total"
        for _, r in result.table.iterrows()
    ]


def _chart_frame(result: Reproduction) -> pd.DataFrame:
    """Long form for the chart: one row per number and series (published, reproduced,
    context), with the reproduced number's low and high bounds when the data give them."""
    table = result.table.reset_index(drop=True)
    series = {"context": "context (not tested)"} if "context" in table.columns else {}
    series.update(reproduced="reproduced", published="published")  # drawn in this order
    rows = []
    for i, label in enumerate(_labels(result)):
        r = table.iloc[i]
        for column, name in series.items():
            if pd.isna(r[column]):
                continue
            bounds = [r.get(f"reproduced_{b}", float("nan")) for b in ("low", "high")]
            rows.append(
                {
                    "label": label,
                    "order": i,
                    "measure": r["measure"],
                    "series": name,
                    "value": float(r[column]),
                    "low": float(bounds[0]) if name == "reproduced" else float("nan"),
                    "high": float(bounds[1]) if name == "reproduced" else float("nan"),
                    "status": r["status"],
                    "coverage": "" if pd.isna(r["coverage"]) else str(r["coverage"]),
                }
            )
    columns = ["label", "order", "measure", "series", "value", "low", "high", "status", "coverage"]
    return pd.DataFrame(rows, columns=columns)


def _diff_frame(result: Reproduction) -> pd.DataFrame:
    """The tested rows: their differences (reproduced - published) and status."""
    table = result.table.reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "label": _labels(result),
            "order": range(len(table)),
            "measure": table["measure"],
            "abs_diff": table["abs_diff"].astype(float),
            "rel_diff": table["rel_diff"].astype(float),
            "status": table["status"],
        }
    )
    return frame[frame["abs_diff"].notna()]


def _x(result: Reproduction, labels: list[str]):
    import altair as alt

    period = result.recipe.period
    title = period or ", ".join(result.recipe.group_by) or None
    longest = max((len(s) for s in labels), default=0)
    angle = 0 if len(labels) * max(longest, 4) * 7 <= 520 else -40
    axis = alt.Axis(labelAngle=angle, labelLimit=160, labelOverlap=False)
    return alt.X("label:O" if period else "label:N", sort=labels, title=title, axis=axis)


def _y(measure: Measure, frame: pd.DataFrame):
    """Values, or ranks with 1 (the most) at the top and whole-number ticks."""
    import altair as alt

    if not measure.rank:
        return alt.Y("value:Q", title=measure.name, axis=alt.Axis(format=",d"))
    top = int(max(float(frame["value"].max()) if len(frame) else 1.0, 1.0))
    return alt.Y(
        "value:Q",
        title=f"{measure.name} (1 = most)",
        scale=alt.Scale(reverse=True, domain=[0.5, top + 0.5], nice=False, zero=False),
        axis=alt.Axis(format="d", values=list(range(1, top + 1))),
    )


def _series(frame: pd.DataFrame) -> dict[str, Any]:
    """One encoding of the series for colour, shape and fill, so they share one legend."""
    import altair as alt

    legend_order = ("published", "reproduced", "context (not tested)")
    present = [s for s in legend_order if s in set(frame["series"])]
    legend = alt.Legend(title=None, orient="top")

    def scale(i: int) -> alt.Scale:
        return alt.Scale(domain=present, range=[_SERIES[s][i] for s in present])

    return {
        "color": alt.Color("series:N", scale=scale(0), legend=legend),
        "shape": alt.Shape("series:N", scale=scale(2), legend=legend),
        "fill": alt.Fill(  # hollow for the published numbers
            "series:N",
            scale=alt.Scale(
                domain=present,
                range=[_SERIES[s][0] if _SERIES[s][1] else "transparent" for s in present],
            ),
            legend=legend,
        ),
        "size": alt.Size("series:N", scale=scale(3), legend=None),
    }


def _panel(result: Reproduction, measure: Measure, width: int):
    """The published, reproduced (with its range) and context numbers of one measure, and
    below them the differences of the tested numbers (left out when none was tested)."""
    import altair as alt

    frame = _chart_frame(result)
    frame = frame[frame["measure"] == measure.name]
    sort = list(dict.fromkeys(frame.sort_values("order")["label"])) or _labels(result)
    x, y = _x(result, sort), _y(measure, frame)
    series = _series(frame)
    tooltip = ["label:N", "series:N", alt.Tooltip("value:Q", format=",.0f"),
               alt.Tooltip("low:Q", format=",.0f"), alt.Tooltip("high:Q", format=",.0f"),
               "status:N", "coverage:N"]  # fmt: skip
    base = alt.Chart(frame).encode(x=x)
    layers = []
    if frame["low"].notna().any():
        layers.append(
            base.transform_filter("isValid(datum.low)")
            .mark_rule(strokeWidth=2, opacity=0.45, color=_SERIES["reproduced"][0])
            .encode(y=alt.Y("low:Q", title=None), y2="high:Q", tooltip=tooltip)
        )
    if result.recipe.period is not None:
        layers.append(
            base.transform_filter(alt.datum.series != "context (not tested)")
            .mark_line(strokeWidth=1.5, opacity=0.6)
            .encode(y=y, color=series["color"])
        )
    layers.append(base.mark_point(strokeWidth=2, opacity=1).encode(y=y, tooltip=tooltip, **series))
    top = alt.layer(*layers).properties(width=width, height=220, title=measure.name)
    diffs = _diff_frame(result)
    diffs = diffs[diffs["measure"] == measure.name]
    if diffs.empty:
        return top
    # A stem from zero to each difference and a dot at its end: an exact match is a dot on
    # the zero line, never an invisible bar of height zero.
    stems = alt.Chart(diffs).encode(
        x=x,
        y=alt.Y("abs_diff:Q", title="reproduced − published"),
        color=alt.Color(
            "status:N",
            scale=alt.Scale(domain=list(_STATUS_COLOURS), range=list(_STATUS_COLOURS.values())),
            legend=alt.Legend(title="match", orient="bottom"),
        ),
        tooltip=[
            "label:N",
            alt.Tooltip("abs_diff:Q", format="+,.0f"),
            alt.Tooltip("rel_diff:Q", format="+.2%"),
            "status:N",
        ],  # fmt: skip
    )
    bars = alt.layer(
        stems.mark_rule(strokeWidth=3).encode(y2=alt.datum(0)),
        stems.mark_circle(size=50, opacity=1),
    ).properties(width=width, height=90)
    return alt.vconcat(top, bars).resolve_scale(
        color="independent", shape="independent", fill="independent", size="independent"
    )


def overlay_chart(result: Reproduction):
    """Published (hollow circles) and reproduced (filled diamonds) numbers on one chart.

    Rows grouped by a period are drawn as lines over time; other groupings as points
    per group. Where the data give an estimate's bounds (UCDP's low and high), a bar
    runs from the reproduced number's low to its high. Ranks are drawn with 1 (the
    most) at the top. Rows that were not tested show the published number only (and
    the context number, when the recipe has one); the differences below are drawn for
    the tested rows, and left out when none was tested. One panel per measure.
    """
    import altair as alt

    measures = result.recipe.measures
    width = 560 if len(measures) == 1 else 300
    panels = [_panel(result, m, width) for m in measures]
    chart = panels[0] if len(panels) == 1 else alt.hconcat(*panels)
    title = textwrap.wrap(result.recipe.title, 80) or [result.recipe.id]
    return chart.properties(title=alt.Title(title, anchor="start"))


# ----------------------------------------------------------------------------- the page


def _position(row: pd.Series) -> str:
    """Where the published number lies against the reproduced low-high range."""
    if pd.isna(row.get("in_range")):
        return ""
    if row["published"] < row["reproduced_low"]:
        return "below"
    return "above" if row["published"] > row["reproduced_high"] else "yes"


def _range_text(row: pd.Series) -> str:
    """``753–1,019``: the reproduced low and high, when known."""
    from ..reporting.formats import fmt_num

    low, high = row.get("reproduced_low"), row.get("reproduced_high")
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{fmt_num(low, 4)}–{fmt_num(high, 4)}"


def _shown(result: Reproduction) -> tuple[pd.DataFrame, list[str]]:
    """The table as shown: coded keys as words; notes and coverage reasons as numbers
    pointing to the list below the table (a note shared by many rows is written once)."""
    shown = result.table.copy()
    for g in result.recipe.group_by:
        shown[g] = [key_label(g, v, result.labels) for v in shown[g]]
    # A row's note and the reasons of its coverage status, each written once below the table.
    texts = [
        [t for t in (note, f"coverage: {why}" if why else "") if isinstance(t, str) and t]
        for note, why in zip(shown["note"], shown["coverage_reasons"].fillna(""), strict=True)
    ]
    notes = list(dict.fromkeys(t for row in texts for t in row))
    shown["note"] = [" ".join(f"[{notes.index(t) + 1}]" for t in row) for row in texts]
    if "in_range" in shown.columns:
        shown["low_high"] = [_range_text(r) for _, r in shown.iterrows()]
        shown["in_range"] = [_position(r) for _, r in shown.iterrows()]
    return shown, notes


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    if column not in frame.columns:
        return False
    values = frame[column]
    return bool((values.notna() & (values.astype("string").fillna("") != "")).any())


def _table_section(result: Reproduction) -> str:
    from ..reporting.formats import fmt_num
    from ..reporting.html import Column, Markup, esc, status_span, table, tag

    def num(value: Any) -> str:
        return fmt_num(value, 4)

    def pct(value: Any) -> str:
        return "–" if pd.isna(value) else f"{float(value):+.2%}".replace("-", "−")

    recipe = result.recipe
    shown, notes = _shown(result)
    columns = [Column(g, g.replace("_", " "), sort=True) for g in recipe.group_by]
    if len(recipe.measures) > 1:
        columns.append(Column("measure", "measure"))
    columns += [
        Column("published", "published", num, numeric=True),
        Column("reproduced", "reproduced", num, numeric=True),
        Column("low_high", "low–high", esc),
        Column("in_range", "in range", esc, sort=True),
        Column("abs_diff", "difference", num, numeric=True),
        Column("rel_diff", "relative", pct, numeric=True),
        Column("status", "match", esc, sort=True),
        Column("coverage", "coverage", status_span, sort=True),
        Column("note", "notes"),
        Column("context", "context", num, numeric=True),
    ]
    columns = [c for c in columns if _has_values(shown, c.name)]
    counted = "; ".join(m.describe() for m in recipe.measures)
    caption = f"Counted: {counted}. Tolerance: {tolerance_text(recipe)}."
    html: Markup = table(shown, columns, caption=caption)
    if notes:
        html += tag("ol", *(tag("li", n) for n in notes), class_="note")
    if "context" in shown.columns and recipe.context is not None:
        html += tag("p", f"Context: {recipe.context.get('why', '')}.", class_="note")
    return tag("div", html, class_="all-rows")


def _link(url: str) -> str:
    from ..reporting.html import esc, tag

    if url.startswith(("https://", "http://")):
        return tag("a", url, href=url, rel="noopener noreferrer")
    return esc(url)


def _facts(result: Reproduction) -> str:
    from .. import __version__
    from ..reporting.html import esc, join, tag

    r, src, pub = result.recipe, result.source, result.published_source
    where = "in the recipe"
    if pub.get("file"):
        where = join(["read from ", tag("span", pub["file"], class_="mono")])
    elif pub.get("taken_from"):
        where += join([" (copied from ", tag("span", pub["taken_from"], class_="mono"), ")"])
    facts = [
        ("Recipe", tag("span", r.path, class_="mono")),
        ("Claim", esc(pub.get("claim", ""))),
        ("Published by", esc(pub.get("source", ""))),
        ("Published at", _link(pub.get("url", ""))),
        ("Published numbers", where),
        ("Data set", esc(f"{src.get('name')} {src.get('version') or ''}")),
        ("Citation", esc(src.get("citation") or "")),
        ("Licence", esc(src.get("licence") or "")),
        ("Data file", tag("span", src.get("path") or "", class_="mono")),
        ("SHA-256", tag("span", src.get("sha256") or "", class_="mono")),
        ("Filters", esc("; ".join(f"{k}={v}" for k, v in result.filters.items()) or "none")),
        ("Counted", esc(", ".join(m.describe() for m in r.measures))),
        ("Grouped by", esc(", ".join(r.group_by) or "nothing (one total)")),
        ("Expected differences", esc(r.differences or "none stated")),
        ("trends version", esc(__version__)),
    ]
    body = join(tag("dt", k) + tag("dd", v) for k, v in facts if v)
    return tag("dl", body, class_="facts")


def write_html(result: Reproduction, path: Path) -> Path:
    """One self-contained HTML page of a reproduction (the report's page shell)."""
    from .. import __version__
    from ..reporting.formats import fmt_num
    from ..reporting.html import (
        Column,
        Page,
        esc,
        status_span,
        table,
        tag,
        template,
        verdict_chip,
    )

    r = result.recipe
    page = Page(title=r.title, subtitle=esc(r.reproduces), style=template("reproduction.css"))
    reasons = tag("ul", *(tag("li", x) for x in result.reasons))
    page.add("verdict", "Verdict", tag("p", verdict_chip(result.verdict)) + reasons)
    page.add("table", "Published and reproduced", _table_section(result))
    tested = result.table["status"].isin([ROW_EXACT, ROW_WITHIN, ROW_DIFFERS]).any()
    caption = "" if tested else (
        "No difference is drawn: no published number could be tested (see the verdict)."
    )  # fmt: skip
    page.add("chart", "Chart", page.chart("overlay", overlay_chart(result), esc(caption)))
    if not result.coverage.empty:

        def num(value: Any) -> str:
            return fmt_num(value, 4)

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
    page.add("provenance", "Recipe, data and provenance", _facts(result))
    page.footer = esc(f"trends {__version__} · trends reproduce {r.id}")
    write_text(path, page.render())  # trends.output: atomic, never a truncated file
    return path
