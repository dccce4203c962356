"""Is there a trend? One row per region: annual percent change, interval, p and q value.

``trend(cells, method=...)`` fits each region's series of counts over its periods and
says whether it is ``rising``, ``falling`` or ``stable`` by the rule of
:mod:`trends.verdicts`: a direction needs a Benjamini-Hochberg q-value below ``alpha``
across the regions tested and adequate reporting (:mod:`trends.coverage_model`).

Methods
-------
``quasipoisson`` (default)
    Log-linear model ``log E[count] = log(exposure) + a + b * t`` (``t`` the period
    index), fitted by iteratively reweighted least squares. Each region's dispersion
    is Pearson's chi-square over its ``n - 2`` residual degrees of freedom, as R's
    ``summary.glm(family=quasipoisson)`` estimates it, moderated across regions by
    empirical Bayes (:func:`trends.stats.dispersion.moderated_dispersion`: limma's
    ``squeezeVar``, Smyth 2004; the quasi-likelihood tests of edgeR, Lund et al. 2012,
    Chen, Lun & Smyth 2016), so that a few periods neither invent significance (a
    long run of zeros gives a dispersion near 0) nor hide it; the t reference has the
    prior's plus the residual degrees of freedom. A moderated dispersion below 1 is
    taken as 1 with a normal reference (edgeR's Poisson bound): never more confident
    than a Poisson count. Wedderburn (1974) Biometrika 61:439; McCullagh & Nelder
    (1989) *Generalized Linear Models*, 2nd ed., sections 4.5 & 9.2.
``poisson``
    The same model with the dispersion fixed at 1 and a normal reference. Too
    confident on overdispersed counts: on counts with variance three times the mean
    its 95% interval covers the true APC about 74% of the time (its standard error is
    sqrt(3) too small; benchmarks/trend_null.py).
``negbin``
    The same model with negative binomial (NB2) variance ``mu + alpha * mu**2``;
    ``alpha`` by maximum likelihood, alternating with the IRLS fit of the
    coefficients as R's ``MASS::glm.nb`` does (Venables & Ripley 2002, *Modern
    Applied Statistics with S*, 4th ed., section 7.4); Wald intervals.
``mann-kendall``
    Mann (1945) Econometrica 13:245 and Kendall (1975) *Rank Correlation Methods*:
    Kendall's S of the rates against time, its variance corrected for ties, normal
    approximation with continuity correction. Slope by Sen (1968) JASA 63:1379, with
    its rank-based interval (Gilbert 1987, *Statistical Methods for Environmental
    Pollution Monitoring*, section 16.5).
``mann-kendall-hr``
    Mann-Kendall with the variance of S inflated for serial correlation as Hamed & Rao
    (1998) J. Hydrology 204:182 prescribe: from the autocorrelation of the ranks of the
    Sen-detrended series at the lags significant at the 5% level. The correction is
    never allowed to shrink the variance (factor floored at 1; see
    ``_hamed_rao_factor``).

The annual percent change is ``100 * (exp(k * b) - 1)`` with ``k`` the periods per
year (12 for months, 4 for quarters, 1 for years, 365.2425/7 for ISO weeks). For the
Mann-Kendall methods, whose Sen slope is additive, ``apc`` is the Sen slope per year
as a percent of the series' mean rate (the relative trend of Yue & Hashino 2003,
J. Hydrology 278:160).

An annual percent change the data cannot support (beyond ``±`` :data:`trends.verdicts.MAX_APC`
%/yr, or an infinite bound: a series rising from zero counts) is ``not estimable``:
its APC and bounds are left missing and ``notes`` says why.
"""

from __future__ import annotations

from .api import fit_trends, trend
from .methods import METHODS, METHODS_REGISTRY

__all__ = ["METHODS", "METHODS_REGISTRY", "trend", "fit_trends"]
