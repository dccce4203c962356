"""Is the reporting good enough to support a conclusion? Coverage status of cells.

A fall in reported incidents can be a real fall, or an outlet going quiet. This
module labels cells, and the windows behind a result, with one of four statuses:

``adequate``
    enough events, from enough sources, precisely enough located and dated.
``thin``
    usable as a description, but a statistical verdict on it could be produced by
    the reporting itself (few events, one outlet, coarse data, a changed source mix).
``insufficient``
    too few (effective) events for any rate to be stable.
``uncovered``
    outside the data set's coverage window: not a zero, not data at all.

Default rules (each a parameter of :class:`CoverageRules`, with the reference behind it):

* ``insufficient``: effective events below 10 (``min_effective_events``), or a
  relative width of the exact 95% interval above 160% (``max_relative_width``).
  NCHS data presentation standards for rates: a rate is statistically reliable when
  its (effective) sample size is 10 or more and its 95% interval is no wider than
  160% of it. See "Evaluation of the National Center for Health Statistics Data
  Presentation Standards for Rates From Vital Statistics and Sample Surveys"
  (NCHS, https://stacks.cdc.gov/view/cdc/123462), and Parker et al. (2017), NCHS
  Data Presentation Standards for Proportions, Vital Health Stat 2(175), for the
  effective-sample-size reasoning.
* ``thin``: fewer than 20 events (``min_events``; the "unstable rate" flag of CDC's
  WISQARS and of NCHS vital statistics reports, which call rates on fewer than 20
  deaths unreliable); relative standard error of 30% or more (``max_rse``; the
  NCHS reliability criterion that preceded the interval-based standards); a single
  distinct source (``min_sources`` = 2); more than half the events with location
  coarser than the region or dates coarser than the period (``max_coarse_share``);
  a source-mix change above 50% against a baseline (``max_mix_change``).
* ``uncovered``: outside the coverage window (``covered`` is False, or ``count`` is
  missing).

Measures a data set does not have (no source names, unknown number of sources) are
not evidence of thin coverage: the status rests on what is known, and the reasons
say what was unknown.

Counts that are overdispersed carry less information than their number suggests:
with dispersion ``phi`` (variance / mean), ``effective events = events / phi``, and
the relative standard error and exact interval are computed on effective events
(the quasi-Poisson scaling; McCullagh & Nelder 1989, *Generalized Linear Models*,
section 4.5).

The exact interval is Garwood's (1936, *Biometrika* 28:437): for ``x`` events,
``[gamma.ppf(a/2, x), gamma.ppf(1 - a/2, x + 1)]``.

Interface for the other statistics (compare, trend, joinpoints):
:func:`assess_window`, :func:`assess_windows`, :func:`source_activity`; the verdict
words and the gate are :mod:`trends.verdicts`'.
"""

from __future__ import annotations

from .activity import source_activity
from .judge import judge
from .measures import exact_relative_width, window_measures
from .rules import PRESETS, STATUSES, CoverageRules, mix_rules, resolve_rules, worse
from .table import coverage, estimate_dispersion
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
    "estimate_dispersion",
    "window_measures",
    "judge",
    "exact_relative_width",
]
