"""The methods section's texts: what each method is, every threshold in words, and
the references behind them.

What a method is comes from where the method lives: the registries of the steps
(:data:`trends.stats.poisson.INTERVALS` for the rates' intervals,
:data:`trends.stats.two_rates.TESTS` for the comparison,
:data:`trends.trend_tests.METHODS_REGISTRY` for the trend) give each method's
description and short reference; :data:`BIBLIOGRAPHY` turns a short reference into
the full one. The decision rule is :data:`trends.verdicts.RULE`, printed as it is.
The coverage thresholds are worded from :class:`~trends.coverage_model.CoverageRules`
field by field (:data:`RULE_WORDS`), so a new threshold cannot be left out silently
(a test checks that every field has words).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import verdicts
from ..coverage_model import PRESETS, CoverageRules, resolve_rules
from .formats import fmt_num
from .html import Markup, join, tag
from .words import PERIOD_WORD

__all__ = [
    "BIBLIOGRAPHY",
    "RULE_WORDS",
    "RULE_REFERENCES",
    "cite_keys",
    "citation",
    "rules_label",
    "rules_of",
    "rules_name",
    "rules_in_words",
    "rules_changed",
    "verdict_item",
    "counting_item",
    "rates_item",
    "comparison_item",
    "trend_item",
    "joinpoint_item",
    "alarm_item",
    "coverage_item",
]

#: Full references, by the short form the registries use ("Garwood 1936").
BIBLIOGRAPHY: dict[str, str] = {
    "Garwood 1936": "Garwood F (1936). Fiducial limits for the Poisson distribution. "
    "Biometrika 28:437–442.",
    "Lancaster 1961": "Lancaster HO (1961). Significance tests in discrete distributions. "
    "Journal of the American Statistical Association 56:223–234.",
    "Barker 2002": "Barker L (2002). A comparison of nine confidence intervals for a Poisson "
    "parameter when the expected number of events is ≤ 5. The American Statistician "
    "56:85–89.",
    "Brown, Cai & DasGupta 2003": "Brown LD, Cai TT, DasGupta A (2003). Interval estimation "
    "in exponential families. Statistica Sinica 13:19–49.",
    "Gu et al. 2008": "Gu K, Ng HKT, Tang ML, Schucany WR (2008). Testing the ratio of two "
    "Poisson rates. Biometrical Journal 50(2):283–298.",
    "Fay 2010": "Fay MP (2010). Two-sided exact tests and matching confidence intervals for "
    "discrete data. The R Journal 2(1):53–58.",
    "Krishnamoorthy & Thomson 2004": "Krishnamoorthy K, Thomson J (2004). A more powerful "
    "test for comparing two Poisson means. Journal of Statistical Planning and Inference "
    "119:23–35.",
    "Benjamini & Hochberg 1995": "Benjamini Y, Hochberg Y (1995). Controlling the false "
    "discovery rate: a practical and powerful approach to multiple testing. Journal of the "
    "Royal Statistical Society B 57:289–300.",
    "Wedderburn 1974": "Wedderburn RWM (1974). Quasi-likelihood functions, generalized linear "
    "models, and the Gauss–Newton method. Biometrika 61:439–447.",
    "McCullagh & Nelder 1989": "McCullagh P, Nelder JA (1989). Generalized Linear Models, "
    "2nd ed. Chapman & Hall.",
    "Smyth 2004": "Smyth GK (2004). Linear models and empirical Bayes methods for assessing "
    "differential expression in microarray experiments. Statistical Applications in "
    "Genetics and Molecular Biology 3(1):3.",
    "Lund et al. 2012": "Lund SP, Nettleton D, McCarthy DJ, Smyth GK (2012). Detecting "
    "differential expression in RNA-sequence data using quasi-likelihood with shrunken "
    "dispersion estimates. Statistical Applications in Genetics and Molecular Biology "
    "11(5):8.",
    "Venables & Ripley 2002": "Venables WN, Ripley BD (2002). Modern Applied Statistics "
    "with S, 4th ed., section 7.4. Springer.",
    "Mann 1945": "Mann HB (1945). Nonparametric tests against trend. Econometrica 13:245–259.",
    "Kendall 1975": "Kendall MG (1975). Rank Correlation Methods, 4th ed. Griffin.",
    "Sen 1968": "Sen PK (1968). Estimates of the regression coefficient based on Kendall's "
    "tau. Journal of the American Statistical Association 63:1379–1389.",
    "Hamed & Rao 1998": "Hamed KH, Rao AR (1998). A modified Mann-Kendall trend test for "
    "autocorrelated data. Journal of Hydrology 204:182–196.",
    "Kim et al. 2000": "Kim H-J, Fay MP, Feuer EJ, Midthune DN (2000). Permutation tests for "
    "joinpoint regression with applications to cancer rates. Statistics in Medicine "
    "19:335–351.",
    "Kim et al. 2022": "Kim H-J, Chen H-S, Byrne J, Wheeler B, Feuer EJ (2022). Twenty years "
    "since Joinpoint 1.0: two major enhancements, their justification, and impact. "
    "Statistics in Medicine 41:3102–3130.",
    "Hurlbert 1971": "Hurlbert SH (1971). The nonconcept of species diversity: a critique "
    "and alternative parameters. Ecology 52:577–586.",
    "NCHS rates": "National Center for Health Statistics. Evaluation of the National Center "
    "for Health Statistics Data Presentation Standards for Rates From Vital Statistics and "
    "Sample Surveys. https://stacks.cdc.gov/view/cdc/123462",
    "Farrington et al. 1996": "Farrington CP, Andrews NJ, Beale AD, Catchpole MA (1996). A "
    "statistical algorithm for the early detection of outbreaks of infectious disease. "
    "Journal of the Royal Statistical Society A 159:547–563.",
    "Noufaily et al. 2013": "Noufaily A, Enki DG, Farrington P, Garthwaite P, Andrews N, "
    "Charlett A (2013). An improved algorithm for outbreak detection in multiple "
    "surveillance systems. Statistics in Medicine 32:1206–1222.",
    "Hutwagner et al. 2003": "Hutwagner L, Thompson W, Seeman GM, Treadwell T (2003). The "
    "bioterrorism preparedness and response Early Aberration Reporting System (EARS). "
    "Journal of Urban Health 80(S1):i89–i96.",
    "Höhle & Paul 2008": "Höhle M, Paul M (2008). Count data regression charts for the "
    "monitoring of surveillance time series. Computational Statistics & Data Analysis "
    "52:4357–4368.",
    "Riebler 2004": "Riebler A (2004). Empirischer Vergleich von statistischen Methoden zur "
    "Ausbruchserkennung bei Surveillance Daten. Bachelor thesis, LMU München.",
    "Höhle 2007": "Höhle M (2007). surveillance: an R package for the monitoring of "
    "infectious diseases. Computational Statistics 22:571–582.",
    "Salmon, Schumacher & Höhle 2016": "Salmon M, Schumacher D, Höhle M (2016). Monitoring "
    "count time series in R: aberration detection in public health surveillance. Journal "
    "of Statistical Software 70(10):1–35.",
    "ACLED 2025": "Armed Conflict Location & Event Data (ACLED) (2025). Subnational Threat "
    "& Surge Trackers; Trendfinder. https://acleddata.com (read 2025).",
    "Parker et al. 2017": "Parker JD, Talih M, Malec DJ, et al. (2017). National Center for "
    "Health Statistics Data Presentation Standards for Proportions. Vital and Health "
    "Statistics 2(175).",
}


def cite_keys(reference: str) -> list[str]:
    """``'Venables & Ripley 2002 (MASS::glm.nb); Mann 1945'`` ->
    ``['Venables & Ripley 2002', 'Mann 1945']``: the short references in a registry's
    reference text, without the remarks in brackets."""
    keys = (re.sub(r"\s*\([^)]*\)", "", part).strip() for part in reference.split(";"))
    return [k for k in keys if k]


def citation(key: str) -> str:
    """The full reference of a short one (the short one itself when unknown)."""
    return BIBLIOGRAPHY.get(key, key)


def _pct(x: float) -> str:
    return f"{100 * x:g}%"


def _events(x: float) -> str:
    return f"{fmt_num(x)} event" + ("" if x == 1 else "s")


#: Each threshold of :class:`CoverageRules` in words, given its value (``None``: off).
RULE_WORDS: dict[str, Callable[[Any], str]] = {
    "min_events": lambda v: (
        f"fewer than {_events(v)} behind what is tested (for a comparison, both windows "
        "together): insufficient; below it the reporting cannot be judged either"
        if v is not None
        else "no minimum number of events"
    ),
    "min_sources": lambda v: (
        f"fewer than {fmt_num(v)} distinct outlets behind what is tested: thin (a single "
        "outlet cannot be cross-checked, and its silence looks like a fall)"
        if v is not None
        else "the number of distinct outlets is not used"
    ),
    "max_coarse_share": lambda v: (
        f"more than {_pct(v)} of the events located only coarser than the region, or dated "
        "less precisely than the period: thin"
        if v is not None
        else "the precision of place and date is not used"
    ),
    "max_single_source_share": lambda v: (
        f"more than {_pct(v)} of the events resting on a single report: thin"
        if v is not None
        else "the share of events resting on a single report is not used (in UCDP GED most "
        "events rest on one report)"
    ),
    "check_mix_change": lambda v: (
        f"outlets gone silent, or new, beyond what the number of events explains, behind "
        f"more than {_pct(v)} of the reports: a change is called only if it holds among "
        "the outlets filing in both windows, else thin"
        if v is not None
        else "a change in the mix of outlets is not checked against the continuing outlets"
    ),
    "max_mix_change": lambda v: (
        f"outlets gone silent or new behind more than {_pct(v)} of the reports: thin "
        "whatever the continuing outlets show (the windows are not comparable)"
        if v is not None
        else "no share of silent or new outlets makes the windows incomparable on its own"
    ),
    "mix_alpha": lambda v: (
        f"an outlet counts as silent (or new) when its silence would happen by chance, "
        f"under the baseline's mix of outlets, with probability below {fmt_num(v)} "
        "(rarefaction)"
    ),
    "reliable_events": lambda v: (
        f"an estimate resting on fewer than {_events(v)} is flagged unreliable (†) beside "
        "its verdict, which it never withholds"
        if v is not None
        else "no reliability flag for few events"
    ),
    "reliable_rse": lambda v: (
        f"an estimate whose relative standard error is {_pct(v)} or more is flagged unreliable (†)"
        if v is not None
        else "no reliability flag for a large relative standard error"
    ),
    "level": lambda v: f"the exact intervals in the coverage measures are {_pct(v)} intervals",
}

#: The references behind the thresholds (short forms, see :data:`BIBLIOGRAPHY`).
RULE_REFERENCES: dict[str, str] = {
    "min_events": "NCHS rates",
    "mix_alpha": "Hurlbert 1971",
    "check_mix_change": "Hurlbert 1971",
    "reliable_events": "NCHS rates",
    "reliable_rse": "Parker et al. 2017",
}


def rules_of(res: Any) -> CoverageRules:
    """The coverage rules of a report's results, resolved (a preset name or a dict in
    ``options["rules"]`` is resolved here; analyse() stores the resolved object)."""
    return resolve_rules(res.options.get("rules", "default"))


def rules_name(res: Any) -> str:
    """How the report names its rules (see :func:`rules_label`)."""
    return res.options.get("rules_label") or rules_label(res.options.get("rules"), rules_of(res))


def rules_in_words(rules: CoverageRules) -> list[tuple[str, str, list[str]]]:
    """Every threshold of ``rules``: (field name, the rule in words, short references)."""
    out = []
    for f in dataclasses.fields(rules):
        value = getattr(rules, f.name)
        keys = cite_keys(RULE_REFERENCES.get(f.name, "")) if value is not None else []
        out.append((f.name, RULE_WORDS[f.name](value), keys))
    return out


def rules_changed(rules: CoverageRules, base: CoverageRules | None = None) -> dict[str, Any]:
    """The thresholds of ``rules`` that differ from ``base`` (default: the defaults)."""
    base = base or PRESETS["default"]
    return {
        f.name: getattr(rules, f.name)
        for f in dataclasses.fields(rules)
        if getattr(rules, f.name) != getattr(base, f.name)
    }


def rules_label(given: Any, rules: CoverageRules) -> str:
    """How the parameters name the rules: the preset (``default``), or ``custom
    (min_events=5, ...)`` with the thresholds that differ from the defaults."""
    if isinstance(given, str) and given in PRESETS:
        return given
    for name, preset in PRESETS.items():
        if preset == rules:
            return name
    changed = ", ".join(f"{k}={v}" for k, v in rules_changed(rules).items())
    return f"custom ({changed})"


# ----------------------------------------------------------------------------- items
# Each returns one item of the methods section (markup) and the short references
# behind it, in the order they are cited.


def _methods_used(frame: Any, column: str = "method") -> list[str]:
    if frame is None or column not in frame.columns:
        return []
    return sorted(set(frame[column].dropna().astype(str)))


def verdict_item(res: Any) -> tuple[Markup, list[str]]:
    """The decision rule, as :data:`trends.verdicts.RULE` states it."""
    alphas = set()
    for frame in (res.comparison, res.trend):
        if frame is not None and "alpha" in frame.columns:
            alphas |= set(pd.to_numeric(frame["alpha"], errors="coerce").dropna())
    alpha = ", ".join(f"{a:g}" for a in sorted(alphas)) or "0.05"
    item = join([tag("strong", "Verdicts."), f" {verdicts.RULE} Here alpha = {alpha}."])
    family = [
        f for f in (res.comparison, res.trend, res.joinpoints)
        if f is not None and "qvalue_report" in f.columns
    ]  # fmt: skip
    if family:
        tested = sum(int(f["qvalue_report"].notna().sum()) for f in family)
        withdrawn = sum(
            int(f["notes"].astype(str).str.contains(verdicts.WITHDRAWN, regex=False).sum())
            for f in family
        )
        said = "no word" if withdrawn == 0 else f"{withdrawn} word{'s' if withdrawn > 1 else ''}"
        item = join([
            item,
            f" This report states its comparison, trend and joinpoint tables together, so "
            f"it holds their {tested} tests to one family: a word stands only where its "
            "q-value across all of them is below alpha too (the notes give it where it "
            f"withdrew a word); this withdrew {said} that a table alone would give.",
        ])  # fmt: skip
    return item, ["Benjamini & Hochberg 1995"]


def counting_item(res: Any) -> tuple[Markup, list[str]]:
    """How incidents become cells."""
    word = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}[res.period]
    item = join([
        tag("strong", "Counting."),
        f" Incidents are counted by region and {word}; periods outside the source's "
        "coverage are left uncovered, never zero. Exposure is the number of days in each "
        "period.",
    ])  # fmt: skip
    return item, []


def rates_item(res: Any, level: str) -> tuple[Markup, list[str]]:
    """The rates' intervals (from the interval registry)."""
    from ..stats.poisson import INTERVALS

    entry = INTERVALS.get(res.options.get("rate_method", "exact"))
    item = join([
        tag("strong", "Rates."),
        f" Events per month (per 30.4375 days of exposure) with {level} intervals: "
        f"{entry.description} ({entry.reference}).",
    ])  # fmt: skip
    return item, cite_keys(entry.reference)


