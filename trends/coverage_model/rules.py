"""Coverage statuses and the thresholds of the rules: :class:`CoverageRules` and its presets."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TrendsError

logger = logging.getLogger(__name__)


#: Statuses from best to worst.
STATUSES = ("adequate", "thin", "insufficient", "uncovered")
RANK = {s: i for i, s in enumerate(STATUSES)}


@dataclass(frozen=True)
class CoverageRules:
    """Thresholds of the coverage rules. ``None`` switches a rule off.

    Attributes
    ----------
    min_effective_events : float or None
        ``insufficient`` when effective events (events / dispersion) are below this.
        Default 10 (NCHS data presentation standards for rates).
    max_relative_width : float or None
        ``insufficient`` when the exact interval's width divided by the count exceeds
        this (1.6 = 160%; NCHS data presentation standards for rates).
    min_events : float or None
        ``thin`` below this many events. Default 20 (CDC WISQARS / NCHS "unstable
        rate" flag).
    max_rse : float or None
        ``thin`` when the relative standard error ``sqrt(dispersion / events)`` is at
        or above this. Default 0.30 (NCHS reliability criterion).
    min_sources : int or None
        ``thin`` when fewer distinct sources than this feed the events. Default 2
        (a single outlet cannot be cross-checked; its silence looks like a fall).
    max_coarse_share : float or None
        ``thin`` when more than this share of the events has location coarser than
        the region, or dates coarser than the period. Default 0.5.
    max_mix_change : float or None
        ``thin`` when, against the baseline, more than this share of the events
        comes from sources absent in the baseline, or more than this share of the
        baseline's events came from sources now silent. Default 0.5.
    level : float
        Confidence level of the exact interval behind ``max_relative_width``.
    """

    min_effective_events: float | None = 10.0
    max_relative_width: float | None = 1.6
    min_events: float | None = 20.0
    max_rse: float | None = 0.30
    min_sources: int | None = 2
    max_coarse_share: float | None = 0.5
    max_mix_change: float | None = 0.5
    level: float = 0.95


#: Named rule sets. ``default`` is the issue's rule set. ``nchs`` keeps only the
#: count-based NCHS rules (for data without source information, or to reproduce NCHS
#: flagging). ``strict`` and ``lenient`` move every threshold one notch.
PRESETS: dict[str, CoverageRules] = {
    "default": CoverageRules(),
    "nchs": CoverageRules(min_sources=None, max_coarse_share=None, max_mix_change=None),
    "strict": CoverageRules(
        min_effective_events=20.0,
        max_relative_width=1.0,
        min_events=50.0,
        max_rse=0.20,
        min_sources=3,
        max_coarse_share=0.25,
        max_mix_change=0.30,
    ),
    "lenient": CoverageRules(
        min_effective_events=5.0,
        max_relative_width=2.5,
        min_events=10.0,
        max_rse=0.50,
        min_sources=None,
        max_coarse_share=0.75,
        max_mix_change=0.75,
    ),
}
FIELDS = tuple(f.name for f in dataclasses.fields(CoverageRules))


def resolve_rules(rules: str | CoverageRules | Mapping[str, Any] = "default", **overrides: Any):
    """Turn ``rules`` (a preset name, a :class:`CoverageRules`, or a dict) and keyword
    overrides into one :class:`CoverageRules`; unknown names raise with the valid ones."""
    if isinstance(rules, CoverageRules):
        base = rules
    elif isinstance(rules, str):
        if rules not in PRESETS:
            raise TrendsError(f"rules={rules!r} is not one of {', '.join(map(repr, PRESETS))}")
        base = PRESETS[rules]
    elif isinstance(rules, Mapping):
        overrides = {**dict(rules), **overrides}
        base = PRESETS["default"]
    else:
        raise TrendsError(
            f"rules={rules!r} must be a preset name ({', '.join(map(repr, PRESETS))}), "
            "a CoverageRules or a dict of thresholds"
        )
    bad = [k for k in overrides if k not in FIELDS]
    if bad:
        raise TrendsError(f"unknown coverage rule(s) {bad}; valid: {', '.join(FIELDS)}")
    for key, value in overrides.items():
        if value is None and key != "level":
            continue
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(
            float(value)
        ):
            raise TrendsError(f"{key}={value!r} must be a finite number or None")
        if float(value) < 0:
            raise TrendsError(f"{key}={value!r} must not be negative")
    if "level" in overrides and not 0 < float(overrides["level"]) < 1:
        raise TrendsError(f"level={overrides['level']!r} must lie strictly between 0 and 1")
    return dataclasses.replace(base, **overrides)


def mix_rules(rules: str | CoverageRules | Mapping[str, Any] = "default") -> CoverageRules:
    """The source-mix rule of ``rules`` alone (every other threshold switched off).

    For judging one stretch of a series against the stretch before it (a trend's two
    halves, a joinpoint segment against the previous one) where the count rules have
    already judged each stretch on its own.
    """
    return dataclasses.replace(
        resolve_rules(rules),
        min_effective_events=None,
        max_relative_width=None,
        min_events=None,
        max_rse=None,
        min_sources=None,
        max_coarse_share=None,
    )


def worse(*statuses: str) -> str:
    """The worst of coverage ``statuses`` (order of :data:`STATUSES`)."""
    return max(statuses, key=RANK.__getitem__)
