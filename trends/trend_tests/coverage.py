"""The reporting behind a trend: the outlets of the series' two halves."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..coverage_model import CoverageRules

logger = logging.getLogger(__name__)


def halves_reporting(
    table: pd.DataFrame, out: pd.DataFrame, rules: CoverageRules, alpha: float
) -> dict[str, tuple[str, list[str]]]:
    """The source-mix rule and the reporting check between each series' two halves.

    A trend over a series whose main outlet went silent halfway (or that a new outlet
    joined) measures the reporting as much as the events. So the second half's outlets
    are set against the first half's (:mod:`trends.coverage_model.mix`): beyond
    ``max_mix_change`` the halves are not comparable (``thin``); beyond
    ``check_mix_change`` the trend must show among the outlets filing in both halves
    (:func:`trends.coverage_model.activity.reporting_check`). The halves split the cells
    with a known count (at least 4, some with a known source mix), in period order.
    Returns (status, reasons) for the regions where something was found.
    """
    from ..coverage_model import assess_windows, mix_rules, source_activity
    from ..coverage_model.activity import reporting_check

    if rules.check_mix_change is None and rules.max_mix_change is None:
        return {}
    if "source_counts" not in table.columns:
        return {}
    # table is as as_cells leaves it: sorted by region and period
    known = table[table["count"].notna()]
    by_region = known.groupby("region", sort=False)
    size = by_region["region"].transform("size").to_numpy()
    has_mix = by_region["source_counts"].transform("count").to_numpy() > 0
    second = by_region.cumcount().to_numpy() >= size // 2
    split = has_mix & (size >= 4)
    if not split.any():
        return {}
    first_half, second_half = known[split & ~second], known[split & second]
    mix = assess_windows(second_half, baseline=first_half, rules=mix_rules(rules))
    low = rules.check_mix_change if rules.check_mix_change is not None else rules.max_mix_change
    shares = mix[["silent_source_share", "new_source_share"]].max(axis=1)
    found: dict[str, tuple[str, list[str]]] = {}
    rows = out.set_index("region")
    for region, st, rs in zip(mix["region"], mix["status"], mix["reasons"], strict=True):
        if st != "adequate":
            found[region] = (st, list(rs))
    for region in mix["region"][(shares > low).to_numpy()]:
        if region in found:
            continue
        row = rows.loc[region]
        act = source_activity(
            first_half[first_half["region"] == region],
            second_half[second_half["region"] == region],
            dispersion=float(row["dispersion"]) if pd.notna(row["dispersion"]) else 1.0,
            dispersion_df=float(row["df"]) if pd.notna(row["df"]) else np.inf,
            level=1 - alpha,
            mix_alpha=rules.mix_alpha,
        )
        st, rs, _ = reporting_check(
            act,
            direction=float(row["statistic"]),
            called=bool(row["qvalue"] < alpha),
            pvalue=float(row["pvalue"]),
            alpha=alpha,
            rules=rules,
        )
        if rs:
            found[region] = (st, rs)
    return found
