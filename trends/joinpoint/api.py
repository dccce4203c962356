"""joinpoints(): options, one fit per region (a failure becomes a row saying why), and the
result table built by :mod:`.segments`."""

from __future__ import annotations

import logging
import sys
import threading
import warnings
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..cells import as_cells, cells_period
from ..checks import check_choice, check_count, check_fraction
from ..errors import CellsError, EstimationWarning, TrendsError
from ..periods import PERIODS_PER_YEAR, period_range
from ..verdicts import NOT_ESTIMABLE
from . import kernels
from .fit import Series
from .intervals import empirical_intervals
from .search import LOCAL, Grid
from .segments import Row, decide_rows, failed_row, region_rows, series_problem, unfitted_row
from .select import select_k

if TYPE_CHECKING:
    from ..coverage_model import CoverageRules

__all__ = ["INTERVALS", "SELECTIONS", "VARIANCES", "joinpoints"]

VARIANCES = ("poisson", "constant")
SELECTIONS = ("permutation", "bic", "wbic")
INTERVALS = ("empirical", "parametric")

logger = logging.getLogger(__name__)


def joinpoints(
    cells: pd.DataFrame,
    *,
    max_joinpoints: int = 3,
    n_permutations: int = 4499,
    selection: str = "permutation",
    variance: str = "poisson",
    interval: str = "empirical",
    n_bootstrap: int = 1000,
    min_end: int = 2,
    min_between: int = 2,
    alpha: float = 0.05,
    selection_alpha: float = 0.05,
    level: float = 0.95,
    seed: int = 0,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
    progress: bool | None = None,
) -> pd.DataFrame:
    """Joinpoint regression of each region's rate: segments, their APC and the AAPC.

    Fits segmented log-linear models continuous at the joinpoints (Kim, Fay, Feuer
    and Midthune 2000, Stat Med 19:335; the NCI Joinpoint Regression Program) and
    chooses the number of joinpoints by the sequential permutation test, BIC or WBIC.
    See the module docstring for the model, the variance options and the search.

    Parameters
    ----------
    cells : DataFrame
        Cell table (``region``, ``period``, ``count``, ``exposure``; see
        :mod:`trends.cells`). Cells with a missing count lie outside the source's
        coverage and are left out (the time axis keeps its gaps).
    max_joinpoints : int
        Most joinpoints to consider (capped per region by what its length allows;
        the ``notes`` column says so). Up to 3 is fast (see the module docstring);
        beyond, the permutation tests run the O(n^k) grid search. On 6 simulated
        break-free regions of 120 months (``benchmarks/joinpoints_null.py --regions 6
        --max-joinpoints 4``): 4 to 14 s a region for 4 joinpoints; for 5, about a
        minute a region with only 199 permutations.
    n_permutations : int
        Permutation data sets per test (``selection="permutation"``).
    selection : {"permutation", "bic", "wbic"}
        How the number of joinpoints is chosen.
    variance : {"poisson", "constant"}
        Poisson counts (maximum likelihood) or constant variance of the log rate
        (least squares; zero counts taken as 0.5, as the Joinpoint program does).
    interval : {"empirical", "parametric"}
        APC and AAPC intervals and APC p-values: empirical quantiles of refits to
        resampled data with the joinpoints re-estimated (Kim et al. 2022), or t
        intervals conditional on the joinpoints. See the module docstring.
    n_bootstrap : int
        Resampled data sets per region for ``interval="empirical"``.
    min_end, min_between : int
        Fewest observations between a joinpoint and either end, and between two
        joinpoints (joinpoints themselves excluded).
    alpha : float
        False-discovery rate of the segment verdicts (Benjamini-Hochberg across every
        segment of the call, as :mod:`trends.verdicts` decides for every method).
    selection_alpha : float
        Overall level of the sequential permutation procedure that chooses the number
        of joinpoints (the Joinpoint program's "overall alpha level").
    level : float
        Confidence level of the APC and AAPC intervals.
    seed : int
        Seed of the permutations and resamples (same input and seed, same output).
    rules : str, CoverageRules or dict
        Coverage rules passed to :func:`trends.coverage_model.assess_window` for each
        segment (a preset name, a :class:`~trends.coverage_model.CoverageRules`, or a
        dict of thresholds overriding the default preset).
    progress : bool or None
        Progress bar on stderr; ``None`` shows it only when stderr is a terminal.

    Returns
    -------
    DataFrame
        One row per segment per region:

        - ``region``; ``segment`` (1, 2, ...); ``segment_start``, ``segment_end``
          (dates: first day of the segment's first period; the day before the next
          segment's start, or the last day of the series); ``segment_start_period``,
          ``segment_end_period`` (period labels). The joinpoint period begins the
          later segment: segments meet without sharing a period (the fitted line is
          continuous at the joinpoint; :mod:`trends.joinpoint.segments`)
        - ``n_joinpoints``: joinpoints in the region's chosen model
        - ``apc``, ``apc_low``, ``apc_high``: annual percent change of the rate and
          its ``level`` confidence interval; ``pvalue``: two-sided test of APC = 0
          (empirical: from the resamples, so at least ``2 / (n_bootstrap + 1)``);
          ``qvalue``: Benjamini-Hochberg across every segment of the call. Missing
          where the data cannot support the APC (``not estimable``, see ``notes``)
        - ``aapc``, ``aapc_low``, ``aapc_high``: average annual percent change over
          the region's whole series (Clegg et al. 2009); :func:`aapc` gives it over
          any range (with the parametric interval)
        - ``interval``: how the intervals and p-values were made, ``empirical`` or
          ``parametric``
        - ``method`` (``joinpoint-poisson`` or ``joinpoint-constant``),
          ``parameters`` (the options behind the row, ``name=value; ...``),
          ``selection`` and ``selection_detail`` (the tests or criteria behind the
          choice)
        - ``coverage``, ``coverage_reasons``: coverage status of the segment's
          cells assessed as one window (:func:`trends.coverage_model.assess_windows`),
          with the source-mix rule applied between the segment's halves and between
          neighbouring segments (a segment whose main outlet went silent is not read
          as a fall)
        - ``verdict``: by :func:`trends.verdicts.decide`: ``rising`` / ``falling``
          (q-value below ``alpha`` and adequate coverage), ``stable``, ``not
          covered``, ``not estimable``, ``too short to call`` (a segment of fewer
          than :data:`~trends.joinpoint.segments.MIN_SEGMENT_PERIODS` periods) or
          ``inconclusive (thin coverage)``
        - ``notes``: why an estimate is missing, a verdict withheld or a setting
          changed, else empty

        ``attrs["fits"]`` keeps each region's fitted slopes and covariance for
        :func:`aapc`.
    """
    from ..coverage_model import resolve_rules
    from ..verdicts import warn_withheld

    resolve_rules(rules)  # a bad preset name or threshold fails here, before any fitting
    settings = _settings(
        max_joinpoints=max_joinpoints,
        n_permutations=n_permutations,
        selection=selection,
        variance=variance,
        interval=interval,
        n_bootstrap=n_bootstrap,
        min_end=min_end,
        min_between=min_between,
        alpha=alpha,
        selection_alpha=selection_alpha,
        level=level,
        seed=seed,
    )
    data, kind = _prepare(cells)
    settings["ppy"] = PERIODS_PER_YEAR[kind]
    regions = list(pd.unique(data["region"]))
    covered = data[data["count"].notna()]
    by_region = {key: g for key, g in covered.groupby("region", sort=False, observed=True)}
    _check_length(by_region, settings)
    groups = {r: by_region.get(r, covered.iloc[:0]).reset_index(drop=True) for r in regions}
    fittable = [r for r in regions if not series_problem(groups[r])]
    selected = _fit_with_progress({r: groups[r] for r in fittable}, settings, progress)
    rows: list[Row] = []
    fits: dict[str, dict] = {}
    for region in regions:
        base, g = _base(region, settings), groups[region]
        found = selected.get(region)
        if found is None:
            rows.append(unfitted_row(base, g))
        elif isinstance(found, str):
            rows.append(failed_row(base, g, found))
        else:
            fits[str(region)], segments = region_rows(base, g, found, kind, settings)
            rows.extend(segments)
    out = decide_rows(rows, rules=rules, alpha=settings["alpha"])
    for col in ("segment", "n_joinpoints"):
        out[col] = out[col].astype("Int64")
    _warn_not_estimable(selected, out)
    warn_withheld(out["verdict"].tolist(), "joinpoint segment")
    out.attrs["fits"] = fits
    out.attrs["level"] = level
    return out