def comparison_item(res: Any, level: str) -> tuple[Markup, list[str]]:
    """The comparison's tests (from the two-rate registry), dispersion and q-values."""
    from ..stats.two_rates import TESTS

    cmp = res.comparison
    used = [m for m in _methods_used(cmp) if m in TESTS]
    how = join(
        (join([tag("code", m), f": {TESTS.get(m).description} ({TESTS.get(m).reference})"])
         for m in used),
        "; ",
    )  # fmt: skip
    refs = [k for m in used for k in cite_keys(TESTS.get(m).reference)]
    dispersion = ""
    if "dispersion" in cmp.columns and cmp["dispersion"].notna().any():
        d = pd.to_numeric(cmp["dispersion"], errors="coerce")
        dispersion = (
            " Each region's test allows for overdispersion with a quasi-Poisson dispersion "
            "estimated from its cells and moderated across regions by empirical Bayes "
            f"(here {fmt_num(d.min(), 2)} to {fmt_num(d.max(), 2)}; 1 is Poisson)."
        )
        refs += ["McCullagh & Nelder 1989", "Smyth 2004", "Lund et al. 2012"]
    after, before = res.options["after"], res.options["before"]
    item = join([
        tag("strong", "Comparison."),
        f" The rate in {_window(after)} against {_window(before)} by ", how,
        f"; rate ratio with its {level} interval; q-values by Benjamini–Hochberg over the "
        f"regions compared.{dispersion} A change is called only if it also holds among the "
        "outlets filing in both windows, where outlets went silent or appeared.",
    ])  # fmt: skip
    return item, refs + ["Benjamini & Hochberg 1995"]


