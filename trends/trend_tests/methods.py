"""The trend methods, each a function of the packed series, found by name."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import stats

from ..methods import Registry
from ..stats.dispersion import moderated_dispersion, source_words
from ..stats.loglinear import fit_loglinear
from ..stats.mann_kendall import mann_kendall
from .series import END_ONLY, MIN_PERIODS, NO_EVENTS, NO_VARIATION, NOT_CONVERGED, TOO_FEW, Packed

logger = logging.getLogger(__name__)


@dataclass
class Estimates:
    slope: np.ndarray
    slope_se: np.ndarray
    low: np.ndarray
    high: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    dispersion: np.ndarray
    nb_alpha: np.ndarray
    tau: np.ndarray
    dispersion_source: np.ndarray  # object: where the dispersion came from ("" none)
    residual_dispersion: np.ndarray  # the region's own estimate (quasipoisson)
    relative_to: np.ndarray | None  # Mann-Kendall: the mean rate the slope is relative to
    why: np.ndarray  # object array: why a region has no estimate (None: it has one)


def to_apc(slope: np.ndarray, per_year: float, relative_to: np.ndarray | None) -> np.ndarray:
    if relative_to is None:
        return 100.0 * np.expm1(per_year * slope)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * per_year * slope / relative_to


def _empty(n: int) -> dict[str, np.ndarray]:
    return {k: np.full(n, np.nan) for k in ("slope", "se", "low", "high", "stat", "df", "p")}


def basic_why(packed: Packed) -> np.ndarray:
    """Why each region has no estimate whatever the method (None: no reason yet).
    Regions with no fitted cell are left to the caller (not covered / no exposure)."""
    why = np.full(packed.n.shape, None, dtype=object)
    why[(packed.n > 0) & (packed.events <= 0)] = NO_EVENTS
    why[(packed.n > 0) & (packed.n < MIN_PERIODS)] = TOO_FEW
    return why


@dataclass
class _Scale:
    """How the model-based slope standard error is scaled, and the reference."""

    factor: np.ndarray  # multiplies the variance of the slope
    df: np.ndarray  # t reference df (inf: normal)
    dispersion: np.ndarray  # reported dispersion
    source: np.ndarray  # object: where it came from
    residual: np.ndarray  # the region's own estimate (NaN: none)


def _moderated_scale(packed: Packed, fit: dict[str, np.ndarray]) -> _Scale:
    """Quasi-Poisson: Pearson dispersions on n - 2 df, moderated across regions, with
    edgeR's Poisson bound (below 1: 1, normal reference)."""
    n = packed.n.astype(float)
    usable = (packed.n >= MIN_PERIODS) & (packed.events > 0) & np.isfinite(fit["pearson"])
    mean_rate = np.divide(packed.events, n, out=np.zeros_like(n), where=n > 0)
    mod = moderated_dispersion(
        np.where(usable, fit["pearson"], 0.0),
        np.where(usable, n - 2, 0.0),
        mean_rate=np.where(usable, mean_rate, 0.0),
    )
    phi = mod["dispersion"].to_numpy(dtype=float)
    df = mod["dispersion_df"].to_numpy(dtype=float)
    source = source_words(mod["source"].to_numpy(dtype=object), np.full(phi.shape, "residuals"))
    bound = ~(phi >= 1)  # below 1, or none
    source = np.where(bound & ~np.isnan(phi), source + ", Poisson bound", source)
    phi = np.where(bound, 1.0, phi)
    df = np.where(bound, np.inf, df)
    return _Scale(phi, df, phi, source, mod["residual_dispersion"].to_numpy(dtype=float))


def _poisson_scale(packed: Packed, fit: dict[str, np.ndarray]) -> _Scale:
    ones = np.ones(packed.n.shape)
    return _Scale(
        ones,
        np.full(ones.shape, np.inf),
        ones,
        np.full(ones.shape, "fixed", dtype=object),
        np.full(ones.shape, np.nan),
    )


def _negbin_scale(packed: Packed, fit: dict[str, np.ndarray]) -> _Scale:
    """Negative binomial: the fit's standard error is already NB's; the dispersion
    reported is the variance factor at the mean fitted count."""
    scale = _poisson_scale(packed, fit)
    n = np.maximum(packed.n, 1)
    mean_mu = np.where(packed.mask, fit["mu"], 0.0).sum(1) / n
    scale.dispersion = 1 + fit["nb_alpha"] * mean_mu
    scale.source = np.full(n.shape, "negative binomial (alpha by ML)", dtype=object)
    return scale