def _warn_not_estimable(selected: dict, out: pd.DataFrame) -> None:
    """One :class:`~trends.errors.EstimationWarning` for the regions whose fit failed
    and the segments whose APC is not estimable (the notes say why)."""
    failed = sum(isinstance(v, str) for v in selected.values())
    fitted = out[out["n_joinpoints"].notna()]
    segments = int((fitted["verdict"] == NOT_ESTIMABLE).sum())
    if not failed and not segments:
        return
    warnings.warn(
        f"joinpoints: {failed} of {out['region'].nunique()} regions could not be fitted and "
        f"{segments} of {len(fitted)} segments have no estimable APC; the notes column "
        "says why",
        EstimationWarning,
        stacklevel=3,
    )


def _settings(**options: Any) -> dict[str, Any]:
    """The options, checked (an :class:`~trends.errors.OptionError` names a bad one)."""
    check_choice("selection", options["selection"], SELECTIONS)
    check_choice("variance", options["variance"], VARIANCES)
    check_choice("interval", options["interval"], INTERVALS)
    for name, low in (
        ("max_joinpoints", 0),
        ("n_permutations", 1),
        ("n_bootstrap", 1),
        ("min_end", 1),
        ("min_between", 0),
    ):
        options[name] = check_count(name, options[name], minimum=low)
    options["alpha"] = check_fraction("alpha", options["alpha"])
    options["selection_alpha"] = check_fraction("selection_alpha", options["selection_alpha"])
    options["level"] = check_fraction("level", options["level"])
    return options


