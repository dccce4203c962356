"""The alarm methods: one entry per method, the only place that names them.

Each entry binds a name to the module function that runs it, its defaults and option
checks, a one-line description and the reference behind it (short references, ``;``
separated, as every registry of ``trends`` gives them: the report's methods section
prints the full citation from :data:`trends.reporting.methods.BIBLIOGRAPHY`).
:func:`trends.alarm.alarms` looks methods up here by name; adding a method is adding an
entry. :func:`default_method` is the method a report uses when none is named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import bayes, ears, farrington, glr, surge
from ._common import FREQUENCY, Detection

__all__ = ["AlarmMethod", "METHODS", "ALIASES", "default_method", "bound_is_count"]


@dataclass(frozen=True)
class AlarmMethod:
    """One alarm method.

    ``detect(y, *, period, options, exposure, lower)`` runs it on a (series x periods)
    matrix (``lower=False``: the lower bound is not needed);
    ``defaults(period)`` gives its options for a kind of period; ``validate(options, *,
    period)`` checks and normalises them. ``directions``: which of ``high``, ``low``,
    ``both`` it supports. ``level``: the option holding its per-period false-alarm level
    (None: the method has none, e.g. a GLR threshold or a rule of thumb).
    """

    name: str
    detect: Callable[..., Detection]
    defaults: Callable[[str], dict[str, Any]]
    validate: Callable[..., dict[str, Any]]
    options: tuple[str, ...]
    description: str
    citation: str
    directions: tuple[str, ...] = ("high",)
    level: str | None = "alpha"
    #: the baseline in words, from the options used and the period word (``"month"``);
    #: None, or an empty answer, where the description says it all
    baseline: Callable[[dict[str, Any], str], str] | None = None

    def describe(self, options: dict[str, Any], period: str) -> str:
        """The description, with the baseline as the options used set it, in words
        (``"... (RKI Bayes); baseline: the 6 years before"``)."""
        said = self.baseline(options, period) if self.baseline and options else ""
        if not said:
            return self.description
        return f"{self.description}; baseline: {said}"


_HJ = "Salmon, Schumacher & Höhle 2016 (R package surveillance 1.20.3, {})"
_TWO = ("high", "low", "both")
_ACLED = "ACLED 2025 ({}, acleddata.com, read 2025)"

METHODS: dict[str, AlarmMethod] = {
    m.name: m
    for m in (
        AlarmMethod(
            "farrington",
            farrington.detect,
            partial(farrington.defaults, preset="farrington"),
            farrington.validate,
            farrington.OPTIONS,
            "quasi-Poisson GLM on the same season of the past b years, 2/3-power bound",
            "Farrington et al. 1996; " + _HJ.format("farringtonFlexible"),
            _TWO,
            baseline=lambda o, p: (
                f"the {p}s within {o['w']} of the same one in each of the past {o['b']} years"
            ),
        ),
        AlarmMethod(
            "noufaily",
            farrington.detect,
            partial(farrington.defaults, preset="noufaily"),
            farrington.validate,
            farrington.OPTIONS,
            "Farrington with seasonal groups over the whole year and a negative binomial bound",
            "Noufaily et al. 2013; " + _HJ.format("farringtonFlexible"),
            _TWO,
            baseline=lambda o, p: f"every {p} of the past {o['b']} years",
        ),
        *(
            AlarmMethod(
                f"ears-{v.lower()}",
                partial(ears.detect, variant=v),
                partial(ears.defaults, variant=v),
                partial(ears.validate, variant=v),
                ears.OPTIONS,
                text,
                "Hutwagner et al. 2003; " + _HJ.format("earsC"),
                _TWO if v != "C3" else ("high",),
            )
            for v, text in (
                ("C1", "mean + z sd of the 7 previous periods (CDC EARS C1-MILD)"),
                ("C2", "as C1 with the baseline lagged two periods (CDC EARS C2-MEDIUM)"),
                ("C3", "exceedances of C2 over three periods (CDC EARS C3-HIGH)"),
            )
        ),
        *(
            AlarmMethod(
                f"glr-{v}",
                glr.detect,
                partial(glr.defaults, variant=v),
                glr.validate,
                glr.OPTIONS,
                f"GLR detector for a rise of the intercept, {text} in-control model",
                "Höhle & Paul 2008; " + _HJ.format("glrnb"),
                level=None,
            )
            for v, text in (("poisson", "Poisson"), ("nb", "negative binomial"))
        ),
        AlarmMethod(
            "bayes",
            bayes.detect,
            bayes.defaults,
            bayes.validate,
            bayes.OPTIONS,
            "negative binomial predictive bound from the w previous periods (RKI Bayes)",
            "Riebler 2004; Höhle 2007; " + _HJ.format("algo.bayes"),
            _TWO,
            baseline=lambda o, p: f"the {o['w']} {p}s before" if o["b"] == 0 else "",
        ),
        *(
            AlarmMethod(
                rule,
                partial(surge.detect, rule=rule),
                partial(surge.defaults, rule=rule),
                partial(surge.validate, rule=rule),
                surge.TRENDFINDER_OPTIONS if rule == "trendfinder" else surge.OPTIONS,
                text,
                _ACLED.format(page),
                _TWO if rule == "trendfinder" else ("high",),
                level=None,
            )
            for rule, text, page in (
                (
                    "surge",
                    "ACLED Surge Tracker: +100% on the average of the previous month",
                    "Subnational Threat & Surge Trackers",
                ),
                (
                    "threat",
                    "ACLED Threat Tracker: last month +100% on the past year's average",
                    "Subnational Threat & Surge Trackers",
                ),
                (
                    "trendfinder",
                    "ACLED Trendfinder change levels (+25%, +10%, -25% bands)",
                    "Trendfinder",
                ),
            )  # fmt: skip
        ),
    )
}

#: Other names a caller may use, and the method each stands for (R's defaults: earsC's
#: method "C1"; glrnb estimates a negative binomial by default).
ALIASES: dict[str, str] = {"ears": "ears-c1", "glr": "glr-nb"}


def default_method(period: str, n_periods: int | None = None) -> str:
    """The method a report uses when none is named: ``noufaily`` where it can judge a
    period, else ``bayes``.

    Noufaily et al. (2013) is Farrington's method improved where it raised too many
    alarms (seasonal groups over the whole of the past years, a negative binomial
    bound); ``benchmarks/alarms_null.py`` measures the false alarms
    per month under negative binomial nulls (variance twice the mean) at a nominal 0.05:
    0.073-0.086 for Noufaily, 0.120-0.150 for Farrington, 0.089-0.104 for Bayes.

    Farrington's baseline (Noufaily's too) is the same season of the ``b`` previous years (3 by default):
    it needs weeks, months or quarters (years have no season, so the baseline would be
    the last three counts alone) and a series longer than ``b`` years (``n_periods``, the
    periods from a region's first to its last, when known). The Bayes method's baseline
    is the ``w`` (6) periods just before, which any kind of period and a short series
    give (Höhle 2007; both as in R's surveillance).

    Parameters
    ----------
    period : {"week", "month", "quarter", "year"}
        The cells' kind of period.
    n_periods : int, optional
        The length of the longest series, in periods.
    """
    if period == "year":
        return "bayes"
    needed = farrington.defaults(period, preset="farrington")["b"] * FREQUENCY[period]
    if n_periods is not None and n_periods <= needed:
        return "bayes"
    return "noufaily"


def bound_is_count(method: str, options: dict[str, Any]) -> bool:
    """Whether the ``upperbound`` column of ``method`` with ``options`` is a count (the
    number of events above which a period is unusual), as it is for every method but
    the GLR detector with ``ret="value"`` (``glr-nb``'s default), whose ``upperbound`` is
    the statistic itself, as in R's ``glrnb``."""
    return not (method.startswith("glr") and options.get("ret") == "value")