def _window(window: Any) -> str:
    first, last = window
    return str(first) if first == last else f"{first} to {last}"


def trend_item(res: Any) -> tuple[Markup, list[str]]:
    """The trend method (from the trend registry) and how the APC is defined."""
    from ..trend_tests import METHODS_REGISTRY

    used = _methods_used(res.trend)
    described = join(
        (join([tag("code", m), f": {METHODS_REGISTRY.get(m).description} "
               f"({METHODS_REGISTRY.get(m).reference})"]) if m in METHODS_REGISTRY
         else tag("code", m) for m in used),
        "; ",
    )  # fmt: skip
    refs = [
        k
        for m in used
        if m in METHODS_REGISTRY
        for k in cite_keys(METHODS_REGISTRY.get(m).reference)
    ]
    item = join([
        tag("strong", "Trend."), " ", described,
        ". The model is fitted to the counts on the period index with the exposure as "
        "offset; the annual percent change is 100·(exp(k·slope) − 1), k periods per year. "
        f"An APC (or a bound) beyond ±{verdicts.MAX_APC:,.0f}%/yr, or infinite, is not "
        "estimable: it says how few events the series starts or ends with, not how fast "
        "it changes. q-values by Benjamini–Hochberg over the regions.",
    ])  # fmt: skip
    return item, refs + ["Benjamini & Hochberg 1995"]