def _prepare(cells: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The cell table with ``_x`` (period index on one time axis for all regions), and
    the period kind; a positive count with no exposure is an error."""
    data = as_cells(cells)
    kind = cells_period(data)
    data.attrs = {}  # pandas deep-copies attrs into every slice: thousands per call
    labels = period_range(data["period"].min(), data["period"].max(), kind)
    index_of = {lab: i for i, lab in enumerate(labels)}
    data["_x"] = data["period"].map(index_of).astype(float)
    bad = data["count"].notna() & (data["exposure"] <= 0) & (data["count"] > 0)
    if bad.any():
        row = data[bad].iloc[0]
        raise CellsError(
            f"region {row['region']!r}, period {row['period']!r}: count {row['count']:g} "
            "with exposure 0; a rate needs exposure > 0"
        )
    return data, kind


def _check_length(by_region: dict, settings: dict) -> None:
    """An error when no region is long enough for ``max_joinpoints`` but some region is
    for fewer (the option is wrong). When no region can have even a line (a file of
    one or two periods), each region's row says so instead."""
    k, min_end, min_between = (
        settings["max_joinpoints"],
        settings["min_end"],
        settings["min_between"],
    )
    longest = max((len(g) for g in by_region.values()), default=0)
    needed = periods_needed(k, min_end, min_between)
    if periods_needed(0, min_end, min_between) <= longest < needed:
        # a TrendsError, not an OptionError: the data, not the option alone, is at fault
        # (a report states it and goes on; a bad option stops it)
        raise TrendsError(
            f"max_joinpoints={k} needs at least {needed} covered periods "
            f"(min_end={min_end}, min_between={min_between}); the longest region has "
            f"{longest}. Valid: max_joinpoints <= "
            f"{k_allowed(longest, min_end, min_between)}"
        )


def _fit_with_progress(groups: dict, settings: dict, progress: bool | None) -> dict:
    """:func:`_fit_regions` with a progress bar on stderr (``None``: when a terminal)."""
    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(groups),
        desc="joinpoints",
        unit="region",
        file=sys.stderr,
        disable=(not progress) if progress is not None else None,
    )
    with bar:
        return _fit_regions(groups, settings, bar.update)


def _parameters(settings: dict) -> str:
    """The options behind every row, ``name=value; ...``."""
    s = settings
    return "; ".join(
        [
            f"max_joinpoints={s['max_joinpoints']}",
            f"min_end={s['min_end']}",
            f"min_between={s['min_between']}",
            f"alpha={s['alpha']:g}",
            f"selection_alpha={s['selection_alpha']:g}",
            f"level={s['level']:g}",
            *([f"n_permutations={s['n_permutations']}"] if s["selection"] == "permutation" else []),
            *([f"n_bootstrap={s['n_bootstrap']}"] if s["interval"] == "empirical" else []),
            f"seed={s['seed']}",
        ]
    )


