"""The page of a reproduction: the chart (Altair) and one self-contained HTML file.

The page is built from :mod:`trends.reporting.html` (the report's page shell,
tables and escaping): every text that comes from a recipe or the data is escaped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..verdicts import DIFFERS, REPRODUCED_EXACTLY, REPRODUCED_WITHIN
from .result import _key_label, tolerance_text

if TYPE_CHECKING:
    from .result import Reproduction

__all__ = ["overlay_chart", "write_html"]

logger = logging.getLogger(__name__)


def _chart_frame(result: Reproduction) -> pd.DataFrame:
    """Long form for the chart: one row per number and series (published, reproduced)."""
    table = result.table
    label = [
        " ".join(_key_label(g, r[g], result.labels) for g in result.recipe.group_by) or "total"
        for _, r in table.iterrows()
    ]
    rows = []
    for i, (_, r) in enumerate(table.iterrows()):
        for series in ("published", "reproduced"):
            value = r[series]
            if pd.isna(value):
                continue
            rows.append(
                {
                    "label": label[i] or "total",
                    "order": i,
                    "measure": r["measure"],
                    "series": series,
                    "value": float(value),
                    "status": r["status"],
                    "coverage": "" if pd.isna(r["coverage"]) else str(r["coverage"]),
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "order", "measure", "series", "value", "status", "coverage"]
    )


def overlay_chart(result: Reproduction):
    """Published (hollow circles) and reproduced (filled points) numbers on one chart.

    Rows grouped by year or month are drawn as lines over time; other groupings as
    points per group. Rows that were not tested show the published number only.
    One panel per measure when the recipe counts several.
    """
    import altair as alt

    frame = _chart_frame(result)
    by_time = result.recipe.period is not None
    sort = list(dict.fromkeys(frame.sort_values("order")["label"]))
    x = alt.X("label:N", sort=sort, title=", ".join(result.recipe.group_by) or None)
    if by_time:
        x = alt.X("label:O", sort=sort, title=result.recipe.period)
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=["published", "reproduced"], range=["#444444", "#d95f02"]),
        title=None,
    )
    tooltip = ["label:N", "measure:N", "series:N", alt.Tooltip("value:Q", format=",.0f"),
               "status:N", "coverage:N"]  # fmt: skip
    base = alt.Chart(frame).encode(x=x, y=alt.Y("value:Q", title=None), color=colour)
    published = (
        base.transform_filter(alt.datum.series == "published")
        .mark_point(size=80, strokeWidth=2, filled=False, shape="circle")
        .encode(tooltip=tooltip)
    )
    reproduced = (
        base.transform_filter(alt.datum.series == "reproduced")
        .mark_point(size=60, filled=True, shape="diamond")
        .encode(tooltip=tooltip)
    )
    points = alt.layer(published, reproduced)
    overlay = alt.layer(base.mark_line(strokeWidth=1.5, opacity=0.6), points) if by_time else points
    diffs = (
        alt.Chart(_diff_frame(result))
        .mark_bar(size=8)
        .encode(
            x=x,
            y=alt.Y("abs_diff:Q", title="reproduced − published"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["exact", "within tolerance", "differs"],
                    range=["#1b9e77", "#7570b3", "#d95f02"],
                ),
                title="match",
            ),
            tooltip=[
                "label:N",
                "measure:N",
                alt.Tooltip("abs_diff:Q", format="+,.0f"),
                alt.Tooltip("rel_diff:Q", format="+.2%"),
                "status:N",
            ],  # fmt: skip
        )
    )
    width = 560 if len(result.recipe.measures) == 1 else 300
    panels = []
    for measure in [m.name for m in result.recipe.measures]:
        keep = alt.datum.measure == measure
        panels.append(
            alt.vconcat(
                overlay.transform_filter(keep).properties(width=width, height=220, title=measure),
                diffs.transform_filter(keep).properties(width=width, height=90),
            )
        )
    chart = panels[0] if len(panels) == 1 else alt.hconcat(*panels)
    return chart.resolve_scale(color="independent", shape="independent").properties(
        title=result.recipe.title
    )


def _diff_frame(result: Reproduction) -> pd.DataFrame:
    frame = _chart_frame(result)
    frame = frame[frame["series"] == "published"].drop(columns=["series", "value"])
    tested = result.table.reset_index(drop=True)
    frame["abs_diff"] = tested.loc[frame["order"], "abs_diff"].to_numpy(dtype=float)
    frame["rel_diff"] = tested.loc[frame["order"], "rel_diff"].to_numpy(dtype=float)
    return frame[frame["abs_diff"].notna()]


def write_html(result: Reproduction, path: Path) -> Path:
    """One self-contained HTML page of a reproduction (the report's page shell)."""
    from .. import __version__
    from ..reporting.html import Column, Page, esc, fmt_num, slug, status_span, table

    r = result.recipe
    page = Page(title=r.title, subtitle=esc(r.reproduces))
    colour = {REPRODUCED_EXACTLY: "#1b9e77", REPRODUCED_WITHIN: "#7570b3", DIFFERS: "#d95f02"}
    chip = (
        f'<span class="verdict v-{slug(result.verdict)}" style="background:'
        f'{colour.get(result.verdict, "#777")};color:#fff;font-size:15px">'
        f"{esc(result.verdict)}</span>"
    )
    reasons = "".join(f"<li>{esc(x)}</li>" for x in result.reasons)
    page.add("verdict", "Verdict", f"<p>{chip}</p><ul>{reasons}</ul>")

    def num(value: Any) -> str:
        return fmt_num(value, 4)

    def pct(value: Any) -> str:
        return "–" if pd.isna(value) else f"{float(value):+.2%}".replace("-", "−")

    columns = [Column(g, g, sort=True) for g in r.group_by]
    columns += [
        Column("measure", "measure"),
        Column("published", "published", num, numeric=True),
        Column("reproduced", "reproduced", num, numeric=True),
        Column("abs_diff", "difference", num, numeric=True),
        Column("rel_diff", "relative", pct, numeric=True),
        Column("status", "match", esc, sort=True),
        Column("coverage", "coverage", status_span, sort=True),
        Column("coverage_reasons", "coverage reasons"),
        Column("note", "note"),
    ]
    if "context" in result.table.columns:
        columns.append(Column("context", "context (not a test)", num, numeric=True))
    page.add(
        "table",
        "Published and reproduced",
        table(result.table, columns, caption=f"Tolerance: {tolerance_text(r)}"),
    )
    page.add("chart", "Chart", page.chart("overlay", overlay_chart(result)))
    if not result.coverage.empty:
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
    src = result.source
    facts = [
        ("Recipe", f'<span class="mono">{esc(r.path)}</span>'),
        ("Published by", esc(result.published_source.get("source", ""))),
        (
            "Published file",
            f'<span class="mono">{esc(result.published_source.get("file", ""))}</span>',
        ),
        ("Data set", esc(f"{src.get('name')} {src.get('version') or ''}")),
        ("Citation", esc(src.get("citation") or "")),
        ("Licence", esc(src.get("licence") or "")),
        ("Data file", f'<span class="mono">{esc(src.get("path") or "")}</span>'),
        ("SHA-256", f'<span class="mono">{esc(src.get("sha256") or "")}</span>'),
        ("Filters", esc("; ".join(f"{k}={v}" for k, v in result.filters.items()) or "none")),
        ("Counted", esc(", ".join(m.describe() for m in r.measures))),
        ("Grouped by", esc(", ".join(r.group_by) or "nothing (one total)")),
        ("Expected differences", esc(r.differences or "none stated")),
        ("trends version", esc(__version__)),
    ]
    if result.published_source.get("claim"):
        facts.insert(1, ("Claim", esc(result.published_source["claim"])))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    page.add("provenance", "Recipe, data and provenance", f'<dl class="facts">{body}</dl>')
    page.footer = esc(f"trends {__version__} · trends reproduce {r.id}")
    path.write_text(page.render(), encoding="utf-8")
    return path
