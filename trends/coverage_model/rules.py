"""Coverage statuses and the thresholds of the rules: :class:`CoverageRules` and its presets."""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import check_fraction
from ..errors import OptionError

logger = logging.getLogger(__name__)


#: Statuses from best to worst.
STATUSES = ("adequate", "thin", "insufficient", "uncovered")
RANK = {s: i for i, s in enumerate(STATUSES)}


@dataclass(frozen=True)
class CoverageRules:
    """Thresholds of the coverage rules. ``None`` switches a rule off.

    The rules judge the *reporting* behind a result: how many events, from how many
    outlets, how precisely placed and dated, and whether the mix of outlets changed.
    The precision of an estimate is its test's business (a wide interval, a large
    p-value): it never withholds a verdict, and is flagged beside it by the
    reliability thresholds (``reliable_events``, ``reliable_rse``).

    Attributes
    ----------
    min_events : float or None
        ``insufficient`` when what is tested rests on fewer events than this
        (for a comparison, both windows together). Default 10: below it the
        measures of the reporting (outlets, precision, mix) say nothing either.
    min_sources : int or None
        ``thin`` when fewer distinct outlets than this stand behind what is tested
        (for a comparison, both windows together). Default 2: a single outlet cannot
        be cross-checked, and its silence looks like a fall.
    max_coarse_share : float or None
        ``thin`` when more than this share of the events has location coarser than
        the region, or dates coarser than the period. Default 0.5.
    max_single_source_share : float or None
        ``thin`` when more than this share of the events (with a known number of
        sources) rests on a single report. Default None (off): in UCDP GED most
        events rest on one report (measured: 86% of the Iraq 19.1 events with a known
        number, 81% of the Syria file, 75% of the Candidate 2021 file), so a default
        threshold would withhold nearly every verdict.
    check_mix_change : float or None
        Against a baseline, when more than this share of the baseline's events came
        from outlets now silent, or of the events from outlets absent in the
        baseline, *beyond what the number of events explains* (rarefaction, see
        :func:`trends.coverage_model.activity.mix_change`), a change is called only
        if it holds among the outlets filing in both windows; otherwise ``thin``.
        Default 0.1.
    max_mix_change : float or None
        ``thin`` (the windows are not comparable) when that share exceeds this,
        whatever the outlets filing in both windows show. Default 0.5.
    mix_alpha : float
        An outlet counts as silent (or new) when its silence in this many events
        would happen by chance under the baseline's mix with probability below
        this. Default 0.01.
    reliable_events : float or None
        Reliability flag: an estimate resting on fewer events than this is marked
        unreliable beside its verdict. Default 20 (the NCHS and CDC WISQARS rule that
        rates on fewer than 20 events are unreliable).
    reliable_rse : float or None
        Reliability flag: an estimate whose relative standard error
        ``sqrt(dispersion / events)`` is at or above this is marked unreliable.
        Default 0.30 (the NCHS reliability criterion).
    level : float
        Confidence level of the exact interval reported in the measures.

    References
    ----------
    NCHS data presentation standards for rates (https://stacks.cdc.gov/view/cdc/123462);
    Parker et al. (2017), NCHS Data Presentation Standards for Proportions, Vital
    Health Stat 2(175); Hurlbert (1971), Ecology 52:577 (rarefaction).
    """

    min_events: float | None = 10.0
    min_sources: int | None = 2
    max_coarse_share: float | None = 0.5
    max_single_source_share: float | None = None
    check_mix_change: float | None = 0.1
    max_mix_change: float | None = 0.5
    mix_alpha: float = 0.01
    reliable_events: float | None = 20.0
    reliable_rse: float | None = 0.30
    level: float = 0.95


#: Named rule sets. ``nchs`` keeps only the count rules (for data without source
#: information). ``strict`` and ``lenient`` move every threshold one notch.
PRESETS: dict[str, CoverageRules] = {
    "default": CoverageRules(),
    "nchs": CoverageRules(
        min_sources=None, max_coarse_share=None, check_mix_change=None, max_mix_change=None
    ),
    "strict": CoverageRules(
        min_events=20.0,
        min_sources=3,
        max_coarse_share=0.25,
        max_single_source_share=0.9,
        check_mix_change=0.05,
        max_mix_change=0.30,
        reliable_events=50.0,
        reliable_rse=0.20,
    ),
    "lenient": CoverageRules(
        min_events=5.0,
        min_sources=None,
        max_coarse_share=0.75,
        check_mix_change=0.25,
        max_mix_change=0.75,
        reliable_events=10.0,
        reliable_rse=0.50,
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
            raise OptionError(f"rules={rules!r} is not one of {', '.join(map(repr, PRESETS))}")
        base = PRESETS[rules]
    elif isinstance(rules, Mapping):
        overrides = {**dict(rules), **overrides}
        base = PRESETS["default"]
    else:
        raise OptionError(
            f"rules={rules!r} must be a preset name ({', '.join(map(repr, PRESETS))}), "
            "a CoverageRules or a dict of thresholds"
        )
    bad = [k for k in overrides if k not in FIELDS]
    if bad:
        raise OptionError(f"unknown coverage rule(s) {bad}; valid: {', '.join(FIELDS)}")
    for key, value in overrides.items():
        if value is None and key not in ("level", "mix_alpha"):
            continue
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(
            float(value)
        ):
            raise OptionError(f"{key}={value!r} must be a finite number or None")
        if float(value) < 0:
            raise OptionError(f"{key}={value!r} must not be negative")
    for key in ("level", "mix_alpha"):
        if key in overrides:
            check_fraction(key, overrides[key])
    return dataclasses.replace(base, **overrides)


def mix_rules(rules: str | CoverageRules | Mapping[str, Any] = "default") -> CoverageRules:
    """The source-mix rule of ``rules`` alone (every other threshold switched off).

    For judging one stretch of a series against the stretch before it (a trend's two
    halves, a joinpoint segment against the previous one) where the count rules have
    already judged each stretch on its own.
    """
    return dataclasses.replace(
        resolve_rules(rules),
        min_events=None,
        min_sources=None,
        max_coarse_share=None,
        max_single_source_share=None,
    )


def mix_rules_untested(rules: str | CoverageRules | Mapping[str, Any] = "default") -> CoverageRules:
    """The source-mix rule where no re-test among the continuing outlets is made (a
    joinpoint segment against its neighbours): any material change in outlets beyond
    chance (``check_mix_change``) makes the stretch thin, not only one beyond
    ``max_mix_change``."""
    mix = mix_rules(rules)
    if mix.check_mix_change is None:
        return mix
    return dataclasses.replace(mix, max_mix_change=mix.check_mix_change)


def without_mix(rules: CoverageRules) -> CoverageRules:
    """``rules`` without the source-mix rules (for a window judged on its own)."""
    return dataclasses.replace(rules, check_mix_change=None, max_mix_change=None)


def worse(*statuses: str) -> str:
    """The worst of coverage ``statuses`` (order of :data:`STATUSES`)."""
    return max(statuses, key=RANK.__getitem__)
