"""Joinpoint regression: segmented log-linear trends in rates, as the NCI program fits them.

The model (Kim, Fay, Feuer and Midthune 2000) for region *r* with observations at
times ``x_1 < ... < x_n`` (period index) is

    log(rate_i) = b0 + b1 x_i + d_1 (x_i - t_1)^+ + ... + d_k (x_i - t_k)^+ ,

a line that bends at ``k`` joinpoints ``t_j`` and stays continuous there. Joinpoints
lie on observed periods ("grid search" at the data points, the Joinpoint program's
default), with at least ``min_end`` observations between a joinpoint and either end
and ``min_between`` observations between two joinpoints (joinpoints excluded; both 2
by default, as in the Joinpoint program).

Variance (``variance=``):

* ``"poisson"`` (default): counts are Poisson with mean ``exposure * rate``; the
  coefficients at the chosen joinpoints are the Poisson maximum-likelihood ones
  (iteratively reweighted least squares). Zero counts need no special handling. With
  one joinpoint every grid point is fitted; with more, an exchange search (move one
  joinpoint at a time to its best grid point, every alternative fitted) runs from
  several starts (see ``fit.Series``). It is not exhaustive, so tests check it
  against every allowed set on small series; on the six Iraq series of the R
  reference (180 months) it found the exhaustive optimum for k = 2 and 3. Intervals
  use the quasi-Poisson scale ``max(1, Pearson X^2 / df)``, so overdispersed counts
  do not get falsely narrow intervals.
* ``"constant"``: ordinary least squares on ``log(count / exposure)``
  (homoscedastic errors). A zero count has no logarithm; as the Joinpoint program
  does ("Adding 0.5 to zero counts"), a zero count is replaced by 0.5 for this model.

Number of joinpoints (``selection=``):

* ``"permutation"``: the sequential permutation tests of Kim et al. (2000): test
  H0: k = ka against H1: k = kb starting from ka = 0, kb = max_joinpoints; reject
  (ka += 1) or not (kb -= 1) until ka == kb. The statistic is SSE(ka) / SSE(kb); the
  permutation data are the null fit plus its permuted (Pearson, for Poisson)
  residuals; the p-value is (1 + #{permuted ratio >= observed}) / (N + 1). Each test
  is at level alpha / (max_joinpoints - ka), the over-fitting control the Joinpoint
  program has used since version 3.0. For Poisson variance the permutation data are
  refitted on the linearisation at the null fit (one IRLS step), which keeps the
  observed and permuted statistics computed the same way.
* ``"bic"``: BIC(k) = ln(SSE/n) + (2k + 2) ln(n) / n (Kim, Yu and Feuer 2009).
* ``"wbic"``: the weighted BIC of Kim et al. (2023, J Appl Stat 50:1992):
  ln(SSE/n) + ((2 + R2max) k + 2) ln(n) / n, R2max the largest partial R^2 of a
  slope change within its two neighbouring segments.

APC of a segment is ``100 (exp(slope * periods_per_year) - 1)``: an *annual* percent
change whatever the period length. The AAPC (Clegg, Hankey, Tiwari, Feuer and Edwards
2009, Stat Med 28:3670) is the exponentiated length-weighted mean slope over a range.
Intervals (``interval=``):

* ``"empirical"`` (default): the empirical-quantile intervals of Kim, Chen, Byrne,
  Wheeler and Feuer (2022, Stat Med 41:3102; for the AAPC Kim et al. 2017, Stat Med
  36:3059). ``n_bootstrap`` data sets are drawn from the chosen k-joinpoint fit
  (fitted values plus resampled residuals), the k-joinpoint model is refitted to each
  with its joinpoints re-estimated on the grid, and the interval of a segment's APC
  is the empirical quantiles of the resamples' APCs of their own segment j; the
  whole-series AAPC's interval comes from the same resamples. The p-value is twice
  the smaller share of resamples on either side of 0. Departures from the paper: the
  resamples live on the weighted linearisation at the fit (Pearson residuals on the
  IRLS working response for Poisson variance, as for the permutation data) and are
  refitted by weighted least squares with the fit's weights, not by a full Poisson
  refit; the residuals are centred and rescaled to the parametric scale (quasi-Poisson
  ``max(1, X^2 / df)``, or ``SSE / df``); the quantiles are taken at the t-adjusted
  probabilities of Hesterberg's (2015) expanded percentile interval (see
  ``intervals.empirical_apc``), which matter only for short series; and the default of 1000
  resamples is ours (we could not check the program's default). In simulation
  (tests) the segments of a clear reversal with an estimated joinpoint were covered
  in 94.9-95.6% of series (1000 series per setting; the parametric intervals:
  87.8-90.3%). Without joinpoints the interval agrees with the GLM t interval to
  Monte Carlo error.
* ``"parametric"``: t intervals and tests with n - k - 2 degrees of freedom,
  conditional on the joinpoints (the Joinpoint program's parametric method); the
  AAPC's interval is normal from the slopes' covariance when the range spans more than
  one segment. Nominal given the joinpoints, they ignore the uncertainty of an
  estimated joinpoint, and undercover then.

:func:`aapc` over an arbitrary range always gives the parametric interval.

Speed: for each candidate set of joinpoints the fit improvement over a straight line
splits into one-dimensional Gram-Schmidt steps, so the whole grid (every model with
up to ``max_joinpoints`` joinpoints) is searched in one depth-first pass whose inner
loop runs over all permutation data sets at once (numba-compiled when numba is
installed; a numpy version otherwise, without the shortcuts below: 20 to 40 times slower). The permutation test
needs only whether each permuted SSE ratio reaches the observed one. For three
joinpoints (the default maximum) that is decided without the O(n^3) search: fixing
the middle joinpoint and the fitted value there splits the model into two
one-joinpoint fits whose SSE are quadratics in that value, so every set's SSE costs
O(1) after O(n^2) of prefix sums; giving up continuity at the middle joinpoint bounds
each middle position (and each block of them) from below, so only the few positions
whose bound reaches the target are searched (``kernels.three_min``; the bootstrap
refits use it too, by branch and bound). For more joinpoints a continuous fit is
bounded below by separate lines between the joinpoints, whose best SSE dynamic
programming finds in O(k n^2) (Bellman 1961; the segment neighbourhood method of
Auger and Lawrence 1989); the grid search runs only where that bound leaves the
comparison open. A test that cannot reject stops early (curtailed sampling, see
``select._perm_test``). Regions are fitted two at a time (the compiled kernels release the
GIL), each with its own random streams, so a region's result does not depend on the
others. ``benchmarks/joinpoints_speed.py`` measures it. With more than three
joinpoints allowed, the grid search's O(n^k) cost returns (``max_joinpoints``).

Layout: :mod:`.api` (``joinpoints()``: options, a fit per region), :mod:`.kernels` (the compiled
kernels), :mod:`.search` (grid, geometry, search, thread pool), :mod:`.fit` (fits,
series), :mod:`.select` (permutation tests, BIC, WBIC), :mod:`.intervals` (segment
APCs, AAPC, empirical intervals), :mod:`.segments` (the result rows and their verdicts:
the coverage gate, Benjamini-Hochberg across segments, not estimable, too short to
call). Names without a leading underscore in those modules
are package-internal: only the names below are public. They are imported on first use,
so ``import trends.joinpoint`` stays cheap (pandas, scipy and numba load with them).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["joinpoints", "aapc", "VARIANCES", "SELECTIONS", "INTERVALS"]

_HOME = {
    "joinpoints": ".api",
    "aapc": ".intervals",
    "VARIANCES": ".api",
    "SELECTIONS": ".api",
    "INTERVALS": ".api",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
