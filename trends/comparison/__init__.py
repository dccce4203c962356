"""Did the rate change between two periods? Two-window rate comparison per region.

:func:`compare` answers, for every region of a cell table at once, whether the
incident rate in an *after* window differs from the rate in a *before* window: rate
ratio and rate difference with their intervals, p-value, Benjamini-Hochberg q-value
across regions, coverage status, a reporting-change check, and a verdict in plain
words.

The statistics (``x`` events over exposure ``E`` in each window, ``phi`` the
dispersion, variance / mean of the period counts; ``phi = 1`` is Poisson):

* Conditional on the total ``n = x_before + x_after``, ``x_after`` is binomial with
  ``p0 = E_after / (E_before + E_after)`` when the rates are equal; every method
  tests that (Przyborowski & Wilenski 1940; Gu, Ng, Tang & Schucany 2008,
  *Biometrical Journal* 50(2):283-298).
* Overdispersion enters the quasi-Poisson way (Wedderburn 1974; McCullagh & Nelder
  1989, *Generalized Linear Models*, 2nd ed., section 4.5): the variance of a count
  is ``phi`` times its mean, so counts carry the information of ``x / phi``
  "effective" Poisson events. With an *estimated* ``phi`` the score statistic is
  referred to ``F(1, df)`` (McCullagh & Nelder 1989, section 6.2.5; R's
  ``anova(glm(family = quasipoisson), test = "F")``), which accounts for the
  uncertainty of the estimate.
"""

from __future__ import annotations

from .api import METHODS, VERDICTS, compare

__all__ = ["compare", "METHODS", "VERDICTS"]
