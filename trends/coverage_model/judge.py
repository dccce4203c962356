"""Status and reasons from coverage measures: the rules, worded."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from .rules import RANK, CoverageRules

logger = logging.getLogger(__name__)


def _pct(x: float, against: float | None = None) -> str:
    """``x`` as a percentage; one decimal when rounding would make it equal ``against``."""
    text = f"{100 * x:.0f}%"
    if against is not None and x != against and text == f"{100 * against:.0f}%":
        text = f"{100 * x:.1f}%"
    return text


def _fmt(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


def _n_events(x: float) -> str:
    return "1 event" if x == 1 else f"{_fmt(x)} events"


def judge(m: Mapping[str, Any], rules: CoverageRules) -> tuple[str, list[str]]:
    """Status and reasons from measures (as made by :func:`window_measures`).

    Every rule that fires adds a reason; the status is the worst. Unknown measures
    add a reason saying so and never worsen the status.
    """
    status = "adequate"
    reasons: list[str] = []

    def hit(level: str, reason: str) -> None:
        nonlocal status
        if RANK[level] > RANK[status]:
            status = level
        reasons.append(reason)

    count, eff, phi = m["count"], m["effective_events"], m["dispersion"]
    # count-based rules (a cell with no events gets one plain reason, not four)
    if count == 0:
        if rules.min_effective_events is not None or rules.max_relative_width is not None:
            hit("insufficient", "no events")
        elif rules.min_events is not None or rules.max_rse is not None:
            hit("thin", "no events")
    elif rules.min_effective_events is not None and eff < rules.min_effective_events:
        if phi != 1:
            hit(
                "insufficient",
                f"{_fmt(eff)} effective events (dispersion {phi:.2f}), "
                f"fewer than {_fmt(rules.min_effective_events)}",
            )
        else:
            hit(
                "insufficient",
                f"{_n_events(count)}, fewer than {_fmt(rules.min_effective_events)}",
            )
    if (
        count > 0
        and rules.max_relative_width is not None
        and m["relative_width"] > rules.max_relative_width
    ):
        rw = m["relative_width"]
        width = "infinite" if math.isinf(rw) else _pct(rw, rules.max_relative_width)
        hit(
            "insufficient",
            f"relative width of the exact interval {width}, above {_pct(rules.max_relative_width)}",
        )
    # (the thin count rules add nothing once a count rule found it insufficient)
    count_insufficient = status == "insufficient" or count == 0
    if not count_insufficient and rules.min_events is not None and count < rules.min_events:
        hit("thin", f"{_n_events(count)}, fewer than {_fmt(rules.min_events)}")
    if not count_insufficient and rules.max_rse is not None and m["rse"] >= rules.max_rse:
        rse = "infinite" if math.isinf(m["rse"]) else _pct(m["rse"], rules.max_rse)
        hit("thin", f"relative standard error {rse}, at least {_pct(rules.max_rse)}")
    # source-based rules: only where there are events to have sources
    if m["events"] > 0:
        n = m["n_sources"]
        if rules.min_sources is not None and not math.isnan(n) and n < rules.min_sources:
            who = f" ({m['top_source']})" if m["top_source"] and n == 1 else ""
            word = "source" if n == 1 else "sources"
            hit("thin", f"{_fmt(n)} distinct {word}{who}")
        if rules.max_coarse_share is not None:
            loc, dat = m["coarse_location_share"], m["coarse_date_share"]
            if not math.isnan(loc) and loc > rules.max_coarse_share:
                hit(
                    "thin",
                    f"{_pct(loc, rules.max_coarse_share)} of events located only coarser "
                    "than the region",
                )
            if not math.isnan(dat) and dat > rules.max_coarse_share:
                hit(
                    "thin",
                    f"{_pct(dat, rules.max_coarse_share)} of events dated less precisely "
                    "than the period",
                )
        if rules.max_mix_change is not None:
            new, silent = m["new_source_share"], m["silent_source_share"]
            if not math.isnan(new) and new > rules.max_mix_change:
                hit(
                    "thin",
                    f"source mix changed: {_pct(new)} of events from outlets absent "
                    "in the baseline",
                )
            if not math.isnan(silent) and silent > rules.max_mix_change:
                hit(
                    "thin",
                    f"source mix changed: {_pct(silent)} of the baseline's events came "
                    "from outlets now silent",
                )
        # what was unknown (never worsens the status)
        unknown = m["unknown_sources_share"]
        if math.isnan(n) and not unknown >= 1:
            reasons.append("number of distinct sources unknown")
        if unknown >= 1:
            reasons.append("number of sources unknown for every event")
        elif unknown > 0:
            reasons.append(f"number of sources unknown for {_pct(unknown)} of events")
        if "baseline_mix_known" in m and not (m["source_mix_known"] and m["baseline_mix_known"]):
            reasons.append("source names unknown: source-mix change not assessed")
    return status, reasons