def joinpoint_item(options: dict[str, Any], used: list[str]) -> tuple[Markup, list[str]]:
    """Segmented regression, selection, intervals, with every option as used."""
    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    empirical = options.get("interval") == "empirical"
    intervals = (
        "APC intervals are empirical quantiles of resampled fits in which the joinpoints "
        "are found again, so they include the uncertainty of where the trend bends"
        if empirical
        else "APC intervals are t intervals given the joinpoints found"
    )
    item = join([
        tag("strong", "Joinpoints."),
        " Segmented log-linear regression continuous at the joinpoints (",
        tag("code", ", ".join(used)), "), the number of joinpoints chosen by ",
        tag("code", str(options.get("selection", "?"))), " (options: ", tag("code", shown),
        "). The segments drawn are the continuous piecewise log-linear Poisson fit at the "
        f"joinpoints found. {intervals}. A segment whose source mix changes between its "
        "halves, or against the previous segment, is withheld.",
    ])  # fmt: skip
    return item, ["Kim et al. 2000"] + (["Kim et al. 2022"] if empirical else [])


def alarm_item(res: Any) -> tuple[Markup, list[str]]:
    """The alarm method (from :data:`trends.alarm.METHODS`) with its options as used,
    the false-alarm level, and the coverage gate of an alarm."""
    from ..alarm import METHODS

    meta = res.options.get("alarms", {})
    method = str(meta.get("method", "?"))
    entry = METHODS.get(method)
    described = tag("code", method)
    refs: list[str] = []
    if entry is not None:
        told = entry.describe(meta.get("options") or {}, PERIOD_WORD[res.period])
        described = join([described, f": {told} ({entry.citation})"])
        refs = cite_keys(entry.citation)
    shown = ", ".join(f"{k}={v}" for k, v in (meta.get("options") or {}).items())
    level = meta.get("false_alarm_level")
    fdr = meta.get("fdr")
    if fdr is not None:
        chance = f"alarms where the Benjamini–Hochberg q-value is at most {fdr:g}"
        refs.append("Benjamini & Hochberg 1995")
    elif level is not None and math.isfinite(float(level)):
        chance = f"a false-alarm level of {level:g} per region and period"
    else:
        chance = "no per-period false-alarm level (the method sets a threshold, not a level)"
    item = join([
        tag("strong", "Unusual periods."), " ", described,
        *([" (options: ", tag("code", shown), ")"] if shown else []),
        f"; {chance}. Each region is judged against its own earlier periods only; periods "
        "outside the source's coverage are never a baseline value. An alarm on a period "
        "whose reporting is thin, or whose excess comes from outlets absent from the "
        "baseline, is withheld.",
    ])  # fmt: skip
    return item, refs


def coverage_item(res: Any) -> tuple[Markup, list[str]]:
    """Every coverage threshold in words, with the references behind them."""
    rules = rules_of(res)
    label = rules_name(res)
    worded = rules_in_words(rules)
    rows = [tag("li", text, " (", tag("code", f"{name}"), ")") for name, text, _ in worded]
    item = join([
        tag("strong", "Coverage."),
        " Each cell, and each window behind a verdict, is ", tag("em", "adequate"), ", ",
        tag("em", "thin"), ", ", tag("em", "insufficient"), " or ", tag("em", "uncovered"),
        " by the ", tag("code", label), " rules, about the reporting behind the numbers:",
        tag("ul", *rows),
        "A verdict resting on thin or insufficient reporting is ",
        tag("em", verdicts.INCONCLUSIVE), ": its numbers are shown, its word withheld.",
    ])  # fmt: skip
    return item, [k for _, _, keys in worded for k in keys]