def _base(region: Any, settings: dict) -> dict:
    """The columns every row of a region shares."""
    return {
        "region": region,
        "method": f"joinpoint-{settings['variance']}",
        "parameters": _parameters(settings),
        "selection": settings["selection"],
        "interval": settings["interval"],
    }


def _fit_regions(groups: dict, settings: dict, done) -> dict:
    """Fit and select the model of every region (``groups``: region -> its covered
    cells), two regions at a time when numba's kernels can run side by side.

    Each region's permutations come from its own stream, seeded by ``seed`` and the
    region's name, so a region's result does not depend on the others or their order.
    ``done(1)`` is called as each region finishes (the progress bar).
    """
    regions = list(groups)
    if not kernels.HAVE_NUMBA or len(regions) < 2:
        out = {}
        for region in regions:
            out[region] = _fit_region(region, groups[region], settings)
            done(1)
        return out

    lock = threading.Lock()

    def work(region):
        LOCAL.one_core = True  # this thread has a core; do not split kernels further
        result = _fit_region(region, groups[region], settings)
        with lock:
            done(1)
        return result

    with ThreadPoolExecutor(2, thread_name_prefix="trends-joinpoint-region") as pool:
        return dict(zip(regions, pool.map(work, regions), strict=True))


def _fit_region(region, g: pd.DataFrame, settings: dict) -> tuple | str:
    """:func:`_fit_one`, or why it failed (a sentence for the notes).

    Floating-point trouble is handled where it arises: overflow and division by zero
    are let through silently (``np.errstate``; a fit heading to a rate of 0 overflows
    on its way, and the estimates that result are judged in :mod:`.segments`); a
    linear-algebra failure or a non-finite fit makes the region's one row say so
    instead of ending the call.
    """
    with np.errstate(all="ignore"):
        try:
            found = _fit_one(region, g, settings)
        except _NUMERIC_FAILURES as exc:
            logger.debug("region %r: joinpoint fit failed", region, exc_info=True)
            return f"the joinpoint search or fit failed ({type(exc).__name__}: {exc})"
    fit = found[1].fits[found[2]]
    if not fit.finite:
        return "the joinpoint fit did not reach finite estimates"
    return found


#: Errors of the numerics (LAPACK, a division by zero in a compiled kernel, NaN given to
#: a solver) that make a region's row say so rather than end the call.
_NUMERIC_FAILURES = (np.linalg.LinAlgError, ArithmeticError, ValueError)


def _fit_one(region, g: pd.DataFrame, settings: dict) -> tuple:
    """One region's grid, fits for 0..k joinpoints, chosen k, how it was chosen, and
    the empirical-quantile intervals of the chosen fit (None unless asked for)."""
    min_end, min_between = settings["min_end"], settings["min_between"]
    k_max = min(settings["max_joinpoints"], k_allowed(len(g), min_end, min_between))
    grid = Grid(
        x=g["_x"].to_numpy(float),
        cand=np.arange(min_end, len(g) - min_end),
        gap=min_between + 1,
    )
    series = Series(
        grid.x,
        g["count"].to_numpy(float),
        g["exposure"].to_numpy(float),
        grid,
        settings["variance"],
        k_max,
    )
    rng = np.random.default_rng([settings["seed"], zlib.crc32(str(region).encode("utf-8"))])
    k, detail = select_k(
        series, settings["selection"], settings["n_permutations"], settings["selection_alpha"], rng
    )
    empirical = None
    if settings["interval"] == "empirical":
        empirical = empirical_intervals(
            region,
            grid,
            series.fits[k],
            settings["variance"],
            settings["n_bootstrap"],
            settings["seed"],
            settings["ppy"],
            settings["level"],
        )
    return grid, series, k, detail, empirical


def periods_needed(k: int, min_end: int, min_between: int) -> int:
    """Fewest observations that allow k joinpoints (and a line with 1 residual df)."""
    if k == 0:
        return 3
    return max(2 * min_end + 1 + (k - 1) * (min_between + 1), k + 3)


def k_allowed(n: int, min_end: int, min_between: int) -> int:
    """Most joinpoints that ``n`` observations allow."""
    k = 0
    while periods_needed(k + 1, min_end, min_between) <= n:
        k += 1
    return k
