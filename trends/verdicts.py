"""The words: one vocabulary, one coverage gate, one multiplicity adjustment, one rule.

Every statistic (:func:`~trends.compare`, :func:`~trends.trend`,
:func:`~trends.joinpoints`, :func:`~trends.alarms`) turns its estimates into words
here and nowhere else.

The rule (:func:`decide`), in order, for each unit tested (a region, a segment, a
region x period):

1. ``not covered`` when the cells lie outside the source's coverage;
2. ``not estimable`` when the data cannot support the number (no events, an estimate
   rising from zero counts, an interval beyond what the data can say), the reason in
   ``notes``;
3. ``too short to call`` when the stretch tested is shorter than the method's
   documented minimum;
4. ``inconclusive (thin coverage)`` when the *reporting* behind it is thin or
   insufficient (outlets, single-source share, precision of place and date,
   source-mix change, a minimum absolute number of events): the numbers are shown,
   the word is withheld;
5. a directional word (``increase``/``decrease``, ``rising``/``falling``,
   ``unusually high``/``unusually low``) when the Benjamini-Hochberg q-value across
   the family the call tested is below ``alpha``, in the direction of the estimate;
6. else the neutral word (``no significant change``, ``stable``, ``not unusual``).

A report states many tables at once, so it holds them to one family more
(:func:`one_family`): a directional word stays only where the q-value across every
test of the report's comparison, trend and joinpoint tables is below ``alpha`` too.

``alpha`` is the false-discovery rate of the directional words; ``level`` is the
confidence of the intervals printed beside them. Both have that one meaning across the
API. The imprecision of an estimate is its test's business (a wide interval, a large
p-value); it is shown as a reliability flag beside the verdict, never used to withhold
it. Reasons go to ``coverage_reasons`` (the reporting) and ``notes`` (the estimate),
never into the verdict itself.

A reproduction (:func:`~trends.reproduce`) checks arithmetic, not a hypothesis, and has
its own words, kept here with the rest of the vocabulary: each published number is
``exact``, ``within tolerance``, ``differs`` or ``not tested`` (:data:`ROW_STATUSES`),
and the recipe as a whole is ``reproduced exactly``, ``reproduced within tolerance``,
``differs`` or ``cannot be tested with this data`` (:data:`REPRODUCTION_VERDICTS`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .checks import check_choice, check_fraction
from .errors import ThinCoverageWarning
from .stats.multiplicity import benjamini_hochberg

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "INCREASE",
    "DECREASE",
    "NO_CHANGE",
    "RISING",
    "FALLING",
    "STABLE",
    "UNUSUALLY_HIGH",
    "UNUSUALLY_LOW",
    "NOT_UNUSUAL",
    "INCONCLUSIVE",
    "NOT_COVERED",
    "NOT_ESTIMABLE",
    "TOO_SHORT",
    "REPRODUCED_EXACTLY",
    "REPRODUCED_WITHIN",
    "DIFFERS",
    "UNTESTABLE",
    "REPRODUCTION_VERDICTS",
    "ROW_EXACT",
    "ROW_WITHIN",
    "ROW_DIFFERS",
    "ROW_NOT_TESTED",
    "ROW_STATUSES",
    "KINDS",
    "DIRECTIONAL",
    "WITHHELD",
    "RULE",
    "MAX_APC",
    "apc_estimable",
    "words",
    "adjust",
    "gate",
    "decide",
    "warn_withheld",
    "one_family",
    "WITHDRAWN",
]

INCREASE, DECREASE, NO_CHANGE = "increase", "decrease", "no significant change"
RISING, FALLING, STABLE = "rising", "falling", "stable"
UNUSUALLY_HIGH, UNUSUALLY_LOW, NOT_UNUSUAL = "unusually high", "unusually low", "not unusual"
INCONCLUSIVE = "inconclusive (thin coverage)"
NOT_COVERED = "not covered"
NOT_ESTIMABLE = "not estimable"
TOO_SHORT = "too short to call"

# Reproductions: the verdict on a recipe, and the status of each published number.
REPRODUCED_EXACTLY = "reproduced exactly"
REPRODUCED_WITHIN = "reproduced within tolerance"
DIFFERS = "differs"
UNTESTABLE = "cannot be tested with this data"
#: The verdicts of a reproduction, from the best outcome to the least testable.
REPRODUCTION_VERDICTS = (REPRODUCED_EXACTLY, REPRODUCED_WITHIN, DIFFERS, UNTESTABLE)
ROW_EXACT, ROW_WITHIN, ROW_DIFFERS, ROW_NOT_TESTED = (
    "exact",
    "within tolerance",
    "differs",
    "not tested",
)
#: The status of one published number set beside its recount.
ROW_STATUSES = (ROW_EXACT, ROW_WITHIN, ROW_DIFFERS, ROW_NOT_TESTED)

#: For each kind of result: (word for up, word for down, neutral word).
KINDS: dict[str, tuple[str, str, str]] = {
    "change": (INCREASE, DECREASE, NO_CHANGE),
    "trend": (RISING, FALLING, STABLE),
    "alarm": (UNUSUALLY_HIGH, UNUSUALLY_LOW, NOT_UNUSUAL),
}
#: Words that claim a direction.
DIRECTIONAL = frozenset(w for up, down, _ in KINDS.values() for w in (up, down))
#: How a note begins where the report's one family withdrew a word (:func:`one_family`).
WITHDRAWN = "not called in the report"
#: Words that withhold a verdict (the numbers are still shown).
WITHHELD = frozenset({INCONCLUSIVE, NOT_COVERED, NOT_ESTIMABLE, TOO_SHORT})

#: The rule in one paragraph, as the report's methods section prints it.
RULE = (
    "A region (or segment, or period) is called increase/decrease, rising/falling or "
    "unusually high/low only when its Benjamini-Hochberg q-value across everything the "
    "call tested is below alpha and the reporting behind it is adequate (an alarm "
    "method monitoring period by period uses its own threshold instead, and states the "
    "false alarms a year it expects; with fdr it uses the q-value). Where the "
    "reporting is thin or insufficient the verdict is inconclusive (thin coverage) and "
    "the numbers are still shown; where the cells lie outside the source's coverage it "
    "is not covered; where the data cannot support an estimate it is not estimable, and "
    "a stretch shorter than the method's minimum is too short to call, the reason in "
    "the notes. Otherwise the verdict is the neutral word (no significant change, "
    "stable, not unusual). The width of an interval never withholds a verdict: it is "
    "the test's business, shown as a reliability flag."
)


#: Largest annual percent change (in either direction, of an estimate or a bound) a
#: series can support: beyond it (x11 a year) the number describes how few events the
#: series starts or ends with, not a trend, and it is ``not estimable``.
MAX_APC = 1000.0


def apc_estimable(apc: Any, low: Any, high: Any) -> tuple[np.ndarray, list[str]]:
    """Which annual percent changes the data can support, and why not where not.

    An APC (or a bound of its interval) that is missing, infinite or beyond
    ``±MAX_APC`` %/yr is not estimable: a segment or series rising from zero counts,
    or too few events to pin the change down. Returns a bool array and, per row, the
    reason ("" where estimable).
    """
    apc, low, high = (np.asarray(v, dtype=float) for v in (apc, low, high))
    ok = np.ones(apc.shape, dtype=bool)
    why = [""] * apc.size
    for i in range(apc.size):
        values = (apc[i], low[i], high[i])
        if np.isnan(apc[i]):
            continue  # no estimate: the caller says why
        if not all(np.isfinite(v) for v in values):
            ok[i], why[i] = False, "the annual percent change has an infinite bound"
        elif max(abs(v) for v in values) > MAX_APC:
            ok[i] = False
            shown = f"{apc[i]:+,.0f}%/yr" if abs(apc[i]) < 1e6 else "beyond ±1,000,000%/yr"
            why[i] = (
                f"the annual percent change ({shown}) or its interval lies beyond "
                f"±{MAX_APC:,.0f}%/yr: too few events to pin a trend down"
            )
    return ok, why


def words(kind: str) -> tuple[str, str, str]:
    """(up, down, neutral) words of a kind of result: ``change``, ``trend``, ``alarm``."""
    return KINDS[check_choice("kind", kind, KINDS)]


def adjust(pvalues: Any) -> np.ndarray:
    """q-values of a family of p-values (Benjamini-Hochberg 1995; R's
    ``p.adjust(p, "BH")``); missing p-values stay missing and are not counted."""
    return benjamini_hochberg(np.asarray(pvalues, dtype=float))


def gate(verdict: str, status: str) -> str:
    """The verdict after the coverage gate: ``uncovered`` -> ``not covered``;
    ``thin`` or ``insufficient`` -> ``inconclusive (thin coverage)``; ``adequate``
    -> ``verdict`` unchanged."""
    from .coverage_model import STATUSES

    check_choice("status", status, STATUSES)
    if status == "uncovered":
        return NOT_COVERED
    if status in ("thin", "insufficient"):
        return INCONCLUSIVE
    return verdict


def decide(
    kind: str,
    *,
    direction: Any,
    qvalue: Any = None,
    alpha: float | None = None,
    called: Any = None,
    status: Sequence[str],
    estimable: Any = None,
    too_short: Any = None,
) -> np.ndarray:
    """The verdict of each unit tested, by the rule of this module.

    Parameters
    ----------
    kind : {"change", "trend", "alarm"}
        Which words (see :data:`KINDS`).
    direction : array of float
        Sign of the estimate (a log ratio, a slope, observed minus expected): the
        directional word follows it; 0 or NaN gives the neutral word.
    qvalue : array of float
        q-values across the family tested (see :func:`adjust`); NaN never calls.
    alpha : float
        False-discovery rate of the directional words.
    called : array of bool, optional
        Instead of ``qvalue`` and ``alpha``: which units the method itself calls (an
        alarm method's own threshold, in prospective monitoring).
    status : sequence of str
        Coverage status of each unit (``adequate``, ``thin``, ``insufficient``,
        ``uncovered``).
    estimable, too_short : array of bool, optional
        False / True where the estimate is not estimable / the stretch too short.

    Returns
    -------
    ndarray of str (object)
        One word per unit.
    """
    from .coverage_model import STATUSES

    up, down, neutral = words(kind)
    sign = np.sign(np.asarray(direction, dtype=float))
    n = len(sign)
    if called is None:
        called = np.asarray(qvalue, dtype=float) < check_fraction("alpha", alpha)
    called = np.asarray(called, dtype=bool)
    status = [check_choice("status", s, STATUSES) for s in status]
    ok = np.ones(n, dtype=bool) if estimable is None else np.asarray(estimable, dtype=bool)
    short = np.zeros(n, dtype=bool) if too_short is None else np.asarray(too_short, dtype=bool)
    out = np.where(called & (sign > 0), up, np.where(called & (sign < 0), down, neutral))
    out = out.astype(object)
    for i, st in enumerate(status):
        if st == "uncovered":
            out[i] = NOT_COVERED
        elif not ok[i]:
            out[i] = NOT_ESTIMABLE
        elif short[i]:
            out[i] = TOO_SHORT
        elif st != "adequate":
            out[i] = INCONCLUSIVE
    return out


def warn_withheld(verdicts: Sequence[str], what: str) -> None:
    """One :class:`~trends.errors.ThinCoverageWarning` saying how many of the ``what``
    verdicts were withheld (:data:`WITHHELD`; nothing when none was)."""
    n_withheld = sum(v in WITHHELD for v in verdicts)
    if n_withheld <= 0:
        return
    warnings.warn(
        f"{n_withheld} of {len(verdicts)} {what} verdicts withheld (thin or missing "
        "coverage, not estimable or too short; see the coverage_reasons and notes "
        "columns); estimates and p-values are still shown",
        ThinCoverageWarning,
        stacklevel=3,
    )


def one_family(
    tables: Sequence[tuple[pd.DataFrame | None, str, float]],
) -> list[pd.DataFrame | None]:
    """Hold several result tables to one family: the tests a report states together.

    Each table's own verdicts control the false-discovery rate within the call that
    made it (all regions, or all segments). A report printing a comparison, a trend
    and joinpoint segments side by side makes every one of those tests at once, and
    with one true change among fifteen regions each table's threshold doubles for the
    rest (Benjamini-Hochberg adapts to the discoveries), so false words add up across
    tables: in 200 seeds of the demo data, 14% of reports carried one. Here the
    p-values of all tables are adjusted together (Benjamini & Hochberg 1995), giving
    ``qvalue_report``, and a directional word stands only where that q-value is below
    the table's ``alpha`` as well; otherwise the row gets its neutral word and a note.
    No word is ever granted: a row its call did not call is left as it is, since its
    coverage judgment (the re-test among outlets filing in both windows) was made for
    what the call called. The words kept are those of both procedures; that
    intersection is not itself a step-up procedure, so its error rate across the
    report is measured (``benchmarks/verdicts_demo.py``: 11.6% of 1,000 demo reports
    carry a false word, 16.2% without the family), not proven.

    Parameters
    ----------
    tables : sequence of (DataFrame or None, kind, alpha)
        Each result table (with ``pvalue``, ``verdict`` and ``notes``; None where the
        step did not run), the kind of its words (``change`` or ``trend``, see
        :data:`KINDS`) and the ``alpha`` its call used.

    Returns
    -------
    list of DataFrame or None
        Copies of the tables, in order, with ``qvalue_report`` (the q-value across
        every p-value of every table) and the verdicts and ``notes`` the family leaves.
    """
    present = [t for t, _, _ in tables if t is not None]
    if not present:
        return [None for _ in tables]
    pooled = adjust(np.concatenate([t["pvalue"].to_numpy(dtype=float) for t in present]))
    n_tests = int(np.isfinite(pooled).sum())
    out: list[pd.DataFrame | None] = []
    start = 0
    for table, kind, alpha in tables:
        if table is None:
            out.append(None)
            continue
        neutral = words(kind)[2]
        table = table.copy()
        q = pooled[start : start + len(table)]
        start += len(table)
        table["qvalue_report"] = q
        directional = table["verdict"].isin(DIRECTIONAL).to_numpy(dtype=bool)
        dropped = directional & ~(q < check_fraction("alpha", alpha))
        if dropped.any():
            if "notes" not in table.columns:
                table["notes"] = ""
            notes = table["notes"].fillna("").astype(str).to_numpy(dtype=object)
            for i in np.flatnonzero(dropped):
                said = f"{WITHDRAWN}: q = {q[i]:.2g} across its {n_tests} tests"
                notes[i] = f"{notes[i]}; {said}" if notes[i] else said
            rows = np.flatnonzero(dropped)
            table.iloc[rows, table.columns.get_loc("verdict")] = neutral
            table.iloc[rows, table.columns.get_loc("notes")] = notes[dropped]
        out.append(table)
    return out
