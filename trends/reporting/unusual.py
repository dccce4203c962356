"""The report's "Unusual periods" section: is the latest period unusual, region by region?

The alarm scan (:func:`trends.alarms`, run once by :func:`~.analysis.analyse`) is shown
as the latest complete period's table (region, events, expected, bound, verdict, notes),
then a timeline per region (:func:`trends.plot.alarm_timeline`), and the false alarms to
expect across the regions monitored. The section is registered in
:data:`~.sections.SECTIONS` (between the trend and the coverage).
"""

from __future__ import annotations

from typing import Any

from .. import plot
from ..alarm import METHODS, bound_is_count
from . import tables
from .analysis import Results
from .html import Markup, Page, join, tag
from .words import PERIOD_WORD, alarm_choice_words, false_alarms_text, names, sentence

__all__ = ["unusual_periods", "bound_title", "MAX_ALARM_PANELS"]

#: Panels of the timeline (the regions with the most alarms, then the most events).
MAX_ALARM_PANELS = 24


def bound_title(meta: dict[str, Any]) -> str:
    """What the ``upperbound`` column is, for a header: a count of events, or (GLR with
    ``ret="value"``) the threshold of the detector's statistic."""
    if bound_is_count(str(meta.get("method", "")), meta.get("options") or {}):
        return "Upper bound"
    return "Threshold (statistic)"


def _intro(res: Results, meta: dict[str, Any]) -> Markup:
    word = PERIOD_WORD[res.period]
    method = str(meta.get("method", "?"))
    entry = METHODS.get(method)
    what = ""
    if entry is not None:
        what = f" ({entry.describe(meta.get('options') or {}, word)})"
    choice = alarm_choice_words(meta, res.period, int(res.cells["period"].nunique()))
    return tag(
        "p",
        f"Each region's count in each {word} against what its own past predicts, by "
        f"{choice}{what}. A period is ",
        tag("em", "unusually high"),
        " when its count is above the upper bound the method sets from the region's "
        "earlier periods: the count is unusual for that region, which says nothing yet "
        "of why. An alarm on thin coverage is withheld (its numbers are shown). ",
        sentence(false_alarms_text(meta)),
    )


def _latest(res: Results, meta: dict[str, Any]) -> Markup:
    label, latest = res.latest_alarms()
    word = PERIOD_WORD[res.period]
    if latest is None:
        return tag("p", f"No complete {word} has an alarm row to show.", class_="note")
    intro = tag(
        "p",
        f"The latest complete {word}, {label}: unusual regions first, then by score. ",
        "Expected is the method's prediction from the region's past; ",
        bound_title(meta).lower(),
        " is the count above which the period is unusual.",
    )
    return (
        tag("h3", f"Latest {word}: {label}")
        + intro
        + tables.alarm_table(latest, res, bound=bound_title(meta))
    )


def _timeline(page: Page, res: Results, meta: dict[str, Any]) -> Markup:
    from .sections import PANEL_WIDTH, figure

    table = res.alarms
    order = plot.alarm_frame(table)[["region", "order"]].drop_duplicates()
    shown = list(order.sort_values("order")["region"])[:MAX_ALARM_PANELS]
    part = table[table["region"].astype(str).isin(shown)]
    word = PERIOD_WORD[res.period]
    caption: list[Any] = [
        f"Events by {word} (solid line) and the expected value (dashed), with the band "
        "up to the upper bound; red points: unusually high, blue: unusually low; hollow "
        "orange: an alarm withheld for thin coverage; grey shading: periods the source "
        "does not cover (gaps, not zeros). No band where the method cannot judge a "
        "period (too short a baseline). Panels: the most alarms first, each with its "
        "own scale. Hover over a point for its numbers."
    ]
    left = sorted(set(table["region"].dropna().astype(str)) - set(shown))
    if left:
        caption.append(
            Markup(" Not drawn ({} regions with fewer alarms and events): {}.").format(
                f"{len(left):,}", names(left, limit=12)
            )
        )
    build = lambda: plot.alarm_timeline(  # noqa: E731
        part, sort=shown, width=PANEL_WIDTH, bound=bound_title(meta).lower()
    )
    return tag("h3", "Timeline by region") + figure(page, "alarms", build, join(caption))


def unusual_periods(page: Page, res: Results) -> Markup:
    """The latest period's alarms, the timeline per region, and the false alarms to
    expect (the section's body)."""
    if res.alarms is None or not len(res.alarms):
        why = res.skipped.get("alarms", "there were no cells to scan")
        return tag("p", f"The unusual periods were not computed: {why}.")
    meta = res.options.get("alarms", {})
    return _intro(res, meta) + _latest(res, meta) + _timeline(page, res, meta)
