"""joinpoints(): options, one fit per region, and the result rows."""

from __future__ import annotations

import sys
import threading
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..cells import as_cells, cells_period
from ..checks import check_choice, check_count, check_fraction
from ..errors import CellsError, TrendsError
from ..periods import PERIODS_PER_YEAR, period_range
from . import kernels
from .fit import Series
from .intervals import aapc_from, empirical_intervals, fit_record, segment_apcs
from .search import LOCAL, Grid
from .select import select_k

if TYPE_CHECKING:
    from ..coverage_model import CoverageRules

__all__ = ["INTERVALS", "SELECTIONS", "VARIANCES", "joinpoints"]

VARIANCES = ("poisson", "constant")
SELECTIONS = ("permutation", "bic", "wbic")
INTERVALS = ("empirical", "parametric")


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
        the ``note`` column says so). Up to 3 is fast (see the module docstring);
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
        Overall level of the sequential permutation procedure.
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
          (dates: first day of the segment's first period, last day of its last
          period; neighbouring segments share the joinpoint period);
          ``segment_start_period``, ``segment_end_period`` (period labels)
        - ``n_joinpoints``: joinpoints in the region's chosen model
        - ``apc``, ``apc_low``, ``apc_high``: annual percent change of the rate and
          its ``level`` confidence interval; ``pvalue``: two-sided test of APC = 0
          (empirical: from the resamples, so at least ``2 / (n_bootstrap + 1)``)
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
          cells (:func:`trends.coverage_model.assess_window`), with the source-mix
          rule applied between the segment's halves and against the previous
          segment (a segment whose main outlet went silent is not read as a fall)
        - ``verdict``: ``rising`` / ``falling`` (the APC interval excludes 0),
          ``stable``, or after coverage gating ``inconclusive (thin coverage)`` /
          ``not covered``
        - ``note``: why an estimate is missing or a setting was changed, else empty

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
    fittable = [r for r in regions if not _series_problem(groups[r])]
    selected = _fit_with_progress({r: groups[r] for r in fittable}, settings, progress)
    rows: list[dict] = []
    fits: dict[str, dict] = {}
    for region in regions:
        base = _base(region, settings)
        if region not in selected:
            rows.append(_unfitted_row(base, groups[region], rules))
            continue
        record, region_rows = _region_rows(
            base, groups[region], selected[region], kind, settings, rules
        )
        fits[str(region)] = record
        rows.extend(region_rows)
    out = pd.DataFrame(rows, columns=_COLUMNS)
    for col in ("segment", "n_joinpoints"):
        out[col] = out[col].astype("Int64")
    warn_withheld(out["verdict"].tolist(), "joinpoint segment")
    out.attrs["fits"] = fits
    out.attrs["level"] = level
    return out


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
    options["level"] = check_fraction("level", options["level"])
    return options


