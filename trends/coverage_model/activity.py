"""Could a change be reporting? The outlets behind two windows, and the change among
the outlets that filed in both.

A fall in reported incidents can be an outlet going quiet, a rise a new outlet. The
rarefaction rule of :mod:`trends.coverage_model.mix` says which outlets went silent or
appeared beyond what the number of reports explains. Where they carry a material
share of the reports (more than ``check_mix_change`` of :class:`CoverageRules`, up to
``max_mix_change``, beyond which the windows are not comparable at all), the change
is asked again of the outlets filing in *both* windows (:func:`source_activity`): if
it holds among them, the verdict stands and the reporting change is named beside it;
if it does not, the verdict is withheld (:func:`reporting_check`).

The re-test is the conditional score test of two rates (:mod:`trends.stats.two_rates`)
on the continuing outlets' reports, with the dispersion of the main test multiplied
by the reports per event (an event naming two outlets counts twice, so report counts
vary more than event counts: with ``m`` reports per event, ``Var = m * phi * mean``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_fraction, check_positive
from ..stats.two_rates import two_sample_rates
from .arrays import covered_mask
from .judge import mix_descriptions
from .measures import distinct_sources, pooled_sources
from .mix import mix_change
from .rules import CoverageRules
from .windows import as_window

logger = logging.getLogger(__name__)

#: What :func:`source_activity` returns, in this order.
ACTIVITY_KEYS = (
    "n_sources_before",
    "n_sources_after",
    "n_sources_expected",
    "silent_sources",
    "silent_source_share",
    "new_sources",
    "new_source_share",
    "n_continuing_sources",
    "continuing_ratio",
    "continuing_pvalue",
)


def _side(cells: pd.DataFrame, name: str) -> dict[str, Any]:
    cells = as_window(cells, name)
    inside = cells[covered_mask(cells)] if len(cells) else cells
    mix = pooled_sources(inside) if len(inside) else {}
    n, _ = distinct_sources(inside, mix) if len(inside) else (math.nan, "")
    return {
        "events": float(pd.to_numeric(inside["count"]).sum()) if len(inside) else 0.0,
        "exposure": float(inside["exposure"].sum()) if len(inside) else 0.0,
        "n": n,
        "mix": mix,
    }


def source_activity(
    cells_before: pd.DataFrame,
    cells_after: pd.DataFrame,
    *,
    dispersion: float = 1.0,
    dispersion_df: float = math.inf,
    level: float = 0.95,
    mix_alpha: float = 0.01,
) -> dict[str, Any]:
    """The outlets behind two windows of one region, and the change among those in both.

    Parameters
    ----------
    cells_before, cells_after : DataFrame
        The region's cells in each window (cells outside coverage are ignored).
    dispersion, dispersion_df : float
        Dispersion of the counts and its degrees of freedom (``inf``: known), as the
        main test used them.
    level : float
        Confidence level of the re-test.
    mix_alpha : float
        Chance below which an outlet's silence (absence) counts (see
        :func:`trends.coverage_model.mix.mix_change`).

    Returns
    -------
    dict with the keys of :data:`ACTIVITY_KEYS`
        ``n_sources_before``, ``n_sources_after``: distinct outlets (NaN unknown);
        ``n_sources_expected``: the before window's outlets expected among the after
        window's reports (rarefaction); ``silent_sources``, ``new_sources``: outlets
        silent or new beyond chance (``"; "``-joined), with their shares of the
        reports; ``n_continuing_sources``: outlets filing in both windows;
        ``continuing_ratio``, ``continuing_pvalue``: the rate ratio (after / before)
        of their reports and its test. Missing where the source names are unknown.
    """
    phi = check_positive("dispersion", dispersion)
    level = check_fraction("level", level)
    b, a = _side(cells_before, "cells_before"), _side(cells_after, "cells_after")
    out: dict[str, Any] = dict.fromkeys(ACTIVITY_KEYS, math.nan)
    out.update(n_sources_before=b["n"], n_sources_after=a["n"], silent_sources="", new_sources="")
    if b["mix"] is None or a["mix"] is None:
        return out
    change = mix_change(b["mix"], a["mix"], alpha=mix_alpha)
    out.update(
        n_sources_expected=change.expected_sources,
        silent_sources="; ".join(change.silent),
        silent_source_share=change.silent_share,
        new_sources="; ".join(change.new),
        new_source_share=change.new_share,
        n_continuing_sources=float(len(change.continuing)),
    )
    both = change.continuing
    if not both or b["exposure"] <= 0 or a["exposure"] <= 0:
        return out
    rb = sum(b["mix"][k] for k in both)
    ra = sum(a["mix"][k] for k in both)
    events = b["events"] + a["events"]
    reports = sum(b["mix"].values()) + sum(a["mix"].values())
    per_event = max(1.0, reports / events) if events > 0 else 1.0
    res = two_sample_rates(
        np.array([ra]),
        np.array([a["exposure"]]),
        np.array([rb]),
        np.array([b["exposure"]]),
        phi=phi * per_event,
        df=dispersion_df,
        method="score",
        level=level,
    )
    out["continuing_ratio"] = float(res["rate_ratio"][0])
    out["continuing_pvalue"] = float(res["pvalue"][0])
    return out


def reporting_check(
    activity: Mapping[str, Any],
    *,
    direction: float,
    called: bool,
    pvalue: float,
    alpha: float,
    rules: CoverageRules,
) -> tuple[str, list[str], bool | None]:
    """Does the verdict hold among the outlets filing in both windows?

    Parameters
    ----------
    activity : mapping
        :func:`source_activity` of the two windows.
    direction : float
        Sign of the estimated change (after against before).
    called : bool
        Whether the change was called (its q-value below ``alpha``).
    pvalue : float
        The change's own (unadjusted) p-value.
    alpha : float
        Level of the re-test among the continuing outlets.
    rules : CoverageRules
        ``check_mix_change`` and ``max_mix_change``.

    Returns
    -------
    (status, reasons, suspected)
        ``adequate`` with the reporting change named, or ``thin`` when the outlets
        filing in both windows disagree with the verdict: a called change they do not
        show in the same direction, or a change they show that the total shows not at
        all (p-value above ``alpha``) or the other way. ``thin`` also when no outlet
        filed in both windows. ``suspected``: True when withheld for it, False when
        checked and confirmed, None when nothing needed checking. Shares above
        ``max_mix_change`` are left to the coverage rules (the windows are not
        comparable whatever the re-test says).
    """
    low, high = rules.check_mix_change, rules.max_mix_change
    shares = [activity["silent_source_share"], activity["new_source_share"]]
    material = low is not None and any(x > low for x in shares)
    if not material or (high is not None and any(x > high for x in shares)):
        return "adequate", [], None
    what = "; ".join(mix_descriptions(activity, low))
    n_both = activity["n_continuing_sources"]
    if not n_both > 0:
        return "thin", [f"{what}; no outlet files in both windows to tell it from reporting"], True
    ratio, p = activity["continuing_ratio"], activity["continuing_pvalue"]
    shown = bool(p < alpha)
    same_way = shown and np.sign(math.log(ratio)) == np.sign(direction)
    if called:
        agree = same_way
    else:
        agree = not shown or (same_way and pvalue < alpha)
    one = n_both == 1
    outlets = f"{n_both:g} outlet{'' if one else 's'} filing in both windows"
    numbers = f"ratio {ratio:.2f}, p = {p:.2g}"
    if agree and called:
        return "adequate", [f"{what}; the change holds among the {outlets} ({numbers})"], False
    if agree:
        return "adequate", [f"{what}; the {outlets} {'agrees' if one else 'agree'} ({numbers})"], False
    shows = "shows" if one else "show"
    told = "a change" if shown else "no significant change"
    return (
        "thin",
        [f"{what}; the {outlets} {shows} {told} ({numbers}): the verdict may reflect the reporting"],
        True,
    )
