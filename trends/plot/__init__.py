"""Charts of ``trends`` results, as Altair charts.

Every function takes the tidy tables the statistics return and gives back an
:class:`altair.Chart` (or a compound chart), so a notebook shows it, a script can
change it, and ``chart.save("fig.svg")`` writes it for a paper. The HTML report
embeds exactly these charts.

The charts are honest about coverage: thin cells are drawn hollow, insufficient
ones grey, and periods outside the source's coverage are gaps (shaded), never zeros.
What cannot be drawn is said: :func:`rates_frame` and :func:`forest_frame` return the
tables the charts draw, with the reason a row is left out.

Regions are ordered by a number in the data, never by a list of names in the spec:
Vega-Lite turns a list into an expression that looks names up on a plain object,
which breaks on a region called ``constructor`` or ``__proto__``.

Functions
---------
rates       small multiples, one per region: rate, interval band, coverage, joinpoints
coverage    region x period heat map of coverage status, reasons in the tooltip
comparison  forest plot of rate ratios (after / before) coloured by verdict
trends      forest plot of annual percent change coloured by verdict
sources     horizontal bars: the outlets behind most events and their share
alarm_timeline  small multiples of an alarm scan: counts, expected, bounds, alarms

Modules: :mod:`.style` (colours, shared checks), :mod:`.timeaxis` (ticks for the
series length), :mod:`.smallmultiples`, :mod:`.alarms`, :mod:`.heatmap`, :mod:`.forest`, :mod:`.bars`.
"""

from __future__ import annotations

from .alarms import ALARM_MARKS, alarm_frame, alarm_timeline
from .bars import sources
from .forest import comparison, forest_frame, trends
from .heatmap import coverage, coverage_runs
from .smallmultiples import POINTS_UP_TO, rates, rates_frame, segment_fit
from .style import STATUS_COLORS, VERDICT_COLORS, reasons_text
from .timeaxis import tick_dates, time_axis

__all__ = [
    "STATUS_COLORS",
    "VERDICT_COLORS",
    "rates",
    "rates_frame",
    "POINTS_UP_TO",
    "coverage",
    "coverage_runs",
    "comparison",
    "trends",
    "forest_frame",
    "sources",
    "alarm_timeline",
    "alarm_frame",
    "ALARM_MARKS",
    "segment_fit",
    "reasons_text",
    "tick_dates",
    "time_axis",
]
