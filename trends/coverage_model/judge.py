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
    add a reason saying so and never worsen the status. The rules are about the
    reporting (see :class:`CoverageRules`); the precision of an estimate is judged by
    :func:`reliability`, which never changes the status.
    """
    status = "adequate"
    reasons: list[str] = []

    def hit(level: str, reason: str) -> None:
        nonlocal status
        if RANK[level] > RANK[status]:
            status = level
        reasons.append(reason)

    count = m["count"]
    if rules.min_events is not None and count < rules.min_events:
        text = "no events" if count == 0 else _n_events(count)
        hit("insufficient", f"{text}, fewer than {_fmt(rules.min_events)}")
    if m["events"] > 0:  # source-based rules: only where there are events to have sources
        for level, reason in _source_rules(m, rules):
            hit(level, reason)
        reasons.extend(_unknowns(m))
    return status, reasons


def _source_rules(m: Mapping[str, Any], rules: CoverageRules) -> list[tuple[str, str]]:
    """(status, reason) of every source-based rule that fires."""
    fired = []
    n = m["n_sources"]
    if rules.min_sources is not None and not math.isnan(n) and n < rules.min_sources:
        who = f" ({m['top_source']})" if m["top_source"] and n == 1 else ""
        word = "outlet" if n == 1 else "outlets"
        fired.append(("thin", f"{_fmt(n)} distinct {word}{who}"))
    limit = rules.max_coarse_share
    for key, what in (
        ("coarse_location_share", "located only coarser than the region"),
        ("coarse_date_share", "dated less precisely than the period"),
    ):
        if limit is not None and m[key] > limit:
            fired.append(("thin", f"{_pct(m[key], limit)} of events {what}"))
    single = m["single_source_share"]
    if rules.max_single_source_share is not None and single > rules.max_single_source_share:
        fired.append(
            (
                "thin",
                f"{_pct(single, rules.max_single_source_share)} of events rest on a single report",
            )
        )
    if rules.max_mix_change is not None:
        for text in mix_descriptions(m, rules.max_mix_change):
            fired.append(("thin", f"{text}: the windows are not comparable"))
    return fired


def mix_descriptions(m: Mapping[str, Any], above: float) -> list[str]:
    """The outlets gone silent or new beyond chance, in words, where their share of the
    reports is above ``above`` (empty when neither is)."""
    out = []
    silent, new = m.get("silent_source_share", math.nan), m.get("new_source_share", math.nan)
    if silent > above:
        out.append(
            f"source mix changed: {_pct(silent)} of the baseline's reports came from outlets "
            f"silent now ({_names(m['silent_sources'])}), which chance does not explain"
        )
    if new > above:
        out.append(
            f"source mix changed: {_pct(new)} of the reports come from outlets absent in the "
            f"baseline ({_names(m['new_sources'])}), which chance does not explain"
        )
    return out


def _names(joined: str, limit: int = 3) -> str:
    names = [n for n in joined.split("; ") if n]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _unknowns(m: Mapping[str, Any]) -> list[str]:
    """What was unknown about the sources (never worsens the status)."""
    out = []
    n, unknown = m["n_sources"], m["unknown_sources_share"]
    if math.isnan(n) and not unknown >= 1:
        out.append("number of distinct sources unknown")
    if unknown >= 1:
        out.append("number of sources unknown for every event")
    elif unknown > 0:
        out.append(f"number of sources unknown for {_pct(unknown)} of events")
    if "baseline_mix_known" in m and not (m["source_mix_known"] and m["baseline_mix_known"]):
        out.append("source names unknown: source-mix change not assessed")
    return out


def reliability(m: Mapping[str, Any], rules: CoverageRules) -> tuple[bool, str]:
    """Is the estimate resting on these measures reliable (NCHS-style)? A flag shown
    beside the verdict, never a reason to withhold it; the reason when it is not."""
    count, rse = m["count"], m["rse"]
    if rules.reliable_events is not None and count < rules.reliable_events:
        return False, f"unreliable: {_n_events(count)}, fewer than {_fmt(rules.reliable_events)}"
    if rules.reliable_rse is not None and rse >= rules.reliable_rse:
        text = "infinite" if math.isinf(rse) else _pct(rse, rules.reliable_rse)
        return (
            False,
            f"unreliable: relative standard error {text}, at least {_pct(rules.reliable_rse)}",
        )
    return True, ""
