"""trend() and fit_trends(): every region's series fitted, tested and worded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import verdicts
from ..cells import as_cells, cells_period
from ..checks import check_fraction
from ..coverage_model import CoverageRules, worse
from ..methods import Entry
from ..periods import PERIODS_PER_YEAR
from .coverage import halves_reporting
from .methods import METHODS_REGISTRY, to_apc
from .series import NO_EXPOSURE, Packed, pack, period_index, restrict

logger = logging.getLogger(__name__)


def trend(
    cells: pd.DataFrame,
    *,
    method: str = "quasipoisson",
    level: float = 0.95,
    alpha: float = 0.05,
    start: str | None = None,
    end: str | None = None,
    rules: str | CoverageRules | Mapping[str, Any] = "default",
) -> pd.DataFrame:
    """Test every region's series for a trend and estimate its annual percent change.

    Parameters
    ----------
    cells : DataFrame
        A cell table (see :mod:`trends.cells`): ``region``, ``period``, ``count``,
        ``exposure`` (days; derived from the period when absent). Cells whose count is
        missing or whose ``covered`` is False lie outside the source's coverage and are
        left out of the fit, as are cells with zero exposure.
    method : {'quasipoisson', 'poisson', 'negbin', 'mann-kendall', 'mann-kendall-hr'}
        See the module docstring for each method and its reference.
    level : float
        Confidence level of the interval ``apc_low``..``apc_high``.
    alpha : float
        False discovery rate of the verdicts: ``rising``/``falling`` need a
        Benjamini-Hochberg q-value below it (:mod:`trends.verdicts`).
    start, end : str, optional
        Restrict the series to these periods or dates (inclusive); ``"2016"`` as
        ``end`` of a monthly table means through 2016-12.
    rules : str, CoverageRules or dict
        Coverage rules (:class:`trends.coverage_model.CoverageRules`): the series is
        judged as one window, and its second half against its first for the outlets
        (:mod:`trends.coverage_model.activity`).

    Returns
    -------
    DataFrame
        One row per region, sorted by region:

        ``region``; ``method``; ``parameters`` (the method's options, as text);
        ``first_period``, ``last_period`` (first and last fitted period);
        ``n_periods`` (cells fitted); ``n_uncovered`` (cells outside coverage, left
        out); ``n_no_exposure`` (cells with zero exposure, left out); ``events``
        (sum of fitted counts);
        ``slope`` (log-rate change per period for the log-linear methods; Sen's slope
        of the rate per day of exposure per period for Mann-Kendall); ``slope_se``
        (its standard error; missing for Mann-Kendall);
        ``apc``, ``apc_low``, ``apc_high`` (annual percent change and its interval at
        ``level``; missing where not estimable); ``statistic`` (z, or t for
        quasipoisson; Mann-Kendall's z); ``df`` (degrees of freedom of the t
        reference: the prior's plus the region's; missing for a normal reference);
        ``pvalue`` (two-sided); ``qvalue`` (Benjamini-Hochberg over the rows with a
        p-value); ``dispersion`` (as used: moderated Pearson dispersion for
        quasipoisson, 1 for poisson, ``1 + alpha * mean(mu)`` for negbin; missing
        for Mann-Kendall); ``dispersion_source`` (where it came from);
        ``residual_dispersion`` (the region's own Pearson estimate); ``nb_alpha``
        (negbin only); ``tau`` (Kendall's tau-b, Mann-Kendall only); ``notes`` (why
        an estimate is missing or not estimable; reliability); ``coverage``,
        ``coverage_reasons``; ``reliable`` (the series rests on at least 20 events:
        NCHS-style flag); ``verdict``: ``rising``, ``falling``, ``stable``,
        ``inconclusive (thin coverage)``, ``not covered`` or ``not estimable``
        (:func:`trends.verdicts.decide`).

    Raises
    ------
    TrendsError
        Unknown ``method``, ``level`` or ``alpha`` outside (0, 1), bad cells.

    Warns
    -----
    ThinCoverageWarning
        When some verdicts are withheld for thin coverage.
    """
    from ..coverage_model import assess_windows, resolve_rules
    from ..coverage_model.rules import without_mix

    r = resolve_rules(rules)
    out, table = _fit(cells, method=method, level=level, alpha=alpha, start=start, end=end)
    phi = pd.Series(out["dispersion"].fillna(1.0).to_numpy(), index=out["region"])
    assessed = assess_windows(table, dispersion=phi, rules=without_mix(r)).set_index("region")
    assessed = assessed.reindex(out["region"])
    status = assessed["status"].tolist()
    reasons = [list(x) if isinstance(x, list) else [] for x in assessed["reasons"]]
    checked = halves_reporting(table, out, r, alpha)
    for i, region in enumerate(out["region"]):
        if region in checked:
            st, rs = checked[region]
            status[i] = worse(status[i], st)
            reasons[i] += [f"second half against the first: {x}" for x in rs]
    out["coverage"] = pd.array(status, dtype="string")
    out["coverage_reasons"] = pd.array(["; ".join(x) for x in reasons], dtype="string")
    estimated = out["pvalue"].notna().to_numpy()
    out["reliable"] = pd.array(np.where(estimated, assessed["reliable"], None), dtype="boolean")
    notes = [[n] if n else [] for n in out["notes"]]
    for i, text in enumerate(assessed["reliability"]):
        if estimated[i] and isinstance(text, str) and text:
            notes[i].append(text)
    out["notes"] = pd.array(["; ".join(n) for n in notes], dtype="string")
    out["verdict"] = _verdicts(out, alpha, status)
    verdicts.warn_withheld(out["verdict"].tolist(), "trend")
    return out


def _verdicts(out: pd.DataFrame, alpha: float, status: list[str]) -> pd.arrays.StringArray:
    """The rule of :func:`trends.verdicts.decide` on the rows of :func:`_fit`."""
    said = verdicts.decide(
        "trend",
        direction=out["statistic"].to_numpy(dtype=float),
        qvalue=out["qvalue"].to_numpy(dtype=float),
        alpha=alpha,
        status=status,
        estimable=out["apc"].notna().to_numpy(),
    )
    return pd.array(said, dtype="string")


def fit_trends(
    cells: pd.DataFrame,
    *,
    method: str = "quasipoisson",
    level: float = 0.95,
    alpha: float = 0.05,
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """:func:`trend` without the coverage gate: the statistics alone.

    Same arguments and columns as :func:`trend` except ``coverage`` and
    ``coverage_reasons``; ``verdict`` is the statistical verdict before the gate.
    For simulations and benchmarks, where the per-region coverage assessment would
    dominate the run time; analysts should call :func:`trend`.
    """
    return _fit(cells, method=method, level=level, alpha=alpha, start=start, end=end)[0]


def _fit(
    cells: pd.DataFrame,
    *,
    method: str,
    level: float,
    alpha: float,
    start: str | None,
    end: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The result table (verdict before the coverage gate) and the region's cells."""
    fit_method = METHODS_REGISTRY.get(method)
    level = check_fraction("level", level)
    alpha = check_fraction("alpha", alpha)
    table = as_cells(cells)
    kind = cells_period(table)
    table = restrict(table, kind, start, end)
    table["t"] = period_index(table["period_start"], kind)
    covered = table["count"].notna()
    if "covered" in table.columns:
        covered &= table["covered"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    has_exposure = table["exposure"].fillna(0.0) > 0
    table["fit"] = covered & has_exposure
    table["_uncov"] = ~covered
    table["_noexp"] = covered & ~has_exposure

    regions = pd.Index(pd.unique(table["region"]), dtype="string")
    packed = pack(table[table["fit"]], regions)
    per_year = PERIODS_PER_YEAR[kind]
    est = fit_method.func(packed, level=level)

    counts = table.groupby("region", sort=False)[["_uncov", "_noexp"]].sum()
    out = pd.DataFrame({"region": regions})
    out["method"] = method
    out["parameters"] = _parameters(fit_method, level, alpha, start, end)
    out["first_period"] = packed.first
    out["last_period"] = packed.last
    out["n_periods"] = packed.n
    out["n_uncovered"] = counts["_uncov"].reindex(regions).to_numpy(dtype=int)
    out["n_no_exposure"] = counts["_noexp"].reindex(regions).to_numpy(dtype=int)
    out["events"] = np.where(packed.n > 0, packed.events, np.nan)
    out["slope"] = est.slope
    out["slope_se"] = est.slope_se
    apc = {
        k: to_apc(v, per_year, est.relative_to)
        for k, v in (("apc", est.slope), ("apc_low", est.low), ("apc_high", est.high))
    }
    estimable, why_not = verdicts.apc_estimable(apc["apc"], apc["apc_low"], apc["apc_high"])
    for col, values in apc.items():
        out[col] = np.where(estimable, values, np.nan)
    out["statistic"] = est.statistic
    out["df"] = est.df
    out["pvalue"] = est.pvalue
    out["qvalue"] = verdicts.adjust(est.pvalue)
    out["dispersion"] = est.dispersion
    out["dispersion_source"] = pd.array(est.dispersion_source, dtype="string")
    out["residual_dispersion"] = est.residual_dispersion
    out["nb_alpha"] = est.nb_alpha
    out["tau"] = est.tau
    out["notes"] = _notes(est.why, packed, out, why_not)
    out["verdict"] = _verdicts(out, alpha, ["adequate"] * len(out))
    n_missing = int(out["pvalue"].isna().sum())
    if n_missing:
        logger.info("trend (%s): %d of %d regions have no estimate", method, n_missing, len(out))
    out = out.sort_values("region", kind="stable").reset_index(drop=True)
    for col in ("method", "parameters", "first_period", "last_period"):
        out[col] = out[col].astype("string")
    return out, table.drop(columns=["t", "fit", "_uncov", "_noexp"])


def _notes(
    why: np.ndarray, packed: Packed, out: pd.DataFrame, why_not: list[str]
) -> pd.arrays.StringArray:
    """Why a region has no estimate, or an estimate the data cannot support."""
    notes = []
    no_exposure = (out["n_no_exposure"] > 0).to_numpy()
    for i in range(len(out)):
        if packed.n[i] == 0:  # nothing fitted: nothing inside coverage, or no exposure
            notes.append(NO_EXPOSURE if no_exposure[i] else "")
        else:
            notes.append(why[i] or why_not[i])
    return pd.array(notes, dtype="string")


def _parameters(fit_method: Entry, level: float, alpha: float, start, end) -> str:
    parts = [f"level={level:g}", f"alpha={alpha:g}", fit_method.description]
    if start is not None:
        parts.append(f"start={start}")
    if end is not None:
        parts.append(f"end={end}")
    return "; ".join(parts)