def _prepare(cells: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The cell table with ``_x`` (period index on one time axis for all regions), and
    the period kind; a positive count with no exposure is an error."""
    data = as_cells(cells)
    kind = cells_period(data)
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
    """An error when no region is long enough for ``max_joinpoints``."""
    k, min_end, min_between = (
        settings["max_joinpoints"],
        settings["min_end"],
        settings["min_between"],
    )
    longest = max((len(g) for g in by_region.values()), default=0)
    needed = periods_needed(k, min_end, min_between)
    if longest < needed:
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


def _unfitted_row(base: dict, g: pd.DataFrame, rules: Any) -> dict:
    """The one row of a region whose series cannot be fitted, saying why."""
    from ..coverage_model import assess_window
    from ..verdicts import gate

    problem = _series_problem(g)
    status, reasons = (
        assess_window(g, rules=rules) if len(g) else ("uncovered", ["no covered cells"])
    )
    verdict = "not covered" if problem[0] == "not covered" else gate("stable", status)
    if verdict == "stable":
        verdict = "inconclusive (thin coverage)"
    return _empty_row(base, g, status, reasons, verdict, problem[1])


def _region_rows(
    base: dict, g: pd.DataFrame, selected: tuple, kind: str, settings: dict, rules: Any
) -> tuple[dict, list[dict]]:
    """A fitted region's record for :func:`aapc` and its rows, one per segment."""
    from ..coverage_model import assess_window
    from ..verdicts import gate

    grid, series, k, detail, empirical = selected
    ppy, level = settings["ppy"], settings["level"]
    note = ""
    if series.k_max < settings["max_joinpoints"]:
        note = (
            f"{len(g)} covered periods allow at most {series.k_max} joinpoints "
            f"(asked for {settings['max_joinpoints']})"
        )
    fit = series.fits[k]
    record = fit_record(fit, grid.x, ppy, g, kind)
    whole = aapc_from(record, grid.x[0], grid.x[-1], level)
    edges = [0, *fit.knots.tolist(), len(g) - 1]
    if empirical is None:
        apcs = segment_apcs(fit, ppy, level)
    else:
        apcs, low, high = empirical
        whole = {**whole, "aapc_low": low, "aapc_high": high}
    rows = []
    for j in range(k + 1):
        lo, hi = edges[j], edges[j + 1]
        apc, low, high, pvalue = apcs[j]
        raw = "rising" if low > 0 else "falling" if high < 0 else "stable"
        status, reasons = assess_window(g.iloc[lo : hi + 1], rules=rules)
        previous = g.iloc[edges[j - 1] : lo + 1] if j > 0 else None
        status, reasons = _mix_gate(g.iloc[lo : hi + 1], previous, status, reasons, rules)
        rows.append(
            {
                **base,
                "segment": j + 1,
                "segment_start": g["period_start"].iloc[lo],
                "segment_end": g["period_end"].iloc[hi],
                "segment_start_period": str(g["period"].iloc[lo]),
                "segment_end_period": str(g["period"].iloc[hi]),
                "n_joinpoints": k,
                "apc": float(apc),
                "apc_low": float(low),
                "apc_high": float(high),
                "pvalue": pvalue,
                **whole,
                "selection_detail": detail,
                "coverage": status,
                "coverage_reasons": "; ".join(reasons),
                "verdict": gate(raw, status),
                "note": note,
            }
        )
    return record, rows


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


def _fit_region(region, g: pd.DataFrame, settings: dict) -> tuple:
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
        series, settings["selection"], settings["n_permutations"], settings["alpha"], rng
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


_COLUMNS = [
    "region", "segment", "segment_start", "segment_end", "segment_start_period",
    "segment_end_period", "n_joinpoints", "apc", "apc_low", "apc_high", "pvalue",
    "aapc", "aapc_low", "aapc_high", "interval", "method", "parameters", "selection",
    "selection_detail",
    "coverage", "coverage_reasons", "verdict", "note",
]  # fmt: skip


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


def _series_problem(g: pd.DataFrame) -> tuple[str, str] | None:
    """Why a region's series cannot be fitted at all, or None."""
    if len(g) == 0:
        return "not covered", "no covered cells (every count is missing)"
    if (g["exposure"] <= 0).all() or g["exposure"].isna().all():
        return "not covered", "no exposure in any covered cell: no rate to model"
    if (g["exposure"] <= 0).any():
        return "thin", (
            f"{int((g['exposure'] <= 0).sum())} covered cells have no exposure; "
            "drop them or give their exposure"
        )
    if len(g) < 3:
        return "thin", f"{len(g)} covered periods: a trend needs at least 3"
    if (g["count"] == 0).all():
        return "thin", "every count is zero: a log-linear trend has no finite estimate"
    return None


def _mix_gate(
    segment: pd.DataFrame,
    previous: pd.DataFrame | None,
    status: str,
    reasons: list[str],
    rules: Any,
) -> tuple[str, list[str]]:
    """Add the source-mix rule to a segment's coverage, as :func:`trends.trend` does.

    A segment across which the main outlet went silent (or a new one started) measures
    the reporting as much as the events, and so does a joinpoint where that happened.
    So the segment's second half is judged against its first half (segments of at least
    4 periods), and the segment against the one before it, each with the source-mix
    rule of ``rules`` alone (:func:`trends.coverage_model.mix_rules`: the count rules
    judged the segment already). A change beyond the threshold makes the segment at
    least ``thin``. Cells without ``source_counts`` leave the status as it is.
    """
    from ..coverage_model import assess_window, mix_rules, worse

    mix = mix_rules(rules)
    if (
        mix.max_mix_change is None
        or "source_counts" not in segment.columns
        or segment["source_counts"].isna().all()
    ):
        return status, reasons
    half = len(segment) // 2
    checks = []
    if len(segment) >= 4:
        checks.append(("second half against the first", segment.iloc[half:], segment.iloc[:half]))
    if previous is not None:
        checks.append(("against the previous segment", segment, previous))
    for label, cells, baseline in checks:
        mix_status, mix_reasons = assess_window(cells, baseline=baseline, rules=mix)
        if mix_status != "adequate":
            status = worse(status, mix_status)
            reasons = [*reasons, *(f"{label}: {r}" for r in mix_reasons)]
    return status, reasons


def _empty_row(base, g, status, reasons, verdict, note) -> dict:
    row = dict.fromkeys(_COLUMNS, np.nan)
    row.update(base)
    row.update({
        "segment": 1, "n_joinpoints": pd.NA, "selection_detail": "",
        "segment_start": g["period_start"].iloc[0] if len(g) else pd.NaT,
        "segment_end": g["period_end"].iloc[-1] if len(g) else pd.NaT,
        "segment_start_period": str(g["period"].iloc[0]) if len(g) else pd.NA,
        "segment_end_period": str(g["period"].iloc[-1]) if len(g) else pd.NA,
        "coverage": status, "coverage_reasons": "; ".join(reasons),
        "verdict": verdict, "note": note,
    })  # fmt: skip
    return row
