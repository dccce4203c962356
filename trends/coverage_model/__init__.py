"""Is the reporting good enough to support a conclusion? Coverage of cells and windows.

A fall in reported incidents can be a real fall, or an outlet going quiet. This
package labels cells, and the windows behind a result, with one of four statuses,
about the *reporting* behind the numbers:

``adequate``
    enough events, from more than one outlet, precisely enough placed and dated,
    with no change in the outlets that chance does not explain.
``thin``
    usable as a description, but a verdict on it could be produced by the reporting
    itself (a single outlet, coarse places or dates, outlets gone silent or new).
``insufficient``
    too few events for the reporting to be judged at all.
``uncovered``
    outside the data set's coverage window: not a zero, not data at all.

The rules and their defaults are :class:`CoverageRules` (each with the reference
behind it); :mod:`trends.verdicts` turns a status into the word a result gets
(``inconclusive (thin coverage)``, ``not covered``). The precision of an estimate is
not a coverage matter: a wide interval is its test's business, and rates on fewer than
20 events (or a relative standard error of 30% or more) are flagged ``reliable=False``
beside their verdict, as NCHS flags them, without withholding it.

Measures a data set does not have (no source names, unknown number of sources) are
not evidence of thin coverage: the status rests on what is known, and the reasons
say what was unknown.

Modules: :mod:`.rules` (thresholds, presets), :mod:`.arrays` (a cell table read once),
:mod:`.measures` (what a window's cells show), :mod:`.mix` (outlets silent or new
beyond chance, by rarefaction), :mod:`.judge` (rules to status and reasons),
:mod:`.windows` (:func:`assess_window`, :func:`assess_windows`), :mod:`.activity`
(the change among the outlets filing in both windows), :mod:`.table`
(:func:`coverage`, per cell).
"""

from __future__ import annotations

from .activity import source_activity
from .judge import judge
from .measures import exact_relative_width, window_measures
from .rules import PRESETS, STATUSES, CoverageRules, mix_rules, resolve_rules, worse
from .table import coverage
from .windows import assess_window, assess_windows

__all__ = [
    "STATUSES",
    "PRESETS",
    "CoverageRules",
    "assess_window",
    "assess_windows",
    "worse",
    "resolve_rules",
    "mix_rules",
    "coverage",
    "source_activity",
    "window_measures",
    "judge",
    "exact_relative_width",
]