def _loglinear_all(packed: Packed, *, family: str, scale_of, level: float) -> Estimates:
    n_regions = packed.y.shape[0]
    fit = fit_loglinear(packed.y, packed.exposure, packed.t, packed.mask, family=family)
    scale = scale_of(packed, fit)
    se = fit["slope_se"] * np.sqrt(scale.factor)
    finite_df = np.isfinite(scale.df)
    t_df = np.where(finite_df, scale.df, 1.0)
    crit = np.where(finite_df, stats.t.ppf(0.5 + level / 2, t_df), stats.norm.ppf(0.5 + level / 2))
    slope = fit["slope"]
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = slope / se
    pvalue = np.where(
        finite_df, 2 * stats.t.sf(np.abs(statistic), t_df), 2 * stats.norm.sf(np.abs(statistic))
    )

    why = basic_why(packed)
    # All events in the first or last period: the likelihood rises without end
    t_obs = np.where(packed.mask, packed.t, np.nan)
    t_events = np.where(packed.mask & (packed.y > 0), packed.t, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no events
        end_only = (np.nanmin(t_events, axis=1) == np.nanmax(t_obs, axis=1)) | (
            np.nanmax(t_events, axis=1) == np.nanmin(t_obs, axis=1)
        )
    unsettled = ~fit["converged"] | ~np.isfinite(se) | ~(se > 0)
    open_rows = (packed.n > 0) & np.equal(why, None)
    why[open_rows & unsettled] = NOT_CONVERGED
    why[open_rows & end_only] = END_ONLY
    bad = (packed.n == 0) | ~np.equal(why, None)

    def clean(values: np.ndarray) -> np.ndarray:
        return np.where(bad, np.nan, values)

    return Estimates(
        slope=clean(slope),
        slope_se=clean(se),
        low=clean(slope - crit * se),
        high=clean(slope + crit * se),
        statistic=clean(statistic),
        df=clean(np.where(finite_df, scale.df, np.nan)),
        pvalue=clean(pvalue),
        dispersion=clean(scale.dispersion),
        nb_alpha=clean(fit["nb_alpha"]) if family == "negbin" else np.full(n_regions, np.nan),
        tau=np.full(n_regions, np.nan),
        dispersion_source=np.where(bad, "", scale.source).astype(object),
        residual_dispersion=clean(scale.residual),
        relative_to=None,
        why=why,
    )


def _mann_kendall_all(packed: Packed, *, level: float, hr: bool) -> Estimates:
    n_regions = packed.y.shape[0]
    res = _empty(n_regions)
    tau = np.full(n_regions, np.nan)
    mean_rate = np.full(n_regions, np.nan)
    why = basic_why(packed)
    for i in np.flatnonzero((packed.n > 0) & np.equal(why, None)):
        idx = np.flatnonzero(packed.mask[i])
        rate = packed.y[i, idx] / packed.exposure[i, idx]
        if np.ptp(rate) == 0:
            why[i] = NO_VARIATION
            continue
        mk = mann_kendall(packed.t[i, idx], rate, level=level, hamed_rao=hr)
        res["slope"][i], res["low"][i], res["high"][i] = mk["sen"], mk["low"], mk["high"]
        res["stat"][i], res["p"][i], tau[i] = mk["z"], mk["pvalue"], mk["tau"]
        mean_rate[i] = rate.mean()
    return Estimates(
        slope=res["slope"],
        slope_se=np.full(n_regions, np.nan),
        low=res["low"],
        high=res["high"],
        statistic=res["stat"],
        df=np.full(n_regions, np.nan),
        pvalue=res["p"],
        dispersion=np.full(n_regions, np.nan),
        nb_alpha=np.full(n_regions, np.nan),
        tau=tau,
        dispersion_source=np.full(n_regions, "", dtype=object),
        residual_dispersion=np.full(n_regions, np.nan),
        relative_to=mean_rate,
        why=why,
    )


#: The methods of :func:`trend`, found by name.
METHODS_REGISTRY = Registry("trend method")
METHODS_REGISTRY.add(
    "quasipoisson",
    partial(_loglinear_all, family="poisson", scale_of=_moderated_scale),
    description="log-linear, Pearson dispersion moderated across regions, t reference",
    reference="Wedderburn 1974; McCullagh & Nelder 1989; Smyth 2004; Lund et al. 2012",
)
METHODS_REGISTRY.add(
    "poisson",
    partial(_loglinear_all, family="poisson", scale_of=_poisson_scale),
    description="log-linear, dispersion 1, normal reference",
    reference="McCullagh & Nelder 1989",
)
METHODS_REGISTRY.add(
    "negbin",
    partial(_loglinear_all, family="negbin", scale_of=_negbin_scale),
    description="log-linear, variance mu + alpha mu^2, alpha by ML, Wald normal",
    reference="Venables & Ripley 2002 (MASS::glm.nb)",
)
METHODS_REGISTRY.add(
    "mann-kendall",
    partial(_mann_kendall_all, hr=False),
    description="Mann-Kendall, ties and continuity corrected, Sen slope on the rate",
    reference="Mann 1945; Kendall 1975; Sen 1968",
)
METHODS_REGISTRY.add(
    "mann-kendall-hr",
    partial(_mann_kendall_all, hr=True),
    description="Mann-Kendall with the Hamed-Rao variance (lags significant at 5%), Sen slope",
    reference="Hamed & Rao 1998",
)
#: Names of the methods of :func:`trend`.
METHODS = METHODS_REGISTRY.names()
